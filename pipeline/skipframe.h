/* cordon — the slate's cheap frames: H.264 P pictures in which every
 * macroblock is skipped (a copy of the picture before), written by cordon
 * itself after an IDR of x264's, from the SPS/PPS x264 emitted.
 *
 * The parser reads our own encoder's parameter sets (never a camera's), but
 * it is bounded all the same: anything it does not expect (fields, slice
 * groups, POC type 1, unknown ids) leaves the parameters unusable and the
 * slate falls back to x264 encoding every frame.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  gboolean sps_ok;
  gboolean pps_ok;
  guint sps_id;
  guint pps_id;
  guint chroma_format_idc;
  guint log2_max_frame_num;
  guint poc_type;                 /* 0 or 2 */
  guint log2_max_poc_lsb;         /* POC type 0 */
  guint pic_size_in_mbs;
  gboolean cabac;
  gboolean bottom_field_pic_order_in_frame_present;
  gboolean weighted_pred;
  gboolean deblocking_filter_control;
  gboolean redundant_pic_cnt_present;
  gint pic_init_qp;
} CordonSkipParams;

/* Reads SPS (7) and PPS (8) NAL units of the Annex B access unit DATA into
 * PARAMS; other units are ignored. */
void cordon_skip_params_update (CordonSkipParams *params, const guint8 *data, gsize size);

/* Whether an SPS and a PPS that belongs to it were read and are supported. */
gboolean cordon_skip_params_usable (const CordonSkipParams *params);

/* Appends to OUT (Annex B) an access unit: [AUD] + one P slice, all skipped,
 * a reference picture, the INDEXth picture after the IDR (INDEX ≥ 1). */
void cordon_skip_frame (const CordonSkipParams *params, guint64 index, gboolean aud, GByteArray *out);

/* Whether the Annex B access unit DATA holds an IDR slice (5) / any slice
 * (1 or 5) / an access unit delimiter (9). */
void cordon_skip_scan (const guint8 *data, gsize size, gboolean *idr, gboolean *slice, gboolean *aud);

G_END_DECLS
