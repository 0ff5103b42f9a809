/* cordon — the worker's picture slots (ring.h) as a GStreamer buffer pool.
 *
 * The worker's appsink offers this pool to the chain before it, so the
 * decoder (or the scaler, when the camera's size is not ours) writes each
 * picture straight into a slot of the shared ring, in the standard layout
 * of the configured caps; the worker then only announces the slot. A slot
 * can be handed out when GStreamer holds no reference to its memory and the
 * daemon has given it back. The pool never blocks the decoder: with every
 * slot taken it hands out an ordinary buffer, and the worker later copies
 * that one into a slot, or drops it.
 *
 * Worker only; the daemon checks every announcement as before (handover.h).
 */
#pragma once

#include <gst/gst.h>
#include <gst/video/video.h>

G_BEGIN_DECLS

#define CORDON_TYPE_SLOT_POOL (cordon_slot_pool_get_type ())
G_DECLARE_FINAL_TYPE (CordonSlotPool, cordon_slot_pool, CORDON, SLOT_POOL, GstBufferPool)

/* SLOTS slots of SLOT_SIZE bytes at RING (mapped for writing), each one
 * picture of INFO (I420, standard layout): SLOT_SIZE must be INFO's size. */
CordonSlotPool *cordon_slot_pool_new (guint8 *ring, guint slots, gsize slot_size, const GstVideoInfo *info);

/* Answers an ALLOCATION query with the pool when the query's caps are
 * INFO's format and size. FALSE if not (the query is left alone). */
gboolean cordon_slot_pool_propose (CordonSlotPool *pool, GstQuery *query);

/* Streaming thread: leases BUFFER's picture to the daemon and returns its
 * slot. A buffer whose pixels are in one of the pool's slots, in the
 * standard layout and not leased already, is lent as it is; any other is
 * copied into a free slot. -1 when no slot is free: the picture is
 * dropped. */
int cordon_slot_pool_lease (CordonSlotPool *pool, GstBuffer *buffer);

/* The daemon gave SLOT back. */
void cordon_slot_pool_release (CordonSlotPool *pool, guint slot);

/* Gives SLOT's whole pages back to the kernel (MADV_REMOVE: a hole in the
 * memfd, the size kept) if nothing holds it now. TRUE if it did. */
gboolean cordon_slot_pool_trim (CordonSlotPool *pool, guint slot);

/* How many pictures were lent without a copy, and how many were copied. */
void cordon_slot_pool_counts (CordonSlotPool *pool, guint64 *lent, guint64 *copied);

G_END_DECLS
