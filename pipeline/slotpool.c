/* cordon — the worker's picture slots as a GStreamer buffer pool (slotpool.h). */
#define _GNU_SOURCE
#define G_LOG_DOMAIN "cordon-worker"

#include "slotpool.h"
#include "ring.h"

#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

typedef struct {
  CordonSlotPool *pool;
  guint index;
  /* under pool->lock: */
  gboolean in_gst; /* a GstMemory over the slot exists */
  gboolean leased; /* announced to the daemon, not given back yet */
} Slot;

struct _CordonSlotPool {
  GstBufferPool parent;
  guint8 *ring;
  guint slots;
  gsize slot_size;
  GstVideoInfo info;
  GMutex lock;
  Slot slot[CORDON_HANDOVER_SLOTS];
  guint64 lent, copied; /* under lock */
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

/* Under lock: the first slot nobody holds, marked as IN_GST or leased. The
 * lowest first, so that the slots past what the stream needs stay idle and
 * give their pages back. */
static int
take_free (CordonSlotPool *pool, gboolean in_gst)
{
  for (guint i = 0; i < pool->slots; i++) {
    Slot *s = &pool->slot[i];
    if (!s->in_gst && !s->leased) {
      if (in_gst)
        s->in_gst = TRUE;
      else
        s->leased = TRUE;
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
  Slot *s = data;
  CordonSlotPool *pool = s->pool;
  g_mutex_lock (&pool->lock);
  s->in_gst = FALSE;
  g_mutex_unlock (&pool->lock);
  gst_object_unref (pool);
}

static GstFlowReturn
acquire_buffer (GstBufferPool *bp, GstBuffer **buffer, GstBufferPoolAcquireParams *params)
{
  CordonSlotPool *pool = CORDON_SLOT_POOL (bp);
  if (GST_BUFFER_POOL_IS_FLUSHING (bp))
    return GST_FLOW_FLUSHING;
  g_mutex_lock (&pool->lock);
  int i = take_free (pool, TRUE);
  g_mutex_unlock (&pool->lock);
  if (i < 0) {
    /* The daemon holds every slot: never block the decoder, which must go on
     * decoding the reference pictures. */
    *buffer = gst_buffer_new_allocate (NULL, pool->info.size, NULL);
    return *buffer ? GST_FLOW_OK : GST_FLOW_ERROR;
  }
  Slot *s = &pool->slot[i];
  GstMemory *mem = gst_memory_new_wrapped (0, pool->ring + (gsize) i * pool->slot_size, pool->slot_size, 0,
                                           pool->info.size, s, slot_memory_gone);
  gst_object_ref (pool);
  gst_mini_object_set_qdata (GST_MINI_OBJECT (mem), slot_quark (), s, NULL);
  *buffer = gst_buffer_new ();
  gst_buffer_append_memory (*buffer, mem);
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

static const gchar **
get_options (GstBufferPool *bp)
{
  /* No video meta, no alignment: writers use the standard layout, which is
   * how the daemon reads a slot. */
  static const gchar *options[] = { NULL };
  return options;
}

static gboolean
same_picture (const GstVideoInfo *a, const GstVideoInfo *b)
{
  return GST_VIDEO_INFO_FORMAT (a) == GST_VIDEO_INFO_FORMAT (b) && GST_VIDEO_INFO_WIDTH (a) == GST_VIDEO_INFO_WIDTH (b)
         && GST_VIDEO_INFO_HEIGHT (a) == GST_VIDEO_INFO_HEIGHT (b) && GST_VIDEO_INFO_SIZE (a) == GST_VIDEO_INFO_SIZE (b)
         && !GST_VIDEO_INFO_IS_INTERLACED (a) && !GST_VIDEO_INFO_IS_INTERLACED (b);
}

static gboolean
caps_fit (CordonSlotPool *pool, GstCaps *caps)
{
  GstVideoInfo info;
  return caps && gst_video_info_from_caps (&info, caps) && same_picture (&info, &pool->info);
}

static gboolean
set_config (GstBufferPool *bp, GstStructure *config)
{
  CordonSlotPool *pool = CORDON_SLOT_POOL (bp);
  GstCaps *caps = NULL;
  if (!gst_buffer_pool_config_get_params (config, &caps, NULL, NULL, NULL) || !caps_fit (pool, caps))
    return FALSE;
  return GST_BUFFER_POOL_CLASS (cordon_slot_pool_parent_class)->set_config (bp, config);
}

static void
finalize (GObject *object)
{
  g_mutex_clear (&CORDON_SLOT_POOL (object)->lock);
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
  bp->get_options = get_options;
  bp->set_config = set_config;
  G_OBJECT_CLASS (klass)->finalize = finalize;
}

static void
cordon_slot_pool_init (CordonSlotPool *pool)
{
  g_mutex_init (&pool->lock);
}

CordonSlotPool *
cordon_slot_pool_new (guint8 *ring, guint slots, gsize slot_size, const GstVideoInfo *info)
{
  g_return_val_if_fail (slots > 0 && slots <= CORDON_HANDOVER_SLOTS, NULL);
  g_return_val_if_fail (GST_VIDEO_INFO_FORMAT (info) == GST_VIDEO_FORMAT_I420, NULL);
  g_return_val_if_fail (slot_size == GST_VIDEO_INFO_SIZE (info), NULL);
  CordonSlotPool *pool = g_object_new (CORDON_TYPE_SLOT_POOL, NULL);
  gst_object_ref_sink (pool);
  pool->ring = ring;
  pool->slots = slots;
  pool->slot_size = slot_size;
  pool->info = *info;
  for (guint i = 0; i < slots; i++)
    pool->slot[i] = (Slot) { .pool = pool, .index = i };
  return pool;
}

gboolean
cordon_slot_pool_propose (CordonSlotPool *pool, GstQuery *query)
{
  GstCaps *caps = NULL;
  gst_query_parse_allocation (query, &caps, NULL);
  if (!caps_fit (pool, caps))
    return FALSE;
  /* No maximum: the pool never blocks, and avdec refuses a pool with a
   * small one. A minimum of one, because videorate drops a pool whose
   * minimum and maximum are equal. */
  gst_query_add_allocation_pool (query, GST_BUFFER_POOL (pool), (guint) pool->info.size, 1, 0);
  return TRUE;
}

/* BUFFER's slot if its pixels are one whole slot of POOL's in the standard
 * layout, else NULL. */
static Slot *
slot_of (CordonSlotPool *pool, GstBuffer *buffer)
{
  if (gst_buffer_n_memory (buffer) != 1)
    return NULL;
  GstMemory *mem = gst_buffer_peek_memory (buffer, 0);
  Slot *s = gst_mini_object_get_qdata (GST_MINI_OBJECT (mem), slot_quark ());
  gsize offset, maxsize;
  if (!s || s->pool != pool || gst_memory_get_sizes (mem, &offset, &maxsize) != pool->info.size || offset != 0)
    return NULL;
  GstVideoMeta *meta = gst_buffer_get_video_meta (buffer);
  if (meta) {
    for (guint p = 0; p < meta->n_planes; p++)
      if (meta->offset[p] != GST_VIDEO_INFO_PLANE_OFFSET (&pool->info, p)
          || meta->stride[p] != GST_VIDEO_INFO_PLANE_STRIDE (&pool->info, p))
        return NULL;
  }
  return s;
}

int
cordon_slot_pool_lease (CordonSlotPool *pool, GstBuffer *buffer)
{
  Slot *own = slot_of (pool, buffer);
  g_mutex_lock (&pool->lock);
  if (own && !own->leased) {
    own->leased = TRUE;
    pool->lent++;
    g_mutex_unlock (&pool->lock);
    return (int) own->index;
  }
  /* A picture from another pool, or one sent already (videorate repeats
   * it): into a free slot, in the standard layout whatever the source's. */
  int i = take_free (pool, FALSE);
  g_mutex_unlock (&pool->lock);
  if (i < 0)
    return -1;
  g_autoptr (GstBuffer) dst = gst_buffer_new_wrapped_full (0, pool->ring + (gsize) i * pool->slot_size,
                                                           pool->slot_size, 0, pool->slot_size, NULL, NULL);
  GstVideoFrame from, to;
  gboolean copied = FALSE;
  if (gst_video_frame_map (&from, &pool->info, buffer, GST_MAP_READ)) {
    if (gst_video_frame_map (&to, &pool->info, dst, GST_MAP_WRITE)) {
      copied = gst_video_frame_copy (&to, &from);
      gst_video_frame_unmap (&to);
    }
    gst_video_frame_unmap (&from);
  }
  g_mutex_lock (&pool->lock);
  if (copied)
    pool->copied++;
  else
    pool->slot[i].leased = FALSE;
  g_mutex_unlock (&pool->lock);
  return copied ? i : -1;
}

void
cordon_slot_pool_release (CordonSlotPool *pool, guint slot)
{
  g_return_if_fail (slot < pool->slots);
  g_mutex_lock (&pool->lock);
  pool->slot[slot].leased = FALSE;
  g_mutex_unlock (&pool->lock);
}

gboolean
cordon_slot_pool_trim (CordonSlotPool *pool, guint slot)
{
  gsize offset, length;
  gboolean done = FALSE;
  g_return_val_if_fail (slot < pool->slots, FALSE);
  g_mutex_lock (&pool->lock);
  /* Under the lock, so no memory over the slot can appear meanwhile: a slot
   * taken again since the daemon asked is left alone. */
  Slot *s = &pool->slot[slot];
  if (!s->in_gst && !s->leased
      && cordon_handover_slot_pages (pool->slot_size, slot, (gsize) sysconf (_SC_PAGESIZE), &offset, &length))
    done = madvise (pool->ring + offset, length, MADV_REMOVE) == 0;
  g_mutex_unlock (&pool->lock);
  return done;
}

void
cordon_slot_pool_counts (CordonSlotPool *pool, guint64 *lent, guint64 *copied)
{
  g_mutex_lock (&pool->lock);
  *lent = pool->lent;
  *copied = pool->copied;
  g_mutex_unlock (&pool->lock);
}
