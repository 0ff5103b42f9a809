/* Tests for pipeline/ against real RTSP cameras: a gst-rtsp-server in this
 * process on 127.0.0.1 (random port) serving a test pattern, and consumers
 * that decode what cordon encodes. No mocks: the same rtspsrc, decoders and
 * x264enc that run in production. Every wait is bounded. */
#include <gst/app/gstappsink.h>
#include <gst/rtsp-server/rtsp-server.h>
#include <string.h>

#include "pipeline.h"

#define CAM_USER "admin"
#define CAM_PASSWORD "s3cret-Pw-9"
#define OUT_WIDTH 320
#define OUT_HEIGHT 240
#define OUT_FPS 15

/* ---- a test camera ---- */

typedef struct {
  GstRTSPServer *server;
  GstRTSPMediaFactory *factory;
  guint source;
  guint port;
  GstElement *valve;  /* "valve" in the last media, if its launch line has one */
} Camera;

static void
media_configure (GstRTSPMediaFactory *factory, GstRTSPMedia *media, gpointer data)
{
  Camera *c = data;
  g_autoptr (GstElement) element = gst_rtsp_media_get_element (media);
  gst_clear_object (&c->valve);
  c->valve = gst_bin_get_by_name (GST_BIN (element), "valve");
}

static Camera *
camera_new (const char *launch, gboolean auth)
{
  Camera *c = g_new0 (Camera, 1);
  c->server = gst_rtsp_server_new ();
  gst_rtsp_server_set_address (c->server, "127.0.0.1");
  gst_rtsp_server_set_service (c->server, "0");
  c->factory = gst_rtsp_media_factory_new ();
  gst_rtsp_media_factory_set_launch (c->factory, launch);
  gst_rtsp_media_factory_set_protocols (c->factory, GST_RTSP_LOWER_TRANS_TCP);
  g_signal_connect (c->factory, "media-configure", G_CALLBACK (media_configure), c);
  if (auth) {
    g_autoptr (GstRTSPAuth) a = gst_rtsp_auth_new ();
    g_autoptr (GstRTSPToken) token = gst_rtsp_token_new (GST_RTSP_TOKEN_MEDIA_FACTORY_ROLE, G_TYPE_STRING, "user", NULL);
    gst_rtsp_auth_set_supported_methods (a, GST_RTSP_AUTH_DIGEST);
    gst_rtsp_auth_add_digest (a, CAM_USER, CAM_PASSWORD, token);
    gst_rtsp_server_set_auth (c->server, a);
    gst_rtsp_media_factory_add_role (c->factory, "user",
                                     GST_RTSP_PERM_MEDIA_FACTORY_ACCESS, G_TYPE_BOOLEAN, TRUE,
                                     GST_RTSP_PERM_MEDIA_FACTORY_CONSTRUCT, G_TYPE_BOOLEAN, TRUE, NULL);
  }
  g_autoptr (GstRTSPMountPoints) mounts = gst_rtsp_server_get_mount_points (c->server);
  gst_rtsp_mount_points_add_factory (mounts, "/cam", g_object_ref (c->factory));
  c->source = gst_rtsp_server_attach (c->server, NULL);
  g_assert_cmpuint (c->source, !=, 0);
  c->port = gst_rtsp_server_get_bound_port (c->server);
  g_assert_cmpuint (c->port, >, 0);
  return c;
}

static GstRTSPFilterResult
close_client (GstRTSPServer *server, GstRTSPClient *client, gpointer data)
{
  return GST_RTSP_FILTER_REMOVE;
}

/* The camera "dies": its stream goes and new requests get 404. */
static void
camera_stop (Camera *c)
{
  g_autoptr (GstRTSPMountPoints) mounts = gst_rtsp_server_get_mount_points (c->server);
  gst_rtsp_mount_points_remove_factory (mounts, "/cam");
  g_list_free_full (gst_rtsp_server_client_filter (c->server, close_client, NULL), g_object_unref);
}

static GstRTSPFilterResult
count_transports (GstRTSPSession *session, GstRTSPSessionMedia *sm, gpointer data)
{
  guint *n = data;
  guint streams = gst_rtsp_media_n_streams (gst_rtsp_session_media_get_media (sm));
  for (guint i = 0; i < streams; i++)
    if (gst_rtsp_session_media_get_transport (sm, i))
      (*n)++;
  return GST_RTSP_FILTER_KEEP;
}

static GstRTSPFilterResult
count_sessions (GstRTSPClient *client, GstRTSPSession *session, gpointer data)
{
  gst_rtsp_session_filter (session, count_transports, data);
  return GST_RTSP_FILTER_KEEP;
}

static GstRTSPFilterResult
count_clients (GstRTSPServer *server, GstRTSPClient *client, gpointer data)
{
  gst_rtsp_client_session_filter (client, count_sessions, data);
  return GST_RTSP_FILTER_KEEP;
}

/* How many streams clients have SETUP on this camera right now. */
static guint
camera_streams (Camera *c)
{
  guint n = 0;
  gst_rtsp_server_client_filter (c->server, count_clients, &n);
  return n;
}

static void
camera_restart (Camera *c)
{
  g_autoptr (GstRTSPMountPoints) mounts = gst_rtsp_server_get_mount_points (c->server);
  gst_rtsp_mount_points_add_factory (mounts, "/cam", g_object_ref (c->factory));
}

static void
camera_free (Camera *c)
{
  camera_stop (c);
  gst_clear_object (&c->valve);
  g_source_remove (c->source);
  g_object_unref (c->factory);
  g_object_unref (c->server);
  g_free (c);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Camera, camera_free)

static CordonCamera *
config_for (Camera *c, const char *user, const char *password, gboolean audio)
{
  CordonCamera *cam = g_new0 (CordonCamera, 1);
  cam->refcount = 1;
  cam->name = g_strdup ("lobby");
  cam->host = g_strdup ("127.0.0.1");
  cam->address = g_inet_address_new_from_string (cam->host);
  cam->port = c->port;
  cam->url = g_strdup_printf ("rtsp://127.0.0.1:%u/cam", c->port);
  cam->username = g_strdup (user);
  cam->password = g_strdup (password);
  cam->width = OUT_WIDTH;
  cam->height = OUT_HEIGHT;
  cam->framerate = OUT_FPS;
  cam->bitrate = 400;
  cam->keyframe_interval = 1;
  cam->profile = g_strdup ("main");
  cam->preset = g_strdup ("ultrafast");
  cam->audio = audio;
  cam->max_input_width = 4096;
  cam->max_input_height = 2160;
  cam->max_input_framerate = 60;
  /* The worker's own uid when the test runs as root. */
  cam->worker_uid = 61000 + (c->port % 1000);
  return cam;
}

/* ---- a recorder stand-in: appsrc ! h264parse ! avdec_h264 ! appsink ---- */

typedef struct {
  GstElement *pipeline;
  GstElement *src;
  GMutex lock;
  guint frames;
  guint wrong_size;  /* frames not at the configured output size */
  int width, height;
} Consumer;

static GstFlowReturn
consumer_sample (GstAppSink *sink, gpointer data)
{
  Consumer *c = data;
  g_autoptr (GstSample) sample = gst_app_sink_pull_sample (sink);
  const GstStructure *s = gst_caps_get_structure (gst_sample_get_caps (sample), 0);
  int w = 0, h = 0;
  gst_structure_get_int (s, "width", &w);
  gst_structure_get_int (s, "height", &h);
  g_mutex_lock (&c->lock);
  c->frames++;
  c->width = w;
  c->height = h;
  if (w != OUT_WIDTH || h != OUT_HEIGHT)
    c->wrong_size++;
  g_mutex_unlock (&c->lock);
  return GST_FLOW_OK;
}

static Consumer *
consumer_new (CordonPipeline *p, const char *decoder_chain)
{
  Consumer *c = g_new0 (Consumer, 1);
  g_autoptr (GError) err = NULL;
  g_autoptr (GstCaps) caps = decoder_chain ? cordon_pipeline_get_audio_caps (p) : cordon_pipeline_get_caps (p);
  g_autofree char *launch = g_strdup_printf ("appsrc name=src ! %s ! appsink name=sink sync=false",
                                             decoder_chain ? decoder_chain : "h264parse name=parse ! avdec_h264");
  g_mutex_init (&c->lock);
  c->pipeline = gst_parse_launch (launch, &err);
  g_assert_no_error (err);
  c->src = gst_bin_get_by_name (GST_BIN (c->pipeline), "src");
  g_object_set (c->src, "caps", caps, "is-live", TRUE, "format", GST_FORMAT_TIME, "do-timestamp", TRUE, NULL);
  g_autoptr (GstElement) sink = gst_bin_get_by_name (GST_BIN (c->pipeline), "sink");
  GstAppSinkCallbacks callbacks = { .new_sample = consumer_sample };
  gst_app_sink_set_callbacks (GST_APP_SINK (sink), &callbacks, c, NULL);
  g_assert_cmpint (gst_element_set_state (c->pipeline, GST_STATE_PLAYING), !=, GST_STATE_CHANGE_FAILURE);
  if (decoder_chain)
    cordon_pipeline_attach_audio (p, GST_APP_SRC (c->src));
  else
    cordon_pipeline_attach (p, GST_APP_SRC (c->src));
  return c;
}

static guint
consumer_frames (Consumer *c)
{
  g_mutex_lock (&c->lock);
  guint n = c->frames;
  g_mutex_unlock (&c->lock);
  return n;
}

static void
consumer_free (Consumer *c)
{
  gst_element_set_state (c->pipeline, GST_STATE_NULL);
  gst_object_unref (c->src);
  gst_object_unref (c->pipeline);
  g_mutex_clear (&c->lock);
  g_free (c);
}

/* ---- waiting, always bounded ---- */

static gboolean
tick (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

/* Runs the main context until COND(DATA) holds or MS pass; returns whether it held. */
static gboolean
wait_for (gboolean (*cond) (gpointer), gpointer data, guint ms)
{
  gint64 deadline = g_get_monotonic_time () + ms * 1000;
  guint id = g_timeout_add (20, tick, NULL);
  gboolean ok;
  while (!(ok = cond (data)) && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (id);
  return ok;
}

static void
run_for (guint ms)
{
  gint64 deadline = g_get_monotonic_time () + ms * 1000;
  guint id = g_timeout_add (20, tick, NULL);
  while (g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (id);
}

static CordonCameraState
state_of (CordonPipeline *p)
{
  CordonPipelineStats st;
  cordon_pipeline_get_stats (p, &st);
  cordon_pipeline_stats_clear (&st);
  return st.state;
}

static gboolean
is_live (gpointer p)
{
  return state_of (p) == CORDON_CAMERA_LIVE;
}

static gboolean
is_offline (gpointer p)
{
  return state_of (p) == CORDON_CAMERA_OFFLINE;
}

static gboolean
has_error (gpointer p)
{
  CordonPipelineStats st;
  cordon_pipeline_get_stats (p, &st);
  gboolean yes = st.last_error != NULL;
  cordon_pipeline_stats_clear (&st);
  return yes;
}

typedef struct {
  Consumer *c;
  guint target;
} FrameWait;

static gboolean
has_frames (gpointer data)
{
  FrameWait *w = data;
  return consumer_frames (w->c) >= w->target;
}

static void
wait_frames (Consumer *c, guint more, guint ms)
{
  FrameWait w = { c, consumer_frames (c) + more };
  if (!wait_for (has_frames, &w, ms))
    g_error ("only %u of %u frames arrived within %u ms", consumer_frames (c), w.target, ms);
}

static guint state_changes[3];

static void
count_states (CordonPipeline *p, CordonCameraState state, const char *reason, gpointer data)
{
  g_assert_nonnull (reason);
  state_changes[state]++;
}

static CordonPipeline *
start_pipeline (CordonCamera *cam)
{
  g_autoptr (GError) err = NULL;
  CordonPipeline *p = cordon_pipeline_new (cam, &err);
  g_assert_no_error (err);
  memset (state_changes, 0, sizeof state_changes);
  cordon_pipeline_set_state_func (p, count_states, NULL);
  g_assert_true (cordon_pipeline_start (p, &err));
  g_assert_no_error (err);
  return p;
}

static void
wait_live (CordonPipeline *p)
{
  if (!wait_for (is_live, p, 15000)) {
    CordonPipelineStats st;
    cordon_pipeline_get_stats (p, &st);
    g_error ("not live after 15 s: %s", st.last_error ? st.last_error : "(no error)");
  }
}

/* ---- tests ---- */

static void
check_reencoded (const char *launch, const char *codec, guint in_w, guint in_h)
{
  g_autoptr (Camera) server = camera_new (launch, TRUE);
  g_autoptr (CordonCamera) cam = config_for (server, CAM_USER, CAM_PASSWORD, FALSE);
  g_autoptr (CordonPipeline) p = start_pipeline (cam);
  CordonPipelineStats st;

  wait_live (p);
  Consumer *c = consumer_new (p, NULL);
  wait_frames (c, 10, 10000);
  g_assert_cmpuint (c->wrong_size, ==, 0);
  g_assert_cmpint (c->width, ==, OUT_WIDTH);
  g_assert_cmpint (c->height, ==, OUT_HEIGHT);

  cordon_pipeline_get_stats (p, &st);
  g_assert_cmpint (st.state, ==, CORDON_CAMERA_LIVE);
  g_assert_cmpstr (st.input_codec, ==, codec);
  g_assert_cmpuint (st.input_width, ==, in_w);
  g_assert_cmpuint (st.input_height, ==, in_h);
  g_assert_cmpuint (st.frames_in, >, 0);
  g_assert_cmpuint (st.frames_out, >, 0);
  g_assert_cmpuint (st.bytes_out, >, 0);
  g_assert_cmpuint (st.encoders, ==, 1);
  g_assert_cmpint (st.last_frame_age_ms, >=, 0);
  g_assert_cmpint (st.last_frame_age_ms, <, 1000);
  cordon_pipeline_stats_clear (&st);
  g_assert_cmpuint (state_changes[CORDON_CAMERA_LIVE], ==, 1);

  cordon_pipeline_stop (p);
  consumer_free (c);
}

static void
test_h264_camera_is_reencoded_at_output_size (void)
{
  check_reencoded ("( videotestsrc is-live=true ! video/x-raw,width=640,height=480,framerate=15/1"
                   " ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=15"
                   " ! rtph264pay name=pay0 pt=96 )", "h264", 640, 480);
}

/* Cameras and encoder boxes that send B-frames (High profile, pictures out
 * of order on the wire, RTP time going back and forth): every picture is
 * decoded and encoded in order, none dropped, no reconnect. */
/* Pulls LAUNCH's camera until a recorder stand-in has had FRAMES pictures,
 * all at the configured size; ST gets the camera's figures at that moment. */
static void
pull_until (const char *launch, guint frames, CordonPipelineStats *st)
{
  g_autoptr (Camera) server = camera_new (launch, FALSE);
  g_autoptr (CordonCamera) cam = config_for (server, NULL, NULL, FALSE);
  g_autoptr (CordonPipeline) p = start_pipeline (cam);

  wait_live (p);
  Consumer *c = consumer_new (p, NULL);
  wait_frames (c, frames, 10000);
  g_assert_cmpuint (c->wrong_size, ==, 0);
  cordon_pipeline_get_stats (p, st);
  cordon_pipeline_stop (p);
  consumer_free (c);
}

static void
check_b_frames_lose_no_picture (const char *launch)
{
  CordonPipelineStats st;

  pull_until (launch, 3 * OUT_FPS, &st);
  g_assert_cmpint (st.state, ==, CORDON_CAMERA_LIVE);
  g_assert_cmpuint (st.frames_in, >=, 3 * OUT_FPS);
  g_assert_cmpuint (st.frames_dropped, ==, 0);
  g_assert_cmpuint (st.reconnects, ==, 0);
  cordon_pipeline_stats_clear (&st);
}

static void
test_b_frame_cameras_lose_no_picture (void)
{
  check_b_frames_lose_no_picture ("( videotestsrc is-live=true ! video/x-raw,width=640,height=360,framerate=15/1"
                                  " ! x264enc speed-preset=ultrafast bframes=2 b-adapt=false key-int-max=30"
                                  " rc-lookahead=5 ! video/x-h264,profile=high ! rtph264pay name=pay0 pt=96 )");
  /* x265's ultrafast preset codes B-frames unless tuned for zero latency. */
  check_b_frames_lose_no_picture ("( videotestsrc is-live=true ! video/x-raw,width=352,height=288,framerate=15/1"
                                  " ! x265enc speed-preset=ultrafast key-int-max=30 ! rtph265pay name=pay0 pt=96 )");
}

/* A camera faster than the output rate (30 fps into 15): the pictures
 * videorate leaves out are in frames_dropped, and frames_rate_dropped says
 * they are that kind. What the camera sent is what came in plus what was
 * left out. */
static void
test_rate_drops_are_counted (void)
{
  CordonPipelineStats st;

  pull_until ("( videotestsrc is-live=true ! video/x-raw,width=320,height=240,framerate=30/1"
              " ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=30 ! rtph264pay name=pay0 pt=96 )",
              3 * OUT_FPS, &st);
  guint64 sent = st.frames_in + st.frames_rate_dropped;
  g_test_message ("in %" G_GUINT64_FORMAT ", rate drops %" G_GUINT64_FORMAT ", dropped %" G_GUINT64_FORMAT,
                  st.frames_in, st.frames_rate_dropped, st.frames_dropped);
  g_assert_cmpuint (st.frames_in, >=, 3 * OUT_FPS);
  /* Half of a 30 fps camera is left out for 15 fps (a picture either way
   * at the start and at the moment of reading). */
  g_assert_cmpuint (st.frames_rate_dropped * 10, >=, sent * 4);
  g_assert_cmpuint (st.frames_rate_dropped * 10, <=, sent * 6);
  g_assert_cmpuint (st.frames_dropped, >=, st.frames_rate_dropped);
  cordon_pipeline_stats_clear (&st);
}

static void
test_h265_camera_is_reencoded_at_output_size (void)
{
  check_reencoded ("( videotestsrc is-live=true ! video/x-raw,width=352,height=288,framerate=15/1"
                   " ! x265enc tune=zerolatency speed-preset=ultrafast key-int-max=15"
                   " ! rtph265pay name=pay0 pt=96 )", "h265", 352, 288);
}

static void
test_jpeg_camera_is_reencoded_at_output_size (void)
{
  check_reencoded ("( videotestsrc is-live=true ! video/x-raw,format=I420,width=480,height=360,framerate=10/1"
                   " ! jpegenc ! rtpjpegpay name=pay0 pt=26 )", "jpeg", 480, 360);
}

static const char *h264_camera =
  "( videotestsrc is-live=true ! video/x-raw,width=640,height=360,framerate=15/1"
  " ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=15 ! rtph264pay name=pay0 pt=96 )";

static void
test_camera_loss_shows_slate_and_recovers (void)
{
  g_autoptr (Camera) server = camera_new (h264_camera, FALSE);
  g_autoptr (CordonCamera) cam = config_for (server, NULL, NULL, FALSE);
  g_autoptr (CordonPipeline) p = start_pipeline (cam);
  g_autoptr (GstCaps) caps = cordon_pipeline_get_caps (p);
  CordonPipelineStats st;

  wait_live (p);
  Consumer *c = consumer_new (p, NULL);
  wait_frames (c, 5, 10000);

  gint64 lost_at = g_get_monotonic_time ();
  camera_stop (server);
  g_assert_true (wait_for (is_offline, p, 2000));
  g_test_message ("offline after %" G_GINT64_FORMAT " ms", (g_get_monotonic_time () - lost_at) / 1000);

  /* The slate keeps the recorder fed, at the same size, with the same caps. */
  cordon_pipeline_get_stats (p, &st);
  guint64 frames_in = st.frames_in;
  g_assert_nonnull (st.last_error);
  cordon_pipeline_stats_clear (&st);
  wait_frames (c, 2 * OUT_FPS, 4000);
  cordon_pipeline_get_stats (p, &st);
  g_assert_cmpuint (st.frames_in, ==, frames_in);
  g_assert_cmpint (st.state, ==, CORDON_CAMERA_OFFLINE);
  cordon_pipeline_stats_clear (&st);
  g_assert_cmpuint (c->wrong_size, ==, 0);
  g_autoptr (GstPad) pad = gst_element_get_static_pad (c->src, "src");
  g_autoptr (GstCaps) now = gst_pad_get_current_caps (pad);
  g_assert_true (gst_caps_is_equal (now, caps));

  camera_restart (server);
  wait_live (p);
  wait_frames (c, 10, 5000);
  cordon_pipeline_get_stats (p, &st);
  g_assert_cmpuint (st.frames_in, >, frames_in);
  g_assert_cmpuint (st.reconnects, >=, 1);
  g_assert_cmpuint (st.encoders, ==, 1);
  cordon_pipeline_stats_clear (&st);
  g_assert_cmpuint (c->wrong_size, ==, 0);
  g_assert_cmpuint (state_changes[CORDON_CAMERA_LIVE], ==, 2);
  g_assert_cmpuint (state_changes[CORDON_CAMERA_OFFLINE], ==, 1);

  cordon_pipeline_stop (p);
  consumer_free (c);
}


/* Random bytes in one camera's H.264 hurt only that camera: the other stays
 * live without a reconnect, and both outputs keep their size. */
static void
test_garbage_camera_does_not_affect_others (void)
{
  g_autoptr (Camera) good_server = camera_new (h264_camera, FALSE);
  g_autoptr (Camera) bad_server = camera_new (
    "( videotestsrc is-live=true pattern=ball ! video/x-raw,width=640,height=360,framerate=15/1"
    " ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=15"
    " ! breakmydata probability=0.0005 skip=64 seed=7 ! rtph264pay name=pay0 pt=96 )", FALSE);
  g_autoptr (CordonCamera) good_cam = config_for (good_server, NULL, NULL, FALSE);
  g_autoptr (CordonCamera) bad_cam = config_for (bad_server, NULL, NULL, FALSE);
  g_autoptr (CordonPipeline) good = start_pipeline (good_cam);
  g_autoptr (CordonPipeline) bad = start_pipeline (bad_cam);
  CordonPipelineStats st;

  wait_live (good);
  Consumer *g = consumer_new (good, NULL);
  Consumer *b = consumer_new (bad, NULL);
  wait_frames (g, 5, 10000);
  run_for (4000);
  wait_frames (g, 5, 2000);
  wait_frames (b, 5, 2000);

  cordon_pipeline_get_stats (good, &st);
  g_assert_cmpint (st.state, ==, CORDON_CAMERA_LIVE);
  g_assert_cmpuint (st.reconnects, ==, 0);
  cordon_pipeline_stats_clear (&st);
  cordon_pipeline_get_stats (bad, &st);
  g_test_message ("garbage camera: %s, %" G_GUINT64_FORMAT " frames in, %u reconnects, last error %s",
                  cordon_camera_state_to_string (st.state), st.frames_in, st.reconnects,
                  st.last_error ? st.last_error : "none");
  cordon_pipeline_stats_clear (&st);
  g_assert_cmpuint (g->wrong_size + b->wrong_size, ==, 0);

  cordon_pipeline_stop (good);
  cordon_pipeline_stop (bad);
  consumer_free (g);
  consumer_free (b);
}

static void
test_stalled_camera_goes_offline_within_2_s (void)
{
  g_autoptr (Camera) server = camera_new (
    "( videotestsrc is-live=true ! video/x-raw,width=320,height=240,framerate=15/1 ! valve name=valve"
    " ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=15 ! rtph264pay name=pay0 pt=96 )", FALSE);
  g_autoptr (CordonCamera) cam = config_for (server, NULL, NULL, FALSE);
  g_autoptr (CordonPipeline) p = start_pipeline (cam);
  CordonPipelineStats st;

  wait_live (p);
  Consumer *c = consumer_new (p, NULL);
  wait_frames (c, 5, 10000);
  /* The connection stays up; only the frames stop. */
  g_assert_nonnull (server->valve);
  g_object_set (server->valve, "drop", TRUE, NULL);
  g_assert_true (wait_for (is_offline, p, 2000));
  cordon_pipeline_get_stats (p, &st);
  g_assert_cmpstr (st.last_error, ==, "no video frames for 1 s");
  cordon_pipeline_stats_clear (&st);
  wait_frames (c, OUT_FPS, 3000);
  /* The reconnect builds a new media whose valve is open. */
  wait_live (p);
  cordon_pipeline_stop (p);
  consumer_free (c);
}

/* The encoder's SPS carries the configured profile (read back by h264parse). */
static void
test_profile_follows_config (void)
{
  static const char *const profiles[] = { "baseline", "main", "high" };
  Camera nobody = { .port = 9 };

  for (guint i = 0; i < G_N_ELEMENTS (profiles); i++) {
    g_autoptr (CordonCamera) cam = config_for (&nobody, NULL, NULL, FALSE);
    g_free (cam->profile);
    cam->profile = g_strdup (profiles[i]);
    /* ultrafast turns CABAC off, and x264 then signals the lowest profile the
     * stream fits (constrained baseline), which every main decoder plays. */
    g_free (cam->preset);
    cam->preset = g_strdup ("veryfast");
    g_autoptr (CordonPipeline) p = start_pipeline (cam);
    Consumer *c = consumer_new (p, NULL);
    wait_frames (c, 3, 10000);
    g_autoptr (GstElement) parse = gst_bin_get_by_name (GST_BIN (c->pipeline), "parse");
    g_assert_nonnull (parse);
    g_autoptr (GstPad) pad = gst_element_get_static_pad (parse, "src");
    g_autoptr (GstCaps) caps = gst_pad_get_current_caps (pad);
    const char *got = gst_structure_get_string (gst_caps_get_structure (caps, 0), "profile");
    g_test_message ("configured %s, stream says %s", profiles[i], got);
    g_assert_nonnull (got);
    g_assert_true (g_str_has_suffix (got, profiles[i]));
    cordon_pipeline_stop (p);
    consumer_free (c);
  }
}

static void
test_wrong_credentials_never_live (void)
{
  g_autoptr (Camera) server = camera_new (h264_camera, TRUE);
  g_autoptr (CordonCamera) cam = config_for (server, CAM_USER, "not-the-password", FALSE);
  g_autoptr (CordonPipeline) p = start_pipeline (cam);
  CordonPipelineStats st;

  Consumer *c = consumer_new (p, NULL);
  g_assert_true (wait_for (has_error, p, 10000));
  /* Let it retry at least once. */
  run_for (2500);
  cordon_pipeline_get_stats (p, &st);
  g_assert_cmpint (st.state, ==, CORDON_CAMERA_OFFLINE);
  g_assert_nonnull (st.last_error);
  g_assert_nonnull (strstr (st.last_error, "Unauthorized"));
  g_assert_cmpuint (st.frames_in, ==, 0);
  g_assert_cmpuint (st.reconnects, >=, 1);
  cordon_pipeline_stats_clear (&st);
  g_assert_cmpuint (state_changes[CORDON_CAMERA_LIVE], ==, 0);
  /* The recorder sees the slate meanwhile. */
  g_assert_cmpuint (consumer_frames (c), >, 0);

  cordon_pipeline_stop (p);
  consumer_free (c);
}

static void
test_two_recorders_cost_one_encoder (void)
{
  g_autoptr (Camera) server = camera_new (h264_camera, FALSE);
  g_autoptr (CordonCamera) cam = config_for (server, NULL, NULL, FALSE);
  g_autoptr (CordonPipeline) p = start_pipeline (cam);
  CordonPipelineStats st;

  wait_live (p);
  Consumer *a = consumer_new (p, NULL);
  Consumer *b = consumer_new (p, NULL);
  wait_frames (a, 10, 10000);
  wait_frames (b, 10, 10000);
  cordon_pipeline_get_stats (p, &st);
  g_assert_cmpuint (st.encoders, ==, 1);
  cordon_pipeline_stats_clear (&st);

  cordon_pipeline_detach (p, GST_APP_SRC (b->src));
  wait_frames (a, 5, 5000);
  g_assert_cmpuint (a->wrong_size + b->wrong_size, ==, 0);

  cordon_pipeline_stop (p);
  consumer_free (a);
  consumer_free (b);
}

static void
test_stop_sends_eos_and_is_idempotent (void)
{
  g_autoptr (Camera) server = camera_new (h264_camera, FALSE);
  g_autoptr (CordonCamera) cam = config_for (server, NULL, NULL, FALSE);
  g_autoptr (CordonPipeline) p = start_pipeline (cam);
  CordonPipelineStats st;

  Consumer *c = consumer_new (p, NULL);
  wait_frames (c, 3, 10000);
  cordon_pipeline_stop (p);
  g_autoptr (GstBus) bus = gst_element_get_bus (c->pipeline);
  g_autoptr (GstMessage) eos = gst_bus_timed_pop_filtered (bus, 5 * GST_SECOND, GST_MESSAGE_EOS);
  g_assert_nonnull (eos);
  cordon_pipeline_stop (p);
  cordon_pipeline_get_stats (p, &st);
  g_assert_cmpuint (st.encoders, ==, 1); /* stopped, not destroyed */
  cordon_pipeline_stats_clear (&st);
  consumer_free (c);
}

static void
check_audio (const char *audio_launch)
{
  g_autofree char *launch = g_strdup_printf (
    "( videotestsrc is-live=true ! video/x-raw,width=320,height=240,framerate=15/1"
    " ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=15 ! rtph264pay name=pay0 pt=96"
    "  audiotestsrc is-live=true ! %s )", audio_launch);
  g_autoptr (Camera) server = camera_new (launch, FALSE);
  g_autoptr (CordonCamera) cam = config_for (server, NULL, NULL, TRUE);
  g_autoptr (CordonPipeline) p = start_pipeline (cam);
  g_autoptr (GstCaps) audio_caps = cordon_pipeline_get_audio_caps (p);

  g_assert_nonnull (audio_caps);
  wait_live (p);
  Consumer *v = consumer_new (p, NULL);
  Consumer *a = consumer_new (p, "alawdec");
  wait_frames (v, 5, 10000);
  wait_frames (a, 10, 10000);
  g_assert_cmpuint (camera_streams (server), ==, 2);
  cordon_pipeline_detach_audio (p, GST_APP_SRC (a->src));
  cordon_pipeline_stop (p);
  consumer_free (a);
  consumer_free (v);
}

static void
test_pcmu_audio_is_reencoded_to_alaw (void)
{
  check_audio ("audio/x-raw,rate=8000,channels=1 ! mulawenc ! rtppcmupay name=pay1");
}

static void
test_aac_audio_is_reencoded_to_alaw (void)
{
  check_audio ("audio/x-raw,rate=16000,channels=2 ! avenc_aac ! rtpmp4gpay name=pay1");
}

static void
test_audio_is_not_requested_when_off (void)
{
  g_autoptr (Camera) server = camera_new (
    "( videotestsrc is-live=true ! video/x-raw,width=320,height=240,framerate=15/1"
    " ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=15 ! rtph264pay name=pay0 pt=96"
    "  audiotestsrc is-live=true ! audio/x-raw,rate=8000,channels=1 ! alawenc ! rtppcmapay name=pay1 )",
    FALSE);
  g_autoptr (CordonCamera) cam = config_for (server, NULL, NULL, FALSE);
  g_autoptr (CordonPipeline) p = start_pipeline (cam);
  wait_live (p);
  g_assert_null (cordon_pipeline_get_audio_caps (p));
  g_assert_cmpuint (camera_streams (server), ==, 1);
  cordon_pipeline_stop (p);
}

/* SERVER's camera goes offline with REASON and never gives a picture. */
static void
never_live_because (Camera *server, const char *reason)
{
  g_autoptr (CordonCamera) cam = config_for (server, NULL, NULL, FALSE);
  g_autoptr (CordonPipeline) p = start_pipeline (cam);
  CordonPipelineStats st;

  g_assert_true (wait_for (has_error, p, 10000));
  cordon_pipeline_get_stats (p, &st);
  g_assert_cmpint (st.state, ==, CORDON_CAMERA_OFFLINE);
  g_assert_cmpstr (st.last_error, ==, reason);
  g_assert_cmpuint (st.frames_in, ==, 0);
  cordon_pipeline_stats_clear (&st);
  cordon_pipeline_stop (p);
}

static void
test_unsupported_codec_is_refused (void)
{
  g_autoptr (Camera) server = camera_new (
    "( videotestsrc is-live=true ! video/x-raw,width=320,height=240,framerate=15/1"
    " ! avenc_mpeg4 ! rtpmp4vpay name=pay0 pt=96 )", FALSE);
  never_live_because (server, "unsupported video codec MP4V-ES");
}

/* A camera that offers RTP over UDP only answers the TCP SETUP with 461: the
 * reason says so, not GStreamer's "allow more transport protocols". */
static void
test_udp_only_camera_is_named (void)
{
  g_autoptr (Camera) server = camera_new (h264_camera, FALSE);
  gst_rtsp_media_factory_set_protocols (server->factory, GST_RTSP_LOWER_TRANS_UDP);
  never_live_because (server, "the camera refused to send the stream over TCP (RTP interleaved in the RTSP"
                      " connection, the only way cordon pulls a camera): turn on RTSP over TCP in the camera's settings");
}

/* The User-Agent of every request cordon sends a camera, or "(none)". */
static void
note_user_agent (GstRTSPClient *client, GstRTSPContext *ctx, gpointer data)
{
  GPtrArray *seen = data;
  char *ua = NULL;
  if (gst_rtsp_message_get_header (ctx->request, GST_RTSP_HDR_USER_AGENT, &ua, 0) != GST_RTSP_OK)
    ua = "(none)";
  g_ptr_array_add (seen, g_strdup (ua));
}

static void
watch_requests (GstRTSPServer *server, GstRTSPClient *client, gpointer data)
{
  static const char *const requests[] = { "options-request", "describe-request", "setup-request", "play-request" };
  for (guint i = 0; i < G_N_ELEMENTS (requests); i++)
    g_signal_connect (client, requests[i], G_CALLBACK (note_user_agent), data);
}

/* A camera that knows GStreamer learns neither it nor its version from
 * cordon's requests: rtspsrc's own User-Agent is GStreamer/VERSION. */
static void
test_requests_name_no_gstreamer_version (void)
{
  g_autoptr (GPtrArray) seen = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (Camera) server = camera_new (h264_camera, FALSE);
  g_signal_connect (server->server, "client-connected", G_CALLBACK (watch_requests), seen);
  g_autoptr (CordonCamera) cam = config_for (server, NULL, NULL, FALSE);
  g_autoptr (CordonPipeline) p = start_pipeline (cam);

  wait_live (p);
  cordon_pipeline_stop (p);
  g_assert_cmpuint (seen->len, >=, 3);
  for (guint i = 0; i < seen->len; i++)
    g_assert_cmpstr (g_ptr_array_index (seen, i), ==, "cordon");
}

static void
test_refused_connection_goes_offline (void)
{
  /* A port nobody listens on: bind one, then close it. */
  g_autoptr (GSocket) sock = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
  g_autoptr (GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) any = g_inet_socket_address_new (lo, 0);
  g_assert_true (g_socket_bind (sock, any, FALSE, NULL));
  g_autoptr (GSocketAddress) bound = g_socket_get_local_address (sock, NULL);
  Camera nobody = { .port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)) };
  g_socket_close (sock, NULL);

  g_autoptr (CordonCamera) cam = config_for (&nobody, NULL, NULL, FALSE);
  g_autoptr (CordonPipeline) p = start_pipeline (cam);
  CordonPipelineStats st;

  Consumer *c = consumer_new (p, NULL);
  g_assert_true (wait_for (has_error, p, 10000));
  cordon_pipeline_get_stats (p, &st);
  g_assert_cmpint (st.state, ==, CORDON_CAMERA_OFFLINE);
  g_assert_cmpstr (st.last_error, ==, "cannot connect (refused or unreachable)");
  cordon_pipeline_stats_clear (&st);
  g_assert_cmpuint (state_changes[CORDON_CAMERA_OFFLINE], ==, 1);
  wait_frames (c, 5, 5000);
  cordon_pipeline_stop (p);
  consumer_free (c);
}

static void
test_audio_off_has_no_audio_caps (void)
{
  g_autoptr (Camera) server = camera_new (h264_camera, FALSE);
  g_autoptr (CordonCamera) cam = config_for (server, NULL, NULL, FALSE);
  g_autoptr (GError) err = NULL;
  g_autoptr (CordonPipeline) p = cordon_pipeline_new (cam, &err);
  g_assert_no_error (err);
  g_assert_null (cordon_pipeline_get_audio_caps (p));
}

/* Nothing this module logs may contain the camera password. */
static void
log_handler (const char *domain, GLogLevelFlags level, const char *message, gpointer data)
{
  g_assert_null (strstr (message, CAM_PASSWORD));
  g_assert_null (strstr (message, "not-the-password"));
  if (level & (G_LOG_LEVEL_WARNING | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_ERROR))
    g_error ("unexpected %s: %s", domain, message);
  if (g_test_verbose ())
    g_printerr ("%s: %s\n", domain, message);
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  /* The cameras are pulled by real ingest workers, started by the launcher,
   * which must be forked before any thread exists. */
  const char *worker = g_getenv ("CORDON_WORKER");
  if (!worker || !cordon_pipeline_launcher_start (worker, 1000, FALSE, &error)) {
    g_printerr ("test-pipeline: no worker launcher: %s\n", error ? error->message : "CORDON_WORKER is not set");
    return 1;
  }
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_log_set_handler ("cordon-pipeline", G_LOG_LEVEL_MASK | G_LOG_FLAG_FATAL, log_handler, NULL);

  g_test_add_func ("/pipeline/h264-camera-is-reencoded-at-output-size", test_h264_camera_is_reencoded_at_output_size);
  g_test_add_func ("/pipeline/h265-camera-is-reencoded-at-output-size", test_h265_camera_is_reencoded_at_output_size);
  g_test_add_func ("/pipeline/b-frame-cameras-lose-no-picture", test_b_frame_cameras_lose_no_picture);
  g_test_add_func ("/pipeline/rate-drops-are-counted", test_rate_drops_are_counted);
  g_test_add_func ("/pipeline/jpeg-camera-is-reencoded-at-output-size", test_jpeg_camera_is_reencoded_at_output_size);
  g_test_add_func ("/pipeline/camera-loss-shows-slate-and-recovers", test_camera_loss_shows_slate_and_recovers);
  g_test_add_func ("/pipeline/stalled-camera-goes-offline-within-2-s", test_stalled_camera_goes_offline_within_2_s);
  g_test_add_func ("/pipeline/garbage-camera-does-not-affect-others", test_garbage_camera_does_not_affect_others);
  g_test_add_func ("/pipeline/profile-follows-config", test_profile_follows_config);
  g_test_add_func ("/pipeline/wrong-credentials-never-live", test_wrong_credentials_never_live);
  g_test_add_func ("/pipeline/two-recorders-cost-one-encoder", test_two_recorders_cost_one_encoder);
  g_test_add_func ("/pipeline/stop-sends-eos-and-is-idempotent", test_stop_sends_eos_and_is_idempotent);
  g_test_add_func ("/pipeline/audio-off-has-no-audio-caps", test_audio_off_has_no_audio_caps);
  g_test_add_func ("/pipeline/refused-connection-goes-offline", test_refused_connection_goes_offline);
  g_test_add_func ("/pipeline/unsupported-codec-is-refused", test_unsupported_codec_is_refused);
  g_test_add_func ("/pipeline/udp-only-camera-is-named", test_udp_only_camera_is_named);
  g_test_add_func ("/pipeline/requests-name-no-gstreamer-version", test_requests_name_no_gstreamer_version);
  g_test_add_func ("/pipeline/audio-is-not-requested-when-off", test_audio_is_not_requested_when_off);
  g_test_add_func ("/pipeline/pcmu-audio-is-reencoded-to-alaw", test_pcmu_audio_is_reencoded_to_alaw);
  g_test_add_func ("/pipeline/aac-audio-is-reencoded-to-alaw", test_aac_audio_is_reencoded_to_alaw);
  return g_test_run ();
}
