/* A compromised ingest worker, for tests only (-Dhostile_worker=true builds
 * cordon-worker-hostile; it is never installed). It runs after the jail is
 * in place, exactly where the real worker would start reading its camera,
 * and does what the camera URL's path asks:
 *
 *   /hostile/garbage        random bytes of random sizes as messages
 *   /hostile/oversized      a message larger than any the daemon accepts
 *   /hostile/badslot        a picture in slot 99
 *   /hostile/reuse          the same slot twice without a release
 *   /hostile/scribble       pictures by the rules (a slot only once released),
 *                           but every slot rewritten all the time, the ones the
 *                           daemon holds (and encodes from) too
 *   /hostile/backwards      picture time stamps going backwards
 *   /hostile/flood          valid heartbeats as fast as the socket takes them
 *   /hostile/stall          one heartbeat, then silence
 *   /hostile/connect/A/P    TCP to A:P (a core host), then UDP to A:53
 *   /hostile/open/PATH      open PATH (a secret, the configuration), /etc/shadow,
 *                           /proc/DAEMON/environ; list /
 *   /hostile/exec           execve /bin/sh
 *   /hostile/ptrace         PTRACE_ATTACH to the daemon
 *   /hostile/signal         SIGKILL to the daemon
 *   /hostile/fork           a new process
 *   /hostile/hog            memory until refused (RLIMIT_AS)
 *   /hostile/threads        threads until refused (RLIMIT_NPROC)
 *
 * What each attempt got is reported as a FAILED message whose text the
 * daemon logs (sanitised), so the test can read the outcome in the log.
 */
#define _GNU_SOURCE
#include "ring.h"
#include "worker.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Silent from here on (nanosleep: pause() is not on the allow-list). */
static void G_GNUC_NORETURN
forever (void)
{
  for (;;) {
    struct timespec ts = { 3600, 0 };
    nanosleep (&ts, NULL);
  }
}

static CordonWorkerMsg
msg (CordonMsgType type, guint slot, guint64 seq)
{
  CordonWorkerMsg m;
  cordon_worker_msg_init (&m, type, slot, seq, cordon_handover_now_ns ());
  return m;
}

static void
report (const CordonHostileEnv *env, const char *format, ...) G_GNUC_PRINTF (2, 3);

static void
report (const CordonHostileEnv *env, const char *format, ...)
{
  va_list ap;
  CordonWorkerMsg m = msg (CORDON_MSG_FAILED, 0, 0);
  m.code = CORDON_WORKER_CAMERA;
  va_start (ap, format);
  g_vsnprintf (m.text, sizeof m.text, format, ap);
  va_end (ap);
  send (env->control, &m, sizeof m, MSG_NOSIGNAL);
}

static void
send_raw (const CordonHostileEnv *env, const void *data, gsize len)
{
  send (env->control, data, len, MSG_NOSIGNAL);
}

static void
heartbeat (const CordonHostileEnv *env)
{
  CordonWorkerMsg m = msg (CORDON_MSG_STATUS, 0, 0);
  send_raw (env, &m, sizeof m);
}

static const char *
try_connect (int type, const char *addr, guint16 port)
{
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons (port) };
  static char result[64];
  if (inet_pton (AF_INET, addr, &sa.sin_addr) != 1)
    return "bad address";
  int fd = socket (AF_INET, type | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    g_snprintf (result, sizeof result, "socket %s", strerrorname_np (errno));
    return result;
  }
  if (type == SOCK_DGRAM) {
    int rc = sendto (fd, "leak", 4, 0, (struct sockaddr *) &sa, sizeof sa);
    g_snprintf (result, sizeof result, "%s", rc < 0 ? strerrorname_np (errno) : "sent");
    close (fd);
    return result;
  }
  int rc = connect (fd, (struct sockaddr *) &sa, sizeof sa);
  if (rc < 0 && errno == EINPROGRESS) {
    /* Dropped SYNs never answer: wait a little (less than the daemon's
     * hang limit), then look. */
    struct timespec pause = { 0, 500000000 };
    nanosleep (&pause, NULL);
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt (fd, SOL_SOCKET, SO_ERROR, &err, &len);
    struct sockaddr_in peer;
    socklen_t plen = sizeof peer;
    if (err == 0 && getpeername (fd, (struct sockaddr *) &peer, &plen) == 0)
      g_snprintf (result, sizeof result, "CONNECTED");
    else
      g_snprintf (result, sizeof result, "%s", err ? strerrorname_np (err) : "no answer");
  } else {
    g_snprintf (result, sizeof result, "%s", rc == 0 ? "CONNECTED" : strerrorname_np (errno));
  }
  close (fd);
  return result;
}

static const char *
try_open (const char *path)
{
  int fd = open (path, O_RDONLY);
  if (fd < 0)
    return strerrorname_np (errno);
  char c;
  ssize_t n = read (fd, &c, 1);
  close (fd);
  return n >= 0 ? "READ" : strerrorname_np (errno);
}

gboolean
cordon_hostile_run (const CordonHostileEnv *env)
{
  const char *path = strstr (env->url, "/hostile/");
  if (!path)
    return FALSE;
  path += strlen ("/hostile/");

  if (g_str_has_prefix (path, "garbage")) {
    for (;;) {
      guint8 junk[1200];
      guint16 len;
      getrandom (&len, sizeof len, 0);
      getrandom (junk, sizeof junk, 0);
      send_raw (env, junk, 1 + len % sizeof junk);
      g_usleep (20000);
    }
  }
  if (g_str_has_prefix (path, "oversized")) {
    guint8 big[4096];
    CordonWorkerMsg m = msg (CORDON_MSG_PICTURE, 0, 1);
    memset (big, 0, sizeof big);
    memcpy (big, &m, sizeof m);
    heartbeat (env);
    send_raw (env, big, sizeof big);
    forever ();
  }
  if (g_str_has_prefix (path, "badslot")) {
    CordonWorkerMsg m = msg (CORDON_MSG_PICTURE, 99, 1);
    heartbeat (env);
    send_raw (env, &m, sizeof m);
    forever ();
  }
  if (g_str_has_prefix (path, "reuse")) {
    heartbeat (env);
    for (guint64 seq = 1;; seq++) {
      CordonWorkerMsg m = msg (CORDON_MSG_PICTURE, 0, seq);
      /* Keep scribbling into the slot while the daemon copies it. */
      memset (env->ring, (int) seq, env->slot_size);
      send_raw (env, &m, sizeof m);
      g_usleep (5000);
    }
  }
  if (g_str_has_prefix (path, "scribble")) {
    gboolean held[CORDON_HANDOVER_SLOTS] = { FALSE };
    guint64 seq = 0;
    for (guint round = 0;; round++) {
      CordonReleaseMsg r;
      while (recv (env->control, &r, sizeof r, MSG_DONTWAIT) == (ssize_t) sizeof r)
        if (r.magic == CORDON_HANDOVER_MAGIC && r.slot < env->slots)
          held[r.slot] = FALSE;
      for (guint i = 0; i < env->slots; i++)
        memset (env->ring + i * env->slot_size, (int) (round + i), env->slot_size);
      /* A picture every 10th round (5 a second), in the lowest free slot. */
      for (guint i = 0; round % 10 == 0 && i < env->slots; i++)
        if (!held[i]) {
          held[i] = TRUE;
          CordonWorkerMsg m = msg (CORDON_MSG_PICTURE, i, ++seq);
          send_raw (env, &m, sizeof m);
          break;
        }
      g_usleep (20000);
    }
  }
  if (g_str_has_prefix (path, "backwards")) {
    CordonWorkerMsg m = msg (CORDON_MSG_PICTURE, 0, 1);
    heartbeat (env);
    send_raw (env, &m, sizeof m);
    m = msg (CORDON_MSG_PICTURE, 1, 2);
    m.time_ns -= 500000000;
    send_raw (env, &m, sizeof m);
    forever ();
  }
  if (g_str_has_prefix (path, "flood")) {
    for (;;)
      heartbeat (env);
  }
  if (g_str_has_prefix (path, "stall")) {
    heartbeat (env);
    forever ();
  }
  if (g_str_has_prefix (path, "connect/")) {
    g_auto (GStrv) parts = g_strsplit (path + strlen ("connect/"), "/", 3);
    if (!parts[0] || !parts[1])
      return FALSE;
    guint16 port = (guint16) g_ascii_strtoull (parts[1], NULL, 10);
    heartbeat (env);
    g_autofree char *tcp = g_strdup (try_connect (SOCK_STREAM, parts[0], port));
    heartbeat (env);
    g_autofree char *camera_port = g_strdup (try_connect (SOCK_STREAM, parts[0], env->port));
    heartbeat (env);
    g_autofree char *udp = g_strdup (try_connect (SOCK_DGRAM, parts[0], 53));
    report (env, "hostile connect: tcp %s:%u %s; tcp %u %s; udp 53 %s", parts[0], port, tcp, env->port,
            camera_port, udp);
    forever ();
  }
  if (g_str_has_prefix (path, "open/")) {
    g_autofree char *file = g_strdup (path + strlen ("open"));
    g_autofree char *environ_path = g_strdup_printf ("/proc/%d/environ", env->daemon_pid);
    g_autofree char *a = g_strdup (try_open (file));
    g_autofree char *b = g_strdup (try_open ("/etc/shadow"));
    g_autofree char *c = g_strdup (try_open (environ_path));
    g_autofree char *d = g_strdup (try_open ("/"));
    report (env, "hostile open: conf %s; shadow %s; environ %s; root %s", a, b, c, d);
    forever ();
  }
  if (g_str_has_prefix (path, "exec")) {
    char *argv[] = { (char *) "/bin/sh", (char *) "-c", (char *) "id", NULL };
    execve ("/bin/sh", argv, NULL);
    report (env, "hostile exec: execve returned: %s", g_strerror (errno));
    forever ();
  }
  if (g_str_has_prefix (path, "ptrace")) {
    long rc = ptrace (PTRACE_ATTACH, env->daemon_pid, NULL, NULL);
    report (env, "hostile ptrace: %s", rc == 0 ? "ATTACHED" : g_strerror (errno));
    forever ();
  }
  if (g_str_has_prefix (path, "signal")) {
    int rc = kill (env->daemon_pid, SIGKILL);
    report (env, "hostile signal: %s", rc == 0 ? "DELIVERED" : g_strerror (errno));
    forever ();
  }
  if (g_str_has_prefix (path, "fork")) {
    pid_t pid = fork ();
    if (pid == 0)
      _exit (0);
    report (env, "hostile fork: %s", pid > 0 ? "FORKED" : g_strerror (errno));
    forever ();
  }
  if (g_str_has_prefix (path, "hog")) {
    gsize mib = 0;
    heartbeat (env);
    for (;;) {
      /* Address space is what the limit counts: untouched blocks cost the
       * machine nothing. */
      void *block = malloc (64 << 20);
      if (!block)
        break;
      mib += 64;
      heartbeat (env);
    }
    report (env, "hostile hog: refused after %" G_GSIZE_FORMAT " MiB", mib);
    forever ();
  }
  if (g_str_has_prefix (path, "threads")) {
    guint n = 0;
    heartbeat (env);
    for (; n < 1000; n++) {
      GThread *t = g_thread_try_new ("hog", (GThreadFunc) (void (*) (void)) forever, NULL, NULL);
      if (!t)
        break;
      g_thread_unref (t);
    }
    report (env, "hostile threads: refused after %u", n);
    forever ();
  }
  return FALSE;
}
