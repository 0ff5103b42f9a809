/* cordon — the picture ring: the daemon's check of what an ingest worker sends. Hostile input:
 * a worker is assumed compromised. */
#include "ring.h"

#include <string.h>
#include <time.h>

void
cordon_handover_init (CordonHandover *h, guint slots, gsize slot_size)
{
  memset (h, 0, sizeof *h);
  h->slots = MIN (slots, CORDON_HANDOVER_SLOTS);
  h->slot_size = slot_size;
}

guint
cordon_handover_slot_count (guint framerate, guint queue_ms)
{
  guint64 queued = ((guint64) framerate * queue_ms + 999) / 1000;
  return (guint) MIN (queued + CORDON_HANDOVER_SPARE_SLOTS + CORDON_HANDOVER_REFERENCE_SLOTS, CORDON_HANDOVER_SLOTS);
}

gboolean
cordon_handover_slot_pages (gsize slot_size, guint slot, gsize page, gsize *offset, gsize *length)
{
  gsize start = ((gsize) slot * slot_size + page - 1) / page * page;
  gsize end = ((gsize) slot + 1) * slot_size / page * page;
  *offset = start;
  *length = end > start ? end - start : 0;
  return end > start;
}

const char *
cordon_codec_name (CordonCodecId codec)
{
  switch (codec) {
  case CORDON_CODEC_H264:
    return "h264";
  case CORDON_CODEC_H265:
    return "h265";
  case CORDON_CODEC_JPEG:
    return "jpeg";
  case CORDON_CODEC_NONE:
    break;
  }
  return NULL;
}

CordonCodecId
cordon_codec_from_name (const char *name)
{
  for (CordonCodecId c = CORDON_CODEC_H264; c <= CORDON_CODEC_JPEG; c++)
    if (g_strcmp0 (name, cordon_codec_name (c)) == 0)
      return c;
  return CORDON_CODEC_NONE;
}

gsize
cordon_handover_picture_size (guint width, guint height)
{
  CordonPlanes planes;
  cordon_handover_layout (width, height, CORDON_LAYOUT_STANDARD, &planes);
  return planes.size;
}

static gsize
round_up (gsize v, gsize to)
{
  return (v + to - 1) / to * to;
}

void
cordon_handover_layout (guint width, guint height, CordonPictureLayout layout, CordonPlanes *planes)
{
  gsize w = width, h = height, ys, cs, yrows, crows;
  if (layout == CORDON_LAYOUT_DECODER) {
    ys = round_up (MAX (w, 32), 64);
    cs = round_up ((w + 1) / 2, 64);
    yrows = round_up (h, 32) + 2;
    crows = yrows / 2;
  } else {
    /* GstVideoInfo's I420 layout: the Y stride rounds up to 4, the chroma
     * stride (half width, rounded up) to 4 as well. */
    ys = round_up (w, 4);
    cs = round_up ((w + 1) / 2, 4);
    crows = (h + 1) / 2;
    yrows = 2 * crows; /* an odd height's last chroma row has two luma rows */
  }
  planes->stride[0] = ys;
  planes->stride[1] = planes->stride[2] = cs;
  planes->offset[0] = 0;
  planes->offset[1] = ys * yrows;
  planes->offset[2] = planes->offset[1] + cs * crows;
  planes->size = planes->offset[2] + cs * crows;
}

gsize
cordon_handover_slot_size (guint width, guint height)
{
  CordonPlanes standard, decoder;
  cordon_handover_layout (width, height, CORDON_LAYOUT_STANDARD, &standard);
  cordon_handover_layout (width, height, CORDON_LAYOUT_DECODER, &decoder);
  return MAX (standard.size, decoder.size);
}

/* Camera-side text: printable ASCII only, bounded, always terminated. */
static void
copy_text (char *out, const char *in)
{
  gsize n = 0;
  for (; n < CORDON_HANDOVER_TEXT - 1 && in[n]; n++)
    out[n] = g_ascii_isprint (in[n]) ? in[n] : '?';
  out[n] = '\0';
}

static gboolean
refuse (const char **why, const char *reason)
{
  *why = reason;
  return FALSE;
}

gboolean
cordon_handover_check (CordonHandover *h, const void *data, gsize len, gint64 now_ns,
                       CordonHandoverEvent *event, const char **why)
{
  memset (event, 0, sizeof *event);
  *why = NULL;
  if (len < 8)
    return refuse (why, "short message");

  guint32 magic;
  guint16 type;
  memcpy (&magic, data, sizeof magic);
  memcpy (&type, (const guint8 *) data + 4, sizeof type);
  if (magic != CORDON_HANDOVER_MAGIC)
    return refuse (why, "bad magic");

  if (type == CORDON_MSG_AUDIO) {
    const CordonAudioMsg *a = data;
    if (len != sizeof *a)
      return refuse (why, "audio message of the wrong size");
    if (a->length == 0 || a->length > CORDON_HANDOVER_AUDIO_MAX)
      return refuse (why, "audio length out of range");
    event->type = CORDON_MSG_AUDIO;
    event->audio = a->data;
    event->audio_len = a->length;
    return TRUE;
  }

  CordonWorkerMsg m;
  if (len != sizeof m)
    return refuse (why, "message of the wrong size");
  memcpy (&m, data, sizeof m);
  if (m.type != CORDON_MSG_PICTURE && m.type != CORDON_MSG_STATUS && m.type != CORDON_MSG_FAILED)
    return refuse (why, "unknown message type");
  if (m.layout > CORDON_LAYOUT_DECODER)
    return refuse (why, "unknown picture layout");
  if (m.layout != CORDON_LAYOUT_STANDARD && m.type != CORDON_MSG_PICTURE)
    return refuse (why, "picture layout on a message without a picture");
  if (m.codec > CORDON_CODEC_JPEG)
    return refuse (why, "unknown codec");
  if (m.code > CORDON_WORKER_REFUSED)
    return refuse (why, "unknown status code");
  /* Camera sizes beyond 8K are not pictures we could have decoded. */
  if (m.input_width > 16384 || m.input_height > 16384)
    return refuse (why, "input size out of range");
  if (m.text[CORDON_HANDOVER_TEXT - 1] != '\0')
    return refuse (why, "status text not terminated");
  /* Every message is stamped on sending, on the clock both processes share. */
  if (m.time_ns > now_ns + CORDON_HANDOVER_MAX_AHEAD_NS)
    return refuse (why, "time stamp in the future");
  if (m.time_ns < now_ns - CORDON_HANDOVER_MAX_AGE_NS)
    return refuse (why, "time stamp too old");

  if (m.type == CORDON_MSG_PICTURE) {
    if (m.slot >= h->slots)
      return refuse (why, "slot index out of range");
    if (h->held[m.slot])
      return refuse (why, "slot announced twice without a release");
    if (m.seq <= h->last_seq)
      return refuse (why, "sequence number not increasing");
    /* DETAIL: how many of the skipped sequence numbers videorate dropped. */
    if (m.detail > m.seq - h->last_seq - 1)
      return refuse (why, "more rate drops than the sequence skips");
    if (m.time_ns < h->last_time_ns)
      return refuse (why, "picture time stamp going backwards");
    h->held[m.slot] = TRUE;
    h->last_seq = m.seq;
    h->last_time_ns = m.time_ns;
  }

  event->type = m.type;
  event->slot = m.slot;
  event->seq = m.seq;
  event->time_ns = m.time_ns;
  event->codec = m.codec;
  event->layout = m.layout;
  event->input_width = m.input_width;
  event->input_height = m.input_height;
  event->code = m.code;
  event->detail = m.detail;
  copy_text (event->text, m.text);
  return TRUE;
}

gboolean
cordon_handover_release (CordonHandover *h, guint slot)
{
  if (slot >= h->slots || !h->held[slot])
    return FALSE;
  h->held[slot] = FALSE;
  return TRUE;
}

gint64
cordon_handover_now_ns (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (gint64) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void
cordon_worker_msg_init (CordonWorkerMsg *m, CordonMsgType type, guint slot, guint64 seq, gint64 time_ns)
{
  memset (m, 0, sizeof *m);
  m->magic = CORDON_HANDOVER_MAGIC;
  m->type = type;
  m->slot = slot;
  m->seq = seq;
  m->time_ns = time_ns;
}
