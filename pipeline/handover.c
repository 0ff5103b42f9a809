/* cordon — pixels-only buffers for the encoder (see handover.h).
 *
 * h264parse/h265parse and the libav decoders turn what a camera writes
 * beside its pictures (A/53 captions, AFD, bar data, time codes, user data
 * SEI) into GstMetas on the decoded buffers; videoconvert/videoscale/
 * videorate carry them on, and x264enc writes caption metas back out as
 * SEI. gst_buffer_copy() would carry them all. Building the buffer from the
 * planes alone is the only way that cannot miss a meta GStreamer adds later. */
#define G_LOG_DOMAIN "cordon-pipeline"

#include "handover.h"

GstBuffer *
cordon_handover_pixels (const GstVideoInfo *info, GstBuffer *frame)
{
  GstVideoFrame src, dst;
  g_autoptr (GstBuffer) out = gst_buffer_new_allocate (NULL, GST_VIDEO_INFO_SIZE (info), NULL);

  if (!out || !gst_video_frame_map (&src, info, frame, GST_MAP_READ))
    return NULL;
  /* out has no GstVideoMeta, so this maps it in INFO's own layout. */
  if (!gst_video_frame_map (&dst, info, out, GST_MAP_WRITE)) {
    gst_video_frame_unmap (&src);
    return NULL;
  }
  gboolean copied = gst_video_frame_copy (&dst, &src);
  gst_video_frame_unmap (&dst);
  gst_video_frame_unmap (&src);
  return copied ? g_steal_pointer (&out) : NULL;
}

GstBuffer *
cordon_handover_samples (GstBuffer *samples)
{
  GstMapInfo map;

  if (!gst_buffer_map (samples, &map, GST_MAP_READ))
    return NULL;
  GstBuffer *out = gst_buffer_new_memdup (map.data, map.size);
  gst_buffer_unmap (samples, &map);
  return out;
}
