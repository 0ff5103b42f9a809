/* cordon — the brake on password guessing (see brake.h). */
#include "proxy/brake.h"

#define FAIL_WINDOW_US (60 * G_USEC_PER_SEC)
#define BLOCK_US (60 * G_USEC_PER_SEC)
#define LOG_INTERVAL_US (10 * G_USEC_PER_SEC)
#define MAX_OFFENDERS 4096

typedef struct {
  guint failures;
  gint64 window_start;
  gint64 blocked_until;
  gint64 last_log;
  guint suppressed;
} Offender;

struct _CordonBrake {
  GHashTable *offenders;  /* ip → Offender* */
};

CordonBrake *
cordon_brake_new (void)
{
  CordonBrake *b = g_new0 (CordonBrake, 1);
  b->offenders = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  return b;
}

void
cordon_brake_free (CordonBrake *b)
{
  if (!b)
    return;
  g_hash_table_unref (b->offenders);
  g_free (b);
}

static Offender *
offender (CordonBrake *b, const char *ip, gint64 now)
{
  Offender *o = g_hash_table_lookup (b->offenders, ip);
  if (o)
    return o;
  /* Bounded: addresses that neither count nor are blocked go first; a flood
   * of addresses past that empties the table. */
  if (g_hash_table_size (b->offenders) >= MAX_OFFENDERS) {
    GHashTableIter it;
    g_hash_table_iter_init (&it, b->offenders);
    while (g_hash_table_iter_next (&it, NULL, (gpointer *) &o))
      if (o->blocked_until < now && now - o->window_start > FAIL_WINDOW_US && now - o->last_log > LOG_INTERVAL_US)
        g_hash_table_iter_remove (&it);
    if (g_hash_table_size (b->offenders) >= MAX_OFFENDERS)
      g_hash_table_remove_all (b->offenders);
  }
  o = g_new0 (Offender, 1);
  o->last_log = G_MININT64 / 2;
  o->window_start = G_MININT64 / 2;
  g_hash_table_insert (b->offenders, g_strdup (ip), o);
  return o;
}

gboolean
cordon_brake_is_blocked (CordonBrake *b, const char *ip, gint64 now)
{
  Offender *o = ip ? g_hash_table_lookup (b->offenders, ip) : NULL;
  return o && o->blocked_until > now;
}

gboolean
cordon_brake_note_failure (CordonBrake *b, const char *ip, gint64 now, guint *suppressed, gboolean *blocked)
{
  Offender *o = offender (b, ip ? ip : "", now);

  if (now - o->window_start > FAIL_WINDOW_US) {
    o->window_start = now;
    o->failures = 0;
  }
  o->failures++;
  *blocked = o->failures >= CORDON_BRAKE_FAIL_LIMIT && o->blocked_until < now;
  if (*blocked)
    o->blocked_until = now + BLOCK_US;
  if (now - o->last_log < LOG_INTERVAL_US && !*blocked) {
    o->suppressed++;
    return FALSE;
  }
  *suppressed = o->suppressed;
  o->suppressed = 0;
  o->last_log = now;
  return TRUE;
}

static gint
by_text (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(const char *const *) a, *(const char *const *) b);
}

GStrv
cordon_brake_blocked (CordonBrake *b, gint64 now)
{
  g_autoptr (GPtrArray) out = g_ptr_array_new ();
  GHashTableIter it;
  const char *ip;
  Offender *o;

  g_hash_table_iter_init (&it, b->offenders);
  while (g_hash_table_iter_next (&it, (gpointer *) &ip, (gpointer *) &o))
    if (o->blocked_until > now)
      g_ptr_array_add (out, g_strdup (ip));
  g_ptr_array_sort (out, by_text);
  g_ptr_array_add (out, NULL);
  return (GStrv) g_ptr_array_free (g_steal_pointer (&out), FALSE);
}

gboolean
cordon_brake_may_log (CordonBrake *b, const char *ip, gint64 now)
{
  Offender *o = offender (b, ip ? ip : "", now);
  if (now - o->last_log < LOG_INTERVAL_US)
    return FALSE;
  o->last_log = now;
  return TRUE;
}
