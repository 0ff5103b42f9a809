/* cordon — what crosses from the camera side to the encoder: pixels only.
 *
 * Private to pipeline/. Every buffer that reaches the encoder (camera or
 * slate), and every audio buffer that reaches a recorder, is a fresh
 * buffer made here: no GstMeta, no flags, no time stamps of the original. */
#pragma once

#include <gst/gst.h>
#include <gst/video/video.h>

G_BEGIN_DECLS

/* A new buffer holding only the pixels of FRAME, which must be a picture
 * described by INFO (the configured I420 W×H; its GstVideoMeta strides are
 * honoured), in INFO's standard layout. No meta, no flags, no time stamps.
 * Returns NULL when FRAME cannot be mapped as such a picture (too small). */
GstBuffer *cordon_handover_pixels (const GstVideoInfo *info, GstBuffer *frame);

/* A new buffer holding only the bytes of SAMPLES: no meta, no flags, no time
 * stamps. */
GstBuffer *cordon_handover_samples (GstBuffer *samples);

G_END_DECLS
