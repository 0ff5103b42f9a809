/* cordon — the NAL allow-list on the encoder's way out (private to pipeline/).
 *
 * Only the NAL unit types cordon's x264enc is meant to emit reach a
 * recorder: coded slices (1), IDR slices (5), SPS (7), PPS (8) and access
 * unit delimiters (9). Everything else, SEI (6) first of all (x264 writes
 * its version and options there), is left out. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  guint kept;             /* NAL units copied to the output */
  guint dropped;          /* NAL units left out (stray bytes before the first start code count as one) */
  guint32 dropped_types;  /* bit N set: a NAL unit of type N was left out */
} CordonNalFilterResult;

/* TRUE when an H.264 NAL unit of TYPE (0..31) may leave. */
gboolean cordon_nalfilter_allowed (guint type);

/* Appends to OUT the allowed NAL units of the H.264 Annex B byte stream
 * DATA/LEN, each behind a 4-byte start code, and fills RESULT. Reads only
 * DATA[0..LEN-1]; any input is accepted (what is not a well-formed allowed
 * NAL unit is dropped). */
void cordon_nalfilter_annexb (const guint8 *data, gsize len, GByteArray *out, CordonNalFilterResult *result);

G_END_DECLS
