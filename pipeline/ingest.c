/* cordon — one connection attempt to a camera.
 *
 * rtspsrc (TCP only) ! <depay ! parse ! decoder chosen from a fixed table>
 *   ! videoconvert ! videoscale ! videorate ! capsfilter(I420 W×H F) ! appsink
 *
 * The video appsink offers the worker's picture slots upstream (slotpool.h),
 * so the decoder (cordondec, decoder.h: in place, reference pictures
 * included) or the scaler writes each picture where the daemon reads it.
 *
 * The camera must not choose which code parses its data, so there is no
 * decodebin: the RTP encoding-name picks a row of `codecs`, or the stream is
 * refused.
 */
#define G_LOG_DOMAIN "cordon-pipeline"

#include "pipeline-private.h"
#include "camera-checks.h"
#include "rtsp-guard.h"

#include <gst/rtsp/gstrtspdefs.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
  const char *media;        /* SDP media: "video" or "audio" */
  const char *encoding;     /* RTP encoding-name */
  const char *name;         /* for stats and logs */
  const char *label;        /* for reasons: "H.264" */
  const char *depay;
  const char *parse;        /* NULL: none needed */
  const char *decoder;
} Codec;

static const Codec codecs[] = {
  { "video", "H264", "h264", "H.264", "rtph264depay", "h264parse", "cordondec" },
  { "video", "H265", "h265", "H.265", "rtph265depay", "h265parse", "cordondec" },
  { "video", "JPEG", "jpeg", "JPEG", "rtpjpegdepay", NULL, "jpegdec" },
  { "audio", "PCMA", "pcma", "PCMA", "rtppcmadepay", NULL, "alawdec" },
  { "audio", "PCMU", "pcmu", "PCMU", "rtppcmudepay", NULL, "mulawdec" },
  { "audio", "MPEG4-GENERIC", "aac", "AAC", "rtpmp4gdepay", "aacparse", "avdec_aac" },
};

static const Codec *
find_codec (const GstStructure *s)
{
  const char *media = gst_structure_get_string (s, "media");
  const char *encoding = gst_structure_get_string (s, "encoding-name");
  if (!media || !encoding)
    return NULL;
  for (guint i = 0; i < G_N_ELEMENTS (codecs); i++)
    if (g_str_equal (media, codecs[i].media) && g_ascii_strcasecmp (encoding, codecs[i].encoding) == 0)
      return &codecs[i];
  return NULL;
}

static void
refuse (Ingest *in, const char *media, const char *encoding)
{
  CordonPipeline *p = in->p;
  g_autofree char *m = cordon_sanitize (media ? media : "?");
  g_autofree char *e = cordon_sanitize (encoding ? encoding : "?");
  g_autofree char *why = g_strdup_printf ("unsupported %s codec %s", m, e);
  gboolean first;

  g_mutex_lock (&p->lock);
  first = in->refusal == NULL;
  if (first && g_str_equal (m, "video"))
    in->refusal = g_strdup (why);
  g_mutex_unlock (&p->lock);
  g_message ("%s: refusing stream: %s", p->camera->name, why);
}

/* What the camera did is refused: the first reason becomes the attempt's,
 * and an error on the bus ends the attempt (it counts as failed). Any
 * thread. */
static void
violation (Ingest *in, const char *reason)
{
  CordonPipeline *p = in->p;
  gboolean first;

  g_mutex_lock (&p->lock);
  first = in->violation == NULL;
  if (first)
    in->violation = g_strdup (reason);
  g_mutex_unlock (&p->lock);
  if (!first)
    return;
  g_message ("%s: refusing the camera: %s", p->camera->name, reason);
  GstElement *pipeline = in->pipeline;
  if (pipeline) {
    g_autoptr (GError) err = g_error_new_literal (GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_READ, reason);
    gst_element_post_message (pipeline, gst_message_new_error (GST_OBJECT (pipeline), err, NULL));
  }
}

static void
guard_refused (gpointer data, const char *reason)
{
  violation (data, reason);
}

/* Every request goes to the camera's own address and port: a control URL or
 * Content-Base of the SDP that points elsewhere is never requested. After a
 * refusal nothing more is sent. */
static gboolean
before_send (GstElement *src, GstRTSPMessage *msg, gpointer data)
{
  Ingest *in = data;
  g_autofree char *why = NULL;
  gboolean refused;

  g_mutex_lock (&in->p->lock);
  refused = in->violation != NULL;
  g_mutex_unlock (&in->p->lock);
  if (refused)
    return FALSE;
  if (msg->type != GST_RTSP_MESSAGE_REQUEST || g_strcmp0 (msg->type_data.request.uri, "*") == 0)
    return TRUE;
  if (cordon_camera_check_uri (in->p->camera, msg->type_data.request.uri, &why))
    return TRUE;
  g_autofree char *reason = g_strdup_printf ("the camera's %s URL is refused: %s",
                                             gst_rtsp_method_as_text (msg->type_data.request.method), why);
  violation (in, reason);
  return FALSE;
}

/* The size and rate parsed caps announce (0, and 0/1, when they do not). */
static void
stream_size_rate (const GstStructure *s, int *w, int *h, int *fps_n, int *fps_d)
{
  *w = *h = 0;
  gst_structure_get_int (s, "width", w);
  gst_structure_get_int (s, "height", h);
  if (!gst_structure_get_fraction (s, "framerate", fps_n, fps_d))
    *fps_n = 0, *fps_d = 1;
}

/* Bounds before decode: a size or rate the camera announces, in its SDP or
 * in the parsed stream, above max-input-size or max-input-framerate ends the
 * attempt before a decoder allocates for it. */
static gboolean
within_bounds (Ingest *in, const GstStructure *s, gboolean sdp)
{
  int w = 0, h = 0, fps_n = 0, fps_d = 1;
  g_autofree char *why = NULL;

  if (sdp)
    cordon_camera_sdp_bounds (s, &w, &h, &fps_n, &fps_d);
  else
    stream_size_rate (s, &w, &h, &fps_n, &fps_d);
  if (cordon_camera_check_bounds (in->p->camera, w, h, fps_n, fps_d, &why))
    return TRUE;
  g_autofree char *reason = g_strdup_printf ("%s%s", why, sdp ? " (its SDP)" : "");
  violation (in, reason);
  return FALSE;
}

/* Before the decoder opens its codec for these caps (cordondec reads its
 * threads then, and again on new caps): one thread while one core decodes
 * the stream with room to spare, frame threads for a bigger load
 * (camera-checks.c). Slice threads would mostly wait: most cameras send one
 * slice per picture (docs/performance.md). */
static void
decoder_threads (Ingest *in, GstPad *pad, const GstStructure *s)
{
  int w, h, fps_n, fps_d;
  stream_size_rate (s, &w, &h, &fps_n, &fps_d);
  guint cost = gst_structure_has_name (s, "video/x-h265") ? 2 : 1;
  guint threads = cordon_camera_decoder_threads (w, h, fps_n, fps_d, cost, g_get_num_processors ());
  g_autoptr (GstElement) dec = gst_pad_get_parent_element (pad);
  if (!dec || !g_object_class_find_property (G_OBJECT_GET_CLASS (dec), "max-threads"))
    return;
  g_object_set (dec, "max-threads", (int) threads, NULL);
  if (threads > 1)
    g_message ("%s: %dx%d %s pictures: %u frame threads in the decoder", in->p->camera->name, w, h,
               cost > 1 ? "H.265" : "H.264", threads);
}

static GstPadProbeReturn
bounded_caps (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  Ingest *in = data;
  GstCaps *caps;

  if (GST_PAD_PROBE_INFO_TYPE (info) & GST_PAD_PROBE_TYPE_BUFFER) {
    g_autofree char *why = NULL;
    gboolean refused;
    g_mutex_lock (&in->p->lock);
    refused = in->violation != NULL;
    g_mutex_unlock (&in->p->lock);
    if (!refused && !cordon_camera_meter_rate (in->p->camera, &in->rate, g_get_monotonic_time (), &why)) {
      violation (in, why);
      refused = TRUE;
    }
    return refused ? GST_PAD_PROBE_DROP : GST_PAD_PROBE_OK;
  }
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);
  if (GST_EVENT_TYPE (event) != GST_EVENT_CAPS)
    return GST_PAD_PROBE_OK;
  gst_event_parse_caps (event, &caps);
  const GstStructure *s = gst_caps_get_structure (caps, 0);
  if (s && !within_bounds (in, s, FALSE))
    return GST_PAD_PROBE_DROP;
  if (s)
    decoder_threads (in, pad, s);
  return GST_PAD_PROBE_OK;
}

/* The camera's SDP must not choose which RTP header extension parsers run. */
static void
no_header_extensions (GstElement *depay)
{
  if (g_object_class_find_property (G_OBJECT_GET_CLASS (depay), "auto-header-extension"))
    g_object_set (depay, "auto-header-extension", FALSE, NULL);
}

/* SETUP only what we use: one video stream, and one audio stream when the
 * camera has audio enabled. Everything else is never requested. */
static gboolean
select_stream (GstElement *src, guint num, GstCaps *caps, gpointer data)
{
  Ingest *in = data;
  CordonPipeline *p = in->p;
  const GstStructure *s = gst_caps_get_structure (caps, 0);
  const char *media = s ? gst_structure_get_string (s, "media") : NULL;
  const Codec *codec = s ? find_codec (s) : NULL;
  gboolean take = FALSE;

  g_mutex_lock (&p->lock);
  in->described = TRUE;
  g_mutex_unlock (&p->lock);
  if (!media || (!g_str_equal (media, "video") && !g_str_equal (media, "audio")))
    return FALSE;
  if (g_str_equal (media, "audio") && !p->camera->audio)
    return FALSE;
  if (!codec) {
    refuse (in, media, gst_structure_get_string (s, "encoding-name"));
    return FALSE;
  }
  if (g_str_equal (media, "video") && !within_bounds (in, s, TRUE))
    return FALSE;
  g_mutex_lock (&p->lock);
  if (g_str_equal (media, "video") && !in->video_selected)
    take = in->video_selected = TRUE;
  else if (g_str_equal (media, "audio") && !in->audio_selected)
    take = in->audio_selected = TRUE;
  if (take && g_str_equal (media, "video"))
    g_clear_pointer (&in->refusal, g_free);
  g_mutex_unlock (&p->lock);
  return take;
}

static GstFlowReturn
camera_sample (GstAppSink *sink, gpointer data)
{
  Ingest *in = data;
  g_autoptr (GstSample) sample = gst_app_sink_pull_sample (sink);
  GstBuffer *buffer = sample ? gst_sample_get_buffer (sample) : NULL;
  if (buffer)
    cordon_worker_picture (in, buffer);
  return GST_FLOW_OK;
}

static GstFlowReturn
audio_sample (GstAppSink *sink, gpointer data)
{
  Ingest *in = data;
  g_autoptr (GstSample) sample = gst_app_sink_pull_sample (sink);
  GstBuffer *buffer = sample ? gst_sample_get_buffer (sample) : NULL;
  if (buffer)
    cordon_worker_audio (in, buffer);
  return GST_FLOW_OK;
}

/* The video appsink's ALLOCATION answer: the picture slots (slotpool.h),
 * so that the decoder or the scaler writes each picture where the daemon
 * reads it. */
static GstPadProbeReturn
offer_slots (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  GstQuery *query = GST_PAD_PROBE_INFO_QUERY (info);
  if (GST_QUERY_TYPE (query) != GST_QUERY_ALLOCATION || !cordon_worker_propose_allocation (data, query))
    return GST_PAD_PROBE_OK;
  return GST_PAD_PROBE_HANDLED;
}

/* Notes the decoded camera size for the stats and the "live" log line. */
static GstPadProbeReturn
decoded_caps (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  Ingest *in = data;
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);
  GstCaps *caps;
  int width = 0, height = 0;

  if (GST_EVENT_TYPE (event) != GST_EVENT_CAPS)
    return GST_PAD_PROBE_OK;
  gst_event_parse_caps (event, &caps);
  const GstStructure *s = gst_caps_get_structure (caps, 0);
  if (!gst_structure_get_int (s, "width", &width) || !gst_structure_get_int (s, "height", &height))
    return GST_PAD_PROBE_OK;
  g_mutex_lock (&in->p->lock);
  if (!in->retired) {
    in->p->input_width = MAX (width, 0);
    in->p->input_height = MAX (height, 0);
  }
  GstElement *videorate = in->videorate ? gst_object_ref (in->videorate) : NULL;
  g_mutex_unlock (&in->p->lock);

  /* videorate holds each picture until the next one arrives, to pick the one
   * nearest to each output slot: a frame of latency (40 ms at 25 fps). A
   * camera at the output rate or faster only ever needs pictures dropped,
   * which drop-only mode decides on arrival. Slower or unknown rates keep
   * the default mode, which duplicates. Set before the caps reach videorate. */
  int fps_n = 0, fps_d = 0;
  gboolean drop_only = gst_structure_get_fraction (s, "framerate", &fps_n, &fps_d) && fps_n > 0 && fps_d > 0
    && gst_util_fraction_compare (fps_n, fps_d, (int) in->p->camera->framerate, 1) >= 0;
  if (videorate) {
    g_object_set (videorate, "drop-only", drop_only, NULL);
    gst_object_unref (videorate);
  }
  return GST_PAD_PROBE_OK;
}

/* In drop-only mode videorate keeps a picture whose time stamp is at or past
 * the next output slot. Camera time stamps jitter around the slots, so they
 * reach it half a frame later: a picture is kept when it is nearer to the
 * next slot than to the previous one. Nothing downstream reads these time
 * stamps (the encoder's appsrc stamps on arrival). */
static GstPadProbeReturn
half_frame_later (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  Ingest *in = data;
  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER (info);

  if (!GST_BUFFER_PTS_IS_VALID (buffer))
    return GST_PAD_PROBE_OK;
  buffer = gst_buffer_make_writable (buffer);
  GST_BUFFER_PTS (buffer) += GST_SECOND / (2 * MAX (in->p->camera->framerate, 1));
  GST_PAD_PROBE_INFO_DATA (info) = buffer;
  return GST_PAD_PROBE_OK;
}

/* Adds ELEMENTS (NULL entries skipped) to the ingest bin, links them in a
 * row and starts them; returns the first, or NULL if they do not link. */
static GstElement *
add_chain (Ingest *in, GstElement **elements, guint n)
{
  GstElement *prev = NULL, *first = NULL;
  for (guint i = 0; i < n; i++) {
    if (!elements[i])
      continue;
    gst_bin_add (GST_BIN (in->pipeline), elements[i]);
    if (prev && !gst_element_link (prev, elements[i]))
      return NULL;
    if (!first)
      first = elements[i];
    prev = elements[i];
  }
  for (guint i = n; i > 0; i--)
    if (elements[i - 1])
      gst_element_sync_state_with_parent (elements[i - 1]);
  return first;
}

static gboolean
make_all (const char *const *names, GstElement **out, guint n, GError **error)
{
  for (guint i = 0; i < n; i++) {
    out[i] = NULL;
    if (names[i] && !(out[i] = cordon_make (names[i], error))) {
      for (guint j = 0; j < i; j++)
        gst_clear_object (&out[j]);
      return FALSE;
    }
  }
  return TRUE;
}

static GstPadProbeReturn
count_rtp (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  Ingest *in = data;
  if (g_atomic_int_get (&in->keyframes))
    return GST_PAD_PROBE_REMOVE;
  g_atomic_int_inc (&in->rtp_buffers);
  return GST_PAD_PROBE_OK;
}

/* Until the first key frame, pictures reference pictures we never got: the
 * decoder would make up grey, smeared ones from them. They are dropped, so a
 * camera that never sends a key frame never goes live. */
static GstPadProbeReturn
until_keyframe (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  Ingest *in = data;
  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER (info);

  g_atomic_int_inc (&in->access_units);
  if (GST_BUFFER_FLAG_IS_SET (buffer, GST_BUFFER_FLAG_DELTA_UNIT))
    return GST_PAD_PROBE_DROP;
  g_atomic_int_set (&in->keyframes, 1);
  return GST_PAD_PROBE_REMOVE;
}

/* Counts what gets how far, for the reason when no picture comes. */
static void
watch_video (Ingest *in, GstElement *depay, GstElement *parsed)
{
  g_autoptr (GstPad) rtp = gst_element_get_static_pad (depay, "sink");
  g_autoptr (GstPad) units = gst_element_get_static_pad (parsed, "src");
  gst_pad_add_probe (rtp, GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST, count_rtp, in, NULL);
  gst_pad_add_probe (units, GST_PAD_PROBE_TYPE_BUFFER, until_keyframe, in, NULL);
}

static GstElement *
build_video (Ingest *in, const Codec *codec, GError **error)
{
  CordonPipeline *p = in->p;
  enum { DEPAY, PARSE, DEC, CONVERT, SCALE, RATE, FILTER, SINK, N };
  const char *names[N] = { codec->depay, codec->parse, codec->decoder, "videoconvert",
                           "videoscale", "videorate", "capsfilter", "appsink" };
  GstElement *e[N];

  if (!make_all (names, e, N, error))
    return NULL;
  no_header_extensions (e[DEPAY]);
  /* Corrupt slices are the camera's problem: keep decoding what we can
   * rather than failing the stream on the first bad frame. */
  gst_video_decoder_set_max_errors (GST_VIDEO_DECODER (e[DEC]), -1);
  /* A camera that jumps its timestamps must not make us invent hours of
   * duplicate frames. */
  g_object_set (e[RATE], "max-duplication-time", (guint64) GST_SECOND, NULL);
  watch_video (in, e[DEPAY], e[PARSE] ? e[PARSE] : e[DEPAY]);
  g_object_set (e[FILTER], "caps", p->raw_caps, NULL);
  g_object_set (e[SINK], "sync", FALSE, "max-buffers", 2, "drop", TRUE, "enable-last-sample", FALSE, NULL);
  GstAppSinkCallbacks callbacks = { .new_sample = camera_sample };
  gst_app_sink_set_callbacks (GST_APP_SINK (e[SINK]), &callbacks, in, NULL);

  g_autoptr (GstPad) to_decoder = gst_element_get_static_pad (e[DEC], "sink");
  gst_pad_add_probe (to_decoder, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM | GST_PAD_PROBE_TYPE_BUFFER, bounded_caps, in, NULL);
  g_autoptr (GstPad) decoded = gst_element_get_static_pad (e[DEC], "src");
  gst_pad_add_probe (decoded, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, decoded_caps, in, NULL);
  g_autoptr (GstPad) to_rate = gst_element_get_static_pad (e[RATE], "sink");
  gst_pad_add_probe (to_rate, GST_PAD_PROBE_TYPE_BUFFER, half_frame_later, in, NULL);
  g_autoptr (GstPad) to_sink = gst_element_get_static_pad (e[SINK], "sink");
  gst_pad_add_probe (to_sink, GST_PAD_PROBE_TYPE_QUERY_DOWNSTREAM, offer_slots, in, NULL);

  g_mutex_lock (&p->lock);
  in->videorate = gst_object_ref (e[RATE]);
  g_mutex_unlock (&p->lock);

  GstElement *first = add_chain (in, e, N);
  if (!first)
    g_set_error (error, CORDON_PIPELINE_ERROR, CORDON_PIPELINE_ERROR_FAILED,
                 "cannot link the %s decoder", codec->name);
  return first;
}

static GstElement *
build_audio (Ingest *in, const Codec *codec, GError **error)
{
  enum { DEPAY, PARSE, DEC, CONVERT, RESAMPLE, FILTER, ENC, SINK, N };
  const char *names[N] = { codec->depay, codec->parse, codec->decoder, "audioconvert",
                           "audioresample", "capsfilter", "alawenc", "appsink" };
  GstElement *e[N];

  if (!make_all (names, e, N, error))
    return NULL;
  no_header_extensions (e[DEPAY]);
  g_autoptr (GstCaps) caps = gst_caps_new_simple ("audio/x-raw", "rate", G_TYPE_INT, 8000,
                                                  "channels", G_TYPE_INT, 1, NULL);
  g_object_set (e[FILTER], "caps", caps, NULL);
  g_object_set (e[SINK], "sync", FALSE, "max-buffers", 10, "drop", TRUE, "enable-last-sample", FALSE, NULL);
  GstAppSinkCallbacks callbacks = { .new_sample = audio_sample };
  gst_app_sink_set_callbacks (GST_APP_SINK (e[SINK]), &callbacks, in, NULL);

  GstElement *first = add_chain (in, e, N);
  if (!first)
    g_set_error (error, CORDON_PIPELINE_ERROR, CORDON_PIPELINE_ERROR_FAILED,
                 "cannot link the %s audio decoder", codec->name);
  return first;
}

/* Streams we did not ask for still need a sink, or rtspsrc stalls on them. */
static void
discard_pad (Ingest *in, GstPad *pad)
{
  GstElement *sink = gst_element_factory_make ("fakesink", NULL);
  if (!sink)
    return;
  g_object_set (sink, "sync", FALSE, "async", FALSE, NULL);
  gst_bin_add (GST_BIN (in->pipeline), sink);
  gst_element_sync_state_with_parent (sink);
  g_autoptr (GstPad) sinkpad = gst_element_get_static_pad (sink, "sink");
  gst_pad_link (pad, sinkpad);
}

static void
pad_added (GstElement *src, GstPad *pad, gpointer data)
{
  Ingest *in = data;
  CordonPipeline *p = in->p;
  g_autoptr (GstCaps) caps = gst_pad_get_current_caps (pad);
  const GstStructure *s = caps ? gst_caps_get_structure (caps, 0) : NULL;
  const Codec *codec = s ? find_codec (s) : NULL;
  gboolean video = codec && g_str_equal (codec->media, "video");
  gboolean wanted;
  g_autoptr (GError) err = NULL;

  if (GST_PAD_DIRECTION (pad) != GST_PAD_SRC)
    return;
  g_mutex_lock (&p->lock);
  if (!codec || in->retired)
    wanted = FALSE;
  else if (video && !in->video_linked)
    wanted = in->video_linked = TRUE;
  else if (!video && p->camera->audio && !in->audio_linked)
    wanted = in->audio_linked = TRUE;
  else
    wanted = FALSE;
  if (wanted && video) {
    p->input_codec = codec->name;
    in->video_label = codec->label;
  }
  g_mutex_unlock (&p->lock);

  if (!wanted) {
    discard_pad (in, pad);
    return;
  }
  GstElement *first = video ? build_video (in, codec, &err) : build_audio (in, codec, &err);
  g_autoptr (GstPad) sinkpad = first ? gst_element_get_static_pad (first, "sink") : NULL;
  if (!sinkpad || GST_PAD_LINK_FAILED (gst_pad_link (pad, sinkpad))) {
    /* Surfaces on the bus, so the main context treats it as a failed attempt. */
    GST_ELEMENT_ERROR (src, CORE, NEGOTIATION, ("%s", err ? err->message : "cannot link the stream"), (NULL));
    return;
  }
  g_debug ("%s: %s stream linked", p->camera->name, codec->name);
}

Ingest *
cordon_ingest_new (CordonPipeline *p, GError **error)
{
  const CordonCamera *cam = p->camera;
  Ingest *in = g_new0 (Ingest, 1);
  in->p = p;
  in->sock_fd = -1;
  g_autoptr (GstElement) pipeline = gst_pipeline_new (NULL);
  GstElement *src = cordon_rtsp_guard_make_src (cam, guard_refused, in, error);
  if (!src) {
    g_free (in);
    return NULL;
  }
  gst_bin_add (GST_BIN (pipeline), src);

  /* rtspsrc's own User-Agent, GStreamer/VERSION, would tell a hostile
   * camera which parsers' bugs to aim at. */
  g_object_set (src, "location", cam->url, "latency", CORDON_RTSP_LATENCY_MS,
                "tcp-timeout", (guint64) CORDON_RTSP_TIMEOUT_S * G_USEC_PER_SEC, "user-agent", "cordon", NULL);
  /* RTSP over TCP only: the camera then never opens a flow toward us, and the
   * firewall can refuse every inbound packet from the camera VLAN. */
  gst_util_set_object_arg (G_OBJECT (src), "protocols", "tcp");
  /* Picture times from the camera's RTP time stamps alone. The default
   * (slave) mode bends them towards arrival times, which fails on
   * B-frames: their RTP time goes back and forth, the times come out
   * uneven, and videorate drops pictures of a camera at the output rate.
   * Only videorate reads these times (the encoder stamps on arrival). */
  gst_util_set_object_arg (G_OBJECT (src), "buffer-mode", "none");
  if (cam->username)
    g_object_set (src, "user-id", cam->username, "user-pw", cam->password ? cam->password : "", NULL);

  in->started = g_get_monotonic_time ();
  g_signal_connect (src, "before-send", G_CALLBACK (before_send), in);
  g_signal_connect (src, "select-stream", G_CALLBACK (select_stream), in);
  g_signal_connect (src, "pad-added", G_CALLBACK (pad_added), in);
  in->pipeline = g_steal_pointer (&pipeline);
  return in;
}

/* ---- the camera's TCP connection ----
 *
 * rtspsrc does not expose its socket. While an attempt connects, the one
 * socket of this process that is connected to the camera's address and port
 * and not owned by another attempt is taken as its own (by inode). */

static GMutex claims_lock;
static GHashTable *claims;  /* guint64 socket inodes owned by an attempt */

static void
release_socket (guint64 ino)
{
  g_mutex_lock (&claims_lock);
  if (claims)
    g_hash_table_remove (claims, &ino);
  g_mutex_unlock (&claims_lock);
}

static gboolean
peer_is (int fd, const char *host, guint16 port)
{
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  if (getpeername (fd, (struct sockaddr *) &ss, &len) < 0)
    return FALSE;
  if (ss.ss_family == AF_INET) {
    const struct sockaddr_in *a = (const struct sockaddr_in *) &ss;
    struct in_addr want;
    return inet_pton (AF_INET, host, &want) == 1 && a->sin_addr.s_addr == want.s_addr && ntohs (a->sin_port) == port;
  }
  if (ss.ss_family == AF_INET6) {
    const struct sockaddr_in6 *a = (const struct sockaddr_in6 *) &ss;
    struct in6_addr want;
    return inet_pton (AF_INET6, host, &want) == 1 && memcmp (&a->sin6_addr, &want, sizeof want) == 0
      && ntohs (a->sin6_port) == port;
  }
  return FALSE;
}

/* Main context, while connecting. Two attempts to one address at once (two
 * channels of one camera) cannot be told apart: then it tries again later. */
void
cordon_ingest_find_socket (Ingest *in)
{
  const CordonCamera *cam = in->p->camera;
  int found_fd = -1;
  guint64 found_ino = 0;
  guint candidates = 0;
  int max_fd = (int) MIN (sysconf (_SC_OPEN_MAX), 4096);

  /* By number, not /proc/self/fd: the worker's jail has no file system. */
  if (in->sock_ino)
    return;
  g_mutex_lock (&claims_lock);
  if (!claims)
    claims = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  for (int fd = 0; fd < max_fd; fd++) {
    struct stat st;
    guint64 ino;
    if (fstat (fd, &st) < 0 || !S_ISSOCK (st.st_mode))
      continue;
    ino = st.st_ino;
    if (g_hash_table_contains (claims, &ino) || !peer_is (fd, cam->host, cam->port))
      continue;
    candidates++;
    found_fd = fd;
    found_ino = ino;
  }
  if (candidates == 1) {
    g_hash_table_add (claims, g_memdup2 (&found_ino, sizeof found_ino));
    in->sock_fd = found_fd;
    in->sock_ino = found_ino;
  }
  g_mutex_unlock (&claims_lock);
}

/* A duplicate of FD if it still is socket INO (rtspsrc may have closed it and
 * the number may have been reused), else -1. */
static int
dup_if_same (int fd, guint64 ino)
{
  struct stat st;
  int d = fcntl (fd, F_DUPFD_CLOEXEC, 0);
  if (d < 0)
    return -1;
  if (fstat (d, &st) < 0 || (guint64) st.st_ino != ino || !S_ISSOCK (st.st_mode)) {
    close (d);
    return -1;
  }
  return d;
}

static guint64
bytes_received (Ingest *in)
{
  struct tcp_info info;
  socklen_t len = sizeof info;
  guint64 bytes = 0;
  int d = in->sock_ino ? dup_if_same (in->sock_fd, in->sock_ino) : -1;

  if (d < 0)
    return 0;
  memset (&info, 0, sizeof info);
  if (getsockopt (d, IPPROTO_TCP, TCP_INFO, &info, &len) == 0
      && len >= G_STRUCT_OFFSET (struct tcp_info, tcpi_bytes_received) + sizeof info.tcpi_bytes_received)
    bytes = info.tcpi_bytes_received;
  close (d);
  return bytes;
}

typedef struct {
  char *camera;
  int fd;
  guint64 ino;
} SocketCut;

static void
socket_cut_free (gpointer data)
{
  SocketCut *c = data;
  g_free (c->camera);
  g_free (c);
}

/* Main context: a retired attempt is still not down. Ending the connection
 * makes rtspsrc's read return, and its teardown finish. */
static gboolean
cut_socket (gpointer data)
{
  SocketCut *c = data;
  int d = dup_if_same (c->fd, c->ino);
  if (d >= 0) {
    g_message ("%s: the old connection does not close (the camera keeps sending); cutting it", c->camera);
    shutdown (d, SHUT_RDWR);
    close (d);
  }
  return G_SOURCE_REMOVE;
}

/* Runs on the reaper thread: may block while rtspsrc gives up on the camera. */
void
cordon_ingest_free (Ingest *in)
{
  if (!in)
    return;
  if (in->pipeline) {
    /* rtspsrc cannot interrupt a read in the middle of an RTSP message: a
     * camera that sends an endless response keeps the teardown (and this
     * thread) waiting for ever. Its socket is cut after a grace period. */
    GSource *cut = NULL;
    if (in->sock_ino) {
      SocketCut *c = g_new0 (SocketCut, 1);
      c->camera = g_strdup (in->p->camera->name);
      c->fd = in->sock_fd;
      c->ino = in->sock_ino;
      cut = g_timeout_source_new_seconds (CORDON_TEARDOWN_CUT_S);
      g_source_set_callback (cut, cut_socket, c, socket_cut_free);
      g_source_attach (cut, in->p->context);
    }
    gst_element_set_state (in->pipeline, GST_STATE_NULL);
    gst_object_unref (in->pipeline);
    if (cut) {
      g_source_destroy (cut);
      g_source_unref (cut);
    }
  }
  if (in->sock_ino)
    release_socket (in->sock_ino);
  gst_clear_object (&in->videorate);
  g_free (in->refusal);
  g_free (in->violation);
  g_free (in);
}

guint64
cordon_ingest_rate_drops (Ingest *in)
{
  guint64 drop = 0, pictures_in = 0, pictures_out = 0;
  gboolean drop_only = FALSE;

  g_mutex_lock (&in->p->lock);
  GstElement *videorate = in->videorate ? gst_object_ref (in->videorate) : NULL;
  g_mutex_unlock (&in->p->lock);
  if (!videorate)
    return 0;
  g_object_get (videorate, "drop", &drop, "in", &pictures_in, "out", &pictures_out, "drop-only", &drop_only, NULL);
  gst_object_unref (videorate);
  /* Drop-only mode (decoded_caps) does not count what it drops; it holds no
   * picture back either, so whatever went in and did not come out. */
  return drop_only && pictures_in > pictures_out ? pictures_in - pictures_out : drop;
}

/* A short reason for the log and the state callback. */
char *
cordon_ingest_describe_error (Ingest *in, GstMessage *msg)
{
  g_autoptr (GError) err = NULL;
  g_autofree char *debug = NULL;
  char *refusal = NULL;
  gboolean video_selected;

  g_mutex_lock (&in->p->lock);
  if (in->violation)
    refusal = g_strdup (in->violation);
  else if (in->refusal && !in->video_selected)
    refusal = g_strdup (in->refusal);
  video_selected = in->video_selected;
  g_mutex_unlock (&in->p->lock);
  if (refusal)
    return refusal;

  gst_message_parse_error (msg, &err, &debug);
  /* rtspsrc skips a stream whose SETUP the camera answers with 461 (or 406,
   * 405, 501, 551) and tries the next transport; with TCP the only one, a
   * camera that sends RTP over UDP only leaves it none. */
  if (video_selected && debug && strstr (debug, "gst_rtspsrc_setup_streams_start") &&
      g_error_matches (err, GST_STREAM_ERROR, GST_STREAM_ERROR_CODEC_NOT_FOUND))
    return g_strdup ("the camera refused to send the stream over TCP (RTP interleaved in the RTSP connection,"
                     " the only way cordon pulls a camera): turn on RTSP over TCP in the camera's settings");
  if (g_error_matches (err, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_AUTHORIZED))
    return g_strdup ("401 Unauthorized: wrong username or password");
  /* rtspsrc attaches the camera's status code; the text is ours, not the
   * reason phrase the camera chose. */
  const GstStructure *details = NULL;
  guint code = 0;
  gst_message_parse_error_details (msg, &details);
  if (details && gst_structure_get_uint (details, "rtsp-status-code", &code) && code >= 100 && code < 1000)
  {
    const char *text = gst_rtsp_status_as_text (code);
    return g_strdup_printf ("RTSP %u %s", code, text ? text : "error");
  }
  if (debug) {
    /* rtspsrc keeps no errno for a failed connect ("Generic error"), so
     * refused and unreachable read the same. */
    g_autofree char *silence = g_strdup_printf ("the camera stopped answering: no RTSP response within %d s",
                                                CORDON_RTSP_TIMEOUT_S);
    static const struct { const char *needle, *reason; } known[] = {
      { "Timeout while waiting for server response", NULL },
      { "(Parse error)", "the camera's answer is not RTSP (unparsable response)" },
      { "Timeout", "connection timed out" },
      { "timed out", "connection timed out" },
      { "Failed to connect", "cannot connect (refused or unreachable)" },
      { "Connection refused", "connection refused" },
      { "No route to host", "no route to host" },
      { "Network is unreachable", "network unreachable" },
      { "Connection reset", "connection reset by the camera" },
    };
    for (guint i = 0; i < G_N_ELEMENTS (known); i++)
      if (strstr (debug, known[i].needle))
        return g_strdup (known[i].reason ? known[i].reason : silence);
  }
  return cordon_sanitize (err->message);
}

/* Main context: why the attempt has shown no picture yet, from how far the
 * stream got. */
char *
cordon_ingest_describe_silence (Ingest *in)
{
  int secs = CORDON_CONNECT_TIMEOUT_MS / 1000;
  gboolean described;
  const char *label;

  g_mutex_lock (&in->p->lock);
  described = in->described;
  label = in->video_label;
  g_mutex_unlock (&in->p->lock);
  int rtp = g_atomic_int_get (&in->rtp_buffers);
  int units = g_atomic_int_get (&in->access_units);
  int keys = g_atomic_int_get (&in->keyframes);

  if (!described) {
    guint64 bytes = bytes_received (in);
    if (bytes >= 64 * 1024)
      return g_strdup_printf ("no complete RTSP response within %d s although the camera sent %.1f MB"
                              " (oversized or endless response)", secs, bytes / 1e6);
    return g_strdup_printf ("no complete RTSP response within %d s", secs);
  }
  if (!label)
    return g_strdup_printf ("the camera set up no video stream within %d s", secs);
  if (rtp == 0)
    return g_strdup_printf ("the camera set up the %s stream but sent no RTP within %d s", label, secs);
  if (units == 0)
    return g_strdup_printf ("no decodable %s in %d RTP packets within %d s: the stream is not the %s its SDP announces",
                            label, rtp, secs, label);
  if (!keys)
    return g_strdup_printf ("no key frame within %d s (%d %s pictures, all of them deltas):"
                            " nothing to start decoding from", secs, units, label);
  return g_strdup_printf ("the %s decoder produced no picture within %d s (a key frame arrived)", label, secs);
}
