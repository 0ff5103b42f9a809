/* cordon — the worker's picture slots as GStreamer buffer pools (slotpool.h). */
#define _GNU_SOURCE
#define G_LOG_DOMAIN "cordon-worker"

#include "slotpool.h"
#include "handover.h"

#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

typedef struct {
  CordonSlots *slots;
  guint index;
  /* under slots->lock: */
  gboolean in_gst; /* a GstMemory over the slot exists */
  gboolean leased; /* announced to the daemon, not given back yet */
} Slot;

struct _CordonSlots {
  gatomicrefcount refs;   /* the worker's, and one per GstMemory over a slot */
  guint8 *ring;
  guint n;
  gsize slot_size;
  GstVideoInfo info;      /* the standard layout */
  CordonPlanes standard;  /* INFO's layout, as the daemon computes it (ring.h) */
  CordonPlanes padded;    /* the decoder's layout */
  gboolean can_pad;       /* a slot holds the padded layout */
  GMutex lock;
  Slot slot[CORDON_HANDOVER_SLOTS];
  guint64 lent, copied;   /* under lock */
};

/* One allocation answer's pool over the slots. A decoder keeps its pool
 * active while it asks again, and an active pool cannot take a new
 * configuration: so every query gets a new pool, all over the same slots. */
#define CORDON_TYPE_SLOT_POOL (cordon_slot_pool_get_type ())
G_DECLARE_FINAL_TYPE (CordonSlotPool, cordon_slot_pool, CORDON, SLOT_POOL, GstBufferPool)

struct _CordonSlotPool {
  GstBufferPool parent;
  CordonSlots *slots;
  gboolean padded; /* configured for the decoder's layout */
};

G_DEFINE_TYPE (CordonSlotPool, cordon_slot_pool, GST_TYPE_BUFFER_POOL)

static GQuark
slot_quark (void)
{
  static GQuark q;
  if (!q)
    q = g_quark_from_static_string ("cordon-slot");
  return q;
}

static CordonSlots *
slots_ref (CordonSlots *s)
{
  g_atomic_ref_count_inc (&s->refs);
  return s;
}

void
cordon_slots_unref (CordonSlots *s)
{
  if (!g_atomic_ref_count_dec (&s->refs))
    return;
  g_mutex_clear (&s->lock);
  g_free (s);
}

/* Under lock: the first slot nobody holds, marked as IN_GST or leased. The
 * lowest first, so that the slots past what the stream needs stay idle and
 * give their pages back. */
static int
take_free (CordonSlots *s, gboolean in_gst)
{
  for (guint i = 0; i < s->n; i++) {
    Slot *slot = &s->slot[i];
    if (!slot->in_gst && !slot->leased) {
      if (in_gst)
        slot->in_gst = TRUE;
      else
        slot->leased = TRUE;
      return (int) i;
    }
  }
  return -1;
}

/* The last reference to a slot's memory is gone, on whichever thread: the
 * chain can no longer write or read it. */
static void
slot_memory_gone (gpointer data)
{
  Slot *slot = data;
  CordonSlots *s = slot->slots;
  g_mutex_lock (&s->lock);
  slot->in_gst = FALSE;
  g_mutex_unlock (&s->lock);
  cordon_slots_unref (s);
}

static GstFlowReturn
acquire_buffer (GstBufferPool *bp, GstBuffer **buffer, GstBufferPoolAcquireParams *params)
{
  CordonSlotPool *pool = CORDON_SLOT_POOL (bp);
  CordonSlots *s = pool->slots;
  gsize size = pool->padded ? s->padded.size : s->info.size;
  if (GST_BUFFER_POOL_IS_FLUSHING (bp))
    return GST_FLOW_FLUSHING;
  g_mutex_lock (&s->lock);
  int i = take_free (s, TRUE);
  g_mutex_unlock (&s->lock);
  if (i < 0) {
    /* The daemon holds every slot: never block the decoder, which must go on
     * decoding the reference pictures. Aligned like a slot, so that a
     * decoder keeps decoding in place. */
    GstAllocationParams aligned = { .align = 63 };
    *buffer = gst_buffer_new_allocate (NULL, size, &aligned);
  } else {
    Slot *slot = &s->slot[i];
    GstMemory *mem = gst_memory_new_wrapped (0, s->ring + (gsize) i * s->slot_size, s->slot_size, 0, size, slot,
                                             slot_memory_gone);
    slots_ref (s);
    gst_mini_object_set_qdata (GST_MINI_OBJECT (mem), slot_quark (), slot, NULL);
    *buffer = gst_buffer_new ();
    gst_buffer_append_memory (*buffer, mem);
  }
  if (!*buffer)
    return GST_FLOW_ERROR;
  if (pool->padded)
    cordon_planes_add_meta (*buffer, &s->padded, GST_VIDEO_INFO_WIDTH (&s->info), GST_VIDEO_INFO_HEIGHT (&s->info));
  return GST_FLOW_OK;
}

/* Buffers are made per acquire and not kept: a slot's state lives in its
 * memory's lifetime, which copies of the buffer share. */
static void
release_buffer (GstBufferPool *bp, GstBuffer *buffer)
{
  gst_buffer_unref (buffer);
}

static gboolean
start_stop (GstBufferPool *bp)
{
  return TRUE;
}

static gboolean
same_picture (const GstVideoInfo *a, const GstVideoInfo *b)
{
  return GST_VIDEO_INFO_FORMAT (a) == GST_VIDEO_INFO_FORMAT (b) && GST_VIDEO_INFO_WIDTH (a) == GST_VIDEO_INFO_WIDTH (b)
         && GST_VIDEO_INFO_HEIGHT (a) == GST_VIDEO_INFO_HEIGHT (b) && !GST_VIDEO_INFO_IS_INTERLACED (a)
         && !GST_VIDEO_INFO_IS_INTERLACED (b);
}

static gboolean
caps_fit (CordonSlots *s, GstCaps *caps)
{
  GstVideoInfo info;
  return caps && gst_video_info_from_caps (&info, caps) && same_picture (&info, &s->info);
}

/* Does the padded layout give what ALIGN asks: no padding above or to the
 * left, at least the rows and the width it asks, every stride and plane
 * start aligned as it asks? */
static gboolean
padded_fits (const CordonSlots *s, const GstVideoAlignment *align)
{
  if (!s->can_pad || align->padding_top || align->padding_left)
    return FALSE;
  gsize w = (gsize) GST_VIDEO_INFO_WIDTH (&s->info) + align->padding_right;
  gsize h = (gsize) GST_VIDEO_INFO_HEIGHT (&s->info) + align->padding_bottom;
  const CordonPlanes *pl = &s->padded;
  gsize luma_rows = pl->offset[1] / pl->stride[0], chroma_rows = (pl->offset[2] - pl->offset[1]) / pl->stride[1];
  if (pl->stride[0] < w || pl->stride[1] < (w + 1) / 2 || luma_rows < h || chroma_rows < (h + 1) / 2)
    return FALSE;
  for (guint p = 0; p < 3; p++)
    if ((pl->stride[p] & align->stride_align[p]) || (pl->offset[p] & align->stride_align[p]))
      return FALSE;
  return TRUE;
}

static gboolean
set_config (GstBufferPool *bp, GstStructure *config)
{
  CordonSlotPool *pool = CORDON_SLOT_POOL (bp);
  CordonSlots *s = pool->slots;
  GstCaps *caps = NULL;
  if (!gst_buffer_pool_config_get_params (config, &caps, NULL, NULL, NULL) || !caps_fit (s, caps))
    return FALSE;
  pool->padded = FALSE;
  if (gst_buffer_pool_config_has_option (config, GST_BUFFER_POOL_OPTION_VIDEO_ALIGNMENT)) {
    GstVideoAlignment align;
    if (!gst_buffer_pool_config_has_option (config, GST_BUFFER_POOL_OPTION_VIDEO_META)
        || !gst_buffer_pool_config_get_video_alignment (config, &align) || !padded_fits (s, &align))
      return FALSE;
    pool->padded = TRUE;
  }
  return GST_BUFFER_POOL_CLASS (cordon_slot_pool_parent_class)->set_config (bp, config);
}

static const gchar **
get_options (GstBufferPool *bp)
{
  static const gchar *padded[] = { GST_BUFFER_POOL_OPTION_VIDEO_META, GST_BUFFER_POOL_OPTION_VIDEO_ALIGNMENT, NULL };
  static const gchar *none[] = { NULL };
  return CORDON_SLOT_POOL (bp)->slots->can_pad ? padded : none;
}

static void
finalize (GObject *object)
{
  cordon_slots_unref (CORDON_SLOT_POOL (object)->slots);
  G_OBJECT_CLASS (cordon_slot_pool_parent_class)->finalize (object);
}

static void
cordon_slot_pool_class_init (CordonSlotPoolClass *klass)
{
  GstBufferPoolClass *bp = GST_BUFFER_POOL_CLASS (klass);
  bp->acquire_buffer = acquire_buffer;
  bp->release_buffer = release_buffer;
  bp->start = start_stop;
  bp->stop = start_stop;
  bp->set_config = set_config;
  bp->get_options = get_options;
  G_OBJECT_CLASS (klass)->finalize = finalize;
}

static void
cordon_slot_pool_init (CordonSlotPool *pool)
{
}

CordonSlots *
cordon_slots_new (guint8 *ring, guint n, gsize slot_size, const GstVideoInfo *info)
{
  g_return_val_if_fail (n > 0 && n <= CORDON_HANDOVER_SLOTS, NULL);
  g_return_val_if_fail (GST_VIDEO_INFO_FORMAT (info) == GST_VIDEO_FORMAT_I420, NULL);
  g_return_val_if_fail (slot_size >= GST_VIDEO_INFO_SIZE (info), NULL);
  CordonSlots *s = g_new0 (CordonSlots, 1);
  g_atomic_ref_count_init (&s->refs);
  g_mutex_init (&s->lock);
  s->ring = ring;
  s->n = n;
  s->slot_size = slot_size;
  s->info = *info;
  cordon_handover_layout (GST_VIDEO_INFO_WIDTH (info), GST_VIDEO_INFO_HEIGHT (info), CORDON_LAYOUT_STANDARD, &s->standard);
  cordon_handover_layout (GST_VIDEO_INFO_WIDTH (info), GST_VIDEO_INFO_HEIGHT (info), CORDON_LAYOUT_DECODER, &s->padded);
  /* Plane starts keep their alignment in every slot. */
  s->can_pad = slot_size >= s->padded.size && slot_size % 64 == 0;
  for (guint i = 0; i < n; i++)
    s->slot[i] = (Slot) { .slots = s, .index = i };
  return s;
}

GstBufferPool *
cordon_slots_propose (CordonSlots *s, GstQuery *query)
{
  GstCaps *caps = NULL;
  gst_query_parse_allocation (query, &caps, NULL);
  if (!caps_fit (s, caps))
    return NULL;
  CordonSlotPool *pool = g_object_new (CORDON_TYPE_SLOT_POOL, NULL);
  gst_object_ref_sink (pool);
  pool->slots = slots_ref (s);
  /* Writers that ask for nothing use the standard layout. A decoder that
   * asks for padding and aligned strides gets the padded layout, with a
   * GstVideoMeta saying where the planes are (set_config).
   * No maximum: the pool never blocks, and a decoder may refuse a pool with
   * a small one. A minimum of one, because videorate drops a pool whose
   * minimum and maximum are equal. */
  gst_query_add_allocation_pool (query, GST_BUFFER_POOL (pool), (guint) s->info.size, 1, 0);
  if (s->can_pad)
    gst_query_add_allocation_meta (query, GST_VIDEO_META_API_TYPE, NULL);
  return GST_BUFFER_POOL (pool);
}

static gboolean
same_planes (const GstVideoMeta *meta, const gsize *offset, const gsize *stride)
{
  for (guint p = 0; p < 3; p++)
    if (meta->offset[p] != offset[p] || meta->stride[p] != (gint) stride[p])
      return FALSE;
  return TRUE;
}

/* BUFFER's slot if its pixels are one whole slot, in one of the ring's
 * layouts (*LAYOUT); else NULL. */
static Slot *
slot_of (CordonSlots *s, GstBuffer *buffer, CordonPictureLayout *layout)
{
  if (gst_buffer_n_memory (buffer) != 1)
    return NULL;
  GstMemory *mem = gst_buffer_peek_memory (buffer, 0);
  /* A copy of the buffer may share the slot's memory: a GstMemory whose
   * parent is ours. */
  GstMemory *own = mem->parent ? mem->parent : mem;
  Slot *slot = gst_mini_object_get_qdata (GST_MINI_OBJECT (own), slot_quark ());
  gsize offset, size;
  if (!slot || slot->slots != s || (size = gst_memory_get_sizes (mem, &offset, NULL), offset != 0))
    return NULL;
  GstVideoMeta *meta = gst_buffer_get_video_meta (buffer);
  if (meta && (meta->format != GST_VIDEO_FORMAT_I420 || meta->width != (guint) GST_VIDEO_INFO_WIDTH (&s->info)
               || meta->height != (guint) GST_VIDEO_INFO_HEIGHT (&s->info) || meta->n_planes != 3))
    return NULL;
  if (size == s->standard.size && (!meta || same_planes (meta, s->standard.offset, s->standard.stride))) {
    *layout = CORDON_LAYOUT_STANDARD;
    return slot;
  }
  if (s->can_pad && size == s->padded.size && meta && same_planes (meta, s->padded.offset, s->padded.stride)) {
    *layout = CORDON_LAYOUT_DECODER;
    return slot;
  }
  return NULL;
}

int
cordon_slots_lease (CordonSlots *s, GstBuffer *buffer, CordonPictureLayout *layout)
{
  Slot *own = slot_of (s, buffer, layout);
  g_mutex_lock (&s->lock);
  if (own && !own->leased) {
    own->leased = TRUE;
    s->lent++;
    g_mutex_unlock (&s->lock);
    return (int) own->index;
  }
  /* A picture from another pool, or one sent already (videorate repeats
   * it): into a free slot, in the standard layout whatever the source's. */
  *layout = CORDON_LAYOUT_STANDARD;
  int i = take_free (s, FALSE);
  g_mutex_unlock (&s->lock);
  if (i < 0)
    return -1;
  g_autoptr (GstBuffer) dst = gst_buffer_new_wrapped_full (0, s->ring + (gsize) i * s->slot_size, s->slot_size, 0,
                                                           s->info.size, NULL, NULL);
  GstVideoFrame from, to;
  gboolean copied = FALSE;
  if (gst_video_frame_map (&from, &s->info, buffer, GST_MAP_READ)) {
    if (gst_video_frame_map (&to, &s->info, dst, GST_MAP_WRITE)) {
      copied = gst_video_frame_copy (&to, &from);
      gst_video_frame_unmap (&to);
    }
    gst_video_frame_unmap (&from);
  }
  g_mutex_lock (&s->lock);
  if (copied)
    s->copied++;
  else
    s->slot[i].leased = FALSE;
  g_mutex_unlock (&s->lock);
  return copied ? i : -1;
}

void
cordon_slots_release (CordonSlots *s, guint slot)
{
  g_return_if_fail (slot < s->n);
  g_mutex_lock (&s->lock);
  s->slot[slot].leased = FALSE;
  g_mutex_unlock (&s->lock);
}

gboolean
cordon_slots_trim (CordonSlots *s, guint slot)
{
  gsize offset, length;
  gboolean done = FALSE;
  g_return_val_if_fail (slot < s->n, FALSE);
  g_mutex_lock (&s->lock);
  /* Under the lock, so no memory over the slot can appear meanwhile: a slot
   * taken again since the daemon asked is left alone. */
  Slot *sl = &s->slot[slot];
  if (!sl->in_gst && !sl->leased
      && cordon_handover_slot_pages (s->slot_size, slot, (gsize) sysconf (_SC_PAGESIZE), &offset, &length))
    done = madvise (s->ring + offset, length, MADV_REMOVE) == 0;
  g_mutex_unlock (&s->lock);
  return done;
}

void
cordon_slots_counts (CordonSlots *s, guint64 *lent, guint64 *copied)
{
  g_mutex_lock (&s->lock);
  *lent = s->lent;
  *copied = s->copied;
  g_mutex_unlock (&s->lock);
}
