/* Tests for cordon_pipeline_snapshot_jpeg() against a real RTSP camera (an
 * in-process gst-rtsp-server on 127.0.0.1 serving a white picture) and the
 * real slate. JPEGs are decoded with jpegdec and checked for size and
 * brightness: white is the camera's picture, dark the "camera offline" slate.
 * Every wait is bounded. */
#include <gst/app/gstappsink.h>
#include <gst/rtsp-server/rtsp-server.h>
#include <gst/video/video.h>
#include <string.h>

#include "pipeline.h"

#define OUT_WIDTH 320
#define OUT_HEIGHT 240

typedef struct {
  int width, height;
  double luma;        /* mean Y, 0..255 */
} Picture;

/* Decodes JPEG with an explicit jpegdec; FALSE when it is not a JPEG. */
static gboolean
decode (GBytes *jpeg, Picture *out)
{
  g_autoptr (GError) err = NULL;
  g_autoptr (GstElement) pipe = gst_parse_launch (
    "appsrc name=src caps=image/jpeg ! jpegparse ! jpegdec ! videoconvert"
    " ! video/x-raw,format=GRAY8 ! appsink name=sink", &err);
  g_assert_no_error (err);
  g_autoptr (GstElement) src = gst_bin_get_by_name (GST_BIN (pipe), "src");
  g_autoptr (GstElement) sink = gst_bin_get_by_name (GST_BIN (pipe), "sink");
  gst_element_set_state (pipe, GST_STATE_PLAYING);
  gst_app_src_push_buffer (GST_APP_SRC (src), gst_buffer_new_wrapped_bytes (jpeg));
  gst_app_src_end_of_stream (GST_APP_SRC (src));
  g_autoptr (GstSample) sample = gst_app_sink_try_pull_sample (GST_APP_SINK (sink), 5 * GST_SECOND);
  gst_element_set_state (pipe, GST_STATE_NULL);
  if (!sample)
    return FALSE;

  GstVideoInfo info;
  GstVideoFrame frame;
  g_assert_true (gst_video_info_from_caps (&info, gst_sample_get_caps (sample)));
  g_assert_true (gst_video_frame_map (&frame, &info, gst_sample_get_buffer (sample), GST_MAP_READ));
  guint64 sum = 0;
  for (int y = 0; y < info.height; y++) {
    const guint8 *row = (const guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&frame, 0)
                        + y * GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0);
    for (int x = 0; x < info.width; x++)
      sum += row[x];
  }
  gst_video_frame_unmap (&frame);
  out->width = info.width;
  out->height = info.height;
  out->luma = (double) sum / ((guint64) info.width * info.height);
  return TRUE;
}

static GstRTSPServer *
white_camera (guint *port)
{
  GstRTSPServer *server = gst_rtsp_server_new ();
  gst_rtsp_server_set_address (server, "127.0.0.1");
  gst_rtsp_server_set_service (server, "0");
  g_autoptr (GstRTSPMediaFactory) factory = gst_rtsp_media_factory_new ();
  gst_rtsp_media_factory_set_launch (factory,
    "( videotestsrc is-live=true pattern=white ! video/x-raw,width=640,height=480,framerate=15/1"
    " ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=15 ! rtph264pay name=pay0 pt=96 )");
  gst_rtsp_media_factory_set_shared (factory, TRUE);
  gst_rtsp_media_factory_set_protocols (factory, GST_RTSP_LOWER_TRANS_TCP);
  g_autoptr (GstRTSPMountPoints) mounts = gst_rtsp_server_get_mount_points (server);
  gst_rtsp_mount_points_add_factory (mounts, "/cam", g_steal_pointer (&factory));
  g_assert_cmpuint (gst_rtsp_server_attach (server, NULL), !=, 0);
  *port = gst_rtsp_server_get_bound_port (server);
  return server;
}

/* A port nobody listens on: bound, read, closed. */
static guint
closed_port (void)
{
  g_autoptr (GSocket) s = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, 0, NULL);
  g_autoptr (GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) any = g_inet_socket_address_new (lo, 0);
  g_assert_true (g_socket_bind (s, any, TRUE, NULL));
  g_autoptr (GSocketAddress) bound = g_socket_get_local_address (s, NULL);
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}

static CordonCamera *
camera_at (guint port)
{
  CordonCamera *cam = g_new0 (CordonCamera, 1);
  cam->refcount = 1;
  cam->name = g_strdup ("lobby");
  cam->host = g_strdup ("127.0.0.1");
  cam->address = g_inet_address_new_from_string (cam->host);
  cam->port = port;
  cam->url = g_strdup_printf ("rtsp://127.0.0.1:%u/cam", port);
  cam->width = OUT_WIDTH;
  cam->height = OUT_HEIGHT;
  cam->framerate = 15;
  cam->bitrate = 400;
  cam->keyframe_interval = 1;
  cam->profile = g_strdup ("main");
  cam->preset = g_strdup ("ultrafast");
  cam->max_input_width = 4096;
  cam->max_input_height = 2160;
  cam->max_input_framerate = 60;
  cam->worker_uid = 61000; /* the worker's own uid when the test runs as root */
  return cam;
}

static void
run_for (guint ms)
{
  gint64 deadline = g_get_monotonic_time () + ms * 1000;
  while (g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, FALSE) || (g_usleep (5000), 0);
}

/* Snapshots until one satisfies BRIGHT (or not), for at most MS. */
static gboolean
wait_picture (CordonPipeline *p, guint max_width, gboolean bright, guint ms, Picture *pic)
{
  gint64 deadline = g_get_monotonic_time () + ms * 1000;
  while (g_get_monotonic_time () < deadline) {
    g_autoptr (GError) err = NULL;
    g_autoptr (GBytes) jpeg = cordon_pipeline_snapshot_jpeg (p, max_width, &err);
    if (jpeg) {
      g_assert_true (decode (jpeg, pic));
      if ((pic->luma > 200) == bright)
        return TRUE;
    }
    run_for (250);
  }
  return FALSE;
}

static void
test_no_picture_before_start_is_an_error (void)
{
  g_autoptr (CordonCamera) cam = camera_at (closed_port ());
  g_autoptr (GError) err = NULL;
  g_autoptr (CordonPipeline) p = cordon_pipeline_new (cam, &err);
  g_assert_no_error (err);
  g_autoptr (GBytes) jpeg = cordon_pipeline_snapshot_jpeg (p, 0, &err);
  g_assert_null (jpeg);
  g_assert_error (err, CORDON_PIPELINE_ERROR, CORDON_PIPELINE_ERROR_FAILED);
  g_assert_nonnull (strstr (err->message, "lobby"));
}

static void
test_offline_camera_snapshot_is_the_slate (void)
{
  g_autoptr (CordonCamera) cam = camera_at (closed_port ());
  g_autoptr (GError) err = NULL;
  g_autoptr (CordonPipeline) p = cordon_pipeline_new (cam, &err);
  g_assert_no_error (err);
  g_assert_true (cordon_pipeline_start (p, &err));
  Picture pic;
  g_assert_true (wait_picture (p, 0, FALSE, 10000, &pic));
  g_assert_cmpint (pic.width, ==, OUT_WIDTH);
  g_assert_cmpint (pic.height, ==, OUT_HEIGHT);
  g_assert_cmpfloat (pic.luma, <, 80);
  cordon_pipeline_stop (p);
}

static void
test_live_camera_snapshot_is_scaled_and_cached (void)
{
  guint port;
  g_autoptr (GstRTSPServer) server = white_camera (&port);
  g_autoptr (CordonCamera) cam = camera_at (port);
  g_autoptr (GError) err = NULL;
  g_autoptr (CordonPipeline) p = cordon_pipeline_new (cam, &err);
  g_assert_no_error (err);
  g_assert_true (cordon_pipeline_start (p, &err));

  Picture pic;
  g_assert_true (wait_picture (p, 0, TRUE, 15000, &pic));
  g_assert_cmpint (pic.width, ==, OUT_WIDTH);
  g_assert_cmpint (pic.height, ==, OUT_HEIGHT);

  /* Scaled to fit, aspect kept; a width above the output size is the output size. */
  g_autoptr (GBytes) small = cordon_pipeline_snapshot_jpeg (p, 160, &err);
  g_assert_no_error (err);
  g_assert_true (decode (small, &pic));
  g_assert_cmpint (pic.width, ==, 160);
  g_assert_cmpint (pic.height, ==, 120);
  g_assert_cmpfloat (pic.luma, >, 200);
  g_autoptr (GBytes) big = cordon_pipeline_snapshot_jpeg (p, 4000, &err);
  g_assert_no_error (err);
  g_assert_true (decode (big, &pic));
  g_assert_cmpint (pic.width, ==, OUT_WIDTH);

  /* Asked again at once: the same JPEG, not a second encode. */
  g_autoptr (GBytes) again = cordon_pipeline_snapshot_jpeg (p, 160, &err);
  g_assert_true (again == small);
  cordon_pipeline_stop (p);
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  /* The camera is pulled by a real ingest worker; its launcher is forked
   * before any thread exists. */
  if (!cordon_pipeline_launcher_start (g_getenv ("CORDON_WORKER") ? g_getenv ("CORDON_WORKER") : "", 1000, FALSE,
                                       &error)) {
    g_printerr ("test-snapshot: %s (set CORDON_WORKER)\n", error->message);
    return 1;
  }
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/snapshot/no-picture-before-start-is-an-error", test_no_picture_before_start_is_an_error);
  g_test_add_func ("/snapshot/offline-camera-snapshot-is-the-slate", test_offline_camera_snapshot_is_the_slate);
  g_test_add_func ("/snapshot/live-camera-snapshot-is-scaled-and-cached", test_live_camera_snapshot_is_scaled_and_cached);
  return g_test_run ();
}
