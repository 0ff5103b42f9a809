/* libFuzzer target: the slate's SPS/PPS reader (pipeline/skipframe.c) on
 * arbitrary bytes. Beyond "no crash, no read past the input": whatever it
 * accepts, a skip frame can be written from, bounded by the picture size. */
#include <glib.h>
#include <stdint.h>

#include "pipeline/skipframe.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  CordonSkipParams params = { 0 };
  gboolean idr, slice, aud;

  cordon_skip_scan (data, size, &idr, &slice, &aud);
  cordon_skip_params_update (&params, data, size);
  if (!cordon_skip_params_usable (&params))
    return 0;
  g_assert (params.pic_size_in_mbs >= 1 && params.pic_size_in_mbs <= 1024 * 1024);
  g_assert (params.log2_max_frame_num >= 4 && params.log2_max_frame_num <= 16);
  g_autoptr (GByteArray) out = g_byte_array_new ();
  cordon_skip_frame (&params, 1 + size % 70000, aud, out);
  g_assert (out->len > 5 && out->len < 64 + params.pic_size_in_mbs);
  return 0;
}
