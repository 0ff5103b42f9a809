/* cordon — the long-lived half of a camera: the encoder and the slate.
 *
 * encode: appsrc ! x264enc ! capsfilter ! h264parse ! appsink ! NAL allow-list
 * slate:  videotestsrc ! capsfilter ! textoverlay ! clockoverlay ! videoconvert ! capsfilter ! appsink
 *         (1 picture/s); x264 encodes each new one as an IDR, and every
 *         other slot of the output rate is an all-skip P picture cordon
 *         writes itself (skipframe.h), so an offline camera costs little
 *
 * Both are built once per pipeline; only the ingest (ingest.c) is rebuilt
 * when the camera comes and goes, so the encoder and its caps never change.
 */
#define G_LOG_DOMAIN "cordon-pipeline"

#include "pipeline-private.h"
#include "handover.h"
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

/* A new buffer with only the allowed NAL units of the Annex B DATA
 * (nalfilter.h), or NULL when none is left. Counts what is left out and logs
 * each kind once. */
static GstBuffer *
filtered_units (CordonPipeline *p, const guint8 *data, gsize size, gboolean delta)
{
  CordonNalFilterResult result = { 0 };
  g_autoptr (GByteArray) out = g_byte_array_sized_new ((guint) size);
  cordon_nalfilter_annexb (data, size, out, &result);

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
  if (delta)
    GST_BUFFER_FLAG_SET (clean, GST_BUFFER_FLAG_DELTA_UNIT);
  return clean;
}

/* BUFFER of the encoder's SAMPLE through the NAL allow-list, or NULL. */
static GstBuffer *
allowed_units (CordonPipeline *p, GstSample *sample, GstBuffer *buffer)
{
  GstCaps *caps = gst_sample_get_caps (sample);
  const GstStructure *s = caps ? gst_caps_get_structure (caps, 0) : NULL;
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
  GstBuffer *clean = filtered_units (p, map.data, map.size, GST_BUFFER_FLAG_IS_SET (buffer, GST_BUFFER_FLAG_DELTA_UNIT));
  gst_buffer_unmap (buffer, &map);
  return clean;
}

/* The consumer's appsrc stamps frames on arrival, so its time level is how
 * long the oldest frame it holds has waited. */
static gboolean
egress_full (GstAppSrc *src)
{
  guint64 level = 0;
  g_object_get (src, "current-level-time", &level, NULL);
  return level >= CORDON_EGRESS_QUEUE_MS * GST_MSECOND;
}

/* One encoded access unit (through the NAL allow-list) to CONSUMERS (under
 * p->lock), counted in FRAMES_OUT and BYTES_OUT. Main and sub stream alike,
 * x264's frames and the slate's skip frames alike. */
static void
send_frame (CordonPipeline *p, GstBuffer *buffer, GPtrArray **consumers, guint64 *frames_out, guint64 *bytes_out)
{
  gboolean keyframe = !GST_BUFFER_FLAG_IS_SET (buffer, GST_BUFFER_FLAG_DELTA_UNIT);
  g_autoptr (GPtrArray) targets = g_ptr_array_new_with_free_func (gst_object_unref);

  g_mutex_lock (&p->lock);
  (*frames_out)++;
  *bytes_out += gst_buffer_get_size (buffer);
  for (guint i = 0; i < (*consumers)->len; i++) {
    Consumer *c = (*consumers)->pdata[i];
    /* A full queue means this recorder (or its network) is more than
     * CORDON_EGRESS_QUEUE_MS behind: the frame is lost for it, and so are
     * the deltas up to the next IDR, which would refer to it. */
    if (c->started && egress_full (c->src)) {
      c->started = FALSE;
      c->resync = TRUE;
    }
    /* A new consumer starts on an IDR (with SPS/PPS in front, config-interval=-1)
     * so its decoder never sees references it does not have. */
    if (!c->started && (!keyframe || egress_full (c->src))) {
      if (c->resync)
        p->dropped_egress++;
      continue;
    }
    c->started = TRUE;
    c->resync = FALSE;
    g_ptr_array_add (targets, gst_object_ref (c->src));
  }
  g_mutex_unlock (&p->lock);

  /* Pushed outside the lock: a consumer appsrc may block, and the proxy calls
   * attach/detach under its own lock. */
  for (guint i = 0; i < targets->len; i++)
    cordon_pipeline_push_unstamped (targets->pdata[i], buffer);
}

/* The INDEXth all-skip picture after SKIP's IDR, sent like x264's frames
 * (under skip->send). */
static void
send_skip (CordonPipeline *p, CordonSkip *skip, const CordonSkipParams *params, gboolean aud, guint64 index,
           GPtrArray **consumers, guint64 *frames_out, guint64 *bytes_out)
{
  g_autoptr (GByteArray) au = g_byte_array_new ();
  cordon_skip_frame (params, index, aud, au);
  g_autoptr (GstBuffer) buffer = filtered_units (p, au->data, au->len, TRUE);
  if (buffer)
    send_frame (p, buffer, consumers, frames_out, bytes_out);
}

/* One encoded access unit of an encoder's appsink. An IDR's SPS/PPS are
 * what the skip frames after it are written from; slots of the slate that
 * waited for this IDR are filled right after it. */
static GstFlowReturn
deliver (CordonPipeline *p, GstAppSink *sink, CordonSkip *skip, GPtrArray **consumers, guint64 *frames_out,
         guint64 *bytes_out)
{
  g_autoptr (GstSample) sample = gst_app_sink_pull_sample (sink);
  GstBuffer *encoded = sample ? gst_sample_get_buffer (sample) : NULL;
  if (!encoded)
    return GST_FLOW_OK;

  g_mutex_lock (&skip->send);
  g_autoptr (GstBuffer) buffer = allowed_units (p, sample, encoded);
  GstMapInfo map;
  if (buffer && gst_buffer_map (buffer, &map, GST_MAP_READ)) {
    gboolean idr, slice, aud;
    cordon_skip_scan (map.data, map.size, &idr, &slice, &aud);
    g_mutex_lock (&p->lock);
    if (idr) {
      cordon_skip_params_update (&skip->params, map.data, map.size);
      skip->after_idr = TRUE;
      skip->idr_asked = FALSE;
      skip->written = FALSE;
      skip->aud = aud;
      skip->index = 0;
    } else if (slice) {
      skip->after_idr = FALSE;
    }
    g_mutex_unlock (&p->lock);
    gst_buffer_unmap (buffer, &map);
    send_frame (p, buffer, consumers, frames_out, bytes_out);
  }

  g_mutex_lock (&p->lock);
  if (skip->pending)
    skip->pending--;
  guint owed = 0;
  guint64 first = 0;
  if (skip->owed && skip->after_idr && skip->pending == 0 && p->feeder == FEED_SLATE
      && cordon_skip_params_usable (&skip->params)) {
    owed = skip->owed;
    first = skip->index + 1;
    skip->index += owed;
    skip->written = TRUE;
  }
  if (skip->pending == 0)
    skip->owed = 0;
  CordonSkipParams params = skip->params;
  gboolean aud = skip->aud;
  g_mutex_unlock (&p->lock);
  for (guint i = 0; i < owed; i++)
    send_skip (p, skip, &params, aud, first + i, consumers, frames_out, bytes_out);
  g_mutex_unlock (&skip->send);
  return GST_FLOW_OK;
}

static GstFlowReturn
encoded_sample (GstAppSink *sink, gpointer data)
{
  CordonPipeline *p = data;
  /* p->consumers is replaced (not emptied) by cordon_pipeline_stop(). */
  return deliver (p, sink, &p->skip, &p->consumers, &p->frames_out, &p->bytes_out);
}

static GstFlowReturn
sub_sample (GstAppSink *sink, gpointer data)
{
  CordonPipeline *p = data;
  return deliver (p, sink, &p->sub->skip, &p->sub->consumers, &p->sub->frames_out, &p->sub->bytes_out);
}

/* The slate is drawn once a second (its only change is the clock) and kept;
 * slate_tick() fills every slot of the output rate from it. */
static GstFlowReturn
slate_sample (GstAppSink *sink, gpointer data)
{
  CordonPipeline *p = data;
  g_autoptr (GstSample) sample = gst_app_sink_pull_sample (sink);
  GstBuffer *buffer = sample ? gst_sample_get_buffer (sample) : NULL;
  g_autoptr (GstBuffer) pixels = buffer ? cordon_handover_pixels (&p->raw_info, buffer) : NULL;
  if (!pixels)
    return GST_FLOW_OK;
  g_mutex_lock (&p->lock);
  gst_buffer_replace (&p->slate_picture, pixels);
  p->slate_fresh = TRUE;
  g_mutex_unlock (&p->lock);
  return GST_FLOW_OK;
}

/* What the clock's thread holds: a callback already running when the slate
 * stops must not reach the pipeline after cordon_output_slate_stop()
 * returns, so the pointer is cleared under the ticker's lock. */
struct _SlateTicker {
  GMutex lock;
  CordonPipeline *p;        /* NULL once stopped */
};

static void
ticker_clear (gpointer data)
{
  g_mutex_clear (&((SlateTicker *) data)->lock);
}

static void
ticker_release (gpointer data)
{
  g_atomic_rc_box_release_full (data, ticker_clear);
}

static void encode_into (CordonPipeline *p, GstElement *src, CordonSkip *skip, GstBuffer *pixels, gboolean fresh);

/* One slot of the slate for one encoder: a skip frame when x264's last frame
 * out is the IDR of the picture still shown; nothing yet when that IDR is
 * still in x264 (deliver() writes the slot right after it, at most two
 * slots: beyond that x264 is behind and gets the picture again); else the
 * picture into x264, as an IDR when it is new. */
static void
slate_slot (CordonPipeline *p, GstElement *src, CordonSkip *skip, GstBuffer *picture, gboolean fresh,
            GPtrArray **consumers, guint64 *frames_out, guint64 *bytes_out)
{
  enum { ENCODE, SKIP, WAIT } action = ENCODE;
  g_mutex_lock (&skip->send);
  g_mutex_lock (&p->lock);
  if (skip->off) {
    fresh = FALSE;
  } else if (!fresh && skip->after_idr && skip->pending == 0 && cordon_skip_params_usable (&skip->params)) {
    action = SKIP;
    skip->index++;
    skip->written = TRUE;
  } else if (!fresh && skip->idr_asked && skip->owed < 2) {
    action = WAIT;
    skip->owed++;
  }
  CordonSkipParams params = skip->params;
  gboolean aud = skip->aud;
  guint64 index = skip->index;
  g_mutex_unlock (&p->lock);
  if (action == SKIP)
    send_skip (p, skip, &params, aud, index, consumers, frames_out, bytes_out);
  else if (action == ENCODE)
    encode_into (p, src, skip, picture, fresh);
  g_mutex_unlock (&skip->send);
}

/* The system clock's thread, once per output frame while the slate is on. */
static gboolean
slate_tick (GstClock *clock, GstClockTime time, GstClockID id, gpointer data)
{
  SlateTicker *t = data;
  g_autoptr (GstBuffer) picture = NULL;
  gboolean fresh = FALSE;

  g_mutex_lock (&t->lock);
  CordonPipeline *p = t->p;
  if (p) {
    g_mutex_lock (&p->lock);
    if (p->feeder == FEED_SLATE && p->slate_picture) {
      picture = gst_buffer_ref (p->slate_picture);
      fresh = p->slate_fresh;
      p->slate_fresh = FALSE;
      gst_buffer_replace (&p->last_raw, picture);
    }
    g_mutex_unlock (&p->lock);
    if (picture) {
      slate_slot (p, p->encode_src, &p->skip, picture, fresh, &p->consumers, &p->frames_out, &p->bytes_out);
      if (p->sub)
        slate_slot (p, p->sub->src, &p->sub->skip, picture, fresh, &p->sub->consumers, &p->sub->frames_out,
                    &p->sub->bytes_out);
    }
  }
  g_mutex_unlock (&t->lock);
  return TRUE;
}

static gboolean build_slate (CordonPipeline *p, GError **error);

/* Main context. */
void
cordon_output_slate_start (CordonPipeline *p)
{
  if (p->slate_tick)
    return;
  g_autoptr (GError) error = NULL;
  if (!p->slate && !build_slate (p, &error))
    g_warning ("%s: %s", p->camera->name, error->message);
  else if (gst_element_set_state (p->slate, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    g_warning ("%s: the offline slate does not start", p->camera->name);
  /* A periodic clock id: its times are start + n × interval, however late
   * one callback runs, so the output keeps exactly the configured rate. */
  g_autoptr (GstClock) clock = gst_system_clock_obtain ();
  p->slate_ticker = g_atomic_rc_box_new0 (SlateTicker);
  g_mutex_init (&p->slate_ticker->lock);
  p->slate_ticker->p = p;
  p->slate_tick = gst_clock_new_periodic_id (clock, gst_clock_get_time (clock), GST_SECOND / p->camera->framerate);
  gst_clock_id_wait_async (p->slate_tick, slate_tick, g_atomic_rc_box_acquire (p->slate_ticker), ticker_release);
}

void
cordon_output_slate_stop (CordonPipeline *p)
{
  if (!p->slate_tick)
    return;
  g_mutex_lock (&p->slate_ticker->lock);
  p->slate_ticker->p = NULL;
  g_mutex_unlock (&p->slate_ticker->lock);
  g_clear_pointer (&p->slate_ticker, ticker_release);
  gst_clock_id_unschedule (p->slate_tick);
  g_clear_pointer (&p->slate_tick, gst_clock_id_unref);
  /* Gone, not only stopped: its appsink keeps the last picture it gave out
   * (a whole picture at the configured size) for as long as it lives. The
   * next slate builds it again. */
  if (p->slate_watch) {
    g_source_destroy (p->slate_watch);
    g_clear_pointer (&p->slate_watch, g_source_unref);
  }
  if (p->slate)
    gst_element_set_state (p->slate, GST_STATE_NULL);
  gst_clear_object (&p->slate);
  /* The next slate starts with a fresh clock, never the time it last showed. */
  g_mutex_lock (&p->lock);
  gst_clear_buffer (&p->slate_picture);
  p->slate_fresh = FALSE;
  g_mutex_unlock (&p->lock);
}

/* Hands PIXELS (a picture of raw_info's layout) to the encoder, or drops
 * and counts it when the encoder is more than CORDON_ENCODER_QUEUE_MS of
 * pictures behind. The appsrc itself is unbounded and never leaks: this is
 * the only place a picture can be lost on the way in, so the count is exact.
 * The newest picture is the one dropped; a burst the encoder catches up with
 * within the bound loses nothing.
 * The picture is forced to be an IDR when FORCE (a new slate picture) or
 * when cordon wrote skip frames since x264's last IDR: x264's own next P
 * picture would not follow them. */
static void
encode_into (CordonPipeline *p, GstElement *src, CordonSkip *skip, GstBuffer *pixels, gboolean force)
{
  guint64 level = 0;
  /* Counted in pictures: a camera picture's buffer is its whole slot. */
  g_object_get (src, "current-level-buffers", &level, NULL);
  g_mutex_lock (&p->lock);
  if (level >= (guint64) p->encoder_queue) {
    p->dropped_encoder++;
    g_mutex_unlock (&p->lock);
    return;
  }
  force = force || skip->written;
  if (force) {
    skip->written = FALSE;
    skip->idr_asked = TRUE;
    skip->after_idr = FALSE;
  }
  skip->pending++;
  g_mutex_unlock (&p->lock);
  /* Serialised with the pictures in the appsrc's queue: it applies to this one. */
  if (force)
    gst_element_send_event (src, gst_video_event_new_downstream_force_key_unit (
                                     GST_CLOCK_TIME_NONE, GST_CLOCK_TIME_NONE, GST_CLOCK_TIME_NONE, TRUE, 0));
  cordon_pipeline_push_unstamped (GST_APP_SRC (src), pixels);
}

/* A camera picture. */
void
cordon_output_encode (CordonPipeline *p, GstBuffer *pixels)
{
  g_mutex_lock (&p->skip.send);
  encode_into (p, p->encode_src, &p->skip, pixels, FALSE);
  g_mutex_unlock (&p->skip.send);
  /* The same picture (shared memory), scaled in the sub encoder's own thread. */
  if (p->sub) {
    g_mutex_lock (&p->sub->skip.send);
    encode_into (p, p->sub->src, &p->sub->skip, pixels, FALSE);
    g_mutex_unlock (&p->sub->skip.send);
  }
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

/* appsrc [! videoscale ! capsfilter] ! x264enc ! capsfilter ! h264parse ! appsink:
 * the camera's pictures (raw_caps) encoded at WIDTH×HEIGHT and BITRATE with
 * the camera's settings; the scaler only when the size differs. */
static gboolean
build_encoder (CordonPipeline *p, guint width, guint height, guint bitrate,
               GstFlowReturn (*new_sample) (GstAppSink *, gpointer),
               GstElement **pipeline_out, GstElement **src_out, GstElement **enc_out, GError **error)
{
  const CordonCamera *cam = p->camera;
  g_autoptr (GstElement) pipeline = gst_pipeline_new (NULL);
  GstElement *src, *enc, *filter, *parse, *sink, *scale = NULL, *size = NULL;
  gboolean scaled = width != cam->width || height != cam->height;

  if (!(src = cordon_make ("appsrc", error)) || !gst_bin_add (GST_BIN (pipeline), src)
      || (scaled && (!(scale = cordon_make ("videoscale", error)) || !gst_bin_add (GST_BIN (pipeline), scale)
                     || !(size = cordon_make ("capsfilter", error)) || !gst_bin_add (GST_BIN (pipeline), size)))
      || !(enc = cordon_make ("x264enc", error)) || !gst_bin_add (GST_BIN (pipeline), enc)
      || !(filter = cordon_make ("capsfilter", error)) || !gst_bin_add (GST_BIN (pipeline), filter)
      || !(parse = cordon_make ("h264parse", error)) || !gst_bin_add (GST_BIN (pipeline), parse)
      || !(sink = appsink_new (p, new_sample, error)) || !gst_bin_add (GST_BIN (pipeline), sink))
    return FALSE;

  /* The appsrc is the encoder's queue (its own streaming thread, no second
   * hand-off through a queue element). Unbounded here and never leaky, so
   * nothing is lost uncounted: cordon_output_encode() keeps it within
   * CORDON_ENCODER_QUEUE_MS of pictures. (appsrc's default max-bytes of
   * 200 kB is less than one picture.) */
  g_object_set (src, "caps", p->raw_caps, "is-live", TRUE, "format", GST_FORMAT_TIME,
                "do-timestamp", TRUE, "block", FALSE, "max-buffers", (guint64) 0,
                "max-bytes", (guint64) 0, "max-time", (guint64) 0, NULL);
  if (scaled) {
    g_autoptr (GstCaps) size_caps = gst_caps_copy (p->raw_caps);
    gst_caps_set_simple (size_caps, "width", G_TYPE_INT, (int) width, "height", G_TYPE_INT, (int) height, NULL);
    g_object_set (size, "caps", size_caps, NULL);
  }

  gst_util_set_object_arg (G_OBJECT (enc), "tune", "zerolatency");
  gst_util_set_object_arg (G_OBJECT (enc), "speed-preset", cam->preset);
  gst_util_set_object_arg (G_OBJECT (enc), "pass", "cbr");
  /* CBR with a 1 s VBV: the bitrate is a cap the network can plan for. */
  g_object_set (enc, "bitrate", bitrate, "vbv-buf-capacity", 1000,
                "key-int-max", cam->framerate * cam->keyframe_interval,
                "bframes", 0, "b-adapt", FALSE, NULL);
  /* encoder-threads (config.c): one thread and no slices when there are
   * at least as many encoders as CPUs, the least work per frame; else
   * x264's own choice. */
  if (cam->encoder_threads)
    g_object_set (enc, "threads", cam->encoder_threads, "sliced-threads", FALSE, NULL);
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

  gboolean linked = scaled ? gst_element_link_many (src, scale, size, enc, filter, parse, sink, NULL)
                           : gst_element_link_many (src, enc, filter, parse, sink, NULL);
  if (!linked) {
    g_set_error (error, CORDON_PIPELINE_ERROR, CORDON_PIPELINE_ERROR_FAILED,
                 "%s: cannot link the %ux%u encoder (profile %s)", cam->name, width, height, cam->profile);
    return FALSE;
  }
  *src_out = src;
  *enc_out = enc;
  *pipeline_out = g_steal_pointer (&pipeline);
  return TRUE;
}

static gboolean
build_encode (CordonPipeline *p, GError **error)
{
  const CordonCamera *cam = p->camera;
  p->encoder_queue = MAX (2, cam->framerate * CORDON_ENCODER_QUEUE_MS / 1000);
  g_mutex_init (&p->skip.send);
  /* Frame threads (encoder-threads > 1) hold each picture back until the
   * next one comes: the slate's IDR would not be out before its slot ends. */
  p->skip.off = cam->encoder_threads > 1;
  if (!build_encoder (p, cam->width, cam->height, cam->bitrate, encoded_sample, &p->encode, &p->encode_src,
                      &p->encoder, error))
    return FALSE;
  p->encode_watch = watch_bus (p, p->encode);
  if (!cam->sub_width)
    return TRUE;

  p->sub = g_new0 (CordonSubStream, 1);
  g_mutex_init (&p->sub->skip.send);
  p->sub->skip.off = p->skip.off;
  p->sub->consumers = g_ptr_array_new_with_free_func ((GDestroyNotify) cordon_consumer_free);
  p->sub->caps = gst_caps_copy (p->out_caps);
  gst_caps_set_simple (p->sub->caps, "width", G_TYPE_INT, (int) cam->sub_width,
                       "height", G_TYPE_INT, (int) cam->sub_height, NULL);
  if (!build_encoder (p, cam->sub_width, cam->sub_height, cam->sub_bitrate, sub_sample, &p->sub->encode,
                      &p->sub->src, &p->sub->encoder, error))
    return FALSE;
  p->sub->watch = watch_bus (p, p->sub->encode);
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
  /* One picture a second: what changes on the slate is the clock's second. */
  g_autoptr (GstCaps) size_caps = gst_caps_new_simple ("video/x-raw",
                                                       "width", G_TYPE_INT, (int) cam->width,
                                                       "height", G_TYPE_INT, (int) cam->height,
                                                       "framerate", GST_TYPE_FRACTION, 1, 1,
                                                       "pixel-aspect-ratio", GST_TYPE_FRACTION, 1, 1, NULL);
  g_autoptr (GstCaps) slate_caps = gst_caps_copy (p->raw_caps);
  gst_caps_set_simple (slate_caps, "framerate", GST_TYPE_FRACTION, 1, 1, NULL);
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
  g_object_set (filter, "caps", slate_caps, NULL);

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

/* ---- the sub stream ---- */

gboolean
cordon_output_sub_start (CordonPipeline *p)
{
  return !p->sub || gst_element_set_state (p->sub->encode, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE;
}

/* Attached sources get end-of-stream and are detached; the encoder stops. */
void
cordon_output_sub_stop (CordonPipeline *p)
{
  if (!p->sub)
    return;
  gst_element_set_state (p->sub->encode, GST_STATE_NULL);
  g_mutex_lock (&p->lock);
  g_autoptr (GPtrArray) consumers = g_steal_pointer (&p->sub->consumers);
  p->sub->consumers = g_ptr_array_new_with_free_func ((GDestroyNotify) cordon_consumer_free);
  g_mutex_unlock (&p->lock);
  for (guint i = 0; i < consumers->len; i++)
    gst_app_src_end_of_stream (((Consumer *) consumers->pdata[i])->src);
}

void
cordon_output_sub_free (CordonPipeline *p)
{
  CordonSubStream *sub = g_steal_pointer (&p->sub);
  if (!sub)
    return;
  if (sub->watch) {
    g_source_destroy (sub->watch);
    g_source_unref (sub->watch);
  }
  if (sub->encode)
    gst_element_set_state (sub->encode, GST_STATE_NULL);
  gst_clear_object (&sub->encode);
  gst_clear_caps (&sub->caps);
  g_clear_pointer (&sub->consumers, g_ptr_array_unref);
  g_mutex_clear (&sub->skip.send);
  g_free (sub);
}

gboolean
cordon_pipeline_has_sub (CordonPipeline *p)
{
  return p->sub != NULL;
}

GstCaps *
cordon_pipeline_get_sub_caps (CordonPipeline *p)
{
  return p->sub ? gst_caps_ref (p->sub->caps) : NULL;
}

void
cordon_pipeline_attach_sub (CordonPipeline *p, GstAppSrc *src)
{
  if (p->sub && cordon_consumers_add (p, &p->sub->consumers, src))
    cordon_encoder_keyframe (p->sub->encoder);
}

void
cordon_pipeline_detach_sub (CordonPipeline *p, GstAppSrc *src)
{
  if (p->sub)
    cordon_consumers_remove (p, &p->sub->consumers, src);
}
