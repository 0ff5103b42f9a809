/* cordon — the daemon's side of one ingest worker: start it, read what it
 * says (through cordon_handover_check() only), lend its pictures to the
 * encoder straight from their slots (handover.h), and end it. A worker is
 * assumed hostile: any protocol error kills it. */
#define _GNU_SOURCE
#define G_LOG_DOMAIN "cordon-pipeline"

#include "handover.h"
#include "jail.h"
#include "pipeline-private.h"
#include "worker.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <string.h>
#include <sys/mman.h> /* memfd_create */
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_PER_WAKEUP 64

static int
sealed_memfd (const char *name, gsize size, const char *data, GError **error)
{
  int fd = memfd_create (name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0 || ftruncate (fd, (off_t) size) < 0)
    goto fail;
  if (data && pwrite (fd, data, size, 0) != (ssize_t) size)
    goto fail;
  /* The size never changes under the daemon's mapping; the parameters not at
   * all. */
  int seals = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL | (data ? F_SEAL_WRITE : 0);
  if (fcntl (fd, F_ADD_SEALS, seals) < 0)
    goto fail;
  return fd;
fail:
  g_set_error (error, CORDON_PIPELINE_ERROR, CORDON_PIPELINE_ERROR_FAILED, "%s: %s", name, g_strerror (errno));
  if (fd >= 0)
    close (fd);
  return -1;
}

static char *
params_for (CordonPipeline *p, guint slots, gsize slot_size)
{
  const CordonCamera *cam = p->camera;
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  const char *g = CORDON_WORKER_GROUP;
  g_key_file_set_string (kf, g, "name", cam->name);
  g_key_file_set_string (kf, g, "url", cam->url);
  g_key_file_set_string (kf, g, "host", cam->host);
  g_key_file_set_integer (kf, g, "port", cam->port);
  if (cam->username) {
    g_key_file_set_string (kf, g, "username", cam->username);
    g_key_file_set_string (kf, g, "password", cam->password ? cam->password : "");
  }
  g_key_file_set_integer (kf, g, "width", (int) cam->width);
  g_key_file_set_integer (kf, g, "height", (int) cam->height);
  g_key_file_set_integer (kf, g, "framerate", (int) cam->framerate);
  g_key_file_set_boolean (kf, g, "audio", cam->audio);
  g_key_file_set_boolean (kf, g, "allow-basic", cam->allow_basic);
  g_key_file_set_integer (kf, g, "max-input-width", (int) cam->max_input_width);
  g_key_file_set_integer (kf, g, "max-input-height", (int) cam->max_input_height);
  g_key_file_set_integer (kf, g, "max-input-framerate", (int) cam->max_input_framerate);
  g_key_file_set_integer (kf, g, "slots", (int) slots);
  g_key_file_set_uint64 (kf, g, "slot-size", slot_size);
  g_key_file_set_integer (kf, g, "daemon-pid", getpid ());
  g_key_file_set_boolean (kf, g, "own-uid", cordon_launcher_own_uids ());
  return g_key_file_to_data (kf, NULL, NULL);
}

static void
kill_for (Attempt *a, const char *why)
{
  g_warning ("%s: worker %d %s; killing it", a->p->camera->name, (int) a->pid, why);
  cordon_launcher_kill (a->pid);
}

/* The camera's state for /status and the log, from the fixed fields. */
static void
note_camera (Attempt *a, const CordonHandoverEvent *ev)
{
  CordonPipeline *p = a->p;
  g_mutex_lock (&p->lock);
  if (!a->retired) {
    p->input_codec = cordon_codec_name (ev->codec);
    p->input_width = ev->input_width;
    p->input_height = ev->input_height;
  }
  g_mutex_unlock (&p->lock);
}

static void
picture (Attempt *a, const CordonHandoverEvent *ev)
{
  CordonPipeline *p = a->p;
  /* No copy: the encoder reads the slot itself, and the slot goes back to
   * the worker when the last user of the picture lets go. The worker can
   * still scribble over it meanwhile, but only its pixel values: the size,
   * layout and everything else about the buffer are ours. */
  g_autoptr (GstBuffer) buffer = cordon_ring_lend (a->ring, ev->slot, &p->raw_info, ev->layout);
  if (!buffer)
    return;

  note_camera (a, ev);
  gint64 latency = cordon_handover_now_ns () - ev->time_ns;
  g_mutex_lock (&p->lock);
  p->handover_ns = p->handover_ns ? (p->handover_ns * 15 + latency) / 16 : latency;
  g_mutex_unlock (&p->lock);
  cordon_pipeline_feed (p, FEED_CAMERA, a, buffer);
}

static void
status (Attempt *a, const CordonHandoverEvent *ev)
{
  CordonPipeline *p = a->p;
  if (!a->hello) {
    a->hello = TRUE;
    /* The first message comes before the worker has read a byte from the
     * camera; still sanitised like the rest. */
    g_message ("%s: worker %d started (%s)", p->camera->name, (int) a->pid, ev->text);
    return;
  }
  g_strlcpy (a->status, ev->text, sizeof a->status);
  note_camera (a, ev);
}

static char *
failure_reason (Attempt *a, const CordonHandoverEvent *ev)
{
  switch (ev->code) {
  case CORDON_WORKER_SECCOMP: {
    const char *name = cordon_jail_syscall_name ((int) ev->detail);
    return g_strdup_printf ("the worker was stopped by its jail: forbidden system call %s (%u)",
                            name ? name : "?", ev->detail);
  }
  case CORDON_WORKER_INTERNAL:
    return g_strdup_printf ("the worker could not start: %s", ev->text);
  case CORDON_WORKER_REFUSED:
    /* The worker's own log goes nowhere: the refusal is logged here. */
    g_message ("%s: refusing the camera: %s", a->p->camera->name, ev->text);
    return g_strdup (ev->text);
  default:
    return g_strdup (ev->text[0] ? ev->text : "the camera failed");
  }
}

/* Main context. FALSE: the attempt is over (the caller returns at once). */
static gboolean
handle (Attempt *a, const void *data, gsize len)
{
  CordonHandoverEvent ev;
  const char *why;
  gint64 now = cordon_handover_now_ns ();

  if (now - a->window_start > 1000000000) {
    a->window_start = now;
    a->window_count = 0;
  }
  /* Pictures at the output rate, heartbeats, audio: anything far beyond is
   * a worker trying to starve the main loop. */
  if (++a->window_count > 10 * a->p->camera->framerate + 400) {
    kill_for (a, "floods its socket");
    cordon_pipeline_attempt_failed (a->p, a, "protocol violation: message flood");
    return FALSE;
  }
  if (!cordon_ring_check (a->ring, data, len, now, &ev, &why)) {
    g_autofree char *reason = g_strdup_printf ("protocol violation: %s", why);
    kill_for (a, reason);
    cordon_pipeline_attempt_failed (a->p, a, reason);
    return FALSE;
  }
  a->last_message = g_get_monotonic_time ();
  switch (ev.type) {
  case CORDON_MSG_PICTURE:
    a->gaps += ev.seq - a->last_seq - 1;
    a->rate_gaps += ev.detail;
    a->last_seq = ev.seq;
    picture (a, &ev);
    break;
  case CORDON_MSG_STATUS:
    status (a, &ev);
    break;
  case CORDON_MSG_AUDIO: {
    GstBuffer *buffer = gst_buffer_new_memdup (ev.audio, ev.audio_len);
    cordon_pipeline_push_audio (a->p, a, buffer);
    gst_buffer_unref (buffer);
    break;
  }
  case CORDON_MSG_FAILED: {
    g_autofree char *reason = failure_reason (a, &ev);
    a->failed = TRUE;
    cordon_launcher_kill (a->pid);
    cordon_pipeline_attempt_failed (a->p, a, reason);
    return FALSE;
  }
  }
  return TRUE;
}

static gboolean
readable (int fd, GIOCondition cond, gpointer data)
{
  Attempt *a = data;
  /* Room for one message more than the largest we accept, so that an
   * oversized one shows as oversized. */
  union { CordonWorkerMsg m; CordonAudioMsg audio; guint8 bytes[sizeof (CordonAudioMsg) + 1]; } buf;

  for (int i = 0; i < MAX_PER_WAKEUP; i++) {
    ssize_t n = recv (fd, &buf, sizeof buf, MSG_DONTWAIT | MSG_TRUNC);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
      return G_SOURCE_CONTINUE;
    if (n <= 0) {
      cordon_launcher_kill (a->pid);
      cordon_pipeline_attempt_failed (a->p, a, "the worker exited without saying why");
      return G_SOURCE_REMOVE;
    }
    if (!handle (a, &buf, MIN ((gsize) n, sizeof buf)))
      return G_SOURCE_REMOVE;
  }
  return G_SOURCE_CONTINUE;
}

Attempt *
cordon_supervisor_spawn (CordonPipeline *p, GError **error)
{
  const CordonCamera *cam = p->camera;
  gsize slot_size = cordon_handover_slot_size (cam->width, cam->height);
  guint slots = cordon_handover_slot_count (cam->framerate, CORDON_ENCODER_QUEUE_MS);
  int sv[2] = { -1, -1 };

  g_autofree char *params = params_for (p, slots, slot_size);
  int params_fd = sealed_memfd ("cordon-worker-params", strlen (params), params, error);
  explicit_bzero (params, strlen (params));
  if (params_fd < 0)
    return NULL;
  int ring_fd = sealed_memfd ("cordon-picture-ring", slots * slot_size, NULL, error);
  if (ring_fd < 0) {
    close (params_fd);
    return NULL;
  }
  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
    g_set_error (error, CORDON_PIPELINE_ERROR, CORDON_PIPELINE_ERROR_FAILED, "picture hand-over: %s",
                 g_strerror (errno));
    close (params_fd);
    close (ring_fd);
    return NULL;
  }
  g_autoptr (CordonRing) ring = cordon_ring_new (ring_fd, slots, slot_size, sv[0], error);
  if (!ring) {
    close (params_fd);
    close (ring_fd);
    close (sv[0]);
    close (sv[1]);
    return NULL;
  }
  int fds[3] = { sv[1], ring_fd, params_fd };
  guint uid = cordon_launcher_own_uids () ? cam->worker_uid : 0;
  pid_t pid = cordon_launcher_spawn (cam->name, uid, fds, error);
  close (sv[1]);
  close (ring_fd);
  close (params_fd);
  if (!pid) {
    cordon_ring_detach (ring);
    close (sv[0]);
    return NULL;
  }

  Attempt *a = g_new0 (Attempt, 1);
  a->p = p;
  a->pid = pid;
  a->control = sv[0];
  a->ring = g_steal_pointer (&ring);
  a->started = a->last_message = g_get_monotonic_time ();
  a->watch = g_unix_fd_source_new (a->control, G_IO_IN | G_IO_HUP | G_IO_ERR);
  g_source_set_callback (a->watch, (GSourceFunc) (void (*) (void)) readable, a, NULL);
  g_source_attach (a->watch, p->context);
  return a;
}

/* Main context: has the worker give back the pages of slots unused for
 * CORDON_RING_IDLE_S (after a burst it is back to its few lowest). */
void
cordon_supervisor_trim (Attempt *a)
{
  cordon_ring_trim (a->ring, cordon_handover_now_ns (), CORDON_RING_IDLE_S * G_GINT64_CONSTANT (1000000000));
}

/* Main context: the worker is killed (if still there) and forgotten.
 * Pictures still lent out of its ring stay valid; releasing them later
 * sends nothing. */
void
cordon_supervisor_free (Attempt *a)
{
  if (!a)
    return;
  cordon_launcher_kill (a->pid);
  if (a->watch) {
    g_source_destroy (a->watch);
    g_source_unref (a->watch);
  }
  cordon_ring_detach (a->ring);
  close (a->control);
  cordon_ring_unref (a->ring);
  g_free (a);
}
