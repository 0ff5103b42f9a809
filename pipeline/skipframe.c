/* cordon — all-skip P pictures for the slate (skipframe.h).
 *
 * ITU-T H.264: slice header 7.3.3, slice data 7.3.4, CABAC initialisation
 * 9.3.1.1 and the arithmetic encoder 9.3.4.
 */
#define G_LOG_DOMAIN "cordon-pipeline"

#include "skipframe.h"

#include <string.h>

/* ---- reading (emulation prevention removed first) ---- */

typedef struct {
  const guint8 *data;
  gsize bits;
  gsize pos;
  gboolean bad;
} Reader;

static guint
read_bit (Reader *r)
{
  if (r->pos >= r->bits) {
    r->bad = TRUE;
    return 0;
  }
  guint bit = (r->data[r->pos / 8] >> (7 - r->pos % 8)) & 1;
  r->pos++;
  return bit;
}

static guint
read_bits (Reader *r, guint n)
{
  guint v = 0;
  while (n--)
    v = (v << 1) | read_bit (r);
  return v;
}

static guint
read_ue (Reader *r)
{
  guint zeros = 0;
  while (!r->bad && read_bit (r) == 0)
    if (++zeros > 31) {
      r->bad = TRUE;
      return 0;
    }
  return (guint) (((guint64) 1 << zeros) - 1 + read_bits (r, zeros));
}

static gint
read_se (Reader *r)
{
  guint k = read_ue (r);
  return (k & 1) ? (gint) ((k + 1) / 2) : -(gint) (k / 2);
}

static GByteArray *
unescape (const guint8 *data, gsize size)
{
  GByteArray *rbsp = g_byte_array_sized_new ((guint) size);
  guint zeros = 0;
  for (gsize i = 0; i < size; i++) {
    if (zeros >= 2 && data[i] == 3) {
      zeros = 0;
      continue;
    }
    zeros = data[i] == 0 ? zeros + 1 : 0;
    g_byte_array_append (rbsp, &data[i], 1);
  }
  return rbsp;
}

static void
skip_scaling_list (Reader *r, guint size)
{
  gint last = 8, next = 8;
  for (guint j = 0; j < size && !r->bad; j++) {
    if (next != 0)
      next = (last + read_se (r) + 256) % 256;
    last = next == 0 ? last : next;
  }
}

static void
parse_sps (CordonSkipParams *p, Reader *r)
{
  guint profile = read_bits (r, 8);
  read_bits (r, 16);                      /* constraint flags, level */
  guint id = read_ue (r);
  guint chroma = 1;
  if (profile == 100 || profile == 110 || profile == 122 || profile == 244 || profile == 44
      || profile == 83 || profile == 86 || profile == 118 || profile == 128 || profile == 138
      || profile == 139 || profile == 134 || profile == 135) {
    chroma = read_ue (r);
    if (chroma == 3 && read_bit (r))
      r->bad = TRUE;                      /* separate colour planes: not ours */
    read_ue (r);
    read_ue (r);                          /* bit depths */
    read_bit (r);                         /* qpprime_y_zero_transform_bypass */
    if (read_bit (r))
      for (guint i = 0; i < (chroma != 3 ? 8u : 12u) && !r->bad; i++)
        if (read_bit (r))
          skip_scaling_list (r, i < 6 ? 16 : 64);
  }
  guint log2_frame = read_ue (r) + 4;
  guint poc_type = read_ue (r);
  guint log2_poc = 0;
  if (poc_type == 0)
    log2_poc = read_ue (r) + 4;
  else if (poc_type != 2)
    r->bad = TRUE;
  read_ue (r);                            /* max_num_ref_frames */
  read_bit (r);                           /* gaps_in_frame_num_value_allowed */
  guint width = read_ue (r) + 1;
  guint height = read_ue (r) + 1;
  gboolean frames_only = read_bit (r);
  if (r->bad || !frames_only || id > 31 || log2_frame > 16 || log2_poc > 16 || chroma > 3
      || width > 1024 || height > 1024)
    return;
  p->sps_ok = TRUE;
  p->sps_id = id;
  p->chroma_format_idc = chroma;
  p->log2_max_frame_num = log2_frame;
  p->poc_type = poc_type;
  p->log2_max_poc_lsb = log2_poc;
  p->pic_size_in_mbs = width * height;
}

static void
parse_pps (CordonSkipParams *p, Reader *r)
{
  guint id = read_ue (r);
  guint sps = read_ue (r);
  gboolean cabac = read_bit (r);
  gboolean bottom = read_bit (r);
  if (read_ue (r) != 0)                   /* slice groups */
    r->bad = TRUE;
  read_ue (r);
  read_ue (r);                            /* num_ref_idx defaults: overridden */
  gboolean weighted = read_bit (r);
  read_bits (r, 2);
  gint qp = 26 + read_se (r);
  read_se (r);
  read_se (r);
  gboolean deblocking = read_bit (r);
  read_bit (r);                           /* constrained_intra_pred */
  gboolean redundant = read_bit (r);
  if (r->bad || id > 255 || sps > 31 || qp < 0 || qp > 51)
    return;
  p->pps_ok = TRUE;
  p->pps_id = id;
  p->cabac = cabac;
  p->bottom_field_pic_order_in_frame_present = bottom;
  p->weighted_pred = weighted;
  p->pic_init_qp = qp;
  p->deblocking_filter_control = deblocking;
  p->redundant_pic_cnt_present = redundant;
  /* the SPS it names must be the one read */
  if (!p->sps_ok || p->sps_id != sps)
    p->pps_ok = FALSE;
}

/* Calls FUNC for each NAL unit (header byte included) of Annex B DATA. */
static void
each_unit (const guint8 *data, gsize size, void (*func) (const guint8 *, gsize, gpointer), gpointer user)
{
  gsize i = 0, start = 0;
  gboolean in_unit = FALSE;
  while (i + 3 <= size) {
    if (data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 1) {
      if (in_unit) {
        gsize end = i;
        while (end > start && data[end - 1] == 0)
          end--;
        func (data + start, end - start, user);
      }
      i += 3;
      start = i;
      in_unit = TRUE;
    } else {
      i++;
    }
  }
  if (in_unit && start < size)
    func (data + start, size - start, user);
}

static void
params_unit (const guint8 *unit, gsize size, gpointer user)
{
  CordonSkipParams *p = user;
  guint type = size ? unit[0] & 0x1f : 0;
  if (type != 7 && type != 8)
    return;
  g_autoptr (GByteArray) rbsp = unescape (unit + 1, size - 1);
  Reader r = { rbsp->data, (gsize) rbsp->len * 8, 0, FALSE };
  if (type == 7) {
    p->sps_ok = FALSE;
    p->pps_ok = FALSE;
    parse_sps (p, &r);
  } else {
    parse_pps (p, &r);
  }
}

void
cordon_skip_params_update (CordonSkipParams *params, const guint8 *data, gsize size)
{
  each_unit (data, size, params_unit, params);
}

gboolean
cordon_skip_params_usable (const CordonSkipParams *params)
{
  return params->sps_ok && params->pps_ok;
}

typedef struct {
  gboolean idr, slice, aud;
} Scan;

static void
scan_unit (const guint8 *unit, gsize size, gpointer user)
{
  Scan *s = user;
  guint type = size ? unit[0] & 0x1f : 0;
  s->idr |= type == 5;
  s->slice |= type == 1 || type == 5;
  s->aud |= type == 9;
}

void
cordon_skip_scan (const guint8 *data, gsize size, gboolean *idr, gboolean *slice, gboolean *aud)
{
  Scan s = { FALSE, FALSE, FALSE };
  each_unit (data, size, scan_unit, &s);
  *idr = s.idr;
  *slice = s.slice;
  *aud = s.aud;
}

/* ---- writing ---- */

typedef struct {
  GByteArray *bytes;
  guint8 cur;
  guint n;                  /* bits in cur */
} Writer;

static void
put_bit (Writer *w, guint bit)
{
  w->cur = (guint8) ((w->cur << 1) | (bit & 1));
  if (++w->n == 8) {
    g_byte_array_append (w->bytes, &w->cur, 1);
    w->cur = 0;
    w->n = 0;
  }
}

static void
put_bits (Writer *w, guint value, guint n)
{
  while (n--)
    put_bit (w, (value >> n) & 1);
}

static void
put_ue (Writer *w, guint value)
{
  guint64 v = (guint64) value + 1;
  guint len = 0;
  while ((v >> len) > 1)
    len++;
  put_bits (w, 0, len);
  put_bits (w, (guint) v, len + 1);
}

/* Table 9-44 */
static const guint8 range_lps[64][4] = {
  { 128, 176, 208, 240 }, { 128, 167, 197, 227 }, { 128, 158, 187, 216 }, { 123, 150, 178, 205 },
  { 116, 142, 169, 195 }, { 111, 135, 160, 185 }, { 105, 128, 152, 175 }, { 100, 122, 144, 166 },
  { 95, 116, 137, 158 }, { 90, 110, 130, 150 }, { 85, 104, 123, 142 }, { 81, 99, 117, 135 },
  { 77, 94, 111, 128 }, { 73, 89, 105, 122 }, { 69, 85, 100, 116 }, { 66, 80, 95, 110 },
  { 62, 76, 90, 104 }, { 59, 72, 86, 99 }, { 56, 69, 81, 94 }, { 53, 65, 77, 89 },
  { 51, 62, 73, 85 }, { 48, 59, 69, 80 }, { 46, 56, 66, 76 }, { 43, 53, 63, 72 },
  { 41, 50, 59, 69 }, { 39, 48, 56, 65 }, { 37, 45, 54, 62 }, { 35, 43, 51, 59 },
  { 33, 41, 48, 56 }, { 32, 39, 46, 53 }, { 30, 37, 43, 50 }, { 29, 35, 41, 48 },
  { 27, 33, 39, 45 }, { 26, 31, 37, 43 }, { 24, 30, 35, 41 }, { 23, 28, 33, 39 },
  { 22, 27, 32, 37 }, { 21, 26, 30, 35 }, { 20, 24, 29, 33 }, { 19, 23, 27, 31 },
  { 18, 22, 26, 30 }, { 17, 21, 25, 28 }, { 16, 20, 23, 27 }, { 15, 19, 22, 25 },
  { 14, 18, 21, 24 }, { 14, 17, 20, 23 }, { 13, 16, 19, 22 }, { 12, 15, 18, 21 },
  { 12, 14, 17, 20 }, { 11, 14, 16, 19 }, { 11, 13, 15, 18 }, { 10, 12, 15, 17 },
  { 10, 12, 14, 16 }, { 9, 11, 13, 15 }, { 9, 11, 12, 14 }, { 8, 10, 12, 14 },
  { 8, 9, 11, 13 }, { 7, 9, 11, 12 }, { 7, 9, 10, 12 }, { 7, 8, 10, 11 },
  { 6, 8, 9, 11 }, { 6, 7, 9, 10 }, { 6, 7, 8, 9 }, { 2, 2, 2, 2 },
};

/* Table 9-45 (transIdxMPS is min (p + 1, 62)) */
static const guint8 trans_lps[64] = {
  0, 0, 1, 2, 2, 4, 4, 5, 6, 7, 8, 9, 9, 11, 11, 12, 13, 13, 15, 15, 16, 16, 18, 18, 19, 19, 21, 21,
  22, 22, 23, 24, 24, 25, 26, 26, 27, 27, 28, 29, 29, 30, 30, 30, 31, 32, 32, 33, 33, 33, 34, 34, 35,
  35, 35, 36, 36, 36, 37, 37, 37, 38, 38, 63,
};

typedef struct {
  Writer *w;
  guint low, range, outstanding;
  gboolean first;
} Cabac;

static void
cabac_put (Cabac *c, guint bit)
{
  if (c->first)
    c->first = FALSE;
  else
    put_bit (c->w, bit);
  for (; c->outstanding > 0; c->outstanding--)
    put_bit (c->w, 1 - bit);
}

static void
cabac_renorm (Cabac *c)
{
  while (c->range < 256) {
    if (c->low < 256) {
      cabac_put (c, 0);
    } else if (c->low >= 512) {
      c->low -= 512;
      cabac_put (c, 1);
    } else {
      c->low -= 256;
      c->outstanding++;
    }
    c->range <<= 1;
    c->low <<= 1;
  }
}

/* 9.3.4.2 */
static void
cabac_decision (Cabac *c, guint *state, guint *mps, guint bin)
{
  guint lps = range_lps[*state][(c->range >> 6) & 3];
  c->range -= lps;
  if (bin != *mps) {
    c->low += c->range;
    c->range = lps;
    if (*state == 0)
      *mps = 1 - *mps;
    *state = trans_lps[*state];
  } else {
    *state = MIN (*state + 1, 62u);
  }
  cabac_renorm (c);
}

/* 9.3.4.5 and 9.3.4.6 */
static void
cabac_terminate (Cabac *c, gboolean bin)
{
  c->range -= 2;
  if (bin) {
    c->low += c->range;
    c->range = 2;
    cabac_renorm (c);
    cabac_put (c, (c->low >> 9) & 1);
    /* the last of these two bits is the rbsp_stop_one_bit */
    put_bits (c->w, ((c->low >> 7) & 3) | 1, 2);
  } else {
    cabac_renorm (c);
  }
}

static void
escape_into (GByteArray *out, const GByteArray *rbsp)
{
  guint zeros = 0;
  static const guint8 three = 3;
  for (guint i = 0; i < rbsp->len; i++) {
    if (zeros >= 2 && rbsp->data[i] <= 3) {
      g_byte_array_append (out, &three, 1);
      zeros = 0;
    }
    zeros = rbsp->data[i] == 0 ? zeros + 1 : 0;
    g_byte_array_append (out, &rbsp->data[i], 1);
  }
}

void
cordon_skip_frame (const CordonSkipParams *params, guint64 index, gboolean aud, GByteArray *out)
{
  static const guint8 start[] = { 0, 0, 0, 1 };
  g_return_if_fail (cordon_skip_params_usable (params) && index >= 1);

  if (aud) {
    /* primary_pic_type 1 (I or P slices), then the stop bit */
    static const guint8 unit[] = { 0, 0, 0, 1, 0x09, 0x30 };
    g_byte_array_append (out, unit, sizeof unit);
  }

  g_autoptr (GByteArray) rbsp = g_byte_array_new ();
  Writer w = { rbsp, 0, 0 };
  put_ue (&w, 0);                                     /* first_mb_in_slice */
  put_ue (&w, 5);                                     /* slice_type: P, all of the picture */
  put_ue (&w, params->pps_id);
  put_bits (&w, (guint) (index % (1u << params->log2_max_frame_num)), params->log2_max_frame_num);
  if (params->poc_type == 0) {
    put_bits (&w, (guint) ((2 * index) % (1u << params->log2_max_poc_lsb)), params->log2_max_poc_lsb);
    if (params->bottom_field_pic_order_in_frame_present)
      put_ue (&w, 0);                                 /* delta_pic_order_cnt_bottom (se 0) */
  }
  if (params->redundant_pic_cnt_present)
    put_ue (&w, 0);
  put_bit (&w, 1);                                    /* num_ref_idx_active_override_flag */
  put_ue (&w, 0);                                     /* one reference: the picture before */
  put_bit (&w, 0);                                    /* ref_pic_list_modification_flag_l0 */
  if (params->weighted_pred) {
    put_ue (&w, 0);                                   /* luma_log2_weight_denom */
    if (params->chroma_format_idc != 0)
      put_ue (&w, 0);                                 /* chroma_log2_weight_denom */
    put_bit (&w, 0);                                  /* luma_weight_l0_flag */
    if (params->chroma_format_idc != 0)
      put_bit (&w, 0);                                /* chroma_weight_l0_flag */
  }
  put_bit (&w, 0);                                    /* adaptive_ref_pic_marking: sliding window */
  if (params->cabac)
    put_ue (&w, 0);                                   /* cabac_init_idc */
  put_ue (&w, 0);                                     /* slice_qp_delta (se 0) */
  if (params->deblocking_filter_control)
    put_ue (&w, 1);                                   /* disable_deblocking_filter_idc */

  if (!params->cabac) {
    put_ue (&w, params->pic_size_in_mbs);             /* mb_skip_run: all of them */
    put_bit (&w, 1);                                  /* rbsp_stop_one_bit */
  } else {
    while (w.n != 0)
      put_bit (&w, 1);                                /* cabac_alignment_one_bit */
    /* mb_skip_flag's context for P slices, ctxIdx 11 (both neighbours
     * skipped or absent: ctxIdxInc 0), cabac_init_idc 0: m 23, n 33 */
    gint pre = CLAMP (((23 * CLAMP (params->pic_init_qp, 0, 51)) >> 4) + 33, 1, 126);
    guint state = pre <= 63 ? (guint) (63 - pre) : (guint) (pre - 64);
    guint mps = pre <= 63 ? 0 : 1;
    Cabac c = { &w, 0, 510, 0, TRUE };
    for (guint mb = 0; mb < params->pic_size_in_mbs; mb++) {
      cabac_decision (&c, &state, &mps, 1);           /* mb_skip_flag */
      cabac_terminate (&c, mb + 1 == params->pic_size_in_mbs); /* end_of_slice_flag */
    }
  }
  while (w.n != 0)
    put_bit (&w, 0);                                  /* rbsp_alignment_zero_bit */

  g_byte_array_append (out, start, sizeof start);
  static const guint8 header = 0x21;                  /* nal_ref_idc 1, type 1 */
  g_byte_array_append (out, &header, 1);
  escape_into (out, rbsp);
}
