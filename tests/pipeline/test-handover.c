/* Unit tests for pipeline/handover.c: what reaches the encoder is the
 * pixels of the configured picture and nothing else. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

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

/* ---- the ring's slots lent as buffers (cordon_ring_*) ---- */

#define RW 320
#define RH 240
#define RSLOTS 4

/* Both ends of a hand-over, as supervisor.c sets them up: a memfd sealed
 * like the daemon's, the worker's writable mapping, the daemon's ring. */
typedef struct {
  CordonRing *ring;
  guint8 *worker;           /* the worker's mapping */
  gsize slot_size;
  GstVideoInfo info;        /* the configured picture */
  int daemon_end;
  int worker_end;
  guint64 seq;
} Pair;

static void
pair_init (Pair *p)
{
  int sv[2];
  p->slot_size = cordon_handover_slot_size (RW, RH);
  gst_video_info_set_format (&p->info, GST_VIDEO_FORMAT_I420, RW, RH);
  int fd = memfd_create ("test-ring", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (ftruncate (fd, RSLOTS * p->slot_size), ==, 0);
  g_assert_cmpint (fcntl (fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL), ==, 0);
  p->worker = mmap (NULL, RSLOTS * p->slot_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  g_assert_true (p->worker != MAP_FAILED);
  g_assert_cmpint (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), ==, 0);
  p->daemon_end = sv[0];
  p->worker_end = sv[1];
  g_autoptr (GError) error = NULL;
  p->ring = cordon_ring_new (fd, RSLOTS, p->slot_size, p->daemon_end, &error);
  g_assert_no_error (error);
  p->seq = 0;
}

static void
pair_clear (Pair *p)
{
  if (p->ring) {
    cordon_ring_detach (p->ring);
    g_clear_pointer (&p->ring, cordon_ring_unref);
  }
  if (p->daemon_end >= 0)
    close (p->daemon_end);
  close (p->worker_end);
  munmap (p->worker, RSLOTS * p->slot_size);
}

/* The worker fills SLOT with BYTE and announces it; the daemon checks it. */
static const char *
announce (Pair *p, guint slot, guint8 byte)
{
  memset (p->worker + slot * p->slot_size, byte, p->slot_size);
  CordonWorkerMsg m;
  cordon_worker_msg_init (&m, CORDON_MSG_PICTURE, slot, ++p->seq, cordon_handover_now_ns ());
  CordonHandoverEvent ev;
  const char *why = NULL;
  gboolean ok = cordon_ring_check (p->ring, &m, sizeof m, m.time_ns, &ev, &why);
  g_assert_true (ok == (why == NULL));
  return why;
}

/* The release message waiting for the worker: its slot, or -1 for none. */
static int
released (Pair *p)
{
  CordonReleaseMsg r;
  ssize_t n = recv (p->worker_end, &r, sizeof r, MSG_DONTWAIT);
  if (n < 0 && errno == EAGAIN)
    return -1;
  g_assert_cmpint (n, ==, sizeof r);
  g_assert_cmpuint (r.magic, ==, CORDON_HANDOVER_MAGIC);
  return (int) r.slot;
}

static gboolean
all_bytes (GstBuffer *buffer, guint8 byte)
{
  GstMapInfo map;
  g_assert_true (gst_buffer_map (buffer, &map, GST_MAP_READ));
  gboolean same = TRUE;
  for (gsize i = 0; i < map.size && same; i++)
    same = map.data[i] == byte;
  gst_buffer_unmap (buffer, &map);
  return same;
}

/* The slot goes back to the worker when the last reference to the
 * picture's memory goes (a shallow copy, as the encoder's appsrc makes,
 * holds it too), and not before. */
static void
test_slot_released_on_last_unref (void)
{
  Pair p;
  pair_init (&p);
  g_assert_null (announce (&p, 2, 0x5a));
  GstBuffer *picture = cordon_ring_lend (p.ring, 2, &p.info, CORDON_LAYOUT_STANDARD);
  g_assert_nonnull (picture);
  /* Only the bytes of the slot, of the size the daemon chose. */
  g_assert_cmpuint (gst_buffer_get_size (picture), ==, p.slot_size);
  g_assert_cmpuint (count_metas (picture), ==, 0);
  g_assert_cmpuint (GST_BUFFER_FLAGS (picture), ==, 0);
  g_assert_false (GST_BUFFER_PTS_IS_VALID (picture));
  g_assert_true (GST_MEMORY_IS_READONLY (gst_buffer_peek_memory (picture, 0)));
  g_assert_true (all_bytes (picture, 0x5a));
  /* A slot is lent once. */
  g_assert_null (cordon_ring_lend (p.ring, 2, &p.info, CORDON_LAYOUT_STANDARD));

  GstBuffer *copy = gst_buffer_copy (picture);
  gst_buffer_unref (picture);
  g_assert_cmpint (released (&p), ==, -1);
  /* Still the daemon's: the worker may not announce it again. */
  g_assert_cmpstr (announce (&p, 2, 0x11), ==, "slot announced twice without a release");
  g_assert_cmpuint (cordon_ring_resident (p.ring), ==, 1);
  gst_buffer_unref (copy);
  g_assert_cmpint (released (&p), ==, 2);
  g_assert_cmpint (released (&p), ==, -1);
  /* Free again: a slot not held is not lent, so it cannot be released twice. */
  g_assert_null (cordon_ring_lend (p.ring, 2, &p.info, CORDON_LAYOUT_STANDARD));
  g_assert_null (cordon_ring_lend (p.ring, RSLOTS, &p.info, CORDON_LAYOUT_STANDARD));
  g_assert_null (announce (&p, 2, 0x22));
  pair_clear (&p);
}

/* A picture in the decoder's padded layout gets the one meta the daemon
 * makes, with the planes it computes itself; the standard layout none. */
static void
test_decoder_layout_gets_the_daemons_planes (void)
{
  Pair p;
  pair_init (&p);
  g_assert_null (announce (&p, 1, 0x44));
  g_autoptr (GstBuffer) picture = cordon_ring_lend (p.ring, 1, &p.info, CORDON_LAYOUT_DECODER);
  g_assert_nonnull (picture);
  g_assert_cmpuint (gst_buffer_get_size (picture), ==, p.slot_size);
  g_assert_cmpuint (count_metas (picture), ==, 1);
  GstVideoMeta *meta = gst_buffer_get_video_meta (picture);
  g_assert_nonnull (meta);
  CordonPlanes planes;
  cordon_handover_layout (RW, RH, CORDON_LAYOUT_DECODER, &planes);
  g_assert_cmpuint (meta->width, ==, RW);
  g_assert_cmpuint (meta->height, ==, RH);
  g_assert_cmpint (meta->format, ==, GST_VIDEO_FORMAT_I420);
  for (guint i = 0; i < 3; i++) {
    g_assert_cmpuint (meta->offset[i], ==, planes.offset[i]);
    g_assert_cmpint (meta->stride[i], ==, (gint) planes.stride[i]);
  }
  /* The encoder maps it through the meta: the planes are the slot's bytes. */
  GstVideoFrame frame;
  g_assert_true (gst_video_frame_map (&frame, &p.info, picture, GST_MAP_READ));
  g_assert_cmpint (GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 1), ==, (gint) planes.stride[1]);
  g_assert_cmpuint (((guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&frame, 2))[0], ==, 0x44);
  gst_video_frame_unmap (&frame);
  pair_clear (&p);
}

/* A ring whose slots are too small for the padded layout lends no such
 * picture: the daemon never reads past a slot. */
static void
test_decoder_layout_refused_in_small_slots (void)
{
  Pair p;
  pair_init (&p);
  /* Planes computed for a bigger picture than the ring's slots were made for. */
  GstVideoInfo big;
  gst_video_info_set_format (&big, GST_VIDEO_FORMAT_I420, RW * 2, RH);
  g_assert_null (announce (&p, 0, 0x10));
  g_assert_null (cordon_ring_lend (p.ring, 0, &big, CORDON_LAYOUT_DECODER));
  g_autoptr (GstBuffer) picture = cordon_ring_lend (p.ring, 0, &p.info, CORDON_LAYOUT_DECODER);
  g_assert_nonnull (picture);
  pair_clear (&p);
}

/* A picture outlives its worker: the daemon's ring goes, the buffer still
 * reads the slot, and its release sends nothing. */
static void
test_release_after_worker_gone_is_a_no_op (void)
{
  Pair p;
  pair_init (&p);
  g_assert_null (announce (&p, 0, 0x33));
  g_autoptr (GstBuffer) picture = cordon_ring_lend (p.ring, 0, &p.info, CORDON_LAYOUT_STANDARD);
  g_assert_nonnull (picture);
  /* What cordon_supervisor_free() does. */
  cordon_ring_detach (p.ring);
  close (p.daemon_end);
  p.daemon_end = -1;
  g_clear_pointer (&p.ring, cordon_ring_unref);
  g_assert_true (all_bytes (picture, 0x33));
  gst_clear_buffer (&picture);
  CordonReleaseMsg r;
  g_assert_cmpint (recv (p.worker_end, &r, sizeof r, MSG_DONTWAIT), ==, 0); /* EOF, no message */
  pair_clear (&p);
}

/* Releases come from any thread (x264's, the sub encoder's, a snapshot's):
 * every slot comes back exactly once. */
static gpointer
drop_pictures (gpointer data)
{
  GPtrArray *pictures = data;
  g_ptr_array_unref (pictures);
  return NULL;
}

static void
test_releases_from_many_threads (void)
{
  Pair p;
  pair_init (&p);
  for (guint round = 0; round < 50; round++) {
    GThread *threads[RSLOTS];
    for (guint i = 0; i < RSLOTS; i++) {
      g_assert_null (announce (&p, i, (guint8) round));
      GPtrArray *pictures = g_ptr_array_new_with_free_func ((GDestroyNotify) gst_buffer_unref);
      GstBuffer *picture = cordon_ring_lend (p.ring, i, &p.info, CORDON_LAYOUT_STANDARD);
      g_assert_nonnull (picture);
      g_ptr_array_add (pictures, gst_buffer_copy (picture));
      g_ptr_array_add (pictures, picture);
      threads[i] = g_thread_new ("drop", drop_pictures, pictures);
    }
    for (guint i = 0; i < RSLOTS; i++)
      g_thread_join (threads[i]);
    guint seen = 0;
    for (int slot; (slot = released (&p)) >= 0;)
      seen |= 1u << slot;
    g_assert_cmpuint (seen, ==, (1u << RSLOTS) - 1);
  }
  pair_clear (&p);
}

/* The trim request waiting for the worker: its slot, or -1 for none. */
static int
trim_asked (Pair *p)
{
  CordonReleaseMsg r;
  ssize_t n = recv (p->worker_end, &r, sizeof r, MSG_DONTWAIT);
  if (n < 0 && errno == EAGAIN)
    return -1;
  g_assert_cmpint (n, ==, sizeof r);
  g_assert_cmpuint (r.magic, ==, CORDON_HANDOVER_TRIM_MAGIC);
  return (int) r.slot;
}

/* What worker.c does with a trim request for a free slot. */
static void
worker_trims (Pair *p, guint slot)
{
  gsize offset, length;
  g_assert_true (cordon_handover_slot_pages (p->slot_size, slot, (gsize) sysconf (_SC_PAGESIZE), &offset, &length));
  g_assert_cmpint (madvise (p->worker + offset, length, MADV_REMOVE), ==, 0);
}

/* After a burst, the daemon asks for the pages of slots unused for the idle
 * time, never of a slot it holds; the worker's hole punch works with the
 * daemon's seals, and leaves the part of a page shared with a held
 * neighbour alone. */
static void
test_idle_slots_give_their_pages_back (void)
{
  Pair p;
  pair_init (&p);
  const gint64 idle = 10 * G_GINT64_CONSTANT (1000000000);
  g_assert_null (announce (&p, 0, 0x44));
  g_assert_null (announce (&p, 1, 0x55));
  g_autoptr (GstBuffer) held = cordon_ring_lend (p.ring, 0, &p.info, CORDON_LAYOUT_STANDARD);
  gst_buffer_unref (cordon_ring_lend (p.ring, 1, &p.info, CORDON_LAYOUT_STANDARD));
  g_assert_cmpint (released (&p), ==, 1);
  g_assert_cmpuint (cordon_ring_resident (p.ring), ==, 2);

  g_assert_cmpuint (cordon_ring_trim (p.ring, cordon_handover_now_ns (), idle), ==, 0);
  g_assert_cmpint (trim_asked (&p), ==, -1);
  g_assert_cmpuint (cordon_ring_trim (p.ring, cordon_handover_now_ns () + idle + 1, idle), ==, 1);
  g_assert_cmpint (trim_asked (&p), ==, 1);
  g_assert_cmpint (trim_asked (&p), ==, -1);
  g_assert_cmpuint (cordon_ring_resident (p.ring), ==, 1);
  worker_trims (&p, 1);
  /* Slot 1's whole pages read as zeros now (fresh pages on the next write). */
  gsize offset, length;
  cordon_handover_slot_pages (p.slot_size, 1, (gsize) sysconf (_SC_PAGESIZE), &offset, &length);
  g_assert_cmpuint (offset, >, p.slot_size);
  g_assert_cmpuint (offset + length, <, 2 * p.slot_size);
  for (gsize i = offset; i < offset + length; i++)
    g_assert_cmpuint (p.worker[i], ==, 0);
  /* The bytes of slot 1 in the pages it shares with slots 0 and 2 are
   * untouched, and so is all of slot 0. */
  g_assert_cmpuint (p.worker[p.slot_size], ==, 0x55);
  g_assert_cmpuint (p.worker[2 * p.slot_size - 1], ==, 0x55);
  g_assert_true (all_bytes (held, 0x44));
  /* Nothing more to ask for until a slot is used again. */
  g_assert_cmpuint (cordon_ring_trim (p.ring, cordon_handover_now_ns () + 2 * idle, idle), ==, 0);
  gst_clear_buffer (&held);
  g_assert_cmpint (released (&p), ==, 0);
  g_assert_cmpuint (cordon_ring_trim (p.ring, cordon_handover_now_ns () + 2 * idle, idle), ==, 1);
  g_assert_cmpint (trim_asked (&p), ==, 0);
  g_assert_cmpuint (cordon_ring_resident (p.ring), ==, 0);
  /* A worker gone: nothing is asked. */
  g_assert_null (announce (&p, 3, 0x66));
  gst_buffer_unref (cordon_ring_lend (p.ring, 3, &p.info, CORDON_LAYOUT_STANDARD));
  g_assert_cmpint (released (&p), ==, 3);
  cordon_ring_detach (p.ring);
  g_assert_cmpuint (cordon_ring_trim (p.ring, cordon_handover_now_ns () + 3 * idle, idle), ==, 0);
  pair_clear (&p);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/handover/decoder-layout-gets-the-daemons-planes", test_decoder_layout_gets_the_daemons_planes);
  g_test_add_func ("/handover/decoder-layout-refused-in-small-slots", test_decoder_layout_refused_in_small_slots);
  g_test_add_func ("/handover/pixels-only-no-meta-flags-or-padding", test_pixels_only);
  g_test_add_func ("/handover/too-small-picture-refused", test_too_small);
  g_test_add_func ("/handover/samples-only", test_samples_only);
  g_test_add_func ("/handover/ring/slot-released-on-last-unref-not-before", test_slot_released_on_last_unref);
  g_test_add_func ("/handover/ring/release-after-worker-gone-is-a-no-op", test_release_after_worker_gone_is_a_no_op);
  g_test_add_func ("/handover/ring/releases-from-many-threads", test_releases_from_many_threads);
  g_test_add_func ("/handover/ring/idle-slots-give-their-pages-back", test_idle_slots_give_their_pages_back);
  return g_test_run ();
}
