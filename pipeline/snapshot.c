/* cordon — still pictures (ONVIF snapshots, the operator page).
 *
 * encode: appsrc ! videoscale ! capsfilter ! jpegenc ! appsink, built per
 * request from the I420 picture the encoder last took (camera or slate), so
 * the JPEG is made from our own pixels; the camera's own JPEG never travels.
 * A JPEG is kept for CACHE_US per size, so any number of viewers cost at most
 * one encode per second per size.
 */
#define G_LOG_DOMAIN "cordon-pipeline"

#include "pipeline-private.h"

#define CACHE_US G_USEC_PER_SEC
#define CACHE_SLOTS 4              /* distinct sizes kept at once */
#define ENCODE_TIMEOUT (2 * GST_SECOND)
#define MIN_WIDTH 16

typedef struct {
  guint width;                     /* 0: unused */
  gint64 made;                     /* monotonic */
  GBytes *jpeg;
} CacheSlot;

struct _Snapshot {
  GMutex lock;                     /* serialises encodes; guards the cache */
  CacheSlot slots[CACHE_SLOTS];
};

Snapshot *
cordon_snapshot_new (void)
{
  Snapshot *s = g_new0 (Snapshot, 1);
  g_mutex_init (&s->lock);
  return s;
}

void
cordon_snapshot_free (Snapshot *s)
{
  if (!s)
    return;
  for (guint i = 0; i < CACHE_SLOTS; i++)
    g_clear_pointer (&s->slots[i].jpeg, g_bytes_unref);
  g_mutex_clear (&s->lock);
  g_free (s);
}

/* The size that fits MAX_WIDTH, keeping the aspect, both even (I420). */
static void
fit (const CordonCamera *cam, guint max_width, guint *width, guint *height)
{
  if (max_width == 0 || max_width >= cam->width) {
    *width = cam->width;
    *height = cam->height;
    return;
  }
  *width = MAX (max_width, MIN_WIDTH) & ~1u;
  *height = MAX (((guint64) cam->height * *width / cam->width) & ~1u, 2);
}

static GBytes *
encode (CordonPipeline *p, GstBuffer *picture, guint width, guint height, GError **error)
{
  const CordonCamera *cam = p->camera;
  g_autoptr (GstElement) pipeline = gst_pipeline_new (NULL);
  GstElement *src, *scale, *filter, *enc, *sink;

  if (!(src = cordon_make ("appsrc", error)) || !gst_bin_add (GST_BIN (pipeline), src)
      || !(scale = cordon_make ("videoscale", error)) || !gst_bin_add (GST_BIN (pipeline), scale)
      || !(filter = cordon_make ("capsfilter", error)) || !gst_bin_add (GST_BIN (pipeline), filter)
      || !(enc = cordon_make ("jpegenc", error)) || !gst_bin_add (GST_BIN (pipeline), enc)
      || !(sink = cordon_make ("appsink", error)) || !gst_bin_add (GST_BIN (pipeline), sink))
    return NULL;

  g_object_set (src, "caps", p->raw_caps, "format", GST_FORMAT_TIME, NULL);
  g_autoptr (GstCaps) size = gst_caps_new_simple ("video/x-raw",
                                                  "width", G_TYPE_INT, (int) width,
                                                  "height", G_TYPE_INT, (int) height,
                                                  "pixel-aspect-ratio", GST_TYPE_FRACTION, 1, 1, NULL);
  g_object_set (filter, "caps", size, NULL);
  g_object_set (enc, "quality", 85, NULL);
  g_object_set (sink, "sync", FALSE, "max-buffers", 1, NULL);
  if (!gst_element_link_many (src, scale, filter, enc, sink, NULL)) {
    g_set_error (error, CORDON_PIPELINE_ERROR, CORDON_PIPELINE_ERROR_FAILED,
                 "%s: cannot link the snapshot encoder", cam->name);
    return NULL;
  }
  if (gst_element_set_state (pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    gst_element_set_state (pipeline, GST_STATE_NULL);
    g_set_error (error, CORDON_PIPELINE_ERROR, CORDON_PIPELINE_ERROR_FAILED,
                 "%s: the snapshot encoder does not start", cam->name);
    return NULL;
  }

  /* A copy shares the pixels; only its stamps are ours to set. */
  GstBuffer *copy = gst_buffer_copy (picture);
  GST_BUFFER_PTS (copy) = 0;
  GST_BUFFER_DTS (copy) = GST_CLOCK_TIME_NONE;
  GST_BUFFER_DURATION (copy) = GST_SECOND / MAX (cam->framerate, 1);
  gst_app_src_push_buffer (GST_APP_SRC (src), copy);
  gst_app_src_end_of_stream (GST_APP_SRC (src));

  g_autoptr (GstSample) sample = gst_app_sink_try_pull_sample (GST_APP_SINK (sink), ENCODE_TIMEOUT);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  GstBuffer *out = sample ? gst_sample_get_buffer (sample) : NULL;
  if (!out) {
    g_set_error (error, CORDON_PIPELINE_ERROR, CORDON_PIPELINE_ERROR_FAILED,
                 "%s: the snapshot encoder gave no picture", cam->name);
    return NULL;
  }
  GstMapInfo map;
  if (!gst_buffer_map (out, &map, GST_MAP_READ)) {
    g_set_error (error, CORDON_PIPELINE_ERROR, CORDON_PIPELINE_ERROR_FAILED,
                 "%s: cannot read the snapshot", cam->name);
    return NULL;
  }
  GBytes *jpeg = g_bytes_new (map.data, map.size);
  gst_buffer_unmap (out, &map);
  return jpeg;
}

GBytes *
cordon_pipeline_snapshot_jpeg (CordonPipeline *p, guint max_width, GError **error)
{
  Snapshot *s = p->snapshot;
  guint width, height;
  gint64 now = g_get_monotonic_time ();
  CacheSlot *slot = NULL;

  fit (p->camera, max_width, &width, &height);

  /* One encode at a time per camera: callers that wait get the fresh JPEG. */
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&s->lock);
  for (guint i = 0; i < CACHE_SLOTS; i++) {
    CacheSlot *c = &s->slots[i];
    if (c->width == width) {
      if (now - c->made < CACHE_US)
        return g_bytes_ref (c->jpeg);
      slot = c;
    }
  }
  /* A new size takes a free slot, or the oldest one. */
  for (guint i = 0; !slot && i < CACHE_SLOTS; i++)
    if (!s->slots[i].width)
      slot = &s->slots[i];
  if (!slot) {
    slot = &s->slots[0];
    for (guint i = 1; i < CACHE_SLOTS; i++)
      if (s->slots[i].made < slot->made)
        slot = &s->slots[i];
  }

  g_mutex_lock (&p->lock);
  g_autoptr (GstBuffer) picture = p->last_raw ? gst_buffer_ref (p->last_raw) : NULL;
  g_mutex_unlock (&p->lock);
  if (!picture) {
    g_set_error (error, CORDON_PIPELINE_ERROR, CORDON_PIPELINE_ERROR_FAILED,
                 "%s: no picture yet", p->camera->name);
    return NULL;
  }

  GBytes *jpeg = encode (p, picture, width, height, error);
  if (!jpeg)
    return NULL;
  g_clear_pointer (&slot->jpeg, g_bytes_unref);
  slot->width = width;
  slot->made = g_get_monotonic_time ();
  slot->jpeg = g_bytes_ref (jpeg);
  return jpeg;
}
