/* cordon-testcam — SEI messages carrying camera metadata (metadata.h).
 *
 * Syntax: ITU-T H.264 D.1 / H.265 D.2, ATSC A/53 Part 4 (captions and bar
 * data in "GA94" user data, AFD in "DTG1"), CTA-608/708 cc_data. The values
 * are fixed, so a recording can be searched for them. */
#include "metadata.h"

#include <string.h>

typedef struct {
  GByteArray *out;
  guint8 byte;
  int bits;
} Bits;

static void
put (Bits *b, guint32 value, int n)
{
  for (int i = n - 1; i >= 0; i--) {
    b->byte = (guint8) (b->byte << 1 | ((value >> i) & 1));
    if (++b->bits == 8) {
      g_byte_array_append (b->out, &b->byte, 1);
      b->byte = 0;
      b->bits = 0;
    }
  }
}

static void
put_bytes (GByteArray *out, const guint8 *data, gsize len)
{
  g_byte_array_append (out, data, (guint) len);
}

/* ITU-T T.35, United States, ATSC: the prefix of A/53 user data. */
static void
put_t35_atsc (GByteArray *out, const char *user_identifier)
{
  static const guint8 prefix[] = { 0xb5, 0x00, 0x31 };
  put_bytes (out, prefix, sizeof prefix);
  put_bytes (out, (const guint8 *) user_identifier, 4);
}

static TestcamMetadata *
metadata_new (const char *kind, guint type, GByteArray *payload, gsize sig_from, gsize sig_len)
{
  TestcamMetadata *m = g_new0 (TestcamMetadata, 1);
  guint8 byte;
  m->kind = kind;
  m->message = g_byte_array_new ();
  byte = (guint8) type;
  g_byte_array_append (m->message, &byte, 1);
  for (gsize size = payload->len; ; size -= 255) {
    byte = (guint8) MIN (size, 255);
    g_byte_array_append (m->message, &byte, 1);
    if (size < 255)
      break;
  }
  put_bytes (m->message, payload->data, payload->len);
  m->signature = g_byte_array_new ();
  put_bytes (m->signature, payload->data + sig_from, MIN (sig_len, payload->len - sig_from));
  for (guint i = 0; i + 1 < m->signature->len; i++)
    g_assert (m->signature->data[i] != 0 || m->signature->data[i + 1] != 0);
  g_byte_array_unref (payload);
  return m;
}

static void
metadata_free (TestcamMetadata *m)
{
  g_byte_array_unref (m->message);
  g_byte_array_unref (m->signature);
  g_free (m);
}

/* A/53 cc_data with MARKER as CEA-608 field 1 byte pairs: what h264parse
 * turns into GstVideoCaptionMeta (CEA-708 raw) and x264enc writes back. */
static TestcamMetadata *
captions (const char *marker)
{
  GByteArray *p = g_byte_array_new ();
  gsize len = MIN (strlen (marker), 62);
  guint count = (guint) (len + 1) / 2;
  guint8 head[] = { 0x03, (guint8) (0xc0 | count), 0xff };  /* cc_data; process_cc_data_flag; em_data */
  put_t35_atsc (p, "GA94");
  put_bytes (p, head, sizeof head);
  gsize from = p->len;
  for (guint i = 0; i < count; i++) {
    guint8 cc[3] = { 0xfc, (guint8) marker[2 * i], 2 * i + 1 < len ? (guint8) marker[2 * i + 1] : 0x80 };
    put_bytes (p, cc, 3);
  }
  guint8 end = 0xff;  /* marker_bits */
  put_bytes (p, &end, 1);
  return metadata_new ("a53-captions", 4, p, from, 3 * count);
}

/* AFD 1001 (4:3 centred) in "DTG1" user data: GstVideoAFDMeta. */
static TestcamMetadata *
afd (void)
{
  GByteArray *p = g_byte_array_new ();
  static const guint8 afd_data[] = { 0x41, 0xf9 };  /* active_format_flag, active_format 9 */
  put_t35_atsc (p, "DTG1");
  put_bytes (p, afd_data, sizeof afd_data);
  return metadata_new ("afd", 4, p, 3, p->len - 3);
}

/* Bar data, top bar ending on line 0x123 and bottom bar from 0x345:
 * GstVideoBarMeta. */
static TestcamMetadata *
bar_data (void)
{
  GByteArray *p = g_byte_array_new ();
  static const guint8 bars[] = { 0x06, 0xcf, 0xc1, 0x23, 0xc3, 0x45 };
  put_t35_atsc (p, "GA94");
  put_bytes (p, bars, sizeof bars);
  return metadata_new ("bar-data", 4, p, 3, p->len - 3);
}

/* user_data_unregistered with its own UUID and MARKER:
 * GstVideoSEIUserDataUnregisteredMeta (new in 1.22). */
static TestcamMetadata *
user_data (const char *marker)
{
  static const guint8 uuid[16] = {
    0x5e, 0x1a, 0xc0, 0xde, 0x4d, 0x45, 0x54, 0x41, 0x2d, 0x55, 0x44, 0x55, 0x9e, 0x77, 0x3b, 0x2f,
  };
  GByteArray *p = g_byte_array_new ();
  put_bytes (p, uuid, sizeof uuid);
  put_bytes (p, (const guint8 *) marker, strlen (marker));
  return metadata_new ("user-data-unregistered", 5, p, 0, p->len);
}

/* H.264 pic_timing with one full clock timestamp 13:37:42 frame 7
 * (pic_struct_present_flag in the VUI, no HRD): GstVideoTimeCodeMeta. */
static TestcamMetadata *
pic_timing (void)
{
  GByteArray *p = g_byte_array_new ();
  Bits b = { p, 0, 0 };
  put (&b, 0, 4);       /* pic_struct: frame, NumClockTS 1 */
  put (&b, 1, 1);       /* clock_timestamp_flag */
  put (&b, 0, 2);       /* ct_type progressive */
  put (&b, 0, 1);       /* nuit_field_based_flag */
  put (&b, 0, 5);       /* counting_type */
  put (&b, 1, 1);       /* full_timestamp_flag */
  put (&b, 0, 1);       /* discontinuity_flag */
  put (&b, 0, 1);       /* cnt_dropped_flag */
  put (&b, 7, 8);       /* n_frames */
  put (&b, 42, 6);      /* seconds_value */
  put (&b, 37, 6);      /* minutes_value */
  put (&b, 13, 5);      /* hours_value */
  put (&b, 0x5a5a5a, 24); /* time_offset (time_offset_length 24 without HRD) */
  put (&b, 1, 1);       /* payload alignment: bit_equal_to_one, then zeros */
  while (b.bits)
    put (&b, 0, 1);
  return metadata_new ("time-code", 1, p, 0, p->len);
}

/* H.265 time_code SEI (D.2.27), the same 13:37:42 frame 7. */
static TestcamMetadata *
time_code_h265 (void)
{
  GByteArray *p = g_byte_array_new ();
  Bits b = { p, 0, 0 };
  put (&b, 1, 2);       /* num_clock_ts */
  put (&b, 1, 1);       /* clock_timestamp_flag */
  put (&b, 0, 1);       /* units_field_based_flag */
  put (&b, 0, 5);       /* counting_type */
  put (&b, 1, 1);       /* full_timestamp_flag */
  put (&b, 0, 1);       /* discontinuity_flag */
  put (&b, 0, 1);       /* cnt_dropped_flag */
  put (&b, 7, 9);       /* n_frames */
  put (&b, 42, 6);      /* seconds_value */
  put (&b, 37, 6);      /* minutes_value */
  put (&b, 13, 5);      /* hours_value */
  put (&b, 24, 5);      /* time_offset_length */
  put (&b, 0x5a5a5a, 24); /* time_offset_value */
  put (&b, 1, 1);
  while (b.bits)
    put (&b, 0, 1);
  return metadata_new ("time-code", 136, p, 0, p->len);
}

/* Mastering display colour volume (BT.2020 primaries, D65, 1000/0.005 nits,
 * values nudged so the bytes are this camera's). GStreamer 1.22's h265parse
 * puts it in caps (mastering-display-info), not in a meta. */
static TestcamMetadata *
mastering_display (void)
{
  static const guint8 mdcv[] = {
    0x21, 0x35, 0x9d, 0x21, /* G x, y */ 0x1d, 0x4d, 0x0b, 0xb9, /* B x, y */
    0x84, 0xd1, 0x3e, 0x81, /* R x, y */ 0x3d, 0x13, 0x40, 0x43, /* white point */
    0x00, 0x98, 0x96, 0x81, /* max luminance */ 0x00, 0x01, 0x32, 0x33, /* min luminance */
  };
  GByteArray *p = g_byte_array_new ();
  put_bytes (p, mdcv, sizeof mdcv);
  return metadata_new ("mastering-display", 137, p, 0, p->len);
}

/* Content light level 1013 / 407 nits: caps (content-light-level) in 1.22. */
static TestcamMetadata *
content_light (void)
{
  static const guint8 cll[] = { 0x03, 0xf5, 0x01, 0x97 };
  GByteArray *p = g_byte_array_new ();
  put_bytes (p, cll, sizeof cll);
  return metadata_new ("content-light", 144, p, 0, p->len);
}

GPtrArray *
testcam_metadata_build (gboolean h265, const char *marker)
{
  GPtrArray *all = g_ptr_array_new_with_free_func ((GDestroyNotify) metadata_free);
  g_ptr_array_add (all, captions (marker));
  g_ptr_array_add (all, afd ());
  g_ptr_array_add (all, bar_data ());
  g_ptr_array_add (all, user_data (marker));
  g_ptr_array_add (all, h265 ? time_code_h265 () : pic_timing ());
  if (h265) {
    g_ptr_array_add (all, mastering_display ());
    g_ptr_array_add (all, content_light ());
  }
  return all;
}
