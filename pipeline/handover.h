/* cordon — what crosses from the camera side to the encoder: pixels only.
 *
 * Private to pipeline/. Every buffer that reaches the encoder (camera or
 * slate), and every audio buffer that reaches a recorder, is a fresh
 * buffer made here: no GstMeta, no flags, no time stamps of the original. */
#pragma once

#include "ring.h"

#include <gst/gst.h>
#include <gst/video/video.h>

G_BEGIN_DECLS

/* The daemon's side of one worker's picture ring: the memfd, the daemon's
 * read-only mapping of it, the hand-over state (ring.h) and the socket the
 * releases go out on. Refcounted: the Attempt holds one reference and every
 * picture buffer lent out of a slot holds one, so a buffer may outlive its
 * worker. Thread-safe: a slot is released from whichever thread drops its
 * picture's last reference. */
typedef struct _CordonRing CordonRing;

/* Maps FD (a memfd of SLOTS × SLOT_SIZE bytes, size sealed) read-only; FD
 * stays the caller's. CONTROL is where releases are sent: borrowed until
 * cordon_ring_detach(). NULL with ERROR when the mapping fails. */
CordonRing *cordon_ring_new (int fd, guint slots, gsize slot_size, int control, GError **error);
CordonRing *cordon_ring_ref (CordonRing *ring);
void cordon_ring_unref (CordonRing *ring);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CordonRing, cordon_ring_unref)

/* The worker is gone (call before closing CONTROL): later releases send
 * nothing. Lent buffers stay readable. */
void cordon_ring_detach (CordonRing *ring);

/* cordon_handover_check() of one message, under the ring's lock. */
gboolean cordon_ring_check (CordonRing *ring, const void *data, gsize len, gint64 now_ns,
                            CordonHandoverEvent *event, const char **why);

/* A read-only buffer of the bytes of held SLOT, as the daemon sized it: no
 * flags, no time stamps, and no meta but, for LAYOUT's padded planes, the
 * GstVideoMeta the daemon computes from INFO (the configured I420 W×H).
 * When its memory's last reference goes, SLOT is released and the worker
 * told. NULL when SLOT is not held or is lent out already. */
GstBuffer *cordon_ring_lend (CordonRing *ring, guint slot, const GstVideoInfo *info, CordonPictureLayout layout);

/* Main context: asks the worker to give back the pages of every slot
 * written since the last such request and neither held nor lent for
 * IDLE_NS up to NOW_NS (monotonic ns): a CORDON_HANDOVER_TRIM_MAGIC message
 * per slot. Returns how many slots. */
guint cordon_ring_trim (CordonRing *ring, gint64 now_ns, gint64 idle_ns);

/* Slots whose pages may be in memory (used since their last trim request). */
guint cordon_ring_resident (CordonRing *ring);

/* The GstVideoMeta of PLANES (ring.h) for a WIDTH × HEIGHT I420 picture. */
static inline void
cordon_planes_add_meta (GstBuffer *buffer, const CordonPlanes *planes, guint width, guint height)
{
  gsize offset[GST_VIDEO_MAX_PLANES] = { planes->offset[0], planes->offset[1], planes->offset[2] };
  gint stride[GST_VIDEO_MAX_PLANES] = { (gint) planes->stride[0], (gint) planes->stride[1], (gint) planes->stride[2] };
  gst_buffer_add_video_meta_full (buffer, GST_VIDEO_FRAME_FLAG_NONE, GST_VIDEO_FORMAT_I420, width, height, 3, offset,
                                  stride);
}

/* A new buffer holding only the pixels of FRAME, which must be a picture
 * described by INFO (the configured I420 W×H; its GstVideoMeta strides are
 * honoured), in INFO's standard layout. No meta, no flags, no time stamps.
 * Returns NULL when FRAME cannot be mapped as such a picture (too small). */
GstBuffer *cordon_handover_pixels (const GstVideoInfo *info, GstBuffer *frame);

/* A new buffer holding only the bytes of SAMPLES: no meta, no flags, no time
 * stamps. */
GstBuffer *cordon_handover_samples (GstBuffer *samples);

G_END_DECLS
