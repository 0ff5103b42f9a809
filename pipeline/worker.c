/* cordon-worker — one camera's ingest, confined.
 *
 * The same binary is the launcher (`cordon-worker --launcher`,
 * launcher-server.c): it initialises GStreamer and loads the plugins the
 * chain can need, once, then forks each camera's worker with three
 * descriptors (worker.h). The worker reads its camera's parameters, enters
 * its jail (jail.c), and only then runs ingest.c's chain against the camera.
 * Decoded pictures go into the shared slots; one fixed-size message
 * announces each (handover.h). Any failure ends the process: the daemon
 * starts a new one.
 */
#define _GNU_SOURCE
#define G_LOG_DOMAIN "cordon-worker"

#include "ring.h"
#include "jail.h"
#include "launcher.h"
#include "pipeline-private.h"
#include "rtsp-guard.h"
#include "slotpool.h"
#include "decoder.h"
#include "worker.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define HEARTBEAT_MS 250

/* Everything ingest.c can make; nothing else is ever loaded. */
static const char *const plugins[] = {
  "coreelements", "app", "rtsp", "rtp", "rtpmanager", "udp", "videoparsersbad", "libav", "jpeg",
  "videoconvertscale", "videorate", "alaw", "mulaw", "audioconvert", "audioresample", "audioparsers",
};

typedef struct {
  CordonPipeline *p;
  Ingest *in;
  int control;
  guint8 *ring;
  gsize slot_size;
  guint n_slots;
  CordonSlots *slots; /* the slots, and which of them the daemon holds */
  /* under p->lock: */
  guint64 seq;           /* pictures sent or left out by videorate: gaps the daemon sees are drops */
  guint64 rate_reported; /* videorate's drops counted in seq so far */
  guint64 rate_unsent;   /* of those, not yet in a picture's detail (that picture had no slot) */
} Worker;

static Worker w;

static void
send_msg (CordonMsgType type, guint slot, guint64 seq, CordonPictureLayout layout, CordonWorkerCode code,
          guint32 detail, const char *text)
{
  CordonWorkerMsg m;
  cordon_worker_msg_init (&m, type, slot, seq, 0);
  m.layout = (guint16) layout;
  m.code = code;
  m.detail = detail;
  if (w.p) {
    g_mutex_lock (&w.p->lock);
    m.codec = cordon_codec_from_name (w.p->input_codec);
    m.input_width = w.p->input_width;
    m.input_height = w.p->input_height;
    g_mutex_unlock (&w.p->lock);
  }
  if (text)
    g_strlcpy (m.text, text, sizeof m.text);
  /* Last: the daemon checks that time stamps never go back. */
  m.time_ns = cordon_handover_now_ns ();
  if (send (w.control, &m, sizeof m, MSG_NOSIGNAL) < 0 && errno == EPIPE)
    _exit (0);
}

static void G_GNUC_NORETURN
fail_and_exit (CordonWorkerCode code, const char *text)
{
  send_msg (CORDON_MSG_FAILED, 0, 0, CORDON_LAYOUT_STANDARD, code, 0, text);
  /* No teardown: the process ends, the kernel closes the camera's socket. */
  _exit (0);
}

/* Streaming thread (ingest.c's appsink). */
void
cordon_worker_picture (Ingest *in, GstBuffer *buffer)
{
  CordonPipeline *p = in->p;
  guint64 rate_drops = cordon_ingest_rate_drops (in);

  /* The pictures videorate left out since the last one skip sequence
   * numbers, so the daemon counts them with its own drops (a gap), and
   * DETAIL says how many of the gap they are. */
  g_mutex_lock (&p->lock);
  in->got_frame = TRUE;
  p->frames_in++;
  guint64 fresh = rate_drops > w.rate_reported ? rate_drops - w.rate_reported : 0;
  w.rate_reported = rate_drops;
  w.rate_unsent += fresh;
  w.seq += 1 + fresh;
  guint64 seq = w.seq;
  g_mutex_unlock (&p->lock);
  /* Most pictures are in a slot already (the decoder or scaler wrote them
   * there); the rest are copied into one. With every slot held by the
   * daemon, the picture is dropped: the daemon sees the gap in the
   * sequence. */
  CordonPictureLayout layout;
  int slot = cordon_slots_lease (w.slots, buffer, &layout);
  if (slot < 0)
    return;
  g_mutex_lock (&p->lock);
  guint32 detail = (guint32) MIN (w.rate_unsent, G_MAXUINT32);
  w.rate_unsent -= detail;
  g_mutex_unlock (&p->lock);
  send_msg (CORDON_MSG_PICTURE, (guint) slot, seq, layout, CORDON_WORKER_OK, detail, NULL);
}

/* Streaming thread: ingest.c's video appsink offers the slots upstream. */
gboolean
cordon_worker_propose_allocation (Ingest *in, GstQuery *query)
{
  g_autoptr (GstBufferPool) pool = cordon_slots_propose (w.slots, query);
  return pool != NULL;
}

void
cordon_worker_audio (Ingest *in, GstBuffer *buffer)
{
  GstMapInfo map;
  if (!gst_buffer_map (buffer, &map, GST_MAP_READ))
    return;
  for (gsize off = 0; off < map.size; off += CORDON_HANDOVER_AUDIO_MAX) {
    CordonAudioMsg a;
    memset (&a, 0, sizeof a);
    a.magic = CORDON_HANDOVER_MAGIC;
    a.type = CORDON_MSG_AUDIO;
    a.length = (guint16) MIN (map.size - off, CORDON_HANDOVER_AUDIO_MAX);
    memcpy (a.data, map.data + off, a.length);
    send (w.control, &a, sizeof a, MSG_NOSIGNAL | MSG_DONTWAIT);
  }
  gst_buffer_unmap (buffer, &map);
}

static gboolean
on_control (int fd, GIOCondition cond, gpointer data)
{
  CordonReleaseMsg r;
  ssize_t n = recv (fd, &r, sizeof r, MSG_DONTWAIT);
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
    _exit (0); /* the daemon is gone or let go of us */
  if (n != (ssize_t) sizeof r || r.slot >= w.n_slots)
    return G_SOURCE_CONTINUE;
  if (r.magic == CORDON_HANDOVER_MAGIC)
    cordon_slots_release (w.slots, r.slot);
  else if (r.magic == CORDON_HANDOVER_TRIM_MAGIC)
    cordon_slots_trim (w.slots, r.slot);
  return G_SOURCE_CONTINUE;
}

static gboolean
heartbeat (gpointer data)
{
  g_mutex_lock (&w.p->lock);
  gboolean got_frame = w.in->got_frame;
  g_mutex_unlock (&w.p->lock);
  g_autofree char *why = NULL;
  if (!got_frame) {
    cordon_ingest_find_socket (w.in);
    why = cordon_ingest_describe_silence (w.in);
  }
  send_msg (CORDON_MSG_STATUS, 0, 0, CORDON_LAYOUT_STANDARD, CORDON_WORKER_OK, 0, why);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_bus (GstBus *bus, GstMessage *msg, gpointer data)
{
  switch (GST_MESSAGE_TYPE (msg)) {
  case GST_MESSAGE_ERROR: {
    g_autofree char *reason = cordon_ingest_describe_error (w.in, msg);
    g_mutex_lock (&w.p->lock);
    gboolean refused = w.in->violation != NULL;
    g_mutex_unlock (&w.p->lock);
    fail_and_exit (refused ? CORDON_WORKER_REFUSED : CORDON_WORKER_CAMERA, reason);
  }
  case GST_MESSAGE_EOS:
    fail_and_exit (CORDON_WORKER_CAMERA, "the camera ended the stream");
  default:
    break;
  }
  return G_SOURCE_CONTINUE;
}

static CordonCamera *
read_params (GKeyFile *kf, guint *slots, gsize *slot_size, int *daemon_pid, GError **error)
{
  g_autofree char *text = NULL;
  GString *buf = g_string_new (NULL);
  char chunk[4096];
  ssize_t n;

  while ((n = read (CORDON_WORKER_FD_PARAMS, chunk, sizeof chunk)) > 0 && buf->len < 65536)
    g_string_append_len (buf, chunk, n);
  close (CORDON_WORKER_FD_PARAMS);
  text = g_string_free (buf, FALSE);
  if (!g_key_file_load_from_data (kf, text, -1, G_KEY_FILE_NONE, error))
    return NULL;
  /* The text held the password; do not leave it lying in the heap. */
  explicit_bzero (text, strlen (text));

  const char *g = CORDON_WORKER_GROUP;
  g_autoptr (CordonCamera) cam = g_new0 (CordonCamera, 1);
  cam->refcount = 1;
  cam->name = g_key_file_get_string (kf, g, "name", NULL);
  cam->url = g_key_file_get_string (kf, g, "url", NULL);
  cam->host = g_key_file_get_string (kf, g, "host", NULL);
  cam->port = (guint16) g_key_file_get_integer (kf, g, "port", NULL);
  cam->username = g_key_file_get_string (kf, g, "username", NULL);
  cam->password = g_key_file_get_string (kf, g, "password", NULL);
  cam->width = (guint) g_key_file_get_integer (kf, g, "width", NULL);
  cam->height = (guint) g_key_file_get_integer (kf, g, "height", NULL);
  cam->framerate = (guint) g_key_file_get_integer (kf, g, "framerate", NULL);
  cam->audio = g_key_file_get_boolean (kf, g, "audio", NULL);
  cam->allow_basic = g_key_file_get_boolean (kf, g, "allow-basic", NULL);
  cam->max_input_width = (guint) g_key_file_get_integer (kf, g, "max-input-width", NULL);
  cam->max_input_height = (guint) g_key_file_get_integer (kf, g, "max-input-height", NULL);
  cam->max_input_framerate = (guint) g_key_file_get_integer (kf, g, "max-input-framerate", NULL);
  cam->address = cam->host ? g_inet_address_new_from_string (cam->host) : NULL;
  *slots = (guint) g_key_file_get_integer (kf, g, "slots", NULL);
  *slot_size = (gsize) g_key_file_get_uint64 (kf, g, "slot-size", NULL);
  *daemon_pid = g_key_file_get_integer (kf, g, "daemon-pid", NULL);
  g_key_file_remove_key (kf, g, "password", NULL);
  if (!cam->name || !cam->url || !cam->address || !cam->width || !cam->height || !cam->framerate || *slots == 0
      || *slots > CORDON_HANDOVER_SLOTS
      || *slot_size != cordon_handover_slot_size (cam->width, cam->height)) {
    g_set_error (error, CORDON_PIPELINE_ERROR, CORDON_PIPELINE_ERROR_FAILED, "incomplete worker parameters");
    return NULL;
  }
  return g_steal_pointer (&cam);
}

static gboolean
load_plugins (GError **error)
{
  for (guint i = 0; i < G_N_ELEMENTS (plugins); i++) {
    g_autofree char *file = g_strdup_printf ("%s/libgst%s.so", CORDON_GST_PLUGINS_DIR, plugins[i]);
    g_autoptr (GError) local = NULL;
    GstPlugin *plugin = gst_plugin_load_file (file, &local);
    if (!plugin) {
      /* Optional codecs may be missing; cordon_make names the element later. */
      g_debug ("plugin %s: %s", plugins[i], local->message);
      continue;
    }
    gst_object_unref (plugin);
  }
  return TRUE;
}

static CordonPipeline *
pipeline_for (CordonCamera *cam)
{
  CordonPipeline *p = g_new0 (CordonPipeline, 1);
  g_mutex_init (&p->lock);
  p->camera = cam;
  p->context = g_main_context_ref_thread_default ();
  p->raw_caps = gst_caps_new_simple ("video/x-raw",
                                     "format", G_TYPE_STRING, "I420",
                                     "width", G_TYPE_INT, (int) cam->width,
                                     "height", G_TYPE_INT, (int) cam->height,
                                     "framerate", GST_TYPE_FRACTION, (int) cam->framerate, 1,
                                     "pixel-aspect-ratio", GST_TYPE_FRACTION, 1, 1, NULL);
  gst_video_info_from_caps (&p->raw_info, p->raw_caps);
  return p;
}

/* A camera's worker, forked by the launcher with its descriptors on 3, 4, 5
 * and GStreamer already initialised with every plugin loaded. */
static int
worker_main (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  int daemon_pid = 0;
  struct stat st;

  w.control = CORDON_WORKER_FD_CONTROL;
  if (fstat (CORDON_WORKER_FD_CONTROL, &st) < 0 || !S_ISSOCK (st.st_mode) || fstat (CORDON_WORKER_FD_RING, &st) < 0
      || fstat (CORDON_WORKER_FD_PARAMS, &st) < 0)
    _exit (2);
  CordonCamera *cam = read_params (kf, &w.n_slots, &w.slot_size, &daemon_pid, &error);
  if (!cam)
    fail_and_exit (CORDON_WORKER_INTERNAL, error->message);

  if (fstat (CORDON_WORKER_FD_RING, &st) < 0 || (gsize) st.st_size != w.n_slots * w.slot_size)
    fail_and_exit (CORDON_WORKER_INTERNAL, "the picture ring has the wrong size");
  w.ring = mmap (NULL, w.n_slots * w.slot_size, PROT_READ | PROT_WRITE, MAP_SHARED, CORDON_WORKER_FD_RING, 0);
  if (w.ring == MAP_FAILED)
    fail_and_exit (CORDON_WORKER_INTERNAL, "cannot map the picture ring");
  close (CORDON_WORKER_FD_RING);

  CordonJailSpec spec = { .camera_port = cam->port, .report_fd = w.control,
                          .limit_tasks = g_key_file_get_boolean (kf, CORDON_WORKER_GROUP, "own-uid", NULL) };
  CordonJailReport report;
  if (!cordon_jail_enter (&spec, &report, &error))
    fail_and_exit (CORDON_WORKER_INTERNAL, error->message);
  /* Still our own code, before any byte from the camera: the daemon may log it. */
  g_autofree char *jail = g_strdup_printf ("jail: landlock abi %d%s%s, seccomp %s", report.landlock_abi,
                                           report.landlock_net ? " (tcp port)" : "",
                                           report.landlock_signal ? " (signal scope)" : "",
                                           report.seccomp ? "on" : "off");
  send_msg (CORDON_MSG_STATUS, 0, 0, CORDON_LAYOUT_STANDARD, CORDON_WORKER_OK, 0, jail);

#ifdef CORDON_HOSTILE_WORKER
  CordonHostileEnv env = { w.control, w.ring, w.slot_size, w.n_slots, cam->url, cam->host, cam->port, daemon_pid };
  if (cordon_hostile_run (&env))
    _exit (0);
#endif

  w.p = pipeline_for (cam);
  w.slots = cordon_slots_new (w.ring, w.n_slots, w.slot_size, &w.p->raw_info);
  if (!w.slots)
    fail_and_exit (CORDON_WORKER_INTERNAL, "the picture slots do not fit the picture size");
  w.in = cordon_ingest_new (w.p, &error);
  if (!w.in)
    fail_and_exit (CORDON_WORKER_INTERNAL, error->message);
  g_autoptr (GstBus) bus = gst_element_get_bus (w.in->pipeline);
  gst_bus_add_watch (bus, on_bus, NULL);
  g_unix_fd_add (w.control, G_IO_IN | G_IO_HUP | G_IO_ERR, on_control, NULL);
  g_timeout_add (HEARTBEAT_MS, heartbeat, NULL);
  if (gst_element_set_state (w.in->pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    fail_and_exit (CORDON_WORKER_CAMERA, "the RTSP client does not start");

  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_main_loop_run (loop);
  return 0;
}

/* What every worker needs before its jail and before any camera byte, done
 * once in the launcher, whose forks inherit it. */
static gboolean
preload (GError **error)
{
  gst_init (NULL, NULL);
  /* Before the rtsp plugin loads: it collects its extensions then. */
  if (!cordon_rtsp_guard_register ()) {
    g_set_error (error, CORDON_PIPELINE_ERROR, CORDON_PIPELINE_ERROR_FAILED, "cannot register the RTSP guard");
    return FALSE;
  }
  load_plugins (NULL);
  if (!cordon_decoder_register ()) {
    g_set_error (error, CORDON_PIPELINE_ERROR, CORDON_PIPELINE_ERROR_FAILED, "cannot register the decoder");
    return FALSE;
  }
  /* GIO's resolver and proxy defaults, now, while files can still be read:
   * direct connections and no name lookups (rtsp-guard.c). */
  if (!cordon_rtsp_guard_direct_only ()) {
    g_set_error (error, CORDON_PIPELINE_ERROR, CORDON_PIPELINE_ERROR_FAILED, "GIO would not connect directly");
    return FALSE;
  }
  /* Nothing of the above may start a thread: every worker is forked from
   * here, and a fork keeps only the calling thread. */
  int threads = cordon_jail_count_threads ();
  if (threads != 1) {
    g_set_error (error, CORDON_PIPELINE_ERROR, CORDON_PIPELINE_ERROR_FAILED,
                 "loading the plugins left %d threads; workers cannot be forked", threads);
    return FALSE;
  }
  return TRUE;
}

/* cordon-worker --launcher ...: the launcher (launcher-server.c), which
 * returns in each camera's worker. Nothing else starts this binary. */
int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;

  if (argc < 2 || strcmp (argv[1], CORDON_LAUNCHER_ARG) != 0) {
    g_printerr ("cordon-worker: started by the cordon daemon only\n");
    return 2;
  }
  if (!cordon_launcher_server_init (argc, argv, &error) || !preload (&error)) {
    g_printerr ("cordon-worker: %s\n", error->message);
    return 1;
  }
  cordon_launcher_serve ();
  return worker_main ();
}
