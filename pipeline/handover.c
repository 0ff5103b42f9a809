/* cordon — pixels-only buffers for the encoder (see handover.h).
 *
 * h264parse/h265parse and the libav decoders turn what a camera writes
 * beside its pictures (A/53 captions, AFD, bar data, time codes, user data
 * SEI) into GstMetas on the decoded buffers; videoconvert/videoscale/
 * videorate carry them on, and x264enc writes caption metas back out as
 * SEI. gst_buffer_copy() would carry them all. Building the buffer from the
 * planes alone is the only way that cannot miss a meta GStreamer adds later.
 *
 * A camera picture needs no such copy: the worker's slot is wrapped as a new
 * read-only buffer (cordon_ring_lend), which by construction holds only the
 * slot's bytes, and the slot goes back to the worker when the buffer's
 * memory is freed. */
#define _GNU_SOURCE
#define G_LOG_DOMAIN "cordon-pipeline"

#include "handover.h"
#include "pipeline.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

struct _CordonRing {
  gatomicrefcount refs;
  const guint8 *base;       /* PROT_READ: the daemon never writes a slot */
  gsize size;
  GMutex lock;
  /* under lock: */
  int control;              /* -1 once detached */
  CordonHandover handover;
  gboolean lent[CORDON_HANDOVER_SLOTS];
  gint64 used_ns[CORDON_HANDOVER_SLOTS];   /* monotonic: last released */
  gboolean resident[CORDON_HANDOVER_SLOTS]; /* written since its last trim request */
};

typedef struct {
  CordonRing *ring;
  guint slot;
} Loan;

CordonRing *
cordon_ring_new (int fd, guint slots, gsize slot_size, int control, GError **error)
{
  slots = MIN (slots, CORDON_HANDOVER_SLOTS);
  gsize size = slots * slot_size;
  void *base = mmap (NULL, size, PROT_READ, MAP_SHARED, fd, 0);
  if (base == MAP_FAILED) {
    g_set_error (error, CORDON_PIPELINE_ERROR, CORDON_PIPELINE_ERROR_FAILED, "picture ring: %s",
                 g_strerror (errno));
    return NULL;
  }
  CordonRing *r = g_new0 (CordonRing, 1);
  g_atomic_ref_count_init (&r->refs);
  r->base = base;
  r->size = size;
  r->control = control;
  g_mutex_init (&r->lock);
  cordon_handover_init (&r->handover, slots, slot_size);
  return r;
}

CordonRing *
cordon_ring_ref (CordonRing *r)
{
  g_atomic_ref_count_inc (&r->refs);
  return r;
}

void
cordon_ring_unref (CordonRing *r)
{
  if (!r || !g_atomic_ref_count_dec (&r->refs))
    return;
  munmap ((void *) r->base, r->size);
  g_mutex_clear (&r->lock);
  g_free (r);
}

void
cordon_ring_detach (CordonRing *r)
{
  g_mutex_lock (&r->lock);
  r->control = -1;
  g_mutex_unlock (&r->lock);
}

gboolean
cordon_ring_check (CordonRing *r, const void *data, gsize len, gint64 now_ns, CordonHandoverEvent *event,
                   const char **why)
{
  g_mutex_lock (&r->lock);
  gboolean ok = cordon_handover_check (&r->handover, data, len, now_ns, event, why);
  if (ok && event->type == CORDON_MSG_PICTURE)
    r->resident[event->slot] = TRUE;
  g_mutex_unlock (&r->lock);
  return ok;
}

/* The last reference to a lent slot's memory is gone, on whatever thread
 * dropped it: the slot goes back to the worker, if it is still there. */
static void
loan_returned (gpointer data)
{
  Loan *loan = data;
  CordonRing *r = loan->ring;

  g_mutex_lock (&r->lock);
  r->lent[loan->slot] = FALSE;
  r->used_ns[loan->slot] = g_get_monotonic_time () * 1000;
  /* Under the lock: cordon_ring_detach() cannot close the socket meanwhile. */
  if (cordon_handover_release (&r->handover, loan->slot) && r->control >= 0) {
    CordonReleaseMsg msg = { CORDON_HANDOVER_MAGIC, loan->slot };
    send (r->control, &msg, sizeof msg, MSG_DONTWAIT | MSG_NOSIGNAL);
  }
  g_mutex_unlock (&r->lock);
  cordon_ring_unref (r);
  g_free (loan);
}

GstBuffer *
cordon_ring_lend (CordonRing *r, guint slot, const GstVideoInfo *info, CordonPictureLayout layout)
{
  /* Where the planes are is ours to say, from the size we chose: the worker
   * only picks one of the two layouts, and both fit in a slot. */
  CordonPlanes planes;
  cordon_handover_layout (GST_VIDEO_INFO_WIDTH (info), GST_VIDEO_INFO_HEIGHT (info), layout, &planes);
  g_mutex_lock (&r->lock);
  gboolean ok = slot < r->handover.slots && r->handover.held[slot] && !r->lent[slot]
                && planes.size <= r->handover.slot_size;
  if (ok)
    r->lent[slot] = TRUE;
  g_mutex_unlock (&r->lock);
  if (!ok)
    return NULL;

  Loan *loan = g_new (Loan, 1);
  loan->ring = cordon_ring_ref (r);
  loan->slot = slot;
  gsize size = r->handover.slot_size;
  /* Read-only memory over read-only pages: an element that wants to write
   * gets its own copy. Only the bytes of a slot of the size we chose: the
   * buffer is new, so it has no meta, flags or stamps from the worker; the
   * one meta it gets, for the padded layout, is made here. */
  GstBuffer *buffer = gst_buffer_new_wrapped_full (GST_MEMORY_FLAG_READONLY, (gpointer) (r->base + slot * size), size,
                                                   0, size, loan, loan_returned);
  if (layout == CORDON_LAYOUT_DECODER)
    cordon_planes_add_meta (buffer, &planes, GST_VIDEO_INFO_WIDTH (info), GST_VIDEO_INFO_HEIGHT (info));
  return buffer;
}

guint
cordon_ring_trim (CordonRing *r, gint64 now_ns, gint64 idle_ns)
{
  guint asked = 0;

  g_mutex_lock (&r->lock);
  for (guint i = 0; r->control >= 0 && i < r->handover.slots; i++) {
    if (!r->resident[i] || r->handover.held[i] || r->lent[i] || now_ns - r->used_ns[i] < idle_ns)
      continue;
    /* The worker punches the hole (worker.c): the daemon cannot know that
     * the worker has not just started writing a slot it gave back. */
    CordonReleaseMsg msg = { CORDON_HANDOVER_TRIM_MAGIC, i };
    send (r->control, &msg, sizeof msg, MSG_DONTWAIT | MSG_NOSIGNAL);
    r->resident[i] = FALSE;
    asked++;
  }
  g_mutex_unlock (&r->lock);
  return asked;
}

guint
cordon_ring_resident (CordonRing *r)
{
  guint n = 0;
  g_mutex_lock (&r->lock);
  for (guint i = 0; i < r->handover.slots; i++)
    n += r->resident[i];
  g_mutex_unlock (&r->lock);
  return n;
}

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
