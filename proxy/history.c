/* cordon — bounded per-camera history for the operator page. */
#define G_LOG_DOMAIN "cordon-history"

#include <stdlib.h>

#include "proxy/history.h"

typedef struct {
  gint64 time;   /* monotonic µs at the end of the interval */
  float fps;
  float kbps;
  guint32 blocked; /* attempts during the interval */
} Sample;

typedef struct {
  gboolean have_base;
  gint64 base_time;
  guint64 base_frames;
  guint64 base_bytes;
  guint64 base_blocked;
  Sample *ring;  /* capacity entries */
  guint start;   /* oldest */
  guint len;
} Track;

struct _CordonHistory {
  guint capacity;
  GHashTable *tracks; /* camera name → Track* */
};

static void
track_free (Track *t)
{
  g_free (t->ring);
  g_free (t);
}

CordonHistory *
cordon_history_new (guint capacity)
{
  CordonHistory *h = g_new0 (CordonHistory, 1);
  h->capacity = MAX (capacity, 1);
  h->tracks = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) track_free);
  return h;
}

void
cordon_history_free (CordonHistory *h)
{
  if (!h)
    return;
  g_hash_table_unref (h->tracks);
  g_free (h);
}

void
cordon_history_record (CordonHistory *h, const char *camera, gint64 now_us, guint64 frames_in, guint64 bytes_out,
                       guint64 blocked)
{
  Track *t = g_hash_table_lookup (h->tracks, camera);
  if (!t) {
    t = g_new0 (Track, 1);
    t->ring = g_new0 (Sample, h->capacity);
    g_hash_table_insert (h->tracks, g_strdup (camera), t);
  }
  gint64 dt = now_us - t->base_time;
  /* A counter that went backwards belongs to a rebuilt pipeline (reload):
   * its interval has no meaningful rate, so it only sets a new baseline. */
  if (t->have_base && dt > 0 && frames_in >= t->base_frames && bytes_out >= t->base_bytes
      && blocked >= t->base_blocked) {
    double secs = dt / (double) G_USEC_PER_SEC;
    Sample *s = &t->ring[(t->start + t->len) % h->capacity];
    s->time = now_us;
    s->fps = (frames_in - t->base_frames) / secs;
    s->kbps = (bytes_out - t->base_bytes) * 8.0 / 1000.0 / secs;
    s->blocked = (guint32) MIN (blocked - t->base_blocked, G_MAXUINT32);
    if (t->len < h->capacity)
      t->len++;
    else
      t->start = (t->start + 1) % h->capacity;
  }
  t->have_base = TRUE;
  t->base_time = now_us;
  t->base_frames = frames_in;
  t->base_bytes = bytes_out;
  t->base_blocked = blocked;
}

void
cordon_history_retain (CordonHistory *h, const char *const *names)
{
  GHashTableIter it;
  gpointer key;
  g_hash_table_iter_init (&it, h->tracks);
  while (g_hash_table_iter_next (&it, &key, NULL))
    if (!names || !g_strv_contains (names, key))
      g_hash_table_iter_remove (&it);
}

guint
cordon_history_length (CordonHistory *h, const char *camera)
{
  Track *t = g_hash_table_lookup (h->tracks, camera);
  return t ? t->len : 0;
}

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(const char *const *) a, *(const char *const *) b);
}

void
cordon_history_to_json (CordonHistory *h, gint64 now_us, GString *out)
{
  g_autofree gpointer *keys = g_hash_table_get_keys_as_array (h->tracks, NULL);
  guint n = g_hash_table_size (h->tracks);

  qsort (keys, n, sizeof (gpointer), compare_names);
  g_string_append_c (out, '{');
  for (guint k = 0; k < n; k++) {
    Track *t = g_hash_table_lookup (h->tracks, keys[k]);
    /* Camera names are limited by the config to A-Z a-z 0-9 - _ . : no
     * escaping needed. */
    g_string_append_printf (out, "%s\"%s\":[", k ? "," : "", (const char *) keys[k]);
    for (guint i = 0; i < t->len; i++) {
      const Sample *s = &t->ring[(t->start + i) % h->capacity];
      g_string_append_printf (out, "%s{\"age_seconds\":%.1f,\"fps\":%.2f,\"kbps\":%.1f,\"blocked\":%u}", i ? "," : "",
                              MAX (now_us - s->time, 0) / (double) G_USEC_PER_SEC, s->fps, s->kbps, s->blocked);
    }
    g_string_append_c (out, ']');
  }
  g_string_append_c (out, '}');
}
