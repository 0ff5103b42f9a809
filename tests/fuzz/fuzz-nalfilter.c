/* libFuzzer target: the NAL allow-list (pipeline/nalfilter.c) on arbitrary
 * bytes. Checks, beyond "no crash, no read past the input": what comes out
 * holds only allowed NAL types and passes the filter again unchanged. */
#include <glib.h>
#include <stdint.h>
#include <string.h>

#include "pipeline/nalfilter.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GByteArray) once = g_byte_array_new ();
  g_autoptr (GByteArray) twice = g_byte_array_new ();
  CordonNalFilterResult a, b;

  cordon_nalfilter_annexb (data, size, once, &a);
  cordon_nalfilter_annexb (once->data, once->len, twice, &b);
  g_assert (b.dropped == 0 && b.kept == a.kept);
  g_assert (once->len == twice->len && (once->len == 0 || memcmp (once->data, twice->data, once->len) == 0));
  g_assert (once->len <= size + 4 * (gsize) a.kept);
  return 0;
}
