/* cordon — the long-lived half of a camera: the encoder and the slate.
 *
 * encode: appsrc ! queue ! x264enc ! capsfilter ! h264parse ! appsink ! NAL allow-list
 * slate:  videotestsrc ! capsfilter ! textoverlay ! clockoverlay ! videoconvert ! capsfilter ! appsink
 *
 * Both are built once per pipeline; only the ingest (ingest.c) is rebuilt
 * when the camera comes and goes, so the encoder and its caps never change.
 */
#define G_LOG_DOMAIN "cordon-pipeline"

#include "pipeline-private.h"
#include "nalfilter.h"

static const char *
nal_type_name (guint type)
{
  switch (type) {
  case 2: case 3: case 4:
    return "slice data partition";
  case 6:
    return "SEI";
  case 10:
    return "end of sequence";
  case 11:
    return "end of stream";
  case 12:
    return "filler data";
  case 13:
    return "SPS extension";
  case 14:
    return "prefix";
  case 15:
    return "subset SPS";
  case 19:
    return "auxiliary slice";
  case 20: case 21:
    return "slice extension";
  case 0: case 24: case 25: case 26: case 27: case 28: case 29: case 30: case 31:
    return "unspecified";
  default:
    return "reserved";
  }
}

/* A new buffer with only the allowed NAL units of BUFFER (nalfilter.h), or
 * NULL when none is left. Counts what is left out and logs each kind once. */
static GstBuffer *
allowed_units (CordonPipeline *p, GstSample *sample, GstBuffer *buffer)
{
  GstCaps *caps = gst_sample_get_caps (sample);
  const GstStructure *s = caps ? gst_caps_get_structure (caps, 0) : NULL;
  CordonNalFilterResult result = { 0 };
  GstMapInfo map;

  /* The appsink's caps pin byte-stream; anything else is a bug and goes
   * nowhere. */
  if (!s || g_strcmp0 (gst_structure_get_string (s, "stream-format"), "byte-stream") != 0
      || !gst_buffer_map (buffer, &map, GST_MAP_READ)) {
    g_mutex_lock (&p->lock);
    gboolean first = !p->format_logged;
    p->format_logged = TRUE;
    p->nal_dropped++;
    g_mutex_unlock (&p->lock);
    if (first)
      g_warning ("%s: encoder output is not an H.264 byte stream; nothing of it is sent", p->camera->name);
    return NULL;
  }
  g_autoptr (GByteArray) out = g_byte_array_sized_new ((guint) map.size);
  cordon_nalfilter_annexb (map.data, map.size, out, &result);
  gst_buffer_unmap (buffer, &map);

  if (result.dropped) {
    g_mutex_lock (&p->lock);
    guint32 fresh = result.dropped_types & ~p->nal_logged;
    p->nal_logged |= result.dropped_types;
    p->nal_dropped += result.dropped;
    g_mutex_unlock (&p->lock);
    for (guint type = 0; type < 32; type++)
      if (fresh & (1u << type))
        g_message ("%s: encoder output: NAL units of type %u (%s) are left out (allow-list: 1, 5, 7, 8, 9)",
                   p->camera->name, type, nal_type_name (type));
  }
  if (result.kept == 0)
    return NULL;
  gsize len = out->len;
  GstBuffer *clean = gst_buffer_new_wrapped (g_byte_array_free (g_steal_pointer (&out), FALSE), len);
  if (GST_BUFFER_FLAG_IS_SET (buffer, GST_BUFFER_FLAG_DELTA_UNIT))
    GST_BUFFER_FLAG_SET (clean, GST_BUFFER_FLAG_DELTA_UNIT);
  return clean;
}

static GstFlowReturn
encoded_sample (GstAppSink *sink, gpointer data)
{
  CordonPipeline *p = data;
  g_autoptr (GstSample) sample = gst_app_sink_pull_sample (sink);
  GstBuffer *encoded = sample ? gst_sample_get_buffer (sample) : NULL;
  if (!encoded)
    return GST_FLOW_OK;
  g_autoptr (GstBuffer) buffer = allowed_units (p, sample, encoded);
  if (!buffer)
    return GST_FLOW_OK;

  gboolean keyframe = !GST_BUFFER_FLAG_IS_SET (buffer, GST_BUFFER_FLAG_DELTA_UNIT);
  g_autoptr (GPtrArray) targets = g_ptr_array_new_with_free_func (gst_object_unref);

  g_mutex_lock (&p->lock);
  p->frames_out++;
  p->bytes_out += gst_buffer_get_size (buffer);
  for (guint i = 0; i < p->consumers->len; i++) {
    Consumer *c = p->consumers->pdata[i];
    /* A new consumer starts on an IDR (with SPS/PPS in front, config-interval=-1)
     * so its decoder never sees references it does not have. */
    if (!c->started && !keyframe)
      continue;
    c->started = TRUE;
    g_ptr_array_add (targets, gst_object_ref (c->src));
  }
  g_mutex_unlock (&p->lock);

  /* Pushed outside the lock: a consumer appsrc may block, and the proxy calls
   * attach/detach under its own lock. */
  for (guint i = 0; i < targets->len; i++)
    cordon_pipeline_push_unstamped (targets->pdata[i], buffer);
  return GST_FLOW_OK;
}

static GstFlowReturn
slate_sample (GstAppSink *sink, gpointer data)
{
  CordonPipeline *p = data;
  g_autoptr (GstSample) sample = gst_app_sink_pull_sample (sink);
  GstBuffer *buffer = sample ? gst_sample_get_buffer (sample) : NULL;
  if (buffer)
    cordon_pipeline_feed (p, FEED_SLATE, NULL, buffer);
  return GST_FLOW_OK;
}

static void
queue_overrun (GstElement *queue, gpointer data)
{
  CordonPipeline *p = data;
  g_mutex_lock (&p->lock);
  p->dropped_queue++;
  g_mutex_unlock (&p->lock);
}

static void
encoder_gone (gpointer data)
{
  gint *count = data;
  g_atomic_int_add (count, -1);
  g_atomic_rc_box_release (count);
}

static gboolean
output_bus (GstBus *bus, GstMessage *msg, gpointer data)
{
  CordonPipeline *p = data;
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    g_autoptr (GError) err = NULL;
    gst_message_parse_error (msg, &err, NULL);
    g_autofree char *text = cordon_sanitize (err->message);
    /* Our own elements on our own pixels: this is a bug or resource
     * exhaustion, not something the camera can cause. */
    g_warning ("%s: %s: %s", p->camera->name, GST_OBJECT_NAME (GST_MESSAGE_SRC (msg)), text);
  }
  return G_SOURCE_CONTINUE;
}

static GSource *
watch_bus (CordonPipeline *p, GstElement *pipeline)
{
  g_autoptr (GstBus) bus = gst_element_get_bus (pipeline);
  GSource *source = gst_bus_create_watch (bus);
  g_source_set_callback (source, (GSourceFunc) (void (*) (void)) output_bus, p, NULL);
  g_source_attach (source, p->context);
  return source;
}

static GstElement *
appsink_new (CordonPipeline *p, GstFlowReturn (*new_sample) (GstAppSink *, gpointer), GError **error)
{
  GstElement *sink = cordon_make ("appsink", error);
  if (!sink)
    return NULL;
  g_object_set (sink, "sync", FALSE, "max-buffers", 2, "drop", TRUE, "enable-last-sample", FALSE, NULL);
  GstAppSinkCallbacks callbacks = { .new_sample = new_sample };
  gst_app_sink_set_callbacks (GST_APP_SINK (sink), &callbacks, p, NULL);
  return sink;
}

static gboolean
build_encode (CordonPipeline *p, GError **error)
{
  const CordonCamera *cam = p->camera;
  g_autoptr (GstElement) pipeline = gst_pipeline_new (NULL);
  GstElement *src, *queue, *enc, *filter, *parse, *sink;

  if (!(src = cordon_make ("appsrc", error)) || !gst_bin_add (GST_BIN (pipeline), src)
      || !(queue = cordon_make ("queue", error)) || !gst_bin_add (GST_BIN (pipeline), queue)
      || !(enc = cordon_make ("x264enc", error)) || !gst_bin_add (GST_BIN (pipeline), enc)
      || !(filter = cordon_make ("capsfilter", error)) || !gst_bin_add (GST_BIN (pipeline), filter)
      || !(parse = cordon_make ("h264parse", error)) || !gst_bin_add (GST_BIN (pipeline), parse)
      || !(sink = appsink_new (p, encoded_sample, error)) || !gst_bin_add (GST_BIN (pipeline), sink))
    return FALSE;

  g_object_set (src, "caps", p->raw_caps, "is-live", TRUE, "format", GST_FORMAT_TIME,
                "do-timestamp", TRUE, "max-buffers", (guint64) 3, NULL);
  gst_util_set_object_arg (G_OBJECT (src), "leaky-type", "downstream");
  /* Small and leaky: when the encoder cannot keep up, old frames go first and
   * the output stays current. */
  g_object_set (queue, "max-size-buffers", 2, "max-size-bytes", 0, "max-size-time", (guint64) 0, NULL);
  gst_util_set_object_arg (G_OBJECT (queue), "leaky", "downstream");
  g_signal_connect (queue, "overrun", G_CALLBACK (queue_overrun), p);

  gst_util_set_object_arg (G_OBJECT (enc), "tune", "zerolatency");
  gst_util_set_object_arg (G_OBJECT (enc), "speed-preset", cam->preset);
  gst_util_set_object_arg (G_OBJECT (enc), "pass", "cbr");
  /* CBR with a 1 s VBV: the bitrate is a cap the network can plan for. */
  g_object_set (enc, "bitrate", cam->bitrate, "vbv-buf-capacity", 1000,
                "key-int-max", cam->framerate * cam->keyframe_interval,
                "bframes", 0, "b-adapt", FALSE, NULL);
  g_object_set_data_full (G_OBJECT (enc), "cordon-encoder-count",
                          g_atomic_rc_box_acquire (p->encoder_count), encoder_gone);
  g_atomic_int_inc (p->encoder_count);

  g_autoptr (GstCaps) enc_caps = gst_caps_new_simple ("video/x-h264",
                                                      "profile", G_TYPE_STRING, cam->profile,
                                                      "stream-format", G_TYPE_STRING, "byte-stream",
                                                      "alignment", G_TYPE_STRING, "au", NULL);
  g_object_set (filter, "caps", enc_caps, NULL);
  /* SPS/PPS before every IDR: a recorder can join at any keyframe. */
  g_object_set (parse, "config-interval", -1, NULL);
  /* Annex B, one access unit per buffer: what the NAL allow-list reads. */
  g_object_set (sink, "caps", enc_caps, NULL);

  if (!gst_element_link_many (src, queue, enc, filter, parse, sink, NULL)) {
    g_set_error (error, CORDON_PIPELINE_ERROR, CORDON_PIPELINE_ERROR_FAILED,
                 "%s: cannot link the encoder (profile %s)", cam->name, cam->profile);
    return FALSE;
  }
  p->encode_src = src;
  p->encoder = enc;
  p->encode = g_steal_pointer (&pipeline);
  p->encode_watch = watch_bus (p, p->encode);
  return TRUE;
}

static gboolean
build_slate (CordonPipeline *p, GError **error)
{
  const CordonCamera *cam = p->camera;
  g_autoptr (GstElement) pipeline = gst_pipeline_new (NULL);
  GstElement *src, *size, *text, *clock, *convert, *filter, *sink;

  if (!(src = cordon_make ("videotestsrc", error)) || !gst_bin_add (GST_BIN (pipeline), src)
      || !(size = cordon_make ("capsfilter", error)) || !gst_bin_add (GST_BIN (pipeline), size)
      || !(text = cordon_make ("textoverlay", error)) || !gst_bin_add (GST_BIN (pipeline), text)
      || !(clock = cordon_make ("clockoverlay", error)) || !gst_bin_add (GST_BIN (pipeline), clock)
      || !(convert = cordon_make ("videoconvert", error)) || !gst_bin_add (GST_BIN (pipeline), convert)
      || !(filter = cordon_make ("capsfilter", error)) || !gst_bin_add (GST_BIN (pipeline), filter)
      || !(sink = appsink_new (p, slate_sample, error)) || !gst_bin_add (GST_BIN (pipeline), sink))
    return FALSE;

  g_object_set (src, "is-live", TRUE, NULL);
  gst_util_set_object_arg (G_OBJECT (src), "pattern", "black");
  g_autoptr (GstCaps) size_caps = gst_caps_new_simple ("video/x-raw",
                                                       "width", G_TYPE_INT, (int) cam->width,
                                                       "height", G_TYPE_INT, (int) cam->height,
                                                       "framerate", GST_TYPE_FRACTION, (int) cam->framerate, 1,
                                                       "pixel-aspect-ratio", GST_TYPE_FRACTION, 1, 1, NULL);
  g_object_set (size, "caps", size_caps, NULL);
  /* Camera names are [A-Za-z0-9._-] (config.c), so no markup can hide in them. */
  g_autofree char *label = g_strdup_printf ("%s — camera offline", cam->name);
  g_object_set (text, "text", label, "font-desc", "Sans 24", NULL);
  gst_util_set_object_arg (G_OBJECT (text), "valignment", "center");
  gst_util_set_object_arg (G_OBJECT (text), "halignment", "center");
  /* Our host's clock, so the recording shows when the camera was away. */
  g_object_set (clock, "time-format", "%Y-%m-%d %H:%M:%S", "font-desc", "Sans 16", NULL);
  gst_util_set_object_arg (G_OBJECT (clock), "valignment", "bottom");
  gst_util_set_object_arg (G_OBJECT (clock), "halignment", "right");
  g_object_set (filter, "caps", p->raw_caps, NULL);

  if (!gst_element_link_many (src, size, text, clock, convert, filter, sink, NULL)) {
    g_set_error (error, CORDON_PIPELINE_ERROR, CORDON_PIPELINE_ERROR_FAILED,
                 "%s: cannot link the offline slate", cam->name);
    return FALSE;
  }
  p->slate = g_steal_pointer (&pipeline);
  p->slate_watch = watch_bus (p, p->slate);
  return TRUE;
}

gboolean
cordon_output_build (CordonPipeline *p, GError **error)
{
  return build_encode (p, error) && build_slate (p, error);
}
