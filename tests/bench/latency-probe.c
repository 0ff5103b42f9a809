/* cordon benchmark — glass-to-glass latency probe.
 *
 *   latency-probe URL SECONDS
 *
 * Pulls URL over RTSP/TCP with a plain receiver (rtspsrc latency=0 !
 * rtph264depay ! h264parse ! avdec_h264, single-threaded so the decoder adds
 * no frame delay), reads the capture time that cordon-testcam
 * --timestamp-overlay drew into each picture (tests/testcam/barcode.h) and
 * prints, for each decoded picture, the receive time (CLOCK_REALTIME, ms)
 * minus the capture time, or "-" where no bar code could be read. The first
 * second is skipped (connection set-up, first key frame). Stops after
 * SECONDS, or on error with exit status 1. LATENCY_PROBE_PIPELINE replaces
 * the receiver pipeline (see main).
 */
#include "barcode.h"

#include <gst/app/gstappsink.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct {
  GMainLoop *loop;
  gint64 first;       /* monotonic µs of the first picture, 0 before */
  guint printed;
  guint unreadable;
  gboolean failed;
} Probe;

static GstFlowReturn
on_sample (GstAppSink *sink, gpointer data)
{
  Probe *probe = data;
  g_autoptr (GstSample) sample = gst_app_sink_pull_sample (sink);
  gint64 now_ms = g_get_real_time () / 1000;
  GstVideoInfo info;
  GstVideoFrame frame;
  uint64_t captured;

  if (!sample || !gst_video_info_from_caps (&info, gst_sample_get_caps (sample)))
    return GST_FLOW_OK;
  if (!probe->first)
    probe->first = g_get_monotonic_time ();
  if (g_get_monotonic_time () - probe->first < G_USEC_PER_SEC)
    return GST_FLOW_OK;
  if (!gst_video_frame_map (&frame, &info, gst_sample_get_buffer (sample), GST_MAP_READ))
    return GST_FLOW_OK;
  if (cordon_barcode_decode (GST_VIDEO_FRAME_PLANE_DATA (&frame, 0), GST_VIDEO_FRAME_WIDTH (&frame),
                             GST_VIDEO_FRAME_HEIGHT (&frame), GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0), &captured))
    printf ("%" G_GINT64_FORMAT "\n", now_ms - (gint64) captured);
  else {
    printf ("-\n");
    probe->unreadable++;
  }
  probe->printed++;
  gst_video_frame_unmap (&frame);
  return GST_FLOW_OK;
}

static gboolean
on_bus (GstBus *bus, GstMessage *msg, gpointer data)
{
  Probe *probe = data;
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR || GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS) {
    g_autoptr (GError) err = NULL;
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR)
      gst_message_parse_error (msg, &err, NULL);
    fprintf (stderr, "latency-probe: %s\n", err ? err->message : "end of stream");
    probe->failed = TRUE;
    g_main_loop_quit (probe->loop);
  }
  return G_SOURCE_CONTINUE;
}

static gboolean
on_timeout (gpointer data)
{
  Probe *probe = data;
  g_main_loop_quit (probe->loop);
  return G_SOURCE_REMOVE;
}

int
main (int argc, char **argv)
{
  Probe probe = { 0 };
  g_autoptr (GError) err = NULL;

  gst_init (&argc, &argv);
  if (argc != 3 || atoi (argv[2]) <= 0) {
    fprintf (stderr, "usage: %s URL SECONDS\n", argv[0]);
    return 2;
  }
  /* LATENCY_PROBE_PIPELINE replaces the receiver (it needs an rtspsrc named
   * src and an I420 appsink named sink): to time a piece of cordon's chain
   * on its own, e.g. with rtspsrc latency=200 or a videorate. */
  const char *description = g_getenv ("LATENCY_PROBE_PIPELINE");
  if (!description)
    description = "rtspsrc name=src protocols=tcp latency=0 ! rtph264depay ! h264parse"
                  " ! avdec_h264 max-threads=1 ! video/x-raw,format=I420"
                  " ! appsink name=sink sync=false max-buffers=8 drop=false enable-last-sample=false";
  g_autoptr (GstElement) pipeline = gst_parse_launch (description, &err);
  if (!pipeline) {
    fprintf (stderr, "latency-probe: %s\n", err->message);
    return 1;
  }
  g_autoptr (GstElement) src = gst_bin_get_by_name (GST_BIN (pipeline), "src");
  g_autoptr (GstElement) sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  g_object_set (src, "location", argv[1], NULL);
  GstAppSinkCallbacks callbacks = { .new_sample = on_sample };
  gst_app_sink_set_callbacks (GST_APP_SINK (sink), &callbacks, &probe, NULL);

  probe.loop = g_main_loop_new (NULL, FALSE);
  g_autoptr (GstBus) bus = gst_element_get_bus (pipeline);
  gst_bus_add_watch (bus, on_bus, &probe);
  g_timeout_add_seconds (atoi (argv[2]), on_timeout, &probe);
  setvbuf (stdout, NULL, _IOLBF, 0);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  g_main_loop_run (probe.loop);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_bus_remove_watch (bus);
  g_main_loop_unref (probe.loop);
  fprintf (stderr, "latency-probe: %u pictures, %u without a readable code\n", probe.printed, probe.unreadable);
  return probe.failed || probe.printed == 0 ? 1 : 0;
}
