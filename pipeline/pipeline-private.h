/* cordon — pipeline internals shared by pipeline.c, ingest.c and output.c.
 *
 * Two processes use these: the ingest worker (worker.c, ingest.c: the
 * connection to the camera) and the daemon (pipeline.c, supervisor.c,
 * output.c: the worker's supervisor, the encoder and the slate).
 *
 * Threads: the GMainContext captured at cordon_pipeline_new() runs the state
 * machine (worker messages, watchdog, retries, state callbacks). GStreamer
 * streaming threads only push buffers and update counters under `lock`.
 */
#pragma once

#include "pipeline.h"
#include "ring.h"
#include "camera-checks.h"
#include "skipframe.h"

#include <gst/app/gstappsink.h>
#include <gst/video/video.h>

G_BEGIN_DECLS

#define CORDON_LOST_AFTER_MS 1000       /* no camera frame for this long: lost */
#define CORDON_CONNECT_TIMEOUT_MS 10000 /* first frame must come within this */
#define CORDON_BACKOFF_MAX_S 30
#define CORDON_BACKOFF_RESET_S 60       /* live this long: next loss retries after 1 s */
#define CORDON_RTSP_LATENCY_MS 200
#define CORDON_RTSP_TIMEOUT_S 5         /* rtspsrc: no RTSP answer for this long */
#define CORDON_TEARDOWN_CUT_S 3         /* a retired attempt still not down: cut its socket */
#define CORDON_ENCODER_QUEUE_MS 400     /* pictures waiting for the encoder: dropped past this */
#define CORDON_EGRESS_QUEUE_MS 1000     /* encoded frames waiting for one recorder: dropped past this */
#define CORDON_WATCHDOG_MS 250
#define CORDON_RING_IDLE_S 2            /* a picture slot unused this long gives its pages back */

typedef enum {
  FEED_NONE,
  FEED_SLATE,
  FEED_CAMERA,
} Feeder;

/* One connection attempt: an rtspsrc pipeline that lives until it fails. */
typedef struct {
  CordonPipeline *p;
  GstElement *pipeline;
  GSource *bus_watch;       /* main context only */
  gint64 started;           /* g_get_monotonic_time() */
  /* under p->lock: */
  gboolean retired;         /* no longer feeds anything; being torn down */
  gboolean video_selected;  /* select-stream chose a video stream */
  gboolean audio_selected;
  gboolean video_linked;
  gboolean audio_linked;
  gboolean got_frame;
  char *refusal;            /* why no usable stream was offered, or NULL */
  char *violation;          /* what the camera did that cordon refuses (a redirect elsewhere,
                             * Basic auth, a stream beyond max-input-*): the attempt's reason */
  GstElement *videorate;    /* (ref) to read its drop count */
  gboolean described;       /* the camera's SDP was read */
  const char *video_label;  /* "H.264", … once the video stream is linked */
  /* atomic: how far the stream got, for the reason when no picture comes */
  gint rtp_buffers;         /* into the depayloader */
  gint access_units;        /* out of the parser */
  gint keyframes;           /* of those, key frames: deltas before the first are dropped */
  CordonRateMeter rate;     /* decoder's streaming thread only: pictures into the decoder */
  /* main context, then the reaper: the TCP connection to the camera, found
   * among the descriptors while connecting (cut if the teardown hangs) */
  int sock_fd;              /* -1 until found */
  guint64 sock_ino;
} Ingest;

/* Daemon side: one ingest worker process, i.e. one connection attempt
 * (supervisor.c). Everything it says passes cordon_handover_check(). */
typedef struct {
  CordonPipeline *p;
  pid_t pid;
  int control;              /* our end of the socket pair */
  struct _CordonRing *ring; /* (ref) the picture slots (handover.h); lent pictures hold it too */
  guint64 last_seq;         /* of the last picture: gaps are pictures the worker dropped */
  GSource *watch;           /* main context */
  gint64 started;           /* monotonic */
  gint64 last_message;      /* monotonic */
  gboolean hello;           /* the worker reported its jail */
  gboolean failed;          /* it said why it stops */
  gint64 window_start;      /* flood check: messages in the current second */
  guint window_count;
  guint64 gaps;             /* pictures the worker dropped (sequence gaps) */
  guint64 rate_gaps;        /* of those, the ones videorate left out */
  char status[CORDON_HANDOVER_TEXT]; /* its last word on why no picture yet, sanitised */
  /* under p->lock: */
  gboolean retired;
  gboolean got_frame;
} Attempt;

typedef struct {
  GstAppSrc *src;           /* (ref) */
  gboolean started;         /* has had a keyframe: deltas may follow */
  gboolean resync;          /* lost a frame to a full queue: waits for the next keyframe */
} Consumer;

/* One encoder's side of the cheap slate (output.c): while the slate is on,
 * x264 encodes only a changed slate picture, as an IDR, and cordon writes an
 * all-skip P picture (skipframe.h) for every other output slot. `send` keeps
 * x264's frames and cordon's in order; the rest is under the pipeline's lock. */
typedef struct {
  GMutex send;
  gboolean off;             /* frame threads delay x264's output: x264 encodes every slot */
  CordonSkipParams params;  /* from the SPS/PPS before x264's last IDR */
  gboolean aud;             /* x264 writes access unit delimiters */
  gboolean after_idr;       /* x264's last frame out was an IDR: skip frames may follow */
  gboolean idr_asked;       /* a forced IDR is on its way through x264 */
  gboolean written;         /* cordon wrote frames since x264's last IDR: its next one must be an IDR */
  guint64 index;            /* pictures cordon wrote since that IDR */
  guint pending;            /* pictures in x264 not out yet */
  guint owed;               /* slots that waited for the IDR; written right after it */
} CordonSkip;

typedef struct _Snapshot Snapshot;
typedef struct _SlateTicker SlateTicker;

/* The second output (sub-stream = WxH): its own encoder fed the same
 * pictures, its own consumers. */
typedef struct {
  GstElement *encode;       /* appsrc ! videoscale ! capsfilter ! x264enc ! … ! appsink */
  GstElement *src;
  GstElement *encoder;
  GSource *watch;
  GstCaps *caps;            /* what its consumers get */
  CordonSkip skip;
  /* under the pipeline's lock: */
  GPtrArray *consumers;     /* Consumer* */
  guint64 frames_out;
  guint64 bytes_out;
} CordonSubStream;

struct _CordonPipeline {
  CordonCamera *camera;
  GMainContext *context;
  GMutex lock;

  GstCaps *raw_caps;        /* what the encoder eats: I420 at the output size */
  GstVideoInfo raw_info;    /* the same, as the layout of a picture */
  GstCaps *out_caps;        /* what consumers get */
  GstCaps *audio_caps;      /* NULL when audio is off */

  GstElement *encode;       /* long-lived: appsrc ! x264enc ! … ! appsink */
  GstElement *encode_src;
  GstElement *encoder;
  GstElement *slate;        /* videotestsrc … ! appsink, PLAYING only while needed */
  GSource *encode_watch;
  GSource *slate_watch;
  GstClockID slate_tick;    /* main context: periodic, the output rate, while the slate is on */
  SlateTicker *slate_ticker; /* output.c: what slate_tick's callback holds */
  gint *encoder_count;      /* atomic-rc box shared with the x264enc instances */
  guint encoder_queue;      /* pictures the encoder's appsrc may hold (CORDON_ENCODER_QUEUE_MS) */

  Attempt *attempt;         /* current worker (main context), or NULL */
  GSource *watchdog;
  gint64 watchdog_last;     /* monotonic: when the watchdog last ran */
  GSource *retry;
  GSource *live_idle;       /* under lock: set by a streaming thread */
  guint backoff_s;
  gint64 live_since;        /* monotonic */
  gboolean running;
  gboolean slate_on;

  CordonPipelineStateFunc state_func;
  gpointer state_data;

  /* under lock: */
  Feeder feeder;
  GPtrArray *consumers;       /* Consumer* */
  GPtrArray *audio_consumers; /* GstAppSrc* (ref) */
  CordonCameraState state;
  gint64 state_since;
  guint reconnects;
  const char *input_codec;
  guint input_width;
  guint input_height;
  guint64 frames_in;
  guint64 frames_out;
  guint64 dropped_closed;   /* pictures the workers of past attempts dropped */
  guint64 rate_closed;      /* of those, the ones videorate left out */
  guint64 dropped_encoder;  /* pictures dropped because the encoder was behind (CORDON_ENCODER_QUEUE_MS) */
  guint64 dropped_egress;   /* encoded frames a recorder's queue could not take, and the deltas it then skipped */
  guint64 dropped_handover; /* camera/slate frames too small for the configured picture */
  guint64 nal_dropped;      /* encoded NAL units the allow-list left out */
  guint32 nal_logged;       /* bit N: a dropped NAL unit of type N was logged */
  gboolean format_logged;   /* the encoder's output was not a byte stream (logged) */
  guint64 bytes_out;
  gint64 last_frame;        /* monotonic, 0 if none yet */
  gint64 handover_ns;       /* moving average: worker sent → daemon took the slot */
  char *last_error;
  GstBuffer *last_raw;      /* the picture last pushed into the encoder (snapshot.c) */
  GstBuffer *slate_picture; /* the slate's current picture (pixels only), or NULL */
  gboolean slate_fresh;     /* slate_picture has not been encoded yet */
  CordonSkip skip;          /* output.c: the main encoder's */

  Snapshot *snapshot;       /* snapshot.c: own lock, taken before `lock`, never inside it */
  CordonSubStream *sub;     /* output.c: NULL without sub-stream */
};

/* ingest.c (in the worker) */
Ingest *cordon_ingest_new (CordonPipeline *p, GError **error);
void cordon_ingest_free (Ingest *ingest);
char *cordon_ingest_describe_error (Ingest *ingest, GstMessage *msg);
char *cordon_ingest_describe_silence (Ingest *ingest);
void cordon_ingest_find_socket (Ingest *ingest);
/* Pictures videorate has left out so far (a camera faster than the output
 * rate, or two pictures for one output slot). Any thread. */
guint64 cordon_ingest_rate_drops (Ingest *ingest);

/* worker.c: ingest.c's appsinks hand their buffers here */
void cordon_worker_picture (Ingest *ingest, GstBuffer *buffer);
void cordon_worker_audio (Ingest *ingest, GstBuffer *buffer);
gboolean cordon_worker_propose_allocation (Ingest *ingest, GstQuery *query);

/* supervisor.c (in the daemon) */
Attempt *cordon_supervisor_spawn (CordonPipeline *p, GError **error);
void cordon_supervisor_free (Attempt *attempt);
void cordon_supervisor_trim (Attempt *attempt);
void cordon_pipeline_attempt_failed (CordonPipeline *p, Attempt *attempt, const char *reason);

/* launcher.c */
pid_t cordon_launcher_spawn (const char *name, guint uid, const int *fds, GError **error);
void cordon_launcher_kill (pid_t pid);
gboolean cordon_launcher_own_uids (void);

/* output.c */
gboolean cordon_output_build (CordonPipeline *p, GError **error);
void cordon_output_encode (CordonPipeline *p, GstBuffer *pixels);
void cordon_output_slate_start (CordonPipeline *p);
void cordon_output_slate_stop (CordonPipeline *p);
gboolean cordon_output_sub_start (CordonPipeline *p);
void cordon_output_sub_stop (CordonPipeline *p);
void cordon_output_sub_free (CordonPipeline *p);

/* snapshot.c */
Snapshot *cordon_snapshot_new (void);
void cordon_snapshot_free (Snapshot *snapshot);

/* pipeline.c */
void cordon_pipeline_feed (CordonPipeline *p, Feeder from, Attempt *attempt, GstBuffer *buffer);
void cordon_pipeline_push_unstamped (GstAppSrc *src, GstBuffer *buffer);
void cordon_pipeline_push_audio (CordonPipeline *p, Attempt *attempt, GstBuffer *buffer);
GstElement *cordon_make (const char *factory, GError **error);
void cordon_consumer_free (Consumer *c);
gboolean cordon_consumers_add (CordonPipeline *p, GPtrArray **consumers, GstAppSrc *src);
void cordon_consumers_remove (CordonPipeline *p, GPtrArray **consumers, GstAppSrc *src);
void cordon_encoder_keyframe (GstElement *encoder);
char *cordon_sanitize (const char *text);

G_END_DECLS
