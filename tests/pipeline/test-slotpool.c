/* Unit tests for pipeline/slotpool.c against real GStreamer elements: the
 * worker's decoder and scaler write pictures straight into the ring's slots,
 * a slot is never handed out while the daemon or the chain still holds it,
 * and a daemon that holds every slot never blocks the decoder. */
#define _GNU_SOURCE
#include <gst/app/gstappsink.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "decoder.h"
#include "handover.h"
#include "ring.h"
#include "slotpool.h"

#define W 64
#define H 48
#define SLOTS 6

typedef struct {
  CordonSlots *slots;
  GstVideoInfo info;
  gsize slot_size;
  guint8 *ring;
  gboolean hold_all;           /* the daemon never gives a slot back */
  gboolean held[SLOTS];
  guint pictures, leased, dropped, wrong_pixels, twice;
  guint padded;                /* leases in the decoder's layout */
  guint64 decoder_copied;      /* cordondec's own count */
} Fixture;

static GstPadProbeReturn
offer_slots (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  Fixture *f = data;
  GstQuery *query = GST_PAD_PROBE_INFO_QUERY (info);
  if (GST_QUERY_TYPE (query) != GST_QUERY_ALLOCATION)
    return GST_PAD_PROBE_OK;
  g_autoptr (GstBufferPool) pool = cordon_slots_propose (f->slots, query);
  if (!pool)
    return GST_PAD_PROBE_OK;
  return GST_PAD_PROBE_HANDLED;
}

/* How many rows of picture A's planes differ from B's (same format and
 * size; each frame's own strides). */
static guint
rows_differ (const GstVideoFrame *a, const GstVideoFrame *b)
{
  guint rows = 0;
  for (guint p = 0; p < GST_VIDEO_FRAME_N_PLANES (a); p++) {
    gint comp[GST_VIDEO_MAX_COMPONENTS];
    gst_video_format_info_component (a->info.finfo, p, comp);
    gsize bytes = (gsize) GST_VIDEO_FRAME_COMP_WIDTH (a, comp[0]) * GST_VIDEO_FRAME_COMP_PSTRIDE (a, comp[0]);
    for (int y = 0; y < GST_VIDEO_FRAME_COMP_HEIGHT (a, comp[0]); y++)
      rows += memcmp ((const guint8 *) GST_VIDEO_FRAME_PLANE_DATA (a, p) + y * GST_VIDEO_FRAME_PLANE_STRIDE (a, p),
                      (const guint8 *) GST_VIDEO_FRAME_PLANE_DATA (b, p) + y * GST_VIDEO_FRAME_PLANE_STRIDE (b, p), bytes)
              != 0;
  }
  return rows;
}

/* What the daemon would read from SLOT in LAYOUT (the planes it computes
 * itself) is exactly BUFFER's picture. */
static gboolean
slot_matches (Fixture *f, guint slot, CordonPictureLayout layout, GstBuffer *buffer)
{
  g_autoptr (GstBuffer) in_slot = gst_buffer_new_wrapped_full (GST_MEMORY_FLAG_READONLY,
                                                               f->ring + slot * f->slot_size, f->slot_size, 0,
                                                               f->slot_size, NULL, NULL);
  CordonPlanes planes;
  cordon_handover_layout (W, H, layout, &planes);
  if (layout == CORDON_LAYOUT_DECODER)
    cordon_planes_add_meta (in_slot, &planes, W, H);
  GstVideoFrame a, b;
  g_assert_true (gst_video_frame_map (&a, &f->info, in_slot, GST_MAP_READ));
  g_assert_true (gst_video_frame_map (&b, &f->info, buffer, GST_MAP_READ));
  gboolean same = rows_differ (&a, &b) == 0;
  gst_video_frame_unmap (&b);
  gst_video_frame_unmap (&a);
  return same;
}

static GstFlowReturn
on_sample (GstAppSink *sink, gpointer data)
{
  Fixture *f = data;
  g_autoptr (GstSample) sample = gst_app_sink_pull_sample (sink);
  GstBuffer *buffer = gst_sample_get_buffer (sample);
  f->pictures++;
  CordonPictureLayout layout;
  int slot = cordon_slots_lease (f->slots, buffer, &layout);
  if (slot < 0) {
    f->dropped++;
    return GST_FLOW_OK;
  }
  g_assert_cmpint (slot, <, SLOTS);
  if (f->held[slot])
    f->twice++;
  f->held[slot] = TRUE;
  f->leased++;
  if (layout == CORDON_LAYOUT_DECODER)
    f->padded++;
  if (!slot_matches (f, (guint) slot, layout, buffer))
    f->wrong_pixels++;
  if (!f->hold_all) {
    /* The daemon encodes and gives the slot back at once. */
    f->held[slot] = FALSE;
    cordon_slots_release (f->slots, (guint) slot);
  }
  return GST_FLOW_OK;
}

/* The worker's video chain (ingest.c) after an encoder playing the camera:
 * CAMERA is the camera's caps, the appsink wants W×H at 25 fps; DECODER is
 * the worker's cordondec, or another to compare. */
static void
run_chain_with (Fixture *f, const char *decoder, const char *camera, guint pictures)
{
  g_autofree char *desc = g_strdup_printf (
    "videotestsrc num-buffers=%u pattern=ball ! %s ! x264enc tune=zerolatency speed-preset=ultrafast"
    " ! h264parse ! %s name=dec ! videoconvert ! videoscale ! videorate"
    " ! video/x-raw,format=I420,width=%d,height=%d,framerate=25/1,pixel-aspect-ratio=1/1"
    " ! appsink name=sink sync=false max-buffers=2 drop=true enable-last-sample=false",
    pictures, camera, decoder, W, H);
  g_autoptr (GError) error = NULL;
  g_autoptr (GstElement) pipeline = gst_parse_launch (desc, &error);
  g_assert_no_error (error);
  g_autoptr (GstElement) dec = gst_bin_get_by_name (GST_BIN (pipeline), "dec");
  g_object_set (dec, "max-threads", 1, NULL);
  g_autoptr (GstElement) sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  GstAppSinkCallbacks callbacks = { .new_sample = on_sample };
  gst_app_sink_set_callbacks (GST_APP_SINK (sink), &callbacks, f, NULL);
  g_autoptr (GstPad) pad = gst_element_get_static_pad (sink, "sink");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_QUERY_DOWNSTREAM, offer_slots, f, NULL);

  g_assert_cmpint (gst_element_set_state (pipeline, GST_STATE_PLAYING), !=, GST_STATE_CHANGE_FAILURE);
  g_autoptr (GstBus) bus = gst_element_get_bus (pipeline);
  g_autoptr (GstMessage) msg = gst_bus_timed_pop_filtered (bus, 60 * GST_SECOND, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  g_assert_nonnull (msg);
  g_assert_cmpint (GST_MESSAGE_TYPE (msg), ==, GST_MESSAGE_EOS);
  if (g_object_class_find_property (G_OBJECT_GET_CLASS (dec), "copied"))
    g_object_get (dec, "copied", &f->decoder_copied, NULL);
  gst_element_set_state (pipeline, GST_STATE_NULL);
}

static void
run_chain (Fixture *f, const char *camera, guint pictures)
{
  run_chain_with (f, "cordondec", camera, pictures);
}

static void fixture_init (Fixture *f);
static void fixture_clear (Fixture *f);

/* STREAM (a pipeline fragment ending in parsed H.264 or H.265) through
 * cordondec (THREADS frame threads; the slots offered to it when SLOTS) and
 * through DECODER (gst-libav's, on one thread) at once: both put out
 * EXPECTED pictures, each of the same format and size, with the same
 * pixels. Returns how many pictures cordondec copied rather than decoded in
 * place. */
static guint64
decoders_agree (const char *stream, const char *decoder, int threads, gboolean slots, guint expected)
{
  Fixture f;
  fixture_init (&f);
  g_autofree char *desc = g_strdup_printf ("%s ! tee name=t"
                                           " t. ! queue ! cordondec name=dec ! appsink name=a sync=false"
                                           " t. ! queue ! %s max-threads=1 ! appsink name=b sync=false",
                                           stream, decoder);
  g_autoptr (GError) error = NULL;
  g_autoptr (GstElement) pipeline = gst_parse_launch (desc, &error);
  g_assert_no_error (error);
  g_autoptr (GstElement) dec = gst_bin_get_by_name (GST_BIN (pipeline), "dec");
  g_object_set (dec, "max-threads", threads, NULL);
  g_autoptr (GstElement) a = gst_bin_get_by_name (GST_BIN (pipeline), "a");
  g_autoptr (GstElement) b = gst_bin_get_by_name (GST_BIN (pipeline), "b");
  g_autoptr (GstPad) pad = gst_element_get_static_pad (a, "sink");
  if (slots)
    gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_QUERY_DOWNSTREAM, offer_slots, &f, NULL);
  g_assert_cmpint (gst_element_set_state (pipeline, GST_STATE_PLAYING), !=, GST_STATE_CHANGE_FAILURE);
  guint n = 0, different = 0;
  for (;;) {
    g_autoptr (GstSample) sa = gst_app_sink_pull_sample (GST_APP_SINK (a));
    g_autoptr (GstSample) sb = gst_app_sink_pull_sample (GST_APP_SINK (b));
    if (!sa || !sb) {
      g_assert_true (!sa && !sb);
      break;
    }
    GstVideoInfo ia, ib;
    g_assert_true (gst_video_info_from_caps (&ia, gst_sample_get_caps (sa)));
    g_assert_true (gst_video_info_from_caps (&ib, gst_sample_get_caps (sb)));
    g_assert_cmpstr (GST_VIDEO_INFO_NAME (&ia), ==, GST_VIDEO_INFO_NAME (&ib));
    g_assert_cmpint (GST_VIDEO_INFO_WIDTH (&ia), ==, GST_VIDEO_INFO_WIDTH (&ib));
    g_assert_cmpint (GST_VIDEO_INFO_HEIGHT (&ia), ==, GST_VIDEO_INFO_HEIGHT (&ib));
    GstVideoFrame fa, fb;
    g_assert_true (gst_video_frame_map (&fa, &ia, gst_sample_get_buffer (sa), GST_MAP_READ));
    g_assert_true (gst_video_frame_map (&fb, &ib, gst_sample_get_buffer (sb), GST_MAP_READ));
    different += rows_differ (&fa, &fb);
    gst_video_frame_unmap (&fb);
    gst_video_frame_unmap (&fa);
    n++;
  }
  guint64 copied = 0;
  g_object_get (dec, "copied", &copied, NULL);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  g_assert_cmpuint (n, ==, expected);
  g_assert_cmpuint (different, ==, 0);
  fixture_clear (&f);
  return copied;
}

#define BALL(caps, pictures) "videotestsrc num-buffers=" #pictures " pattern=ball ! " caps
#define X264(options) " ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=10 " options " ! h264parse"

/* Every picture cordondec decodes in place, on the streaming thread or
 * with THREADS frame threads, has avdec's pixels. */
static void
decoder_pixels_match_avdec (int threads)
{
  const char *camera = BALL ("video/x-raw,format=I420,width=64,height=48,framerate=25/1", 30) X264 ("");
  g_assert_cmpuint (decoders_agree (camera, "avdec_h264", threads, TRUE, 30), <=, 1);
}

static void
test_decoder_pixels_match_avdec (void)
{
  decoder_pixels_match_avdec (1);
}

static void
test_frame_threads_pixels_match_avdec (void)
{
  decoder_pixels_match_avdec (3);
}

/* What cameras and encoder boxes send besides 8-bit 4:2:0: 4:2:2 and 4:4:4,
 * 10 bits, interlaced fields, a size that is no multiple of the macroblock
 * (cropped), H.265 Main 10. cordondec puts out what avdec does, in every
 * case, with and without frame threads. */
static void
test_decoder_matches_avdec_in_every_format (void)
{
  const struct {
    const char *name, *stream, *decoder;
  } cameras[] = {
    { "4:2:2", BALL ("video/x-raw,format=Y42B,width=64,height=48,framerate=25/1", 20) X264 (""), "avdec_h264" },
    { "4:4:4", BALL ("video/x-raw,format=Y444,width=64,height=48,framerate=25/1", 20) X264 (""), "avdec_h264" },
    { "10-bit", BALL ("video/x-raw,format=I420_10LE,width=64,height=48,framerate=25/1", 20) X264 (""),
      "avdec_h264" },
    { "interlaced",
      BALL ("video/x-raw,format=I420,width=64,height=48,framerate=25/1,interlace-mode=interleaved", 20)
        X264 ("interlaced=true"),
      "avdec_h264" },
    { "cropped", BALL ("video/x-raw,format=I420,width=70,height=46,framerate=25/1", 20) X264 (""), "avdec_h264" },
    { "h265 main 10",
      BALL ("video/x-raw,format=I420_10LE,width=64,height=64,framerate=25/1", 20)
        " ! x265enc tune=zerolatency speed-preset=ultrafast key-int-max=10 ! h265parse",
      "avdec_h265" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cameras); i++)
    for (int threads = 1; threads <= 3; threads += 2) {
      g_test_message ("%s, %d thread(s)", cameras[i].name, threads);
      decoders_agree (cameras[i].stream, cameras[i].decoder, threads, FALSE, 20);
    }
}

/* A camera whose stream changes size and back (a new SPS and IDR, as when
 * its resolution is changed while it streams): every picture comes out, at
 * its own size, with avdec's pixels, in place or not. */
static void
test_decoder_follows_size_changes (void)
{
  const char *stream = BALL ("video/x-raw,format=I420,width=64,height=48,framerate=25/1", 12) X264 ("") " ! c."
    " " BALL ("video/x-raw,format=I420,width=96,height=64,framerate=25/1", 12) X264 ("") " ! c."
    " " BALL ("video/x-raw,format=I420,width=64,height=48,framerate=25/1", 12) X264 ("") " ! c."
    " concat name=c ! h264parse";
  for (int threads = 1; threads <= 3; threads += 2)
    decoders_agree (stream, "avdec_h264", threads, TRUE, 36);
}

static void
fixture_init (Fixture *f)
{
  memset (f, 0, sizeof *f);
  gst_video_info_set_format (&f->info, GST_VIDEO_FORMAT_I420, W, H);
  f->slot_size = cordon_handover_slot_size (W, H);
  f->ring = mmap (NULL, SLOTS * f->slot_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  g_assert_true (f->ring != MAP_FAILED);
  f->slots = cordon_slots_new (f->ring, SLOTS, f->slot_size, &f->info);
  g_assert_nonnull (f->slots);
}

static void
fixture_clear (Fixture *f)
{
  cordon_slots_unref (f->slots);
  munmap (f->ring, SLOTS * f->slot_size);
}

/* A camera sending CAMERA (caps) through DECODER: each of 40 pictures is
 * lent from the slot it was written into, with its pixels, none copied by
 * the worker; PADDED of them in the decoder's layout. cordondec copies no
 * picture but the first (decoded before the caps downstream were known). */
static void
assert_every_picture_lent (const char *decoder, const char *camera, guint padded)
{
  Fixture f;
  fixture_init (&f);
  run_chain_with (&f, decoder, camera, 40);
  guint64 lent, copied;
  cordon_slots_counts (f.slots, &lent, &copied);
  g_assert_cmpuint (f.pictures, ==, 40);
  g_assert_cmpuint (f.leased, ==, 40);
  g_assert_cmpuint (lent, ==, 40);
  g_assert_cmpuint (copied, ==, 0);
  g_assert_cmpuint (f.padded, ==, padded);
  g_assert_cmpuint (f.wrong_pixels, ==, 0);
  g_assert_cmpuint (f.decoder_copied, <=, 1);
  fixture_clear (&f);
}

/* The camera's size is ours: cordondec decodes into the slots, in the
 * padded layout. */
static void
test_decoder_decodes_into_slots (void)
{
  assert_every_picture_lent ("cordondec", "video/x-raw,format=I420,width=64,height=48,framerate=25/1", 40);
}

/* Another size: cordondec decodes into the scaler's pool, and the scaler
 * writes into the slots in the standard layout. */
static void
test_scaler_writes_into_slots (void)
{
  assert_every_picture_lent ("cordondec", "video/x-raw,format=I420,width=160,height=120,framerate=25/1", 0);
}

/* A writer that asks for no padding (avdec, which copies each picture out
 * of its own frames) gets the standard layout. */
static void
test_avdec_writes_the_standard_layout (void)
{
  assert_every_picture_lent ("avdec_h264 direct-rendering=false", "video/x-raw,format=I420,width=64,height=48,framerate=25/1", 0);
}

/* 10 fps up to 25: videorate sends each picture more than once. A repeat
 * whose slot the daemon still holds must go into another slot, never be
 * announced twice. */
static void
test_repeats_are_copied_not_announced_twice (void)
{
  Fixture f;
  fixture_init (&f);
  f.hold_all = TRUE;
  run_chain (&f, "video/x-raw,format=I420,width=64,height=48,framerate=10/1", 4);
  guint64 lent, copied;
  cordon_slots_counts (f.slots, &lent, &copied);
  g_assert_cmpuint (f.pictures, >, SLOTS);
  g_assert_cmpuint (f.twice, ==, 0);
  g_assert_cmpuint (f.wrong_pixels, ==, 0);
  /* Every slot used once, the decoder's pictures lent, repeats copied; the
   * rest dropped, the daemon holding all. */
  g_assert_cmpuint (lent, >=, 1);
  g_assert_cmpuint (copied, >=, 1);
  g_assert_cmpuint (lent + copied, ==, SLOTS);
  g_assert_cmpuint (f.leased, ==, SLOTS);
  g_assert_cmpuint (f.dropped, ==, f.pictures - SLOTS);
  fixture_clear (&f);
}

/* The daemon holds every slot: the decoder goes on to the end (ordinary
 * buffers), the pictures past the slots are dropped, not waited for. */
static void
test_full_ring_never_blocks_the_decoder (void)
{
  Fixture f;
  fixture_init (&f);
  f.hold_all = TRUE;
  run_chain (&f, "video/x-raw,format=I420,width=64,height=48,framerate=25/1", 30);
  g_assert_cmpuint (f.pictures, ==, 30);
  g_assert_cmpuint (f.leased, ==, SLOTS);
  g_assert_cmpuint (f.dropped, ==, 30 - SLOTS);
  g_assert_cmpuint (f.twice, ==, 0);
  fixture_clear (&f);
}

static GstBufferPool *
active_pool (Fixture *f)
{
  g_autoptr (GstCaps) caps = gst_video_info_to_caps (&f->info);
  g_autoptr (GstQuery) q = gst_query_new_allocation (caps, TRUE);
  GstBufferPool *pool = cordon_slots_propose (f->slots, q);
  g_assert_nonnull (pool);
  GstStructure *config = gst_buffer_pool_get_config (pool);
  gst_buffer_pool_config_set_params (config, caps, (guint) f->info.size, 1, 0);
  g_assert_true (gst_buffer_pool_set_config (pool, config));
  g_assert_true (gst_buffer_pool_set_active (pool, TRUE));
  return pool;
}

/* Pages go back only from a slot nobody holds. */
static void
test_trim_only_idle_slots (void)
{
  Fixture f;
  fixture_init (&f);
  g_autoptr (GstBufferPool) pool = active_pool (&f);
  GstBuffer *buffer = NULL;
  CordonPictureLayout layout;
  g_assert_cmpint (gst_buffer_pool_acquire_buffer (pool, &buffer, NULL), ==, GST_FLOW_OK);
  /* Slot 0 is in the chain's hands, then also leased, then only leased. */
  g_assert_false (cordon_slots_trim (f.slots, 0));
  g_assert_cmpint (cordon_slots_lease (f.slots, buffer, &layout), ==, 0);
  GstBuffer *copy = gst_buffer_copy (buffer);
  gst_buffer_unref (buffer);
  g_assert_false (cordon_slots_trim (f.slots, 0));
  gst_buffer_unref (copy); /* the last reference to the slot's memory */
  g_assert_false (cordon_slots_trim (f.slots, 0));
  cordon_slots_release (f.slots, 0);
  /* Nobody holds it: trimmed; the next acquire may take it again. */
  f.ring[10] = 0x55;
  g_assert_true (cordon_slots_trim (f.slots, 0));
  g_assert_cmpuint (f.ring[10], ==, 0);
  g_assert_true (gst_buffer_pool_set_active (pool, FALSE));
  fixture_clear (&f);
}

/* A decoder that asks again (new caps from the camera) while its first pool
 * is active gets a second pool it can configure, over the same slots: a
 * slot taken through one is not handed out through the other. */
static void
test_second_query_gets_a_new_pool_over_the_same_slots (void)
{
  Fixture f;
  fixture_init (&f);
  g_autoptr (GstBufferPool) first = active_pool (&f);
  g_autoptr (GstBufferPool) second = active_pool (&f);
  g_assert_true (first != second);
  GstBuffer *held[SLOTS];
  CordonPictureLayout layout;
  for (guint i = 0; i < SLOTS; i++) {
    g_assert_cmpint (gst_buffer_pool_acquire_buffer (i % 2 ? second : first, &held[i], NULL), ==, GST_FLOW_OK);
    g_assert_cmpint (cordon_slots_lease (f.slots, held[i], &layout), ==, (int) i);
  }
  /* Every slot is taken: a further picture is an ordinary buffer, dropped. */
  GstBuffer *extra = NULL;
  g_assert_cmpint (gst_buffer_pool_acquire_buffer (second, &extra, NULL), ==, GST_FLOW_OK);
  g_assert_cmpint (cordon_slots_lease (f.slots, extra, &layout), ==, -1);
  gst_buffer_unref (extra);
  for (guint i = 0; i < SLOTS; i++) {
    gst_buffer_unref (held[i]);
    cordon_slots_release (f.slots, i);
  }
  g_assert_true (gst_buffer_pool_set_active (first, FALSE));
  g_assert_true (gst_buffer_pool_set_active (second, FALSE));
  fixture_clear (&f);
}

/* Caps of another size or format get no slots: the chain keeps its own
 * pool and the worker copies. */
static void
test_other_caps_get_no_slots (void)
{
  Fixture f;
  fixture_init (&f);
  const char *caps[] = { "video/x-raw,format=I420,width=64,height=50", "video/x-raw,format=NV12,width=64,height=48",
                         "video/x-raw,format=I420,width=64,height=48,interlace-mode=interleaved" };
  for (guint i = 0; i < G_N_ELEMENTS (caps); i++) {
    g_autoptr (GstCaps) c = gst_caps_from_string (caps[i]);
    g_autoptr (GstQuery) q = gst_query_new_allocation (c, TRUE);
    g_assert_null (cordon_slots_propose (f.slots, q));
    g_assert_cmpuint (gst_query_get_n_allocation_pools (q), ==, 0);
  }
  g_autoptr (GstCaps) good = gst_caps_from_string ("video/x-raw,format=I420,width=64,height=48,framerate=15/1");
  g_autoptr (GstQuery) q = gst_query_new_allocation (good, TRUE);
  g_autoptr (GstBufferPool) pool = cordon_slots_propose (f.slots, q);
  g_assert_nonnull (pool);
  g_assert_cmpuint (gst_query_get_n_allocation_pools (q), ==, 1);
  fixture_clear (&f);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_assert_true (cordon_decoder_register ());
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/slotpool/decoder-decodes-into-slots", test_decoder_decodes_into_slots);
  g_test_add_func ("/slotpool/decoder-pixels-match-avdec", test_decoder_pixels_match_avdec);
  g_test_add_func ("/slotpool/frame-threads-pixels-match-avdec", test_frame_threads_pixels_match_avdec);
  g_test_add_func ("/slotpool/decoder-matches-avdec-in-every-format", test_decoder_matches_avdec_in_every_format);
  g_test_add_func ("/slotpool/decoder-follows-size-changes", test_decoder_follows_size_changes);
  g_test_add_func ("/slotpool/avdec-writes-the-standard-layout", test_avdec_writes_the_standard_layout);
  g_test_add_func ("/slotpool/scaler-writes-into-slots", test_scaler_writes_into_slots);
  g_test_add_func ("/slotpool/repeats-are-copied-not-announced-twice", test_repeats_are_copied_not_announced_twice);
  g_test_add_func ("/slotpool/full-ring-never-blocks-the-decoder", test_full_ring_never_blocks_the_decoder);
  g_test_add_func ("/slotpool/trim-only-idle-slots", test_trim_only_idle_slots);
  g_test_add_func ("/slotpool/second-query-gets-a-new-pool-over-the-same-slots",
                   test_second_query_gets_a_new_pool_over_the_same_slots);
  g_test_add_func ("/slotpool/other-caps-get-no-slots", test_other_caps_get_no_slots);
  return g_test_run ();
}
