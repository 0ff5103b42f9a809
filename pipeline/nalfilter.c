/* cordon — NAL allow-list over cordon's own H.264 byte stream (nalfilter.h).
 *
 * It reads only what our encoder produced, but it is the last thing between
 * a bug upstream (a meta x264enc turns into SEI, a future element that adds
 * a NAL) and every recorder, so it is written as a parser of hostile input:
 * bounded reads, no state across calls, nothing allowed by default. */
#include "nalfilter.h"

#include <string.h>

#define NAL_SLICE 1
#define NAL_IDR 5
#define NAL_SPS 7
#define NAL_PPS 8
#define NAL_AUD 9

gboolean
cordon_nalfilter_allowed (guint type)
{
  switch (type) {
  case NAL_SLICE:
  case NAL_IDR:
  case NAL_SPS:
  case NAL_PPS:
  case NAL_AUD:
    return TRUE;
  default:
    return FALSE;
  }
}

/* Offset of the next 00 00 01 at or after FROM, or LEN if there is none. */
static gsize
next_start_code (const guint8 *data, gsize len, gsize from)
{
  for (gsize i = from; len >= 3 && i <= len - 3; i++)
    if (data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 1)
      return i;
  return len;
}

static void
take (const guint8 *nal, gsize size, GByteArray *out, CordonNalFilterResult *result)
{
  static const guint8 start[] = { 0, 0, 0, 1 };

  /* trailing_zero_8bits (and the first zero of a 4-byte start code) belong
   * to no NAL unit. */
  while (size > 0 && nal[size - 1] == 0)
    size--;
  if (size == 0)
    return;
  guint type = nal[0] & 0x1f;
  /* forbidden_zero_bit set: not a NAL unit our encoder wrote. */
  if ((nal[0] & 0x80) == 0 && cordon_nalfilter_allowed (type)) {
    g_byte_array_append (out, start, sizeof start);
    g_byte_array_append (out, nal, (guint) size);
    result->kept++;
  } else {
    result->dropped++;
    result->dropped_types |= 1u << type;
  }
}

void
cordon_nalfilter_annexb (const guint8 *data, gsize len, GByteArray *out, CordonNalFilterResult *result)
{
  memset (result, 0, sizeof *result);
  if (!data)
    len = 0;

  gsize at = next_start_code (data, len, 0);
  /* Bytes before the first start code are not in any NAL unit. */
  for (gsize i = 0; i < at; i++)
    if (data[i] != 0) {
      result->dropped++;
      break;
    }
  while (at < len) {
    gsize begin = at + 3;
    gsize end = next_start_code (data, len, begin);
    take (data + begin, end - begin, out, result);
    at = end;
  }
}
