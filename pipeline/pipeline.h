/* cordon — one camera's ingest and re-encode chain.
 *
 * A CordonPipeline runs an ingest worker process per connection attempt
 * (cordon-worker, confined: jail.h) that pulls the camera's RTSP stream over
 * TCP, decodes it with an explicit (never autoplugged) depayloader/parser/
 * decoder for the camera's codec and normalises it to the configured size
 * and rate; only those pictures cross to the daemon (ring.h), which encodes
 * them again to H.264. Recorders never see a byte the camera produced: only
 * what our encoder made from decoded pixels (no GstMeta, flag or time stamp
 * of the camera's reaches the encoder), through an allow-list of NAL unit
 * types. When the camera is lost the output
 * switches to a slate and the ingest reconnects with capped backoff; the
 * output caps never change.
 *
 * Encoded access units are pushed into every attached GstAppSrc (the proxy's
 * RTSP media). All callbacks and state changes happen on the GMainContext
 * that was thread-default when the pipeline was created.
 */
#pragma once

#include <gst/gst.h>
#include <gst/app/gstappsrc.h>

#include "config.h"

G_BEGIN_DECLS

#define CORDON_PIPELINE_ERROR (cordon_pipeline_error_quark ())
GQuark cordon_pipeline_error_quark (void);

typedef enum {
  CORDON_PIPELINE_ERROR_FAILED,
} CordonPipelineError;

typedef enum {
  CORDON_CAMERA_CONNECTING, /* first attempt still under way (the slate is on the output) */
  CORDON_CAMERA_LIVE,       /* camera frames reach the encoder */
  CORDON_CAMERA_OFFLINE,    /* slate is on the output; retrying with backoff */
} CordonCameraState;

typedef struct _CordonPipeline CordonPipeline;

typedef struct {
  CordonCameraState state;
  gint64 state_since;      /* g_get_real_time() when state was entered */
  guint reconnects;        /* connection attempts after the first */
  const char *input_codec; /* "h264", "h265", "jpeg" or NULL; static string */
  guint input_width;       /* last decoded camera size, 0 if unknown */
  guint input_height;
  guint64 frames_in;       /* decoded camera frames */
  guint64 frames_out;      /* encoded frames (camera or slate) */
  guint64 frames_dropped;  /* pictures lost between the camera and the recorders, rate drops included */
  guint64 frames_rate_dropped; /* of those, the ones the normaliser left out: a camera faster than the
                                * output rate, or two pictures for one output slot */
  guint64 bytes_out;       /* encoded bytes */
  guint64 nal_units_dropped; /* encoded NAL units outside the allow-list (nalfilter.h), left out */
  gint64 last_frame_age_ms; /* since the last camera frame; -1 if none yet */
  guint encoders;          /* live encoder instances for this camera */
  char *last_error;        /* why the camera last failed, or NULL (owned) */
  gint64 handover_us;      /* moving average: worker sent a picture → daemon took its slot */
} CordonPipelineStats;

typedef void (*CordonPipelineStateFunc) (CordonPipeline *pipeline, CordonCameraState state,
                                         const char *reason, gpointer user_data);

/* Starts the worker launcher (launcher.c): a child that execs the worker
 * binary WORKER_PATH as `--launcher`, which loads the plugins once and forks
 * every camera's ingest worker as the camera's worker_uid (when root;
 * otherwise as the daemon's uid), and kills and reaps them. Returns once the
 * launcher is ready (FALSE with ERROR if it does not start). Call it once,
 * while the process is single-threaded and still root: before the privilege
 * drop and gst_init(). UID_MIN is the lowest uid it will ever switch to.
 * VERBOSE keeps the workers' standard error. */
gboolean cordon_pipeline_launcher_start (const char *worker_path, guint uid_min, gboolean verbose, GError **error);
pid_t cordon_pipeline_launcher_get_pid (void);

/* Builds the chain for CAMERA (kept by reference). Needs gst_init(). */
CordonPipeline *cordon_pipeline_new (CordonCamera *camera, GError **error);

/* Starts the encoder and the first connection attempt; returns at once. */
gboolean cordon_pipeline_start (CordonPipeline *pipeline, GError **error);

/* Stops everything; attached sources get end-of-stream and are detached.
 * Idempotent. */
void cordon_pipeline_stop (CordonPipeline *pipeline);
void cordon_pipeline_free (CordonPipeline *pipeline);

const CordonCamera *cordon_pipeline_get_camera (CordonPipeline *pipeline);

/* The fixed caps of the encoded output (transfer full). Set them on an appsrc
 * before attaching it. */
GstCaps *cordon_pipeline_get_caps (CordonPipeline *pipeline);

/* Attach or detach a consumer of the encoded stream. Thread safe. Attaching
 * asks the encoder for a keyframe so the new consumer starts at once; until
 * that keyframe (SPS/PPS in front) it is sent nothing. Buffers arrive without
 * timestamps: give the appsrc do-timestamp=TRUE, is-live=TRUE, format=TIME. */
void cordon_pipeline_attach (CordonPipeline *pipeline, GstAppSrc *src);
void cordon_pipeline_detach (CordonPipeline *pipeline, GstAppSrc *src);

/* The sub stream (the camera's sub-stream = WxH): the same decoded pictures,
 * scaled in the daemon and encoded by a second encoder with the main
 * stream's settings (sub-bitrate) through the same NAL allow-list. Fixed
 * caps as get_caps, at the sub stream's size. has_sub is FALSE without one;
 * get_sub_caps then returns NULL and attach_sub does nothing. Thread safe. */
gboolean cordon_pipeline_has_sub (CordonPipeline *pipeline);
GstCaps *cordon_pipeline_get_sub_caps (CordonPipeline *pipeline);
void cordon_pipeline_attach_sub (CordonPipeline *pipeline, GstAppSrc *src);
void cordon_pipeline_detach_sub (CordonPipeline *pipeline, GstAppSrc *src);

/* Audio, only when the camera has audio = true: the camera's audio decoded
 * and re-encoded to G.711 A-law, 8 kHz mono. get_audio_caps returns those
 * caps (transfer full), or NULL when audio is off; attach_audio needs them
 * set on the appsrc. Audio flows only while the camera is live (the slate is
 * silent: nothing is pushed). Thread safe. */
GstCaps *cordon_pipeline_get_audio_caps (CordonPipeline *pipeline);
void cordon_pipeline_attach_audio (CordonPipeline *pipeline, GstAppSrc *src);
void cordon_pipeline_detach_audio (CordonPipeline *pipeline, GstAppSrc *src);

/* Asks the encoder for an IDR frame as soon as possible. Thread safe. */
void cordon_pipeline_request_keyframe (CordonPipeline *pipeline);

/* A JPEG of the picture the encoder last took (camera or slate), scaled to fit MAX_WIDTH (0: output size),
 * made by cordon from its own decoded pixels, never the camera's JPEG. Thread safe. (transfer full) */
GBytes *cordon_pipeline_snapshot_jpeg (CordonPipeline *pipeline, guint max_width, GError **error);

/* Called on every state change. */
void cordon_pipeline_set_state_func (CordonPipeline *pipeline, CordonPipelineStateFunc func,
                                     gpointer user_data);

/* Fills STATS; free with cordon_pipeline_stats_clear(). Thread safe. */
void cordon_pipeline_get_stats (CordonPipeline *pipeline, CordonPipelineStats *stats);
void cordon_pipeline_stats_clear (CordonPipelineStats *stats);

const char *cordon_camera_state_to_string (CordonCameraState state);

/* Text from a camera or a client as one printable log line (at most 200
 * characters; anything else becomes '?'). The one sanitiser every such log
 * line goes through (transfer full). */
char *cordon_sanitize (const char *text);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CordonPipeline, cordon_pipeline_free)

G_END_DECLS
