/* cordon — the ingest worker's H.264 and H.265 decoder (decoder.h). */
#define G_LOG_DOMAIN "cordon-worker"

#include "decoder.h"

#include <gst/video/video.h>
#include <libavcodec/avcodec.h>
#include <libavutil/common.h>
#include <libavutil/imgutils.h>
#include <libavutil/pixdesc.h>
#include <stdint.h>
#include <string.h>

/* A picture libavcodec decodes into a buffer of the downstream pool, held
 * for as long as libavcodec holds the picture. The buffer is not kept
 * mapped: system memory's pixels stay where they are, and a buffer mapped
 * for writing would be copied when GStreamer makes the pushed picture
 * writable (that is where gst-libav's avdec copies every reference
 * picture). libavcodec writes a picture only before it gives it out. */
typedef struct {
  struct _CordonDecoder *decoder;
  GstBuffer *buffer;
  GstVideoFormat format;
  int width, height;
  guint n_planes;
  guint8 *data[GST_VIDEO_MAX_PLANES];
  int stride[GST_VIDEO_MAX_PLANES];
} InPlace;

typedef struct _CordonDecoder {
  GstVideoDecoder parent;
  gint max_threads;
  AVCodecContext *ctx;
  AVFrame *picture;
  GstVideoCodecState *input_state;
  GMutex lock;           /* get_buffer2 may run on libavcodec's threads */
  /* under lock: */
  GstBufferPool *pool;   /* downstream's, configured for decoding in place; or NULL */
  GstVideoInfo pool_info;
  GHashTable *in_place;  /* the live InPlace pictures */
  guint64 copied;
  /* The strides of the pictures libavcodec has of this format and size:
   * its motion compensation reads every reference picture with the
   * current picture's strides, so they must never change within a stream. */
  int lines_format, lines_width, lines_height;
  int lines[GST_VIDEO_MAX_PLANES];
} CordonDecoder;

typedef GstVideoDecoderClass CordonDecoderClass;

G_DEFINE_TYPE (CordonDecoder, cordon_decoder, GST_TYPE_VIDEO_DECODER)
#define CORDON_DECODER(obj) ((CordonDecoder *) (obj))

enum { PROP_0, PROP_MAX_THREADS, PROP_COPIED };

#define SRC_FORMATS                                                                                            \
  "{ I420, Y42B, Y444, NV12, GRAY8, I420_10LE, I422_10LE, Y444_10LE, I420_12LE, I422_12LE, Y444_12LE, GBR, "    \
  "GBR_10LE, GBR_12LE }"

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE (
  "sink", GST_PAD_SINK, GST_PAD_ALWAYS,
  /* avdec's, in its order: the parsers then do what they do for avdec
   * (to avc or hvc1, which needs the parameter sets, as codec_data). */
  GST_STATIC_CAPS ("video/x-h264, alignment = (string) au, stream-format = (string) { avc, byte-stream }; "
                   "video/x-h265, alignment = (string) au, stream-format = (string) { hvc1, hev1, byte-stream }"));

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE (
  "src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE (SRC_FORMATS)));

/* The GStreamer format of libavcodec's FORMAT; *FULL for full-range luma. */
static GstVideoFormat
video_format (int format, gboolean *full)
{
  *full = FALSE;
  switch (format) {
  case AV_PIX_FMT_YUVJ420P:
    *full = TRUE;
    return GST_VIDEO_FORMAT_I420;
  case AV_PIX_FMT_YUV420P:
    return GST_VIDEO_FORMAT_I420;
  case AV_PIX_FMT_YUVJ422P:
    *full = TRUE;
    return GST_VIDEO_FORMAT_Y42B;
  case AV_PIX_FMT_YUV422P:
    return GST_VIDEO_FORMAT_Y42B;
  case AV_PIX_FMT_YUVJ444P:
    *full = TRUE;
    return GST_VIDEO_FORMAT_Y444;
  case AV_PIX_FMT_YUV444P:
    return GST_VIDEO_FORMAT_Y444;
  case AV_PIX_FMT_NV12:
    return GST_VIDEO_FORMAT_NV12;
  case AV_PIX_FMT_GRAY8:
    return GST_VIDEO_FORMAT_GRAY8;
  case AV_PIX_FMT_YUV420P10LE:
    return GST_VIDEO_FORMAT_I420_10LE;
  case AV_PIX_FMT_YUV422P10LE:
    return GST_VIDEO_FORMAT_I422_10LE;
  case AV_PIX_FMT_YUV444P10LE:
    return GST_VIDEO_FORMAT_Y444_10LE;
  case AV_PIX_FMT_YUV420P12LE:
    return GST_VIDEO_FORMAT_I420_12LE;
  case AV_PIX_FMT_YUV422P12LE:
    return GST_VIDEO_FORMAT_I422_12LE;
  case AV_PIX_FMT_YUV444P12LE:
    return GST_VIDEO_FORMAT_Y444_12LE;
  case AV_PIX_FMT_GBRP:
    return GST_VIDEO_FORMAT_GBR;
  case AV_PIX_FMT_GBRP10LE:
    return GST_VIDEO_FORMAT_GBR_10LE;
  case AV_PIX_FMT_GBRP12LE:
    return GST_VIDEO_FORMAT_GBR_12LE;
  default:
    return GST_VIDEO_FORMAT_UNKNOWN;
  }
}

/* libavcodec's format for FORMAT (limited range). */
static int
av_format (GstVideoFormat format)
{
  static const int all[] = { AV_PIX_FMT_YUV420P,     AV_PIX_FMT_YUV422P,     AV_PIX_FMT_YUV444P,     AV_PIX_FMT_NV12,
                             AV_PIX_FMT_GRAY8,       AV_PIX_FMT_YUV420P10LE, AV_PIX_FMT_YUV422P10LE, AV_PIX_FMT_YUV444P10LE,
                             AV_PIX_FMT_YUV420P12LE, AV_PIX_FMT_YUV422P12LE, AV_PIX_FMT_YUV444P12LE, AV_PIX_FMT_GBRP,
                             AV_PIX_FMT_GBRP10LE,    AV_PIX_FMT_GBRP12LE };
  gboolean full;
  for (guint i = 0; i < G_N_ELEMENTS (all); i++)
    if (video_format (all[i], &full) == format)
      return all[i];
  return AV_PIX_FMT_NONE;
}

/* ---- decoding in place ---- */

static void
in_place_free (void *opaque, uint8_t *data)
{
  InPlace *ip = opaque;
  CordonDecoder *self = ip->decoder;
  g_mutex_lock (&self->lock);
  g_hash_table_remove (self->in_place, ip);
  g_mutex_unlock (&self->lock);
  /* Back to the pool, or, in the worker, the slot freed once the daemon
   * has let go as well. */
  gst_buffer_unref (ip->buffer);
  g_free (ip);
}

/* The rows of plane P of a picture libavcodec pads to H rows. */
static size_t
plane_rows (const AVPixFmtDescriptor *d, int h, guint p)
{
  return p ? (size_t) AV_CEIL_RSHIFT (h, d->log2_chroma_h) : (size_t) h;
}

/* Does FRAME's layout give libavcodec what it needs for PIC: strides and
 * plane starts aligned, rows and width as libavcodec pads them? */
static gboolean
fits (AVCodecContext *ctx, const AVFrame *pic, const GstVideoFrame *frame)
{
  int w = pic->width, h = pic->height, align[AV_NUM_DATA_POINTERS], lines[4];
  const AVPixFmtDescriptor *d = av_pix_fmt_desc_get (pic->format);
  avcodec_align_dimensions2 (ctx, &w, &h, align);
  if (!d || av_image_fill_linesizes (lines, pic->format, w) < 0)
    return FALSE;
  gsize size = gst_buffer_get_size (frame->buffer);
  for (guint p = 0; p < GST_VIDEO_FRAME_N_PLANES (frame); p++) {
    int stride = GST_VIDEO_FRAME_PLANE_STRIDE (frame, p);
    if (stride < lines[p] || stride % align[p]
        || (uintptr_t) GST_VIDEO_FRAME_PLANE_DATA (frame, p) % (uintptr_t) align[p]
        || GST_VIDEO_FRAME_PLANE_OFFSET (frame, p) + (gsize) stride * plane_rows (d, h, p) > size)
      return FALSE;
  }
  return TRUE;
}

/* Under lock: are the strides noted those of PIC's format and size? */
static gboolean
lines_known (const CordonDecoder *self, const AVFrame *pic)
{
  return self->lines_format == pic->format && self->lines_width == pic->width && self->lines_height == pic->height;
}

/* Under lock: may PIC, of the stream's current format and size, have
 * STRIDE? The first picture of a format and size sets them. */
static gboolean
same_lines (CordonDecoder *self, const AVFrame *pic, const int *stride)
{
  if (!lines_known (self, pic)) {
    self->lines_format = pic->format;
    self->lines_width = pic->width;
    self->lines_height = pic->height;
    memcpy (self->lines, stride, sizeof self->lines);
    return TRUE;
  }
  return memcmp (self->lines, stride, sizeof self->lines) == 0;
}

/* A buffer of libavcodec's allocator for PIC with the strides LINES (the
 * stream's), rows as libavcodec pads them. */
static int
alloc_with_lines (AVCodecContext *ctx, AVFrame *pic, const int *lines)
{
  int w = pic->width, h = pic->height, align[AV_NUM_DATA_POINTERS];
  const AVPixFmtDescriptor *d = av_pix_fmt_desc_get (pic->format);
  int planes = av_pix_fmt_count_planes (pic->format);
  if (!d || planes <= 0 || planes > GST_VIDEO_MAX_PLANES)
    return AVERROR (EINVAL);
  avcodec_align_dimensions2 (ctx, &w, &h, align);
  size_t offset[GST_VIDEO_MAX_PLANES], size = 0;
  for (int p = 0; p < planes; p++) {
    offset[p] = size;
    size += FFALIGN ((size_t) lines[p] * plane_rows (d, h, (guint) p), 64);
  }
  pic->buf[0] = av_buffer_alloc (size + 64);
  if (!pic->buf[0])
    return AVERROR (ENOMEM);
  for (int p = 0; p < planes; p++) {
    pic->data[p] = pic->buf[0]->data + offset[p];
    pic->linesize[p] = lines[p];
  }
  pic->extended_data = pic->data;
  return 0;
}

/* libavcodec's own buffer for PIC: the stream's strides when it has
 * pictures of this format and size already, else its allocator's, noted. */
static int
own_buffer (CordonDecoder *self, AVCodecContext *ctx, AVFrame *pic, int flags)
{
  int lines[GST_VIDEO_MAX_PLANES];
  g_mutex_lock (&self->lock);
  gboolean known = lines_known (self, pic);
  memcpy (lines, self->lines, sizeof lines);
  g_mutex_unlock (&self->lock);
  if (known)
    return alloc_with_lines (ctx, pic, lines);
  int r = avcodec_default_get_buffer2 (ctx, pic, flags);
  if (r == 0) {
    int stride[GST_VIDEO_MAX_PLANES] = { pic->linesize[0], pic->linesize[1], pic->linesize[2], pic->linesize[3] };
    g_mutex_lock (&self->lock);
    same_lines (self, pic, stride);
    g_mutex_unlock (&self->lock);
  }
  return r;
}

/* libavcodec's get_buffer2: a buffer of the downstream pool when it is set
 * up for this picture and has the strides of the stream's other pictures,
 * else libavcodec's own. */
static int
get_buffer (AVCodecContext *ctx, AVFrame *pic, int flags)
{
  CordonDecoder *self = ctx->opaque;
  GstBufferPool *pool = NULL;
  GstVideoInfo info;
  gboolean full;

  g_mutex_lock (&self->lock);
  if (self->pool) {
    pool = gst_object_ref (self->pool);
    info = self->pool_info;
  }
  g_mutex_unlock (&self->lock);
  if (!pool)
    return own_buffer (self, ctx, pic, flags);

  GstBuffer *buffer = NULL;
  GstVideoFrame frame;
  if (video_format (pic->format, &full) != GST_VIDEO_INFO_FORMAT (&info) || ctx->width != GST_VIDEO_INFO_WIDTH (&info)
      || ctx->height != GST_VIDEO_INFO_HEIGHT (&info)
      || gst_buffer_pool_acquire_buffer (pool, &buffer, NULL) != GST_FLOW_OK)
    goto own;
  for (guint m = 0; m < gst_buffer_n_memory (buffer); m++)
    if (!gst_memory_is_type (gst_buffer_peek_memory (buffer, m), GST_ALLOCATOR_SYSMEM))
      goto own;
  if (!gst_video_frame_map (&frame, &info, buffer, GST_MAP_READWRITE))
    goto own;
  gboolean ok = fits (ctx, pic, &frame);
  InPlace *ip = g_new0 (InPlace, 1);
  ip->decoder = self;
  ip->buffer = buffer;
  ip->format = GST_VIDEO_FRAME_FORMAT (&frame);
  ip->width = GST_VIDEO_FRAME_WIDTH (&frame);
  ip->height = GST_VIDEO_FRAME_HEIGHT (&frame);
  ip->n_planes = GST_VIDEO_FRAME_N_PLANES (&frame);
  gsize first = GST_VIDEO_FRAME_PLANE_OFFSET (&frame, 0);
  for (guint p = 0; p < ip->n_planes; p++) {
    ip->data[p] = GST_VIDEO_FRAME_PLANE_DATA (&frame, p);
    ip->stride[p] = GST_VIDEO_FRAME_PLANE_STRIDE (&frame, p);
  }
  gst_video_frame_unmap (&frame);
  g_mutex_lock (&self->lock);
  ok = ok && same_lines (self, pic, ip->stride);
  g_mutex_unlock (&self->lock);
  if (ok)
    pic->buf[0] = av_buffer_create (ip->data[0], (size_t) (gst_buffer_get_size (buffer) - first), in_place_free, ip, 0);
  if (!pic->buf[0]) {
    g_free (ip);
    goto own;
  }
  for (guint p = 0; p < ip->n_planes; p++) {
    pic->data[p] = ip->data[p];
    pic->linesize[p] = ip->stride[p];
  }
  pic->extended_data = pic->data;
  g_mutex_lock (&self->lock);
  g_hash_table_add (self->in_place, ip);
  g_mutex_unlock (&self->lock);
  gst_object_unref (pool);
  return 0;

own:
  gst_clear_buffer (&buffer);
  gst_object_unref (pool);
  return own_buffer (self, ctx, pic, flags);
}

/* The buffer PIC was decoded into, if it is one of the pool's and PIC's
 * planes are exactly its planes (no cropping at the top or left). */
static GstBuffer *
decoded_in_place (CordonDecoder *self, const AVFrame *pic, const GstVideoInfo *out)
{
  if (!pic->buf[0] || pic->buf[1])
    return NULL;
  InPlace *ip = av_buffer_get_opaque (pic->buf[0]);
  g_mutex_lock (&self->lock);
  gboolean ours = g_hash_table_contains (self->in_place, ip);
  g_mutex_unlock (&self->lock);
  if (!ours)
    return NULL;
  if (ip->format != GST_VIDEO_INFO_FORMAT (out) || ip->width != pic->width || ip->height != pic->height)
    return NULL;
  for (guint p = 0; p < ip->n_planes; p++)
    if (pic->data[p] != ip->data[p] || pic->linesize[p] != ip->stride[p])
      return NULL;
  return gst_buffer_ref (ip->buffer);
}

/* PIC's planes into BUFFER, a picture of OUT. */
static gboolean
copy_picture (const AVFrame *pic, GstBuffer *buffer, const GstVideoInfo *out)
{
  GstVideoFrame f;
  if (!gst_video_frame_map (&f, out, buffer, GST_MAP_WRITE))
    return FALSE;
  for (guint p = 0; p < GST_VIDEO_FRAME_N_PLANES (&f); p++) {
    guint8 *dst = GST_VIDEO_FRAME_PLANE_DATA (&f, p);
    gint comp[GST_VIDEO_MAX_COMPONENTS];
    gst_video_format_info_component (f.info.finfo, p, comp);
    gsize bytes = (gsize) GST_VIDEO_FRAME_COMP_WIDTH (&f, comp[0]) * GST_VIDEO_FRAME_COMP_PSTRIDE (&f, comp[0]);
    gint rows = GST_VIDEO_FRAME_COMP_HEIGHT (&f, comp[0]);
    bytes = MIN (bytes, (gsize) MIN (pic->linesize[p], GST_VIDEO_FRAME_PLANE_STRIDE (&f, p)));
    for (gint y = 0; y < rows; y++)
      memcpy (dst + (gsize) y * GST_VIDEO_FRAME_PLANE_STRIDE (&f, p), pic->data[p] + (gsize) y * pic->linesize[p], bytes);
  }
  gst_video_frame_unmap (&f);
  return TRUE;
}

/* ---- GstVideoDecoder ---- */

static void
close_codec (CordonDecoder *self)
{
  /* Frees the pictures libavcodec still holds, in place ones too. */
  avcodec_free_context (&self->ctx);
  g_mutex_lock (&self->lock);
  self->lines_format = AV_PIX_FMT_NONE;
  g_mutex_unlock (&self->lock);
}

static gboolean ensure_output (CordonDecoder *self, int width, int height, GstVideoFormat format, gboolean full,
                               AVRational sar);
static GstFlowReturn drain (GstVideoDecoder *dec);

/* The parser's caps say the picture size, and mostly the chroma format and
 * bit depth: with 4:2:0 at 8 bits, the output caps and the pool are known
 * before the first picture, so that it, too, is decoded in place and every
 * picture of the stream has the same strides. A picture of another format
 * renegotiates. */
static gboolean
negotiate_early (CordonDecoder *self, const GstStructure *s)
{
  int width = 0, height = 0;
  guint depth = 8;
  const char *chroma = gst_structure_get_string (s, "chroma-format");
  gst_structure_get_uint (s, "bit-depth-luma", &depth);
  if (!gst_structure_get_int (s, "width", &width) || !gst_structure_get_int (s, "height", &height) || width <= 0
      || height <= 0 || (chroma && strcmp (chroma, "4:2:0") != 0) || depth != 8)
    return TRUE;
  return ensure_output (self, width, height, GST_VIDEO_FORMAT_I420, FALSE, (AVRational) { 0, 1 });
}

static gboolean
set_format (GstVideoDecoder *dec, GstVideoCodecState *state)
{
  CordonDecoder *self = CORDON_DECODER (dec);
  const GstStructure *s = gst_caps_get_structure (state->caps, 0);
  enum AVCodecID id = gst_structure_has_name (s, "video/x-h265") ? AV_CODEC_ID_HEVC : AV_CODEC_ID_H264;

  /* New caps: the pictures of the old stream come out first. */
  if (self->ctx)
    drain (dec);
  close_codec (self);
  const AVCodec *codec = avcodec_find_decoder (id);
  AVCodecContext *ctx = codec ? avcodec_alloc_context3 (codec) : NULL;
  if (!ctx)
    return FALSE;
  ctx->opaque = self;
  ctx->get_buffer2 = get_buffer;
  ctx->thread_count = CLAMP (self->max_threads, 1, 16);
  ctx->thread_type = ctx->thread_count > 1 ? FF_THREAD_FRAME : 0;
  /* As avdec's output-corrupt: a picture with a damaged slice is shown
   * concealed rather than dropped. */
  ctx->flags |= AV_CODEC_FLAG_OUTPUT_CORRUPT;
  /* avc / hvc1: the parameter sets and the NAL length size. */
  const GValue *v = gst_structure_get_value (s, "codec_data");
  GstBuffer *codec_data = v && G_VALUE_HOLDS (v, GST_TYPE_BUFFER) ? gst_value_get_buffer (v) : NULL;
  if (codec_data) {
    GstMapInfo map;
    gboolean ok = gst_buffer_map (codec_data, &map, GST_MAP_READ);
    if (ok) {
      ok = map.size <= 1024 * 1024 && (ctx->extradata = av_mallocz (map.size + AV_INPUT_BUFFER_PADDING_SIZE));
      if (ok) {
        memcpy (ctx->extradata, map.data, map.size);
        ctx->extradata_size = (int) map.size;
      }
      gst_buffer_unmap (codec_data, &map);
    }
    if (!ok) {
      avcodec_free_context (&ctx);
      return FALSE;
    }
  }
  if (avcodec_open2 (ctx, codec, NULL) < 0) {
    avcodec_free_context (&ctx);
    return FALSE;
  }
  self->ctx = ctx;
  if (self->input_state)
    gst_video_codec_state_unref (self->input_state);
  self->input_state = gst_video_codec_state_ref (state);
  return negotiate_early (self, s);
}

/* Frames libavcodec took and will never give a picture for (undecodable,
 * parameter sets only): far older than the picture just out. */
static void
release_stale (GstVideoDecoder *dec, guint32 number)
{
  GList *frames = gst_video_decoder_get_frames (dec);
  for (GList *l = frames; l; l = l->next) {
    GstVideoCodecFrame *f = l->data;
    if (f->system_frame_number + 32 < number)
      gst_video_decoder_release_frame (dec, gst_video_codec_frame_ref (f));
  }
  g_list_free_full (frames, (GDestroyNotify) gst_video_codec_frame_unref);
}

static gboolean
ensure_output (CordonDecoder *self, int width, int height, GstVideoFormat format, gboolean full, AVRational sar)
{
  GstVideoDecoder *dec = GST_VIDEO_DECODER (self);
  GstVideoColorRange range = full ? GST_VIDEO_COLOR_RANGE_0_255 : GST_VIDEO_COLOR_RANGE_16_235;
  GstVideoCodecState *out = gst_video_decoder_get_output_state (dec);
  gboolean same = out && GST_VIDEO_INFO_FORMAT (&out->info) == format && GST_VIDEO_INFO_WIDTH (&out->info) == width
                  && GST_VIDEO_INFO_HEIGHT (&out->info) == height && out->info.colorimetry.range == range;
  if (out)
    gst_video_codec_state_unref (out);
  if (same)
    return TRUE;
  out = gst_video_decoder_set_output_state (dec, format, (guint) width, (guint) height, self->input_state);
  if (!out)
    return FALSE;
  out->info.colorimetry.range = range;
  if (sar.num > 0 && sar.den > 0) {
    out->info.par_n = sar.num;
    out->info.par_d = sar.den;
  }
  gst_video_codec_state_unref (out);
  return gst_video_decoder_negotiate (dec);
}

static GstFlowReturn
push_picture (CordonDecoder *self, const AVFrame *pic)
{
  GstVideoDecoder *dec = GST_VIDEO_DECODER (self);
  GstVideoCodecFrame *frame = gst_video_decoder_get_frame (dec, (int) pic->pts);
  if (!frame)
    return GST_FLOW_OK;
  release_stale (dec, frame->system_frame_number);
  gboolean full;
  GstVideoFormat format = video_format (pic->format, &full);
  if (format == GST_VIDEO_FORMAT_UNKNOWN) {
    gst_video_decoder_release_frame (dec, frame);
    GST_ELEMENT_ERROR (self, STREAM, DECODE, ("the camera's pictures are %s, which cordon does not take",
                                              av_get_pix_fmt_name (pic->format) ? av_get_pix_fmt_name (pic->format) : "?"),
                       (NULL));
    return GST_FLOW_NOT_NEGOTIATED;
  }
  if (!ensure_output (self, pic->width, pic->height, format, full, pic->sample_aspect_ratio)) {
    gst_video_decoder_release_frame (dec, frame);
    return GST_FLOW_NOT_NEGOTIATED;
  }
  GstVideoCodecState *out = gst_video_decoder_get_output_state (dec);
  frame->output_buffer = decoded_in_place (self, pic, &out->info);
  if (!frame->output_buffer) {
    GstFlowReturn ret = gst_video_decoder_allocate_output_frame (dec, frame);
    if (ret != GST_FLOW_OK || !copy_picture (pic, frame->output_buffer, &out->info)) {
      gst_video_codec_state_unref (out);
      gst_video_decoder_drop_frame (dec, frame);
      return ret;
    }
    g_mutex_lock (&self->lock);
    self->copied++;
    g_mutex_unlock (&self->lock);
  }
  gst_video_codec_state_unref (out);
  return gst_video_decoder_finish_frame (dec, frame);
}

/* Every picture libavcodec has ready. */
static GstFlowReturn
receive (CordonDecoder *self)
{
  GstFlowReturn ret = GST_FLOW_OK;
  while (ret == GST_FLOW_OK && avcodec_receive_frame (self->ctx, self->picture) == 0) {
    ret = push_picture (self, self->picture);
    av_frame_unref (self->picture);
  }
  return ret;
}

static GstFlowReturn
handle_frame (GstVideoDecoder *dec, GstVideoCodecFrame *frame)
{
  CordonDecoder *self = CORDON_DECODER (dec);
  GstFlowReturn ret = GST_FLOW_OK;
  GstMapInfo map;
  guint32 number = frame->system_frame_number;

  if (!self->ctx) {
    gst_video_decoder_drop_frame (dec, frame);
    return GST_FLOW_NOT_NEGOTIATED;
  }
  AVPacket *pkt = av_packet_alloc ();
  gboolean ok = pkt && gst_buffer_map (frame->input_buffer, &map, GST_MAP_READ);
  if (ok) {
    /* A packet of our own, padded as libavcodec reads past the end. */
    ok = map.size <= INT_MAX - AV_INPUT_BUFFER_PADDING_SIZE && av_new_packet (pkt, (int) map.size) == 0;
    if (ok)
      memcpy (pkt->data, map.data, map.size);
    gst_buffer_unmap (frame->input_buffer, &map);
  }
  gst_video_codec_frame_unref (frame);
  if (!ok) {
    av_packet_free (&pkt);
    return GST_FLOW_ERROR;
  }
  pkt->pts = number;
  int r = avcodec_send_packet (self->ctx, pkt);
  if (r == AVERROR (EAGAIN)) {
    ret = receive (self);
    r = ret == GST_FLOW_OK ? avcodec_send_packet (self->ctx, pkt) : 0;
  }
  av_packet_free (&pkt);
  if (r < 0) {
    /* Corrupt data is the camera's problem: the frame is dropped, the
     * stream goes on (max-errors). */
    GstVideoCodecFrame *lost = gst_video_decoder_get_frame (dec, (int) number);
    if (lost)
      gst_video_decoder_drop_frame (dec, lost);
    GST_VIDEO_DECODER_ERROR (dec, 1, STREAM, DECODE, ("a picture could not be decoded"), ("libavcodec: %d", r), ret);
    if (ret != GST_FLOW_OK)
      return ret;
  }
  return receive (self);
}

/* End of stream or new caps: every picture still inside comes out. */
static GstFlowReturn
drain (GstVideoDecoder *dec)
{
  CordonDecoder *self = CORDON_DECODER (dec);
  if (!self->ctx)
    return GST_FLOW_OK;
  GstFlowReturn ret = GST_FLOW_OK;
  if (avcodec_send_packet (self->ctx, NULL) == 0)
    ret = receive (self);
  avcodec_flush_buffers (self->ctx);
  return ret;
}

static gboolean
flush (GstVideoDecoder *dec)
{
  CordonDecoder *self = CORDON_DECODER (dec);
  if (self->ctx)
    avcodec_flush_buffers (self->ctx);
  return TRUE;
}

/* Asks the pool downstream for what libavcodec needs to decode in place:
 * its padding and stride alignment for these caps. */
static gboolean
decide_allocation (GstVideoDecoder *dec, GstQuery *query)
{
  CordonDecoder *self = CORDON_DECODER (dec);
  GstCaps *caps = NULL;
  GstVideoInfo info;
  gst_query_parse_allocation (query, &caps, NULL);
  if (!caps || !gst_video_info_from_caps (&info, caps))
    return FALSE;

  GstBufferPool *pool = NULL;
  guint size = 0, min = 0, max = 0;
  gboolean offered = gst_query_get_n_allocation_pools (query) > 0;
  if (offered)
    gst_query_parse_nth_allocation_pool (query, 0, &pool, &size, &min, &max);
  if (!pool)
    pool = gst_video_buffer_pool_new ();
  size = MAX (size, (guint) info.size);
  gboolean meta = gst_query_find_allocation_meta (query, GST_VIDEO_META_API_TYPE, NULL);

  gboolean in_place = FALSE;
  if (meta && self->ctx && gst_buffer_pool_has_option (pool, GST_BUFFER_POOL_OPTION_VIDEO_ALIGNMENT)) {
    int w = MAX (GST_VIDEO_INFO_WIDTH (&info), self->ctx->coded_width);
    int h = MAX (GST_VIDEO_INFO_HEIGHT (&info), self->ctx->coded_height);
    int align[AV_NUM_DATA_POINTERS];
    /* Before the first picture libavcodec does not know its format yet:
     * the padding it will need is that of the format negotiated. */
    enum AVPixelFormat known = self->ctx->pix_fmt;
    if (known == AV_PIX_FMT_NONE)
      self->ctx->pix_fmt = av_format (GST_VIDEO_INFO_FORMAT (&info));
    avcodec_align_dimensions2 (self->ctx, &w, &h, align);
    self->ctx->pix_fmt = known;
    GstVideoAlignment va;
    gst_video_alignment_reset (&va);
    va.padding_right = (guint) (w - GST_VIDEO_INFO_WIDTH (&info));
    va.padding_bottom = (guint) (h - GST_VIDEO_INFO_HEIGHT (&info));
    for (guint p = 0; p < GST_VIDEO_MAX_PLANES; p++)
      va.stride_align[p] = (guint) align[p] - 1;
    GstStructure *config = gst_buffer_pool_get_config (pool);
    gst_buffer_pool_config_set_params (config, caps, size, min, max);
    gst_buffer_pool_config_add_option (config, GST_BUFFER_POOL_OPTION_VIDEO_META);
    gst_buffer_pool_config_add_option (config, GST_BUFFER_POOL_OPTION_VIDEO_ALIGNMENT);
    gst_buffer_pool_config_set_video_alignment (config, &va);
    in_place = gst_buffer_pool_set_config (pool, config);
  }
  if (!in_place) {
    GstStructure *config = gst_buffer_pool_get_config (pool);
    gst_buffer_pool_config_set_params (config, caps, size, min, max);
    if (meta)
      gst_buffer_pool_config_add_option (config, GST_BUFFER_POOL_OPTION_VIDEO_META);
    if (!gst_buffer_pool_set_config (pool, config)) {
      gst_object_unref (pool);
      pool = gst_video_buffer_pool_new ();
      config = gst_buffer_pool_get_config (pool);
      gst_buffer_pool_config_set_params (config, caps, size, min, max);
      if (!gst_buffer_pool_set_config (pool, config)) {
        gst_object_unref (pool);
        return FALSE;
      }
    }
  }
  if (offered)
    gst_query_set_nth_allocation_pool (query, 0, pool, size, min, max);
  else
    gst_query_add_allocation_pool (query, pool, size, min, max);

  g_mutex_lock (&self->lock);
  gst_clear_object (&self->pool);
  if (in_place) {
    self->pool = gst_object_ref (pool);
    self->pool_info = info;
  }
  g_mutex_unlock (&self->lock);
  GST_DEBUG_OBJECT (self, "decoding %s", in_place ? "in place" : "into libavcodec's buffers, then copying");
  gst_object_unref (pool);
  return TRUE;
}

static gboolean
start (GstVideoDecoder *dec)
{
  CordonDecoder *self = CORDON_DECODER (dec);
  if (!self->picture)
    self->picture = av_frame_alloc ();
  return self->picture != NULL;
}

static gboolean
stop (GstVideoDecoder *dec)
{
  CordonDecoder *self = CORDON_DECODER (dec);
  close_codec (self);
  av_frame_free (&self->picture);
  if (self->input_state)
    gst_video_codec_state_unref (self->input_state);
  self->input_state = NULL;
  g_mutex_lock (&self->lock);
  gst_clear_object (&self->pool);
  g_mutex_unlock (&self->lock);
  return TRUE;
}

static void
set_property (GObject *object, guint id, const GValue *value, GParamSpec *pspec)
{
  CordonDecoder *self = CORDON_DECODER (object);
  if (id == PROP_MAX_THREADS)
    self->max_threads = g_value_get_int (value);
  else
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
}

static void
get_property (GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
  CordonDecoder *self = CORDON_DECODER (object);
  switch (id) {
  case PROP_MAX_THREADS:
    g_value_set_int (value, self->max_threads);
    break;
  case PROP_COPIED:
    g_mutex_lock (&self->lock);
    g_value_set_uint64 (value, self->copied);
    g_mutex_unlock (&self->lock);
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
  }
}

static void
finalize (GObject *object)
{
  CordonDecoder *self = CORDON_DECODER (object);
  close_codec (self);
  av_frame_free (&self->picture);
  g_hash_table_unref (self->in_place);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (cordon_decoder_parent_class)->finalize (object);
}

static void
cordon_decoder_class_init (CordonDecoderClass *klass)
{
  GObjectClass *object = G_OBJECT_CLASS (klass);
  GstElementClass *element = GST_ELEMENT_CLASS (klass);
  object->set_property = set_property;
  object->get_property = get_property;
  object->finalize = finalize;
  g_object_class_install_property (object, PROP_MAX_THREADS,
                                   g_param_spec_int ("max-threads", "Maximum threads",
                                                     "1: decode on the streaming thread; more: frame threads", 1, 16, 1,
                                                     G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (object, PROP_COPIED,
                                   g_param_spec_uint64 ("copied", "Copied", "Pictures copied, not decoded in place", 0,
                                                        G_MAXUINT64, 0, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  gst_element_class_add_static_pad_template (element, &sink_template);
  gst_element_class_add_static_pad_template (element, &src_template);
  gst_element_class_set_static_metadata (element, "cordon decoder", "Codec/Decoder/Video",
                                         "H.264 and H.265 with libavcodec, decoding in place", "cordon");
  klass->start = start;
  klass->stop = stop;
  klass->set_format = set_format;
  klass->handle_frame = handle_frame;
  klass->finish = drain;
  klass->drain = drain;
  klass->flush = flush;
  klass->decide_allocation = decide_allocation;
}

static void
cordon_decoder_init (CordonDecoder *self)
{
  self->max_threads = 1;
  self->lines_format = AV_PIX_FMT_NONE;
  g_mutex_init (&self->lock);
  self->in_place = g_hash_table_new (NULL, NULL);
  gst_video_decoder_set_packetized (GST_VIDEO_DECODER (self), TRUE);
  gst_video_decoder_set_needs_format (GST_VIDEO_DECODER (self), TRUE);
}

/* libavcodec's messages only in the worker's debug output (--verbose). */
static void
av_log_to_glib (void *avcl, int level, const char *fmt, va_list vl)
{
  if (level > AV_LOG_WARNING)
    return;
  char line[512];
  int prefix = 1;
  av_log_format_line (avcl, level, fmt, vl, line, sizeof line, &prefix);
  g_strchomp (line);
  g_debug ("libavcodec: %s", line);
}

gboolean
cordon_decoder_register (void)
{
  av_log_set_callback (av_log_to_glib);
  return gst_element_register (NULL, "cordondec", GST_RANK_NONE, CORDON_TYPE_DECODER);
}
