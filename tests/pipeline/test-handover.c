/* Unit tests for pipeline/handover.c: what reaches the encoder is the
 * pixels of the configured picture and nothing else. */
#include <gst/gst.h>
#include <gst/video/video.h>
#include <string.h>

#include "handover.h"

#define W 64
#define H 48

static guint
count_metas (GstBuffer *buffer)
{
  gpointer state = NULL;
  guint n = 0;
  while (gst_buffer_iterate_meta (buffer, &state))
    n++;
  return n;
}

/* A camera-side picture: padded strides (described by a GstVideoMeta), a
 * byte pattern per row, every meta the parsers and decoders attach, flags
 * and time stamps. */
static GstBuffer *
camera_picture (const GstVideoInfo *info)
{
  gsize offset[GST_VIDEO_MAX_PLANES] = { 0 };
  gint stride[GST_VIDEO_MAX_PLANES] = { W + 32, W / 2 + 16, W / 2 + 16 };
  offset[1] = (gsize) stride[0] * H;
  offset[2] = offset[1] + (gsize) stride[1] * H / 2;
  gsize size = offset[2] + (gsize) stride[2] * H / 2;
  GstBuffer *buf = gst_buffer_new_allocate (NULL, size, NULL);
  GstMapInfo map;
  g_assert_true (gst_buffer_map (buf, &map, GST_MAP_WRITE));
  memset (map.data, 0xee, size);  /* padding: must not reach the encoder */
  for (guint p = 0; p < 3; p++)
    for (guint y = 0; y < (p ? H / 2 : H); y++)
      for (guint x = 0; x < (p ? W / 2 : W); x++)
        map.data[offset[p] + y * stride[p] + x] = (guint8) (p * 50 + y + x);
  gst_buffer_unmap (buf, &map);

  gst_buffer_add_video_meta_full (buf, GST_VIDEO_FRAME_FLAG_NONE, GST_VIDEO_FORMAT_I420, W, H, 3, offset, stride);
  static const guint8 cc[] = { 0xfc, 'H', 'I', 0xfc, 'D', 'E' };
  gst_buffer_add_video_caption_meta (buf, GST_VIDEO_CAPTION_TYPE_CEA708_RAW, cc, sizeof cc);
  gst_buffer_add_video_afd_meta (buf, 0, GST_VIDEO_AFD_SPEC_ATSC_A53, GST_VIDEO_AFD_4_3_FULL_4_3_PILLAR);
  gst_buffer_add_video_bar_meta (buf, 0, TRUE, 10, 38);
  gst_buffer_add_video_time_code_meta_full (buf, 15, 1, NULL, GST_VIDEO_TIME_CODE_FLAGS_NONE, 13, 37, 42, 7, 0);
  static const guint8 uuid[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
  gst_buffer_add_video_sei_user_data_unregistered_meta (buf, (guint8 *) uuid, (guint8 *) "MARK", 4);
  GST_BUFFER_FLAG_SET (buf, GST_BUFFER_FLAG_DISCONT | GST_VIDEO_BUFFER_FLAG_INTERLACED | GST_VIDEO_BUFFER_FLAG_TFF);
  GST_BUFFER_PTS (buf) = 42 * GST_SECOND;
  GST_BUFFER_DURATION (buf) = GST_SECOND / 15;
  return buf;
}

static void
test_pixels_only (void)
{
  GstVideoInfo info;
  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_I420, W, H);
  g_autoptr (GstBuffer) in = camera_picture (&info);
  g_assert_cmpuint (count_metas (in), ==, 6);

  g_autoptr (GstBuffer) out = cordon_handover_pixels (&info, in);
  g_assert_nonnull (out);
  g_assert_cmpuint (count_metas (out), ==, 0);
  g_assert_cmpuint (GST_BUFFER_FLAGS (out), ==, 0);
  g_assert_false (GST_BUFFER_PTS_IS_VALID (out));
  g_assert_false (GST_BUFFER_DURATION_IS_VALID (out));
  g_assert_cmpuint (gst_buffer_get_size (out), ==, GST_VIDEO_INFO_SIZE (&info));

  /* Standard layout, the same pixels, none of the padding. */
  GstVideoFrame a, b;
  g_assert_true (gst_video_frame_map (&a, &info, in, GST_MAP_READ));
  g_assert_true (gst_video_frame_map (&b, &info, out, GST_MAP_READ));
  for (guint p = 0; p < 3; p++) {
    g_assert_cmpint (GST_VIDEO_FRAME_PLANE_STRIDE (&b, p), ==, GST_VIDEO_INFO_PLANE_STRIDE (&info, p));
    for (int y = 0; y < GST_VIDEO_FRAME_COMP_HEIGHT (&a, p); y++)
      g_assert_cmpmem ((guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&a, p) + y * GST_VIDEO_FRAME_PLANE_STRIDE (&a, p),
                       GST_VIDEO_FRAME_COMP_WIDTH (&a, p),
                       (guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&b, p) + y * GST_VIDEO_FRAME_PLANE_STRIDE (&b, p),
                       GST_VIDEO_FRAME_COMP_WIDTH (&b, p));
  }
  gst_video_frame_unmap (&a);
  gst_video_frame_unmap (&b);
  GstMapInfo map;
  g_assert_true (gst_buffer_map (out, &map, GST_MAP_READ));
  g_assert_null (memchr (map.data, 0xee, map.size));
  gst_buffer_unmap (out, &map);
}

static void
test_too_small (void)
{
  GstVideoInfo info;
  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_I420, W, H);
  g_autoptr (GstBuffer) in = gst_buffer_new_allocate (NULL, GST_VIDEO_INFO_SIZE (&info) - 1, NULL);
  g_assert_null (cordon_handover_pixels (&info, in));
  g_autoptr (GstBuffer) empty = gst_buffer_new ();
  g_assert_null (cordon_handover_pixels (&info, empty));
}

static void
test_samples_only (void)
{
  static const guint8 alaw[] = { 0xd5, 0x55, 0xd5, 0x54, 0x2a };
  g_autoptr (GstBuffer) in = gst_buffer_new_memdup (alaw, sizeof alaw);
  gst_buffer_add_reference_timestamp_meta (in, gst_caps_new_empty_simple ("timestamp/x-ntp"), 1, 0);
  GST_BUFFER_FLAG_SET (in, GST_BUFFER_FLAG_DISCONT);
  GST_BUFFER_PTS (in) = GST_SECOND;
  g_autoptr (GstBuffer) out = cordon_handover_samples (in);
  g_assert_nonnull (out);
  g_assert_cmpuint (count_metas (out), ==, 0);
  g_assert_cmpuint (GST_BUFFER_FLAGS (out), ==, 0);
  g_assert_false (GST_BUFFER_PTS_IS_VALID (out));
  GstMapInfo map;
  g_assert_true (gst_buffer_map (out, &map, GST_MAP_READ));
  g_assert_cmpmem (map.data, map.size, alaw, sizeof alaw);
  gst_buffer_unmap (out, &map);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/handover/pixels-only-no-meta-flags-or-padding", test_pixels_only);
  g_test_add_func ("/handover/too-small-picture-refused", test_too_small);
  g_test_add_func ("/handover/samples-only", test_samples_only);
  return g_test_run ();
}
