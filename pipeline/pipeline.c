/* cordon — per-camera state machine: connect, watch, switch to the slate,
 * reconnect with backoff; fan the encoded stream out to the consumers. */
#define G_LOG_DOMAIN "cordon-pipeline"

#include "pipeline-private.h"
#include "handover.h"

#include <string.h>

static void connect_camera (CordonPipeline *p);

static void
clear_source (GSource **source)
{
  if (*source) {
    g_source_destroy (*source);
    g_clear_pointer (source, g_source_unref);
  }
}

static GSource *
add_timeout (CordonPipeline *p, guint ms, GSourceFunc func)
{
  GSource *source = g_timeout_source_new (ms);
  g_source_set_callback (source, func, p, NULL);
  g_source_attach (source, p->context);
  return source;
}

void
cordon_consumer_free (Consumer *c)
{
  gst_object_unref (c->src);
  g_free (c);
}

const char *
cordon_camera_state_to_string (CordonCameraState state)
{
  switch (state) {
  case CORDON_CAMERA_CONNECTING:
    return "connecting";
  case CORDON_CAMERA_LIVE:
    return "live";
  case CORDON_CAMERA_OFFLINE:
    return "offline";
  }
  return "unknown";
}

/* ---- state ---- */

static void
set_state (CordonPipeline *p, CordonCameraState state, const char *reason)
{
  g_mutex_lock (&p->lock);
  p->state = state;
  p->state_since = g_get_real_time ();
  g_mutex_unlock (&p->lock);
  if (p->state_func)
    p->state_func (p, state, reason, p->state_data);
}

static void
start_slate (CordonPipeline *p)
{
  g_mutex_lock (&p->lock);
  p->feeder = FEED_SLATE;
  g_mutex_unlock (&p->lock);
  if (!p->slate_on) {
    p->slate_on = TRUE;
    cordon_output_slate_start (p);
  }
}

static void
stop_slate (CordonPipeline *p)
{
  if (p->slate_on) {
    p->slate_on = FALSE;
    cordon_output_slate_stop (p);
  }
}

/* Stops the current worker from feeding anything and ends it. */
static void
retire_attempt (CordonPipeline *p)
{
  Attempt *a = p->attempt;
  if (!a)
    return;
  g_mutex_lock (&p->lock);
  p->attempt = NULL;
  a->retired = TRUE;
  if (p->feeder == FEED_CAMERA)
    p->feeder = FEED_NONE;
  p->dropped_closed += a->gaps;
  p->rate_closed += a->rate_gaps;
  g_mutex_unlock (&p->lock);
  cordon_supervisor_free (a);
}

static gboolean
retry_due (gpointer data)
{
  CordonPipeline *p = data;
  g_clear_pointer (&p->retry, g_source_unref);
  g_mutex_lock (&p->lock);
  p->reconnects++;
  g_mutex_unlock (&p->lock);
  connect_camera (p);
  return G_SOURCE_REMOVE;
}

/* The current attempt has failed for REASON: slate on, retry later. */
static void
attempt_failed (CordonPipeline *p, const char *reason)
{
  const char *name = p->camera->name;

  g_mutex_lock (&p->lock);
  CordonCameraState old = p->state;
  g_free (p->last_error);
  p->last_error = g_strdup (reason);
  g_mutex_unlock (&p->lock);

  if (old == CORDON_CAMERA_LIVE
      && g_get_monotonic_time () - p->live_since >= CORDON_BACKOFF_RESET_S * G_USEC_PER_SEC)
    p->backoff_s = 1;
  guint delay = p->backoff_s;
  p->backoff_s = MIN (p->backoff_s * 2, CORDON_BACKOFF_MAX_S);

  if (p->running) {
    start_slate (p);
    clear_source (&p->retry);
    p->retry = add_timeout (p, delay * 1000, retry_due);
  }
  if (old == CORDON_CAMERA_LIVE) {
    g_message ("%s: lost: %s; retrying in %u s", name, reason, delay);
    set_state (p, CORDON_CAMERA_OFFLINE, reason);
  } else if (old == CORDON_CAMERA_CONNECTING) {
    g_message ("%s: offline: %s; retrying in %u s", name, reason, delay);
    set_state (p, CORDON_CAMERA_OFFLINE, reason);
  } else {
    g_message ("%s: still offline: %s; retrying in %u s", name, reason, delay);
  }
}

void
cordon_pipeline_attempt_failed (CordonPipeline *p, Attempt *a, const char *reason)
{
  if (a != p->attempt)
    return;
  retire_attempt (p);
  attempt_failed (p, reason);
}

static void
connect_camera (CordonPipeline *p)
{
  g_autoptr (GError) err = NULL;
  Attempt *a = cordon_supervisor_spawn (p, &err);

  if (!a) {
    /* Not the camera's fault, but handled the same way: slate, retry. */
    attempt_failed (p, err->message);
    return;
  }
  g_mutex_lock (&p->lock);
  p->attempt = a;
  g_mutex_unlock (&p->lock);
  g_debug ("%s: worker %d connecting to %s port %u", p->camera->name, (int) a->pid, p->camera->host,
           p->camera->port);
}

/* Main context, after a streaming thread saw the first camera frame. */
static gboolean
go_live (gpointer data)
{
  CordonPipeline *p = data;

  g_mutex_lock (&p->lock);
  g_clear_pointer (&p->live_idle, g_source_unref);
  gboolean camera = p->attempt && p->feeder == FEED_CAMERA && p->state != CORDON_CAMERA_LIVE;
  g_autofree char *what = g_strdup_printf ("%s %ux%u", p->input_codec ? p->input_codec : "?",
                                           p->input_width, p->input_height);
  g_mutex_unlock (&p->lock);

  if (!camera || !p->running)
    return G_SOURCE_REMOVE;
  stop_slate (p);
  p->live_since = g_get_monotonic_time ();
  g_message ("%s: live (%s)", p->camera->name, what);
  set_state (p, CORDON_CAMERA_LIVE, what);
  return G_SOURCE_REMOVE;
}

static gboolean
watchdog (gpointer data)
{
  CordonPipeline *p = data;
  Attempt *a = p->attempt;
  if (!a)
    return G_SOURCE_CONTINUE;

  g_mutex_lock (&p->lock);
  gboolean got_frame = a->got_frame;
  gint64 last = p->last_frame;
  g_mutex_unlock (&p->lock);

  gint64 now = g_get_monotonic_time ();
  /* A watchdog that runs late means this whole process was held up (CPU
   * starvation, SIGSTOP, a swapped-out page): the pictures that arrived
   * meanwhile are still waiting in our own threads, so the camera gets one
   * more round before its silence counts. */
  gboolean late = p->watchdog_last && now - p->watchdog_last > 2 * CORDON_WATCHDOG_MS * 1000;
  p->watchdog_last = now;
  if (late)
    return G_SOURCE_CONTINUE;
  cordon_supervisor_trim (a);
  /* Before its first word the worker is starting GStreamer; after it, it
   * sends a heartbeat four times a second. */
  gint64 quiet = a->hello ? CORDON_LOST_AFTER_MS : CORDON_CONNECT_TIMEOUT_MS;
  if (now - a->last_message > quiet * 1000) {
    g_autofree char *reason = g_strdup_printf ("the worker hangs: nothing from it for %" G_GINT64_FORMAT " ms",
                                               (now - a->last_message) / 1000);
    g_warning ("%s: worker %d: %s; killing it", p->camera->name, (int) a->pid, reason);
    cordon_pipeline_attempt_failed (p, a, reason);
  } else if (got_frame && now - last > CORDON_LOST_AFTER_MS * 1000) {
    cordon_pipeline_attempt_failed (p, a, "no video frames for 1 s");
  } else if (!got_frame && now - a->started > CORDON_CONNECT_TIMEOUT_MS * 1000) {
    g_autofree char *reason = a->status[0] ? g_strdup (a->status)
                                           : g_strdup_printf ("no picture within %d s", CORDON_CONNECT_TIMEOUT_MS / 1000);
    cordon_pipeline_attempt_failed (p, a, reason);
  }
  return G_SOURCE_CONTINUE;
}

/* ---- feeding the encoder (streaming threads) ---- */

void
cordon_pipeline_push_unstamped (GstAppSrc *src, GstBuffer *buffer)
{
  /* A shallow copy (memory shared) without time stamps: the receiving appsrc
   * stamps it on arrival in its own pipeline's clock. BUFFER is one cordon
   * made itself (handover.c, the NAL filter), so the only meta it can hold
   * is the video meta the daemon made for a padded picture, which the copy
   * keeps. */
  GstBuffer *copy = gst_buffer_copy (buffer);
  GST_BUFFER_PTS (copy) = GST_CLOCK_TIME_NONE;
  GST_BUFFER_DTS (copy) = GST_CLOCK_TIME_NONE;
  GST_BUFFER_DURATION (copy) = GST_CLOCK_TIME_NONE;
  gst_app_src_push_buffer (src, copy);
}

void
cordon_pipeline_feed (CordonPipeline *p, Feeder from, Attempt *in, GstBuffer *buffer)
{
  gboolean push;

  g_mutex_lock (&p->lock);
  if (from == FEED_CAMERA) {
    push = !in->retired;
    if (push) {
      p->frames_in++;
      p->last_frame = g_get_monotonic_time ();
      in->got_frame = TRUE;
      if (p->feeder != FEED_CAMERA) {
        /* Slate frames stop now; the main context catches up (state, slate
         * shutdown) when it runs. */
        p->feeder = FEED_CAMERA;
        if (!p->live_idle) {
          p->live_idle = g_idle_source_new ();
          g_source_set_callback (p->live_idle, go_live, p, NULL);
          g_source_attach (p->live_idle, p->context);
        }
      }
    }
  } else {
    push = p->feeder == FEED_SLATE;
  }
  g_mutex_unlock (&p->lock);
  if (!push)
    return;

  /* Pixels only: whatever the decoder or a filter attached to the picture
   * (caption, AFD, time code metas, flags, time stamps) stays behind, for
   * the encoder and the snapshots alike. The encoder's appsrc stamps the
   * picture on arrival, so camera and slate frames form one monotonic
   * timeline. */
  /* A camera picture is already a fresh buffer the supervisor made over
   * the worker's slot (handover.c, cordon_ring_lend): pixels by
   * construction. */
  g_autoptr (GstBuffer) pixels = from == FEED_CAMERA ? gst_buffer_ref (buffer)
                                                     : cordon_handover_pixels (&p->raw_info, buffer);
  if (!pixels) {
    g_mutex_lock (&p->lock);
    gboolean first = p->dropped_handover++ == 0;
    g_mutex_unlock (&p->lock);
    if (first)
      g_warning ("%s: a %s picture of %" G_GSIZE_FORMAT " bytes is no %ux%u I420 picture; dropped (counted in frames_dropped)",
                 p->camera->name, from == FEED_CAMERA ? "camera" : "slate", gst_buffer_get_size (buffer),
                 p->camera->width, p->camera->height);
    return;
  }
  g_mutex_lock (&p->lock);
  gst_buffer_replace (&p->last_raw, pixels);
  g_mutex_unlock (&p->lock);
  cordon_output_encode (p, pixels);
}

void
cordon_pipeline_push_audio (CordonPipeline *p, Attempt *in, GstBuffer *buffer)
{
  g_autoptr (GPtrArray) targets = g_ptr_array_new_with_free_func (gst_object_unref);

  g_mutex_lock (&p->lock);
  if (!in->retired)
    for (guint i = 0; i < p->audio_consumers->len; i++)
      g_ptr_array_add (targets, gst_object_ref (p->audio_consumers->pdata[i]));
  g_mutex_unlock (&p->lock);
  if (targets->len == 0)
    return;

  /* Sample bytes only, as for the pictures. */
  g_autoptr (GstBuffer) samples = cordon_handover_samples (buffer);
  for (guint i = 0; samples && i < targets->len; i++)
    cordon_pipeline_push_unstamped (targets->pdata[i], samples);
}

/* ---- public API ---- */

CordonPipeline *
cordon_pipeline_new (CordonCamera *camera, GError **error)
{
  g_autoptr (CordonPipeline) p = g_new0 (CordonPipeline, 1);

  g_return_val_if_fail (camera != NULL, NULL);
  g_mutex_init (&p->lock);
  p->camera = cordon_camera_ref (camera);
  p->context = g_main_context_ref_thread_default ();
  p->consumers = g_ptr_array_new_with_free_func ((GDestroyNotify) cordon_consumer_free);
  p->audio_consumers = g_ptr_array_new_with_free_func (gst_object_unref);
  p->encoder_count = g_atomic_rc_box_new0 (gint);
  p->backoff_s = 1;
  p->state = CORDON_CAMERA_CONNECTING;
  p->state_since = g_get_real_time ();
  p->snapshot = cordon_snapshot_new ();

  p->raw_caps = gst_caps_new_simple ("video/x-raw",
                                     "format", G_TYPE_STRING, "I420",
                                     "width", G_TYPE_INT, (int) camera->width,
                                     "height", G_TYPE_INT, (int) camera->height,
                                     "framerate", GST_TYPE_FRACTION, (int) camera->framerate, 1,
                                     "pixel-aspect-ratio", GST_TYPE_FRACTION, 1, 1, NULL);
  if (!gst_video_info_from_caps (&p->raw_info, p->raw_caps)) {
    g_set_error (error, CORDON_PIPELINE_ERROR, CORDON_PIPELINE_ERROR_FAILED,
                 "%s: cannot describe a %ux%u picture", camera->name, camera->width, camera->height);
    return NULL;
  }
  p->out_caps = gst_caps_new_simple ("video/x-h264",
                                     "stream-format", G_TYPE_STRING, "byte-stream",
                                     "alignment", G_TYPE_STRING, "au",
                                     "profile", G_TYPE_STRING, camera->profile,
                                     "width", G_TYPE_INT, (int) camera->width,
                                     "height", G_TYPE_INT, (int) camera->height,
                                     "framerate", GST_TYPE_FRACTION, (int) camera->framerate, 1, NULL);
  if (camera->audio)
    p->audio_caps = gst_caps_new_simple ("audio/x-alaw", "rate", G_TYPE_INT, 8000,
                                         "channels", G_TYPE_INT, 1, NULL);

  if (!cordon_output_build (p, error))
    return NULL;
  return g_steal_pointer (&p);
}

gboolean
cordon_pipeline_start (CordonPipeline *p, GError **error)
{
  if (p->running)
    return TRUE;
  if (gst_element_set_state (p->encode, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    gst_element_set_state (p->encode, GST_STATE_NULL);
    g_set_error (error, CORDON_PIPELINE_ERROR, CORDON_PIPELINE_ERROR_FAILED,
                 "%s: the encoder does not start", p->camera->name);
    return FALSE;
  }
  if (!cordon_output_sub_start (p)) {
    gst_element_set_state (p->encode, GST_STATE_NULL);
    g_set_error (error, CORDON_PIPELINE_ERROR, CORDON_PIPELINE_ERROR_FAILED,
                 "%s: the sub stream encoder does not start", p->camera->name);
    return FALSE;
  }
  p->running = TRUE;
  /* Something is on the output from the start, so a recorder that connects
   * while the camera is still being reached gets frames at once. */
  start_slate (p);
  g_message ("%s: connecting to %s port %u", p->camera->name, p->camera->host, p->camera->port);
  connect_camera (p);
  p->watchdog_last = 0;
  p->watchdog = add_timeout (p, CORDON_WATCHDOG_MS, watchdog);
  return TRUE;
}

void
cordon_pipeline_stop (CordonPipeline *p)
{
  g_autoptr (GPtrArray) consumers = NULL;
  g_autoptr (GPtrArray) audio = NULL;

  p->running = FALSE;
  clear_source (&p->watchdog);
  clear_source (&p->retry);
  g_mutex_lock (&p->lock);
  GSource *idle = g_steal_pointer (&p->live_idle);
  g_mutex_unlock (&p->lock);
  clear_source (&idle);

  retire_attempt (p);
  stop_slate (p);
  if (p->encode)
    gst_element_set_state (p->encode, GST_STATE_NULL);
  cordon_output_sub_stop (p);

  g_mutex_lock (&p->lock);
  p->feeder = FEED_NONE;
  consumers = g_steal_pointer (&p->consumers);
  p->consumers = g_ptr_array_new_with_free_func ((GDestroyNotify) cordon_consumer_free);
  audio = g_steal_pointer (&p->audio_consumers);
  p->audio_consumers = g_ptr_array_new_with_free_func (gst_object_unref);
  g_mutex_unlock (&p->lock);

  for (guint i = 0; i < consumers->len; i++)
    gst_app_src_end_of_stream (((Consumer *) consumers->pdata[i])->src);
  for (guint i = 0; i < audio->len; i++)
    gst_app_src_end_of_stream (audio->pdata[i]);
}

void
cordon_pipeline_free (CordonPipeline *p)
{
  if (!p)
    return;
  cordon_pipeline_stop (p);
  clear_source (&p->encode_watch);
  clear_source (&p->slate_watch);
  if (p->slate)
    gst_element_set_state (p->slate, GST_STATE_NULL);
  gst_clear_object (&p->slate);
  if (p->encode)
    gst_element_set_state (p->encode, GST_STATE_NULL);
  gst_clear_object (&p->encode);
  cordon_output_sub_free (p);
  if (p->encoder_count)
    g_atomic_rc_box_release (p->encoder_count);
  gst_clear_caps (&p->raw_caps);
  gst_clear_caps (&p->out_caps);
  gst_clear_caps (&p->audio_caps);
  g_clear_pointer (&p->consumers, g_ptr_array_unref);
  g_clear_pointer (&p->audio_consumers, g_ptr_array_unref);
  g_free (p->last_error);
  gst_clear_buffer (&p->last_raw);
  gst_clear_buffer (&p->slate_picture);
  g_clear_pointer (&p->snapshot, cordon_snapshot_free);
  g_clear_pointer (&p->camera, cordon_camera_unref);
  g_clear_pointer (&p->context, g_main_context_unref);
  g_mutex_clear (&p->skip.send);
  g_mutex_clear (&p->lock);
  g_free (p);
}

const CordonCamera *
cordon_pipeline_get_camera (CordonPipeline *p)
{
  return p->camera;
}

GstCaps *
cordon_pipeline_get_caps (CordonPipeline *p)
{
  return gst_caps_ref (p->out_caps);
}

/* Adds SRC to *CONSUMERS (under p->lock: cordon_pipeline_stop() replaces
 * the array); FALSE if it was there already. */
gboolean
cordon_consumers_add (CordonPipeline *p, GPtrArray **consumers, GstAppSrc *src)
{
  gboolean added = TRUE;

  g_mutex_lock (&p->lock);
  for (guint i = 0; i < (*consumers)->len; i++)
    if (((Consumer *) (*consumers)->pdata[i])->src == src)
      added = FALSE;
  if (added) {
    Consumer *c = g_new0 (Consumer, 1);
    c->src = gst_object_ref (src);
    g_ptr_array_add (*consumers, c);
  }
  g_mutex_unlock (&p->lock);
  return added;
}

void
cordon_consumers_remove (CordonPipeline *p, GPtrArray **consumers, GstAppSrc *src)
{
  g_mutex_lock (&p->lock);
  for (guint i = 0; i < (*consumers)->len; i++)
    if (((Consumer *) (*consumers)->pdata[i])->src == src) {
      g_ptr_array_remove_index (*consumers, i);
      break;
    }
  g_mutex_unlock (&p->lock);
}

void
cordon_pipeline_attach (CordonPipeline *p, GstAppSrc *src)
{
  if (cordon_consumers_add (p, &p->consumers, src))
    cordon_encoder_keyframe (p->encoder);
}

void
cordon_pipeline_detach (CordonPipeline *p, GstAppSrc *src)
{
  cordon_consumers_remove (p, &p->consumers, src);
}

GstCaps *
cordon_pipeline_get_audio_caps (CordonPipeline *p)
{
  return p->audio_caps ? gst_caps_ref (p->audio_caps) : NULL;
}

void
cordon_pipeline_attach_audio (CordonPipeline *p, GstAppSrc *src)
{
  g_return_if_fail (p->audio_caps != NULL);
  g_mutex_lock (&p->lock);
  if (!g_ptr_array_find (p->audio_consumers, src, NULL))
    g_ptr_array_add (p->audio_consumers, gst_object_ref (src));
  g_mutex_unlock (&p->lock);
}

void
cordon_pipeline_detach_audio (CordonPipeline *p, GstAppSrc *src)
{
  g_mutex_lock (&p->lock);
  g_ptr_array_remove (p->audio_consumers, src);
  g_mutex_unlock (&p->lock);
}

void
cordon_encoder_keyframe (GstElement *encoder)
{
  g_autoptr (GstPad) pad = gst_element_get_static_pad (encoder, "src");
  /* Upstream into the encoder; all-headers so SPS/PPS come with it. */
  gst_pad_send_event (pad, gst_video_event_new_upstream_force_key_unit (GST_CLOCK_TIME_NONE, TRUE, 0));
}

void
cordon_pipeline_request_keyframe (CordonPipeline *p)
{
  cordon_encoder_keyframe (p->encoder);
  if (p->sub)
    cordon_encoder_keyframe (p->sub->encoder);
}

void
cordon_pipeline_set_state_func (CordonPipeline *p, CordonPipelineStateFunc func, gpointer user_data)
{
  p->state_func = func;
  p->state_data = user_data;
}

void
cordon_pipeline_get_stats (CordonPipeline *p, CordonPipelineStats *stats)
{
  memset (stats, 0, sizeof *stats);
  g_mutex_lock (&p->lock);
  stats->state = p->state;
  stats->state_since = p->state_since;
  stats->reconnects = p->reconnects;
  stats->input_codec = p->input_codec;
  stats->input_width = p->input_width;
  stats->input_height = p->input_height;
  stats->frames_in = p->frames_in;
  stats->frames_out = p->frames_out;
  stats->frames_dropped = p->dropped_closed + p->dropped_encoder + p->dropped_handover
                          + p->dropped_egress;
  stats->nal_units_dropped = p->nal_dropped;
  stats->bytes_out = p->bytes_out;
  stats->last_frame_age_ms = p->last_frame ? (g_get_monotonic_time () - p->last_frame) / 1000 : -1;
  stats->last_error = g_strdup (p->last_error);
  stats->frames_rate_dropped = p->rate_closed;
  if (p->attempt) {
    stats->frames_dropped += p->attempt->gaps;
    stats->frames_rate_dropped += p->attempt->rate_gaps;
  }
  stats->handover_us = p->handover_ns / 1000;
  g_mutex_unlock (&p->lock);

  stats->encoders = g_atomic_int_get (p->encoder_count);
}

void
cordon_pipeline_stats_clear (CordonPipelineStats *stats)
{
  g_clear_pointer (&stats->last_error, g_free);
}
