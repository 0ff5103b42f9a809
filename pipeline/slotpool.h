/* cordon — the worker's picture slots (ring.h) as GStreamer buffer pools.
 *
 * The worker's appsink offers a pool over the slots to the chain before
 * it, so the decoder (or the scaler, when the camera's size is not ours)
 * writes each picture straight into a slot of the shared ring, and the
 * worker then only announces the slot. A writer that asks for no alignment
 * gets the standard layout of the configured caps; one that asks for
 * padding and aligned strides (a decoder that keeps its reference pictures
 * where it wrote them, pipeline/decoder.c) gets the ring's padded layout
 * (cordon_handover_layout), if that gives what it asks. A slot can be handed out when GStreamer holds no reference to
 * its memory and the daemon has given it back. The pool never blocks the
 * decoder: with every slot taken it hands out an ordinary buffer, which the
 * worker later copies into a slot, or drops.
 *
 * Worker only; the daemon checks every announcement as before (ring.h).
 */
#pragma once

#include "ring.h"

#include <gst/gst.h>
#include <gst/video/video.h>

G_BEGIN_DECLS

typedef struct _CordonSlots CordonSlots;

/* N slots of SLOT_SIZE bytes at RING (mapped for writing), each one
 * picture of INFO (I420, standard layout; SLOT_SIZE at least its size). */
CordonSlots *cordon_slots_new (guint8 *ring, guint n, gsize slot_size, const GstVideoInfo *info);
void cordon_slots_unref (CordonSlots *slots);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CordonSlots, cordon_slots_unref)

/* Answers an ALLOCATION query with a new pool over the slots when the
 * query's caps are INFO's format and size, and returns that pool (the
 * caller's reference). A new one each time: a decoder keeps its pool active
 * while it asks again, and an active pool takes no new configuration. NULL
 * if the caps do not fit: the query is left alone. */
GstBufferPool *cordon_slots_propose (CordonSlots *slots, GstQuery *query);

/* Streaming thread: leases BUFFER's picture to the daemon and returns its
 * slot, with its layout in *LAYOUT. A buffer whose pixels are one whole
 * slot, in either layout, not leased already, is lent as it is; any other
 * is copied into a free slot, in the standard layout. -1 when no slot is
 * free: the picture is dropped. */
int cordon_slots_lease (CordonSlots *slots, GstBuffer *buffer, CordonPictureLayout *layout);

/* The daemon gave SLOT back. */
void cordon_slots_release (CordonSlots *slots, guint slot);

/* Gives SLOT's whole pages back to the kernel (MADV_REMOVE: a hole in the
 * memfd, the size kept) if nothing holds it now. TRUE if it did. */
gboolean cordon_slots_trim (CordonSlots *slots, guint slot);

/* How many pictures were lent without a copy, and how many were copied. */
void cordon_slots_counts (CordonSlots *slots, guint64 *lent, guint64 *copied);

G_END_DECLS
