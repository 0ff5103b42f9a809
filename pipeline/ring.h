/* cordon — the picture ring: the hand-over between an ingest worker and the daemon.
 *
 * The worker writes decoded I420 pictures into a ring of fixed-size slots in
 * a sealed memfd (the daemon creates it, sizes it and seals its size) and
 * announces each with one fixed-size message on a SOCK_SEQPACKET pair. The
 * daemon encodes straight from the slot (read-only, handover.h) and hands it
 * back with a release message once its last user lets go. Nothing else
 * crosses: no caps, no GStreamer objects, no unbounded strings.
 *
 * Everything here is plain data. The daemon's side of the check,
 * cordon_handover_check(), treats every message as hostile input.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define CORDON_HANDOVER_MAGIC 0x63647731u /* "cdw1" */
#define CORDON_HANDOVER_TRIM_MAGIC 0x63647474u /* "cdtt" */
/* The most slots a ring has; cordon_handover_slot_count() says how many. */
#define CORDON_HANDOVER_SLOTS 32
/* Slots beyond a queue's worth of pictures: the encoder's current picture,
 * the last one kept for snapshots, the sub-stream encoder's, the one the
 * worker is writing. */
#define CORDON_HANDOVER_SPARE_SLOTS 4
/* Slots the decoder may hold as reference pictures while the daemon holds
 * others (pipeline/decoder.c decodes into the slots). */
#define CORDON_HANDOVER_REFERENCE_SLOTS 4
#define CORDON_HANDOVER_TEXT 256          /* bytes of status text, NUL padded */
#define CORDON_HANDOVER_AUDIO_MAX 1024    /* A-law bytes in one audio message */
/* A picture stamped further from the daemon's clock than this is refused. */
#define CORDON_HANDOVER_MAX_AGE_NS (2 * G_GINT64_CONSTANT (1000000000))
#define CORDON_HANDOVER_MAX_AHEAD_NS (50 * G_GINT64_CONSTANT (1000000))

typedef enum {
  CORDON_MSG_PICTURE = 1, /* slot SLOT holds picture SEQ */
  CORDON_MSG_STATUS = 2,  /* heartbeat with the camera's state */
  CORDON_MSG_FAILED = 3,  /* the attempt failed; text says why; the worker exits */
  CORDON_MSG_AUDIO = 4,   /* A-law 8 kHz mono bytes inline */
} CordonMsgType;

/* How a picture lies in its slot. Only these two, both computed by the
 * daemon from the configured size (cordon_handover_layout): the worker says
 * which, never where the planes are. */
typedef enum {
  CORDON_LAYOUT_STANDARD = 0, /* GstVideoInfo's I420 layout */
  CORDON_LAYOUT_DECODER = 1,  /* padded for a decoder that writes in place */
} CordonPictureLayout;

typedef struct {
  gsize offset[3];
  gsize stride[3];
  gsize size; /* bytes from the slot's start to the end of the last plane */
} CordonPlanes;

typedef enum {
  CORDON_CODEC_NONE = 0,
  CORDON_CODEC_H264 = 1,
  CORDON_CODEC_H265 = 2,
  CORDON_CODEC_JPEG = 3,
} CordonCodecId;

typedef enum {
  CORDON_WORKER_OK = 0,
  CORDON_WORKER_CAMERA = 1,   /* the camera failed; text is the reason */
  CORDON_WORKER_SECCOMP = 2,  /* a system call outside the allow-list; detail = its number */
  CORDON_WORKER_INTERNAL = 3, /* the worker could not set itself up */
  CORDON_WORKER_REFUSED = 4,  /* a check refused what the camera did (redirect, Basic, bounds); text says what */
} CordonWorkerCode;

/* Worker → daemon: every message type but audio. */
typedef struct {
  guint32 magic;
  guint16 type;          /* CordonMsgType */
  guint16 layout;        /* PICTURE: CordonPictureLayout; 0 otherwise */
  guint32 slot;          /* PICTURE: 0 … slots-1 */
  guint32 codec;         /* CordonCodecId */
  guint64 seq;           /* PICTURE: strictly increasing; a skip is pictures dropped in the worker */
  gint64 time_ns;        /* CLOCK_MONOTONIC when sent; PICTURE: never decreasing */
  guint32 input_width;   /* what the camera sends, 0 if unknown */
  guint32 input_height;
  guint32 code;          /* CordonWorkerCode */
  guint32 detail;        /* SECCOMP: the system call; PICTURE: how many of the skip videorate dropped */
  char text[CORDON_HANDOVER_TEXT];
} CordonWorkerMsg;

/* Worker → daemon: audio (the same header fields, then the bytes). */
typedef struct {
  guint32 magic;
  guint16 type;          /* CORDON_MSG_AUDIO */
  guint16 length;        /* 1 … CORDON_HANDOVER_AUDIO_MAX */
  guint8 data[CORDON_HANDOVER_AUDIO_MAX];
} CordonAudioMsg;

/* Daemon → worker: slot SLOT may be written again (magic
 * CORDON_HANDOVER_MAGIC), or (CORDON_HANDOVER_TRIM_MAGIC) slot SLOT, free on
 * both sides, has been idle: the worker gives its pages back, unless it has
 * taken the slot again meanwhile. The worker does it because only it knows,
 * under its own lock, that it is not writing the slot at that moment. */
typedef struct {
  guint32 magic;
  guint32 slot;
} CordonReleaseMsg;

/* What the daemon knows of one hand-over: fixed at creation, then updated
 * only by cordon_handover_check(). */
typedef struct {
  guint slots;
  gsize slot_size;
  guint64 last_seq;           /* 0: none yet */
  gint64 last_time_ns;
  gboolean held[CORDON_HANDOVER_SLOTS]; /* announced by the worker, not yet released by us */
} CordonHandover;

/* What a checked message says. text is sanitised: printable ASCII, NUL
 * terminated, never longer than CORDON_HANDOVER_TEXT - 1. */
typedef struct {
  CordonMsgType type;
  guint slot;
  guint64 seq;
  gint64 time_ns;
  CordonCodecId codec;
  CordonPictureLayout layout; /* PICTURE */
  guint input_width;
  guint input_height;
  CordonWorkerCode code;
  guint detail;
  char text[CORDON_HANDOVER_TEXT];
  const guint8 *audio;        /* AUDIO: points into the message checked */
  gsize audio_len;
} CordonHandoverEvent;

/* Sets up H for SLOTS slots of SLOT_SIZE bytes (none held). */
void cordon_handover_init (CordonHandover *h, guint slots, gsize slot_size);

/* Checks LEN bytes DATA received from the worker at NOW_NS (CLOCK_MONOTONIC)
 * and fills EVENT. FALSE, with a short reason in WHY (static string), when
 * anything is off: size, magic, type, slot range or ownership, sequence,
 * time stamp, sizes, codec. On success a PICTURE's slot is marked held. */
gboolean cordon_handover_check (CordonHandover *h, const void *data, gsize len, gint64 now_ns,
                                CordonHandoverEvent *event, const char **why);

/* The daemon is done with SLOT: marks it free again. FALSE if it was not
 * held (a second release of the same picture is refused). */
gboolean cordon_handover_release (CordonHandover *h, guint slot);

/* How many slots a camera at FRAMERATE pictures/s needs so that QUEUE_MS of
 * pictures waiting for the encoder and CORDON_HANDOVER_SPARE_SLOTS more never
 * leave the worker without one: ceil (QUEUE_MS × FRAMERATE / 1000) + spare,
 * at most CORDON_HANDOVER_SLOTS. */
guint cordon_handover_slot_count (guint framerate, guint queue_ms);

/* The whole pages (of PAGE bytes) inside slot SLOT of SLOT_SIZE bytes, as
 * an offset into the ring and a length: what can be given back without
 * touching a page the next or previous slot shares. FALSE if none. */
gboolean cordon_handover_slot_pages (gsize slot_size, guint slot, gsize page, gsize *offset, gsize *length);

/* CLOCK_MONOTONIC in ns: the clock of every time_ns on both sides. */
gint64 cordon_handover_now_ns (void);

/* Clears M and fills its header: magic, TYPE, SLOT, SEQ, TIME_NS. Only
 * memset and stores: safe in a signal handler. */
void cordon_worker_msg_init (CordonWorkerMsg *m, CordonMsgType type, guint slot, guint64 seq, gint64 time_ns);

/* "h264", "h265", "jpeg" or NULL (static strings). */
const char *cordon_codec_name (CordonCodecId codec);
CordonCodecId cordon_codec_from_name (const char *name);

/* The I420 picture size for WIDTH × HEIGHT (GStreamer's default layout). */
gsize cordon_handover_picture_size (guint width, guint height);

/* Where LAYOUT puts the three planes of a WIDTH × HEIGHT I420 picture.
 * CORDON_LAYOUT_DECODER: every stride a multiple of 64 bytes (so is every
 * plane's start), the luma rows the height rounded up to 32 and 2 more, the
 * chroma rows half that: what libavcodec's H.264 and H.265 decoders need to
 * write their pictures in place (avcodec_align_dimensions2). */
void cordon_handover_layout (guint width, guint height, CordonPictureLayout layout, CordonPlanes *planes);

/* A slot's size for WIDTH × HEIGHT: room for either layout. */
gsize cordon_handover_slot_size (guint width, guint height);

G_END_DECLS
