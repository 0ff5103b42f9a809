/* The daemon's check of what an ingest worker sends (pipeline/ring.c):
 * every field a hostile worker controls. */
#include <gst/video/video.h>
#include <string.h>

#include "ring.h"

#define NOW (G_GINT64_CONSTANT (1000) * 1000000000)
#define SIZE (640 * 360 * 3 / 2)

static CordonWorkerMsg
picture (guint slot, guint64 seq, gint64 time_ns)
{
  CordonWorkerMsg m;
  cordon_worker_msg_init (&m, CORDON_MSG_PICTURE, slot, seq, time_ns);
  return m;
}

static const char *
check (CordonHandover *h, const void *m, gsize len, CordonHandoverEvent *ev)
{
  const char *why = NULL;
  gboolean ok = cordon_handover_check (h, m, len, NOW, ev, &why);
  g_assert_true (ok == (why == NULL));
  return ok ? NULL : why;
}

static void
test_valid_pictures_are_accepted_and_slots_held (void)
{
  CordonHandover h;
  CordonHandoverEvent ev;
  cordon_handover_init (&h, 4, SIZE);
  CordonWorkerMsg m = picture (2, 1, NOW - 1000);
  g_assert_null (check (&h, &m, sizeof m, &ev));
  g_assert_cmpint (ev.type, ==, CORDON_MSG_PICTURE);
  g_assert_cmpuint (ev.slot, ==, 2);
  g_assert_true (h.held[2]);
  /* The same slot again before the daemon released it: a race on our read. */
  m = picture (2, 2, NOW);
  g_assert_cmpstr (check (&h, &m, sizeof m, &ev), ==, "slot announced twice without a release");
  g_assert_true (cordon_handover_release (&h, 2));
  g_assert_false (cordon_handover_release (&h, 2));
  g_assert_null (check (&h, &m, sizeof m, &ev));
}

static void
test_out_of_range_slot_is_refused (void)
{
  CordonHandover h;
  CordonHandoverEvent ev;
  cordon_handover_init (&h, 4, SIZE);
  CordonWorkerMsg m = picture (4, 1, NOW);
  g_assert_cmpstr (check (&h, &m, sizeof m, &ev), ==, "slot index out of range");
  m = picture (G_MAXUINT32, 1, NOW);
  g_assert_cmpstr (check (&h, &m, sizeof m, &ev), ==, "slot index out of range");
  g_assert_false (cordon_handover_release (&h, 99));
}

static void
test_sequence_must_increase (void)
{
  CordonHandover h;
  CordonHandoverEvent ev;
  cordon_handover_init (&h, 4, SIZE);
  CordonWorkerMsg m = picture (0, 5, NOW);
  g_assert_null (check (&h, &m, sizeof m, &ev));
  m = picture (1, 5, NOW);
  g_assert_cmpstr (check (&h, &m, sizeof m, &ev), ==, "sequence number not increasing");
  m = picture (1, 0, NOW);
  g_assert_cmpstr (check (&h, &m, sizeof m, &ev), ==, "sequence number not increasing");
  m = picture (1, 9, NOW);
  g_assert_null (check (&h, &m, sizeof m, &ev));
}

/* A skip of N sequence numbers is N pictures dropped in the worker; DETAIL
 * says how many of them videorate left out, never more than the skip. */
static void
test_rate_drops_fit_the_skip (void)
{
  CordonHandover h;
  CordonHandoverEvent ev;
  cordon_handover_init (&h, 4, SIZE);
  CordonWorkerMsg m = picture (0, 1, NOW);
  m.detail = 1;
  g_assert_cmpstr (check (&h, &m, sizeof m, &ev), ==, "more rate drops than the sequence skips");
  m = picture (0, 4, NOW);
  m.detail = 3;
  g_assert_null (check (&h, &m, sizeof m, &ev));
  g_assert_cmpuint (ev.detail, ==, 3);
  m = picture (1, 6, NOW);
  m.detail = 2;
  g_assert_cmpstr (check (&h, &m, sizeof m, &ev), ==, "more rate drops than the sequence skips");
  m.detail = G_MAXUINT32;
  g_assert_cmpstr (check (&h, &m, sizeof m, &ev), ==, "more rate drops than the sequence skips");
  m.detail = 1;
  g_assert_null (check (&h, &m, sizeof m, &ev));
}

static void
test_time_stamps_are_monotonic_and_capped (void)
{
  CordonHandover h;
  CordonHandoverEvent ev;
  cordon_handover_init (&h, 4, SIZE);
  CordonWorkerMsg m = picture (0, 1, NOW + CORDON_HANDOVER_MAX_AHEAD_NS + 1);
  g_assert_cmpstr (check (&h, &m, sizeof m, &ev), ==, "time stamp in the future");
  m = picture (0, 1, NOW - CORDON_HANDOVER_MAX_AGE_NS - 1);
  g_assert_cmpstr (check (&h, &m, sizeof m, &ev), ==, "time stamp too old");
  m = picture (0, 1, NOW - 10);
  g_assert_null (check (&h, &m, sizeof m, &ev));
  m = picture (1, 2, NOW - 20);
  g_assert_cmpstr (check (&h, &m, sizeof m, &ev), ==, "picture time stamp going backwards");
}

static void
test_garbage_and_wrong_sizes_are_refused (void)
{
  CordonHandover h;
  CordonHandoverEvent ev;
  guint8 junk[sizeof (CordonAudioMsg) + 1];
  cordon_handover_init (&h, 4, SIZE);
  memset (junk, 0xa5, sizeof junk);
  g_assert_cmpstr (check (&h, junk, 3, &ev), ==, "short message");
  g_assert_cmpstr (check (&h, junk, sizeof junk, &ev), ==, "bad magic");
  CordonWorkerMsg m = picture (0, 1, NOW);
  g_assert_cmpstr (check (&h, &m, sizeof m - 1, &ev), ==, "message of the wrong size");
  memcpy (junk, &m, sizeof m);
  g_assert_cmpstr (check (&h, junk, sizeof m + 1, &ev), ==, "message of the wrong size");
  m.type = 77;
  g_assert_cmpstr (check (&h, &m, sizeof m, &ev), ==, "unknown message type");
  m = picture (0, 1, NOW);
  m.codec = 9;
  g_assert_cmpstr (check (&h, &m, sizeof m, &ev), ==, "unknown codec");
  m = picture (0, 1, NOW);
  m.input_width = 1u << 20;
  g_assert_cmpstr (check (&h, &m, sizeof m, &ev), ==, "input size out of range");
  m = picture (0, 1, NOW);
  m.layout = CORDON_LAYOUT_DECODER + 1;
  g_assert_cmpstr (check (&h, &m, sizeof m, &ev), ==, "unknown picture layout");
  m = picture (0, 1, NOW);
  m.type = CORDON_MSG_STATUS;
  m.layout = CORDON_LAYOUT_DECODER;
  g_assert_cmpstr (check (&h, &m, sizeof m, &ev), ==, "picture layout on a message without a picture");
  /* Nothing was accepted: no slot is held. */
  for (guint i = 0; i < CORDON_HANDOVER_SLOTS; i++)
    g_assert_false (h.held[i]);
}

static void
test_status_text_is_bounded_and_sanitised (void)
{
  CordonHandover h;
  CordonHandoverEvent ev;
  cordon_handover_init (&h, 4, SIZE);
  CordonWorkerMsg m = picture (0, 0, NOW);
  m.type = CORDON_MSG_STATUS;
  memset (m.text, 'x', sizeof m.text);
  g_assert_cmpstr (check (&h, &m, sizeof m, &ev), ==, "status text not terminated");
  memset (m.text, 0, sizeof m.text);
  g_strlcpy (m.text, "fine\n\033[31mFAKE LOG LINE\x01", sizeof m.text);
  g_assert_null (check (&h, &m, sizeof m, &ev));
  g_assert_cmpstr (ev.text, ==, "fine??[31mFAKE LOG LINE?");
  /* A status never holds a slot, whatever its slot field says. */
  m.slot = 3;
  g_assert_null (check (&h, &m, sizeof m, &ev));
  g_assert_false (h.held[3]);
}

static void
test_audio_length_is_checked (void)
{
  CordonHandover h;
  CordonHandoverEvent ev;
  CordonAudioMsg a;
  cordon_handover_init (&h, 4, SIZE);
  memset (&a, 0, sizeof a);
  a.magic = CORDON_HANDOVER_MAGIC;
  a.type = CORDON_MSG_AUDIO;
  a.length = 160;
  g_assert_null (check (&h, &a, sizeof a, &ev));
  g_assert_cmpuint (ev.audio_len, ==, 160);
  a.length = CORDON_HANDOVER_AUDIO_MAX + 1;
  g_assert_cmpstr (check (&h, &a, sizeof a, &ev), ==, "audio length out of range");
  a.length = 0;
  g_assert_cmpstr (check (&h, &a, sizeof a, &ev), ==, "audio length out of range");
  a.length = 10;
  g_assert_cmpstr (check (&h, &a, sizeof a - 1, &ev), ==, "audio message of the wrong size");
}

/* The slot size the daemon computes is what GStreamer's I420 caps need. */
static void
test_picture_size_matches_gstreamer (void)
{
  static const guint sizes[][2] = { { 640, 360 }, { 1280, 720 }, { 1920, 1080 }, { 322, 242 }, { 176, 144 }, { 2, 2 } };
  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++) {
    GstVideoInfo info;
    gst_video_info_set_format (&info, GST_VIDEO_FORMAT_I420, sizes[i][0], sizes[i][1]);
    g_assert_cmpuint (cordon_handover_picture_size (sizes[i][0], sizes[i][1]), ==, GST_VIDEO_INFO_SIZE (&info));
  }
}

/* The standard layout is GStreamer's; the decoder's has 64-byte strides
 * and plane starts, at least the rows libavcodec writes (the height rounded
 * up to 32, and 2), planes that never overlap, and a slot holds either. */
static void
test_layouts_fit_their_slot (void)
{
  static const guint sizes[][2] = { { 640, 360 }, { 1280, 720 }, { 1920, 1080 }, { 322, 242 }, { 176, 144 }, { 2, 2 },
                                    { 3840, 2160 }, { 704, 576 }, { 1000, 563 } };
  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++) {
    guint w = sizes[i][0], h = sizes[i][1];
    GstVideoInfo info;
    CordonPlanes std, dec;
    gst_video_info_set_format (&info, GST_VIDEO_FORMAT_I420, w, h);
    cordon_handover_layout (w, h, CORDON_LAYOUT_STANDARD, &std);
    cordon_handover_layout (w, h, CORDON_LAYOUT_DECODER, &dec);
    for (guint p = 0; p < 3; p++) {
      g_assert_cmpuint (std.offset[p], ==, GST_VIDEO_INFO_PLANE_OFFSET (&info, p));
      g_assert_cmpuint (std.stride[p], ==, GST_VIDEO_INFO_PLANE_STRIDE (&info, p));
      g_assert_cmpuint (dec.stride[p] % 64, ==, 0);
      g_assert_cmpuint (dec.offset[p] % 64, ==, 0);
      g_assert_cmpuint (dec.stride[p], >=, p ? (w + 1) / 2 : w);
    }
    gsize rows = (h + 31) / 32 * 32 + 2;
    g_assert_cmpuint (dec.offset[1], >=, dec.stride[0] * rows);
    g_assert_cmpuint (dec.offset[2], >=, dec.offset[1] + dec.stride[1] * (rows / 2));
    g_assert_cmpuint (dec.size, >=, dec.offset[2] + dec.stride[2] * (rows / 2));
    g_assert_cmpuint (std.size, ==, GST_VIDEO_INFO_SIZE (&info));
    g_assert_cmpuint (cordon_handover_slot_size (w, h), ==, MAX (std.size, dec.size));
  }
}

/* Enough slots for 400 ms of pictures waiting for the encoder, the four
 * others (encoding, snapshot, sub stream, being written) and four reference
 * pictures the decoder keeps; never more than the ring's maximum. */
static void
test_slot_count_follows_the_frame_rate (void)
{
  /* The queue's pictures, 4 spare and 4 for the decoder's references. */
  g_assert_cmpuint (cordon_handover_slot_count (25, 400), ==, 18);
  g_assert_cmpuint (cordon_handover_slot_count (30, 400), ==, 20);
  g_assert_cmpuint (cordon_handover_slot_count (12, 400), ==, 13);  /* 4.8 rounds up */
  g_assert_cmpuint (cordon_handover_slot_count (1, 400), ==, 9);
  g_assert_cmpuint (cordon_handover_slot_count (60, 400), ==, CORDON_HANDOVER_SLOTS);
  g_assert_cmpuint (cordon_handover_slot_count (240, 400), ==, CORDON_HANDOVER_SLOTS);
  g_assert_cmpuint (cordon_handover_slot_count (G_MAXUINT, G_MAXUINT), ==, CORDON_HANDOVER_SLOTS);
  /* A ring set up for more than the maximum is capped, and so is its check. */
  CordonHandover h;
  CordonHandoverEvent ev;
  cordon_handover_init (&h, 1000, SIZE);
  g_assert_cmpuint (h.slots, ==, CORDON_HANDOVER_SLOTS);
  CordonWorkerMsg m = picture (CORDON_HANDOVER_SLOTS, 1, NOW);
  g_assert_cmpstr (check (&h, &m, sizeof m, &ev), ==, "slot index out of range");
  m = picture (CORDON_HANDOVER_SLOTS - 1, 1, NOW);
  g_assert_null (check (&h, &m, sizeof m, &ev));
}

/* A slot is released once: the second release of the same picture and the
 * release of a slot never announced are refused. */
static void
test_double_release_is_refused (void)
{
  CordonHandover h;
  CordonHandoverEvent ev;
  cordon_handover_init (&h, 14, SIZE);
  g_assert_false (cordon_handover_release (&h, 5));
  CordonWorkerMsg m = picture (5, 1, NOW);
  g_assert_null (check (&h, &m, sizeof m, &ev));
  g_assert_true (cordon_handover_release (&h, 5));
  g_assert_false (cordon_handover_release (&h, 5));
  g_assert_false (cordon_handover_release (&h, 14));
}

/* Only whole pages inside a slot can be given back: its first and last
 * page may be shared with the next slot, which may be in use. */
static void
test_slot_pages_stay_inside_the_slot (void)
{
  gsize offset, length, size = cordon_handover_picture_size (1920, 1080);
  for (guint slot = 0; slot < 14; slot++) {
    g_assert_true (cordon_handover_slot_pages (size, slot, 4096, &offset, &length));
    g_assert_cmpuint (offset % 4096, ==, 0);
    g_assert_cmpuint (length % 4096, ==, 0);
    g_assert_cmpuint (offset, >=, slot * size);
    g_assert_cmpuint (offset + length, <=, (slot + 1) * size);
    g_assert_cmpuint (length, >=, size - 2 * 4096);
  }
  /* 1080p slot 0: from 0 to the last page boundary below 3110400 bytes. */
  cordon_handover_slot_pages (size, 0, 4096, &offset, &length);
  g_assert_cmpuint (offset, ==, 0);
  g_assert_cmpuint (length, ==, 3110400 / 4096 * 4096);
  /* A slot smaller than two pages may hold no whole page. */
  g_assert_false (cordon_handover_slot_pages (4608, 1, 4096, &offset, &length));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ring/valid-pictures-are-accepted-and-slots-held", test_valid_pictures_are_accepted_and_slots_held);
  g_test_add_func ("/ring/out-of-range-slot-is-refused", test_out_of_range_slot_is_refused);
  g_test_add_func ("/ring/sequence-must-increase", test_sequence_must_increase);
  g_test_add_func ("/ring/rate-drops-fit-the-skip", test_rate_drops_fit_the_skip);
  g_test_add_func ("/ring/time-stamps-are-monotonic-and-capped", test_time_stamps_are_monotonic_and_capped);
  g_test_add_func ("/ring/garbage-and-wrong-sizes-are-refused", test_garbage_and_wrong_sizes_are_refused);
  g_test_add_func ("/ring/status-text-is-bounded-and-sanitised", test_status_text_is_bounded_and_sanitised);
  g_test_add_func ("/ring/audio-length-is-checked", test_audio_length_is_checked);
  g_test_add_func ("/ring/picture-size-matches-gstreamer", test_picture_size_matches_gstreamer);
  g_test_add_func ("/ring/layouts-fit-their-slot", test_layouts_fit_their_slot);
  g_test_add_func ("/ring/slot-count-follows-the-frame-rate", test_slot_count_follows_the_frame_rate);
  g_test_add_func ("/ring/double-release-is-refused", test_double_release_is_refused);
  g_test_add_func ("/ring/slot-pages-stay-inside-the-slot", test_slot_pages_stay_inside_the_slot);
  return g_test_run ();
}
