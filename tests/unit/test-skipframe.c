/* The slate's all-skip P pictures (pipeline/skipframe.c) against a real
 * decoder: real x264enc IDRs of a still picture, cordon's skip frames after
 * each, decoded by ffmpeg with errors made fatal; every skip frame must come
 * out identical to the IDR before it. CAVLC and CABAC, POC types 2 and 0,
 * weighted prediction on and off, a height that is not a multiple of 16, and
 * more skip frames than MaxFrameNum (frame_num wraps). */
#include "skipframe.h"

#include <gst/gst.h>
#include <gst/app/gstappsink.h>
#define GST_USE_UNSTABLE_API
#include <gst/codecparsers/gsth264parser.h>
#include <glib/gstdio.h>
#include <string.h>

typedef struct {
  const char *name;
  guint width, height;
  const char *profile;
  const char *preset;
  guint bframes;
  gboolean expect_cabac;
  guint expect_poc_type;
} Case;

/* The IDR of one still picture, one access unit, Annex B with SPS/PPS in
 * front; x264 as cordon sets it up (a long key-int-max). */
static GBytes *
x264_idr (const Case *c)
{
  g_autofree char *desc = g_strdup_printf (
      "videotestsrc pattern=smpte num-buffers=1 ! video/x-raw,format=I420,width=%u,height=%u,framerate=25/1 "
      "! x264enc tune=zerolatency speed-preset=%s key-int-max=50 bframes=%u b-adapt=false pass=cbr bitrate=2000 "
      "! video/x-h264,profile=%s,stream-format=byte-stream,alignment=au ! h264parse config-interval=-1 "
      "! appsink name=sink sync=false",
      c->width, c->height, c->preset, c->bframes, c->profile);
  g_autoptr (GError) error = NULL;
  g_autoptr (GstElement) pipeline = gst_parse_launch (desc, &error);
  g_assert_no_error (error);
  g_autoptr (GstElement) sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  g_assert_cmpint (gst_element_set_state (pipeline, GST_STATE_PLAYING), !=, GST_STATE_CHANGE_FAILURE);
  g_autoptr (GPtrArray) units = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  for (;;) {
    g_autoptr (GstSample) sample = gst_app_sink_pull_sample (GST_APP_SINK (sink));
    if (!sample)
      break;
    GstMapInfo map;
    GstBuffer *buffer = gst_sample_get_buffer (sample);
    g_assert_true (gst_buffer_map (buffer, &map, GST_MAP_READ));
    g_ptr_array_add (units, g_bytes_new (map.data, map.size));
    gst_buffer_unmap (buffer, &map);
  }
  gst_element_set_state (pipeline, GST_STATE_NULL);
  g_assert_cmpuint (units->len, ==, 1);
  return g_bytes_ref (units->pdata[0]);
}

/* Every NAL unit of STREAM through GStreamer's own H.264 parser (not
 * cordon's): each skip slice is a P slice of a reference picture, covering the
 * picture from MB 0, its frame_num one more than the last reference picture's
 * (modulo MaxFrameNum), its POC lsb two more (POC type 0). */
static void
check_headers (const GByteArray *stream)
{
  GstH264NalParser *parser = gst_h264_nal_parser_new ();
  GstH264NalUnit nalu;
  guint offset = 0, slices = 0, frame_num = 0, poc_lsb = 0;
  GstH264ParserResult res;
  while ((res = gst_h264_parser_identify_nalu (parser, stream->data, offset, stream->len, &nalu))
         == GST_H264_PARSER_OK || res == GST_H264_PARSER_NO_NAL_END) {
    offset = nalu.offset + nalu.size;
    if (nalu.type == GST_H264_NAL_SPS || nalu.type == GST_H264_NAL_PPS) {
      g_assert_cmpint (gst_h264_parser_parse_nal (parser, &nalu), ==, GST_H264_PARSER_OK);
    } else if (nalu.type == GST_H264_NAL_SLICE_IDR || nalu.type == GST_H264_NAL_SLICE) {
      GstH264SliceHdr slice;
      g_assert_cmpint (gst_h264_parser_parse_slice_hdr (parser, &nalu, &slice, TRUE, TRUE), ==,
                       GST_H264_PARSER_OK);
      g_assert_cmpuint (nalu.ref_idc, !=, 0);
      guint max_frame_num = 1u << (slice.pps->sequence->log2_max_frame_num_minus4 + 4);
      guint max_poc_lsb = 1u << (slice.pps->sequence->log2_max_pic_order_cnt_lsb_minus4 + 4);
      if (nalu.type == GST_H264_NAL_SLICE) {
        slices++;
        g_assert_true (GST_H264_IS_P_SLICE (&slice));
        g_assert_cmpuint (slice.first_mb_in_slice, ==, 0);
        g_assert_cmpuint (slice.frame_num, ==, (frame_num + 1) % max_frame_num);
        if (slice.pps->sequence->pic_order_cnt_type == 0)
          g_assert_cmpuint (slice.pic_order_cnt_lsb, ==, (poc_lsb + 2) % max_poc_lsb);
        g_assert_false (slice.dec_ref_pic_marking.adaptive_ref_pic_marking_mode_flag);
        g_assert_cmpuint (slice.num_ref_idx_l0_active_minus1, ==, 0);
      } else {
        g_assert_cmpuint (slice.frame_num, ==, 0);
      }
      frame_num = slice.frame_num;
      poc_lsb = slice.pic_order_cnt_lsb;
    }
    if (res == GST_H264_PARSER_NO_NAL_END)
      break;
  }
  gst_h264_nal_parser_free (parser);
  g_assert_cmpuint (slices, >, 0);
}

static void
test_decodes (gconstpointer data)
{
  const Case *c = data;
  /* two IDRs, as the slate sends one a second */
  g_autoptr (GPtrArray) idrs = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_ptr_array_add (idrs, x264_idr (c));
  g_ptr_array_add (idrs, x264_idr (c));
  CordonSkipParams params = { 0 };
  g_autoptr (GByteArray) stream = g_byte_array_new ();
  guint skips = 0;

  for (guint i = 0; i < idrs->len; i++) {
    gsize size;
    const guint8 *au = g_bytes_get_data (idrs->pdata[i], &size);
    gboolean idr, slice, aud;
    cordon_skip_scan (au, size, &idr, &slice, &aud);
    g_assert_true (idr && slice);
    cordon_skip_params_update (&params, au, size);
    g_assert_true (cordon_skip_params_usable (&params));
    g_assert_cmpint (params.cabac, ==, c->expect_cabac);
    g_assert_cmpuint (params.poc_type, ==, c->expect_poc_type);
    g_assert_cmpuint (params.pic_size_in_mbs, ==, ((c->width + 15) / 16) * ((c->height + 15) / 16));
    g_byte_array_append (stream, au, (guint) size);
    /* past MaxFrameNum (and MaxPicOrderCntLsb / 2 for POC type 0) */
    skips = (1u << params.log2_max_frame_num) + 7;
    for (guint k = 1; k <= skips; k++)
      cordon_skip_frame (&params, k, aud, stream);
  }

  check_headers (stream);

  g_autofree char *dir = g_dir_make_tmp ("cordon-skip-XXXXXX", NULL);
  g_autofree char *file = g_build_filename (dir, "stream.h264", NULL);
  g_assert_true (g_file_set_contents (file, (const char *) stream->data, stream->len, NULL));
  const char *argv[] = { "ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-err_detect", "explode",
                         "-xerror", "-f", "h264", "-i", file, "-f", "framemd5", "-", NULL };
  g_autofree char *out = NULL, *err = NULL;
  gint status = 0;
  g_autoptr (GError) error = NULL;
  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err,
                               &status, &error));
  g_assert_no_error (error);
  g_unlink (file);
  g_rmdir (dir);
  if (*err)
    g_printerr ("%s: ffmpeg says: %s\n", c->name, err);
  g_assert_true (*err == 0);
  g_assert_true (g_spawn_check_wait_status (status, NULL));

  /* framemd5: "stream, dts, pts, duration, size, md5" per frame */
  g_auto (GStrv) lines = g_strsplit (out, "\n", -1);
  g_autoptr (GPtrArray) md5 = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; lines[i]; i++) {
    if (lines[i][0] == '#' || lines[i][0] == '\0')
      continue;
    const char *last = strrchr (lines[i], ',');
    g_assert_nonnull (last);
    g_ptr_array_add (md5, g_strstrip (g_strdup (last + 1)));
  }
  g_assert_cmpuint (md5->len, ==, idrs->len * (1 + skips));
  for (guint i = 0; i < idrs->len; i++) {
    const char *key = md5->pdata[i * (1 + skips)];
    for (guint k = 1; k <= skips; k++)
      g_assert_cmpstr (md5->pdata[i * (1 + skips) + k], ==, key);
  }
}

/* The parser never accepts what cordon cannot write: fields, slice groups,
 * truncation, a PPS before its SPS. */
static void
test_rejects (void)
{
  CordonSkipParams params = { 0 };
  /* a PPS alone */
  static const guint8 pps[] = { 0, 0, 0, 1, 0x68, 0xce, 0x3c, 0x80 };
  cordon_skip_params_update (&params, pps, sizeof pps);
  g_assert_false (cordon_skip_params_usable (&params));
  /* a truncated SPS */
  static const guint8 sps[] = { 0, 0, 0, 1, 0x67, 0x42, 0xc0, 0x1f };
  cordon_skip_params_update (&params, sps, sizeof sps);
  g_assert_false (cordon_skip_params_usable (&params));
  /* nothing at all */
  cordon_skip_params_update (&params, NULL, 0);
  g_assert_false (cordon_skip_params_usable (&params));
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  static const Case cases[] = {
    { "baseline-640x360", 640, 360, "baseline", "veryfast", 0, FALSE, 2 },
    { "main-640x360", 640, 360, "main", "veryfast", 0, TRUE, 2 },
    { "high-1280x720", 1280, 720, "high", "veryfast", 0, TRUE, 2 },
    { "high-medium-640x360", 640, 360, "high", "medium", 0, TRUE, 2 },
    { "high-ultrafast-1280x720", 1280, 720, "high", "ultrafast", 0, FALSE, 2 },
    { "main-poc0-640x360", 640, 360, "main", "veryfast", 2, TRUE, 0 },
    { "baseline-1920x1080", 1920, 1080, "baseline", "veryfast", 0, FALSE, 2 },
    { "high-1920x1080", 1920, 1080, "high", "veryfast", 0, TRUE, 2 },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree char *path = g_strdup_printf ("/skipframe/decodes/%s", cases[i].name);
    g_test_add_data_func (path, &cases[i], test_decodes);
  }
  g_test_add_func ("/skipframe/rejects", test_rejects);
  return g_test_run ();
}
