/* Unit tests for pipeline/nalfilter.c, the NAL allow-list on the encoder's
 * way out: crafted byte streams, every NAL type, truncations, random input,
 * and real x264enc output. */
#include <gst/gst.h>
#include <gst/app/gstappsink.h>
#include <string.h>

#include "nalfilter.h"

typedef struct {
  GByteArray *out;
  CordonNalFilterResult r;
} Run;

static void
run (Run *run, const guint8 *data, gsize len)
{
  run->out = g_byte_array_new ();
  cordon_nalfilter_annexb (data, len, run->out, &run->r);
}

static void
run_clear (Run *run)
{
  g_byte_array_unref (run->out);
}

/* Bytes in a fresh heap block of exactly LEN, so ASan sees any read past it. */
static guint8 *
exact (const guint8 *data, gsize len)
{
  return len ? g_memdup2 (data, len) : NULL;
}

static void
test_keeps_allowed (void)
{
  static const guint8 in[] = {
    0, 0, 0, 1, 0x09, 0xf0,                  /* AUD, 4-byte start code */
    0, 0, 0, 1, 0x67, 0x4d, 0x40, 0x1e,      /* SPS */
    0, 0, 1, 0x68, 0xee, 0x3c, 0x80,         /* PPS, 3-byte start code */
    0, 0, 1, 0x65, 0x88, 0x84, 0x00, 0x21,   /* IDR */
    0, 0, 1, 0x41, 0x9a, 0x02,               /* non-IDR slice */
  };
  static const guint8 want[] = {
    0, 0, 0, 1, 0x09, 0xf0,
    0, 0, 0, 1, 0x67, 0x4d, 0x40, 0x1e,
    0, 0, 0, 1, 0x68, 0xee, 0x3c, 0x80,
    0, 0, 0, 1, 0x65, 0x88, 0x84, 0x00, 0x21,
    0, 0, 0, 1, 0x41, 0x9a, 0x02,
  };
  Run r;
  run (&r, in, sizeof in);
  g_assert_cmpuint (r.r.kept, ==, 5);
  g_assert_cmpuint (r.r.dropped, ==, 0);
  g_assert_cmpmem (r.out->data, r.out->len, want, sizeof want);
  run_clear (&r);
}

static void
test_drops_sei (void)
{
  /* x264's own SEI: user_data_unregistered with its version string. */
  static const guint8 in[] = {
    0, 0, 0, 1, 0x09, 0xf0,
    0, 0, 0, 1, 0x06, 0x05, 0x08, 'x', '2', '6', '4', ' ', 'c', 'o', 'r', 0x80,
    0, 0, 0, 1, 0x65, 0x88, 0x84,
  };
  static const guint8 want[] = { 0, 0, 0, 1, 0x09, 0xf0, 0, 0, 0, 1, 0x65, 0x88, 0x84 };
  Run r;
  run (&r, in, sizeof in);
  g_assert_cmpuint (r.r.kept, ==, 2);
  g_assert_cmpuint (r.r.dropped, ==, 1);
  g_assert_cmphex (r.r.dropped_types, ==, 1u << 6);
  g_assert_cmpmem (r.out->data, r.out->len, want, sizeof want);
  run_clear (&r);
}

static void
test_every_type (void)
{
  for (guint type = 0; type < 32; type++) {
    for (guint ref = 0; ref < 4; ref++) {
      guint8 in[] = { 0, 0, 1, (guint8) (ref << 5 | type), 0xaa, 0xbb };
      gboolean allowed = type == 1 || type == 5 || type == 7 || type == 8 || type == 9;
      Run r;
      g_assert_cmpint (cordon_nalfilter_allowed (type), ==, allowed);
      run (&r, in, sizeof in);
      g_assert_cmpuint (r.r.kept, ==, allowed);
      g_assert_cmpuint (r.r.dropped, ==, !allowed);
      g_assert_cmphex (r.r.dropped_types, ==, allowed ? 0 : 1u << type);
      g_assert_cmpuint (r.out->len, ==, allowed ? 7 : 0);
      run_clear (&r);
    }
  }
  g_assert_false (cordon_nalfilter_allowed (32));
  g_assert_false (cordon_nalfilter_allowed (G_MAXUINT));
}

static void
test_forbidden_bit (void)
{
  static const guint8 in[] = { 0, 0, 1, 0x85, 0x88, 0x84 };  /* "IDR" with forbidden_zero_bit */
  Run r;
  run (&r, in, sizeof in);
  g_assert_cmpuint (r.r.kept, ==, 0);
  g_assert_cmpuint (r.r.dropped, ==, 1);
  g_assert_cmpuint (r.out->len, ==, 0);
  run_clear (&r);
}

static void
test_truncated (void)
{
  static const guint8 cases[][6] = {
    { 0 }, { 0, 0 }, { 0, 0, 1 }, { 0, 0, 0, 1 }, { 0, 0, 0, 0, 1 }, { 1 }, { 0, 1 }, { 0, 0, 2 },
  };
  static const gsize lens[] = { 1, 2, 3, 4, 5, 1, 2, 3 };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree guint8 *in = exact (cases[i], lens[i]);
    Run r;
    run (&r, in, lens[i]);
    g_assert_cmpuint (r.r.kept, ==, 0);
    g_assert_cmpuint (r.out->len, ==, 0);
    run_clear (&r);
  }
  Run r;
  run (&r, NULL, 0);
  g_assert_cmpuint (r.r.kept + r.r.dropped, ==, 0);
  run_clear (&r);

  /* A slice cut short by the start of a start code: the zeros are not its. */
  static const guint8 cut[] = { 0, 0, 1, 0x41, 0x9a, 0x02, 0, 0 };
  g_autofree guint8 *in = exact (cut, sizeof cut);
  run (&r, in, sizeof cut);
  static const guint8 want[] = { 0, 0, 0, 1, 0x41, 0x9a, 0x02 };
  g_assert_cmpmem (r.out->data, r.out->len, want, sizeof want);
  run_clear (&r);
}

static void
test_empty_nals_and_garbage (void)
{
  /* Stray bytes first, then empty NAL units, then one IDR. */
  static const guint8 in[] = { 0xab, 0xcd, 0, 0, 1, 0, 0, 1, 0, 0, 0, 1, 0x65, 0x88 };
  static const guint8 want[] = { 0, 0, 0, 1, 0x65, 0x88 };
  g_autofree guint8 *data = exact (in, sizeof in);
  Run r;
  run (&r, data, sizeof in);
  g_assert_cmpuint (r.r.kept, ==, 1);
  g_assert_cmpuint (r.r.dropped, ==, 1);  /* the stray bytes */
  g_assert_cmpmem (r.out->data, r.out->len, want, sizeof want);
  run_clear (&r);
}

static void
test_emulation_bytes_kept (void)
{
  /* 00 00 03 inside a slice is emulation prevention: part of the NAL unit. */
  static const guint8 in[] = { 0, 0, 1, 0x41, 0x9a, 0, 0, 3, 1, 0x42, 0, 0, 3, 0, 0x10 };
  Run r;
  run (&r, in, sizeof in);
  g_assert_cmpuint (r.r.kept, ==, 1);
  g_assert_cmpmem (r.out->data + 1, r.out->len - 1, in, sizeof in);
  run_clear (&r);
}

/* Whatever goes in, what comes out holds only allowed types and passes the
 * filter again unchanged. */
static void
test_random (void)
{
  GRand *rand = g_rand_new_with_seed (0xc0d0);
  for (guint i = 0; i < 20000; i++) {
    gsize len = g_rand_int_range (rand, 0, 64);
    g_autofree guint8 *in = len ? g_malloc (len) : NULL;
    for (gsize j = 0; j < len; j++) {
      /* Mostly zeros and ones, so start codes are frequent. */
      guint32 v = g_rand_int (rand);
      in[j] = v % 3 == 0 ? 0 : v % 3 == 1 ? 1 : (guint8) (v >> 8);
    }
    Run a, b;
    run (&a, in, len);
    run (&b, a.out->data, a.out->len);
    g_assert_cmpuint (b.r.dropped, ==, 0);
    g_assert_cmpuint (b.r.kept, ==, a.r.kept);
    g_assert_cmpmem (b.out->data, b.out->len, a.out->data, a.out->len);
    run_clear (&a);
    run_clear (&b);
  }
  g_rand_free (rand);
}

/* Real x264enc output (byte-stream, as cordon configures it): the first
 * access unit carries x264's version SEI, which goes; pictures stay. */
static void
test_x264_output (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GstElement) pipeline = gst_parse_launch (
    "videotestsrc num-buffers=10 ! video/x-raw,format=I420,width=64,height=48,framerate=15/1"
    " ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=5"
    " ! video/x-h264,stream-format=byte-stream,alignment=au ! appsink name=sink sync=false", &error);
  g_assert_no_error (error);
  g_autoptr (GstElement) sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  guint units = 0, sei = 0, idr = 0;
  for (;;) {
    g_autoptr (GstSample) sample = gst_app_sink_try_pull_sample (GST_APP_SINK (sink), 10 * GST_SECOND);
    if (!sample)
      break;
    GstMapInfo map;
    g_assert_true (gst_buffer_map (gst_sample_get_buffer (sample), &map, GST_MAP_READ));
    Run r;
    run (&r, map.data, map.size);
    gst_buffer_unmap (gst_sample_get_buffer (sample), &map);
    units++;
    g_assert_cmphex (r.r.dropped_types & ~(1u << 6), ==, 0);
    sei += r.r.dropped;
    for (guint i = 0; i + 4 < r.out->len; i++)
      if (memcmp (r.out->data + i, "\0\0\0\1", 4) == 0) {
        guint type = r.out->data[i + 4] & 0x1f;
        g_assert_true (cordon_nalfilter_allowed (type));
        idr += type == 5;
      }
    run_clear (&r);
  }
  gst_element_set_state (pipeline, GST_STATE_NULL);
  g_assert_cmpuint (units, ==, 10);
  g_assert_cmpuint (sei, >=, 1);
  g_assert_cmpuint (idr, >=, 2);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/nalfilter/keeps-allowed-types", test_keeps_allowed);
  g_test_add_func ("/nalfilter/drops-sei", test_drops_sei);
  g_test_add_func ("/nalfilter/every-type", test_every_type);
  g_test_add_func ("/nalfilter/forbidden-bit", test_forbidden_bit);
  g_test_add_func ("/nalfilter/truncated-start-codes", test_truncated);
  g_test_add_func ("/nalfilter/empty-nals-and-stray-bytes", test_empty_nals_and_garbage);
  g_test_add_func ("/nalfilter/emulation-bytes-kept", test_emulation_bytes_kept);
  g_test_add_func ("/nalfilter/random-input-idempotent", test_random);
  g_test_add_func ("/nalfilter/x264-output-loses-its-sei", test_x264_output);
  return g_test_run ();
}
