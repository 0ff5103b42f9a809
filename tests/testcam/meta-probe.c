/* meta-probe CODEC URL [FRAMES]: decodes a camera's stream with cordon's
 * element chain (depay, parse, libav decoder, videoconvert, videoscale,
 * videorate, I420 capsfilter) and prints, for what comes out of it, how many
 * of FRAMES (default 30) pictures carried each GstMeta API, and the caps
 * fields that describe HDR. Shows which camera metadata GStreamer turns into
 * metas on decoded pictures: what cordon must not hand to its encoder. */
#include <gst/gst.h>
#include <gst/video/video.h>
#include <stdlib.h>

static GHashTable *counts;
static int frames, wanted;
static GMainLoop *loop;

static gboolean
count_meta (GstBuffer *buffer, GstMeta **meta, gpointer data)
{
  const char *name = g_type_name ((*meta)->info->api);
  g_hash_table_insert (counts, (gpointer) name, GINT_TO_POINTER (GPOINTER_TO_INT (g_hash_table_lookup (counts, name)) + 1));
  return TRUE;
}

static GstPadProbeReturn
on_buffer (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  if (frames >= wanted)
    return GST_PAD_PROBE_DROP;
  gst_buffer_foreach_meta (GST_PAD_PROBE_INFO_BUFFER (info), count_meta, NULL);
  if (++frames == wanted)
    g_main_loop_quit (loop);
  return GST_PAD_PROBE_OK;
}

static GstPadProbeReturn
on_event (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);
  if (GST_EVENT_TYPE (event) == GST_EVENT_CAPS) {
    GstCaps *caps;
    gst_event_parse_caps (event, &caps);
    const GstStructure *s = gst_caps_get_structure (caps, 0);
    static const char *const fields[] = { "mastering-display-info", "content-light-level" };
    for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
      if (gst_structure_has_field (s, fields[i]))
        g_print ("caps %s %s at %s\n", fields[i], gst_structure_get_string (s, fields[i]) ?: "?",
                 (const char *) data);
  }
  return GST_PAD_PROBE_OK;
}

static gboolean
on_bus (GstBus *bus, GstMessage *msg, gpointer data)
{
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR || GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS) {
    g_printerr ("meta-probe: %s after %d frames\n", GST_MESSAGE_TYPE_NAME (msg), frames);
    exit (1);
  }
  return G_SOURCE_CONTINUE;
}

static gboolean
on_timeout (gpointer data)
{
  g_printerr ("meta-probe: only %d of %d frames in 20 s\n", frames, wanted);
  exit (1);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  if (argc < 3 || (g_strcmp0 (argv[1], "h264") && g_strcmp0 (argv[1], "h265"))) {
    g_printerr ("usage: meta-probe h264|h265 URL [FRAMES]\n");
    return 2;
  }
  const char *c = argv[1];
  wanted = argc > 3 ? atoi (argv[3]) : 30;
  g_autofree char *launch = g_strdup_printf (
    "rtspsrc location=%s protocols=tcp latency=200 ! rtp%sdepay ! %sparse name=parse ! avdec_%s name=dec"
    " ! videoconvert ! videoscale ! videorate ! video/x-raw,format=I420,width=320,height=240,framerate=15/1"
    " ! fakesink name=sink sync=false", argv[2], c, c, c);
  g_autoptr (GError) error = NULL;
  g_autoptr (GstElement) pipeline = gst_parse_launch (launch, &error);
  if (!pipeline) {
    g_printerr ("meta-probe: %s\n", error->message);
    return 1;
  }
  counts = g_hash_table_new (g_str_hash, g_str_equal);
  loop = g_main_loop_new (NULL, FALSE);
  static const char *const watched[][2] = { { "parse", "src" }, { "dec", "src" }, { "sink", "sink" } };
  for (guint i = 0; i < G_N_ELEMENTS (watched); i++) {
    g_autoptr (GstElement) e = gst_bin_get_by_name (GST_BIN (pipeline), watched[i][0]);
    g_autoptr (GstPad) pad = gst_element_get_static_pad (e, watched[i][1]);
    gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, on_event, (gpointer) watched[i][0], NULL);
    if (i == 2)
      gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, on_buffer, NULL, NULL);
  }
  g_autoptr (GstBus) bus = gst_element_get_bus (pipeline);
  gst_bus_add_watch (bus, on_bus, NULL);
  g_timeout_add_seconds (20, on_timeout, NULL);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  g_main_loop_run (loop);
  gst_element_set_state (pipeline, GST_STATE_NULL);

  GHashTableIter iter;
  gpointer key, value;
  g_hash_table_iter_init (&iter, counts);
  while (g_hash_table_iter_next (&iter, &key, &value))
    g_print ("meta %s %d/%d\n", (const char *) key, GPOINTER_TO_INT (value), frames);
  return 0;
}
