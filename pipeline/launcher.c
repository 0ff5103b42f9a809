/* cordon — the worker launcher: starts, kills and reaps ingest workers.
 *
 * Forked from the daemon while it is still root and single-threaded (before
 * the privilege drop and gst_init), because giving each worker a uid of its
 * own needs CAP_SETUID, which the daemon then no longer has. The launcher
 * keeps CAP_SETUID and CAP_SETGID only, no_new_privs, and dies
 * with the daemon. It reads fixed-size requests and never camera data:
 * SPAWN (with the worker's three descriptors) starts the fixed worker binary
 * as a uid at or above the configured base, never 0; KILL sends SIGKILL to one
 * of its own children; it reports every exit.
 */
#define _GNU_SOURCE
#define G_LOG_DOMAIN "cordon-pipeline"

#include "pipeline-private.h"
#include "worker.h"

#include <errno.h>
#include <glib-unix.h>
#include <stdio.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

enum { OP_SPAWN = 1, OP_SPAWNED, OP_KILL, OP_EXITED };

typedef struct {
  guint32 op;
  guint32 uid;    /* SPAWN: 0 = keep the launcher's (not root) uid */
  gint32 pid;     /* SPAWNED (or -errno), KILL, EXITED */
  gint32 status;  /* EXITED: wait status */
  char name[64];  /* SPAWN: camera name, for the worker's argv[1] */
} LauncherMsg;

typedef struct {
  GMutex lock;
  int fd;
  pid_t pid;
  guint uid_min;
  GHashTable *names;  /* pid → camera name, for the exit log line */
  gboolean own_uids;  /* started as root: each worker gets its camera's uid */
  GSource *watch;
} Launcher;

static Launcher *launcher;

/* ---- the launcher process ---- */

static GHashTable *children; /* pid → uid */
static gboolean as_root;

/* Without CAP_KILL: for a moment the worker's own uid, which may signal it. */
static void
kill_child (pid_t pid)
{
  guint uid = GPOINTER_TO_UINT (g_hash_table_lookup (children, GINT_TO_POINTER (pid)));
  if (as_root && uid != 0 && seteuid (uid) < 0)
    return;
  kill (pid, SIGKILL);
  if (as_root && uid != 0 && seteuid (0) < 0)
    _exit (1);
}

static void
send_fds (int sock, const LauncherMsg *m, const int *fds, int n)
{
  struct iovec iov = { (void *) m, sizeof *m };
  union { char buf[CMSG_SPACE (3 * sizeof (int))]; struct cmsghdr align; } u;
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
  if (n > 0) {
    msg.msg_control = u.buf;
    msg.msg_controllen = CMSG_SPACE (n * sizeof (int));
    struct cmsghdr *c = CMSG_FIRSTHDR (&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN (n * sizeof (int));
    memcpy (CMSG_DATA (c), fds, n * sizeof (int));
  }
  sendmsg (sock, &msg, MSG_NOSIGNAL);
}

/* Receives one message and up to three descriptors (-1 where none came). */
static ssize_t
recv_fds (int sock, LauncherMsg *m, int *fds)
{
  struct iovec iov = { m, sizeof *m };
  union { char buf[CMSG_SPACE (3 * sizeof (int))]; struct cmsghdr align; } u;
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf };
  fds[0] = fds[1] = fds[2] = -1;
  ssize_t n = recvmsg (sock, &msg, MSG_CMSG_CLOEXEC);
  if (n < 0)
    return n;
  for (struct cmsghdr *c = CMSG_FIRSTHDR (&msg); c; c = CMSG_NXTHDR (&msg, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
      int k = (c->cmsg_len - CMSG_LEN (0)) / sizeof (int);
      for (int i = 0; i < k; i++) {
        int fd;
        memcpy (&fd, CMSG_DATA (c) + i * sizeof (int), sizeof fd);
        if (i < 3)
          fds[i] = fd;
        else
          close (fd);
      }
    }
  return n;
}

/* In the forked child: descriptors in place, ids switched, then exec. Only
 * async-signal-safe calls from here on. */
static void G_GNUC_NORETURN
exec_worker (const char *path, const char *name, guint uid, const int *fds, gboolean verbose, pid_t launcher_pid)
{
  static char *envp[] = {
    "PATH=/nonexistent",
    /* No registry and no plugin scan: the worker loads its plugins by file. */
    "GST_REGISTRY=/nonexistent/cordon-worker-registry.bin",
    "GST_REGISTRY_FORK=no",
    "GST_PLUGIN_SYSTEM_PATH=/nonexistent",
    "GST_PLUGIN_SYSTEM_PATH_1_0=/nonexistent",
    "GST_PLUGIN_PATH=/nonexistent",
    "GIO_USE_PROXY_RESOLVER=dummy",
    "GIO_MODULE_DIR=/nonexistent",
    "GSETTINGS_BACKEND=memory",
    NULL, /* G_MESSAGES_DEBUG in verbose mode */
    NULL,
  };
  sigset_t none;
  int moved[3];

  sigemptyset (&none);
  sigprocmask (SIG_SETMASK, &none, NULL);
  /* Above 5 first, so that moving into 3, 4, 5 never overwrites one. */
  for (int i = 0; i < 3; i++)
    if ((moved[i] = fcntl (fds[i], F_DUPFD, 10)) < 0)
      _exit (127);
  for (int i = 0; i < 3; i++)
    if (dup2 (moved[i], CORDON_WORKER_FD_CONTROL + i) < 0)
      _exit (127);
  int null = open ("/dev/null", O_RDWR);
  if (null < 0 || dup2 (null, 0) < 0 || dup2 (null, 1) < 0 || (!verbose && dup2 (null, 2) < 0))
    _exit (127);
  close_range (CORDON_WORKER_FD_PARAMS + 1, ~0U, 0);

  if (uid != 0) {
    gid_t gid = uid;
    if (setgroups (1, &gid) < 0 || setresgid (gid, gid, gid) < 0 || setresuid (uid, uid, uid) < 0)
      _exit (126);
  }
  /* After the uid change, which clears it; and the launcher may have died
   * just before. */
  if (prctl (PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || getppid () != launcher_pid)
    _exit (125);
  if (prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    _exit (124);
  char *argv[] = { (char *) "cordon-worker", (char *) name, NULL };
  if (verbose)
    envp[G_N_ELEMENTS (envp) - 2] = "G_MESSAGES_DEBUG=all";
  execve (path, argv, envp);
  _exit (127);
}

static gboolean
keep_launch_caps (GError **error)
{
  cap_value_t keep[] = { CAP_SETUID, CAP_SETGID };
  for (int cap = 0; cap <= CAP_LAST_CAP + 8; cap++) {
    gboolean wanted = cap == CAP_SETUID || cap == CAP_SETGID;
    if (!wanted && prctl (PR_CAPBSET_DROP, (unsigned long) cap, 0, 0, 0) < 0 && errno != EINVAL) {
      g_set_error (error, CORDON_PIPELINE_ERROR, CORDON_PIPELINE_ERROR_FAILED,
                   "worker launcher: cannot drop capability %d: %s", cap, g_strerror (errno));
      return FALSE;
    }
  }
  cap_t caps = cap_init ();
  cap_set_flag (caps, CAP_EFFECTIVE, G_N_ELEMENTS (keep), keep, CAP_SET);
  cap_set_flag (caps, CAP_PERMITTED, G_N_ELEMENTS (keep), keep, CAP_SET);
  int rc = cap_set_proc (caps);
  cap_free (caps);
  if (rc < 0 || prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
    g_set_error (error, CORDON_PIPELINE_ERROR, CORDON_PIPELINE_ERROR_FAILED,
                 "worker launcher: cannot reduce its capabilities: %s", g_strerror (errno));
    return FALSE;
  }
  return TRUE;
}

static void G_GNUC_NORETURN
launcher_main (int sock, const char *path, guint uid_min, gboolean verbose, pid_t daemon)
{
  g_autoptr (GError) error = NULL;
  sigset_t chld;

  prctl (PR_SET_NAME, "cordon-launch", 0, 0, 0);
  /* Nothing of the daemon's lives on here: not its listening sockets, the
   * nflog socket or the firewall helper's. Only this socket and stdio. */
  if (sock != 3) {
    if (dup2 (sock, 3) < 0)
      _exit (1);
    sock = 3;
  }
  close_range (4, ~0U, 0);
  if (prctl (PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || getppid () != daemon)
    _exit (1);
  gboolean root = as_root = geteuid () == 0;
  if (root && !keep_launch_caps (&error)) {
    g_printerr ("%s\n", error->message);
    _exit (1);
  }
  if (!root)
    prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  sigemptyset (&chld);
  sigaddset (&chld, SIGCHLD);
  sigprocmask (SIG_BLOCK, &chld, NULL);
  int sfd = signalfd (-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
  children = g_hash_table_new (g_direct_hash, g_direct_equal);

  for (;;) {
    struct pollfd pfd[2] = { { sock, POLLIN, 0 }, { sfd, POLLIN, 0 } };
    if (poll (pfd, 2, -1) < 0 && errno != EINTR)
      break;
    if (pfd[1].revents) {
      struct signalfd_siginfo si;
      while (read (sfd, &si, sizeof si) == sizeof si) {
      }
      int status;
      pid_t pid;
      while ((pid = waitpid (-1, &status, WNOHANG)) > 0) {
        g_hash_table_remove (children, GINT_TO_POINTER (pid));
        LauncherMsg m = { .op = OP_EXITED, .pid = pid, .status = status };
        send_fds (sock, &m, NULL, 0);
      }
    }
    if (!pfd[0].revents)
      continue;
    LauncherMsg m;
    int fds[3];
    ssize_t n = recv_fds (sock, &m, fds);
    if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
      break;
    if (n != (ssize_t) sizeof m)
      continue;
    if (m.op == OP_KILL) {
      if (g_hash_table_contains (children, GINT_TO_POINTER (m.pid)))
        kill_child (m.pid);
    } else if (m.op == OP_SPAWN) {
      LauncherMsg reply = { .op = OP_SPAWNED };
      m.name[sizeof m.name - 1] = '\0';
      /* Only uids of the configured range, and none at all when not root. */
      if (fds[0] < 0 || fds[1] < 0 || fds[2] < 0 || (root && m.uid < uid_min) || (!root && m.uid != 0)) {
        reply.pid = -EINVAL;
      } else {
        pid_t pid = fork ();
        if (pid == 0)
          exec_worker (path, m.name, m.uid, fds, verbose, getppid ());
        reply.pid = pid < 0 ? -errno : pid;
        if (pid > 0)
          g_hash_table_insert (children, GINT_TO_POINTER (pid), GUINT_TO_POINTER (m.uid));
      }
      for (int i = 0; i < 3; i++)
        if (fds[i] >= 0)
          close (fds[i]);
      send_fds (sock, &reply, NULL, 0);
    }
    for (int i = 0; i < 3 && m.op != OP_SPAWN; i++)
      if (fds[i] >= 0)
        close (fds[i]);
  }
  /* The daemon is gone: so are its workers. */
  GHashTableIter it;
  gpointer pid;
  g_hash_table_iter_init (&it, children);
  while (g_hash_table_iter_next (&it, &pid, NULL))
    kill_child (GPOINTER_TO_INT (pid));
  _exit (0);
}

/* ---- the daemon's side ---- */

static char *
describe_exit (int status)
{
  if (WIFEXITED (status))
    return g_strdup_printf ("exited with status %d", WEXITSTATUS (status));
  if (WIFSIGNALED (status))
    return g_strdup_printf ("killed by signal %d (%s)", WTERMSIG (status), g_strsignal (WTERMSIG (status)));
  return g_strdup_printf ("ended (wait status %d)", status);
}

static void
handle_exited (const LauncherMsg *m)
{
  g_mutex_lock (&launcher->lock);
  g_autofree char *name = NULL;
  g_hash_table_steal_extended (launcher->names, GINT_TO_POINTER (m->pid), NULL, (gpointer *) &name);
  g_mutex_unlock (&launcher->lock);
  g_autofree char *how = describe_exit (m->status);
  g_message ("%s: worker %d %s", name ? name : "?", (int) m->pid, how);
}

static gboolean
launcher_readable (int fd, GIOCondition cond, gpointer data)
{
  LauncherMsg m;
  int fds[3];
  ssize_t n = recv_fds (fd, &m, fds);
  for (int i = 0; i < 3; i++)
    if (fds[i] >= 0)
      close (fds[i]);
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
    g_warning ("the worker launcher is gone: no camera can be reconnected");
    return G_SOURCE_REMOVE;
  }
  if (n == (ssize_t) sizeof m && m.op == OP_EXITED)
    handle_exited (&m);
  return G_SOURCE_CONTINUE;
}

gboolean
cordon_pipeline_launcher_start (const char *worker_path, guint uid_min, gboolean verbose, GError **error)
{
  int sv[2];

  g_return_val_if_fail (launcher == NULL, FALSE);
  if (access (worker_path, X_OK) < 0) {
    g_set_error (error, CORDON_PIPELINE_ERROR, CORDON_PIPELINE_ERROR_FAILED,
                 "the ingest worker %s cannot be run: %s", worker_path, g_strerror (errno));
    return FALSE;
  }
  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
    g_set_error (error, CORDON_PIPELINE_ERROR, CORDON_PIPELINE_ERROR_FAILED, "worker launcher: socketpair: %s",
                 g_strerror (errno));
    return FALSE;
  }
  pid_t daemon = getpid ();
  fflush (NULL);
  pid_t pid = fork ();
  if (pid < 0) {
    g_set_error (error, CORDON_PIPELINE_ERROR, CORDON_PIPELINE_ERROR_FAILED, "worker launcher: fork: %s",
                 g_strerror (errno));
    close (sv[0]);
    close (sv[1]);
    return FALSE;
  }
  if (pid == 0) {
    close (sv[0]);
    launcher_main (sv[1], worker_path, uid_min, verbose, daemon);
  }
  close (sv[1]);
  launcher = g_new0 (Launcher, 1);
  g_mutex_init (&launcher->lock);
  launcher->fd = sv[0];
  launcher->pid = pid;
  launcher->uid_min = uid_min;
  launcher->own_uids = geteuid () == 0;
  launcher->names = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, g_free);
  g_message ("worker launcher started (pid %d)%s", (int) pid,
             geteuid () == 0 ? ": CAP_SETUID and CAP_SETGID only" : " (not root: workers keep our uid)");
  return TRUE;
}

gboolean
cordon_launcher_own_uids (void)
{
  return launcher && launcher->own_uids;
}

/* Main context. Starts NAME's worker as UID with the three descriptors (the
 * caller keeps and closes its copies). Returns its pid, or 0. */
pid_t
cordon_launcher_spawn (const char *name, guint uid, const int *fds, GError **error)
{
  if (!launcher) {
    g_set_error (error, CORDON_PIPELINE_ERROR, CORDON_PIPELINE_ERROR_FAILED, "no worker launcher is running");
    return 0;
  }
  if (!launcher->watch) {
    launcher->watch = g_unix_fd_source_new (launcher->fd, G_IO_IN | G_IO_HUP | G_IO_ERR);
    g_source_set_callback (launcher->watch, (GSourceFunc) (void (*) (void)) launcher_readable, NULL, NULL);
    g_source_attach (launcher->watch, g_main_context_get_thread_default ());
  }
  LauncherMsg m = { .op = OP_SPAWN, .uid = uid };
  g_strlcpy (m.name, name, sizeof m.name);
  g_mutex_lock (&launcher->lock);
  send_fds (launcher->fd, &m, fds, 3);
  /* The reply follows at once (a fork); exits reported meanwhile are
   * handled on the way. */
  for (;;) {
    struct pollfd pfd = { launcher->fd, POLLIN, 0 };
    int rfds[3];
    if (poll (&pfd, 1, 5000) <= 0) {
      g_mutex_unlock (&launcher->lock);
      g_set_error (error, CORDON_PIPELINE_ERROR, CORDON_PIPELINE_ERROR_FAILED, "the worker launcher does not answer");
      return 0;
    }
    LauncherMsg r;
    ssize_t n = recv_fds (launcher->fd, &r, rfds);
    for (int i = 0; i < 3; i++)
      if (rfds[i] >= 0)
        close (rfds[i]);
    if (n <= 0) {
      g_mutex_unlock (&launcher->lock);
      g_set_error (error, CORDON_PIPELINE_ERROR, CORDON_PIPELINE_ERROR_FAILED, "the worker launcher is gone");
      return 0;
    }
    if (n != (ssize_t) sizeof r)
      continue;
    if (r.op == OP_EXITED) {
      g_mutex_unlock (&launcher->lock);
      handle_exited (&r);
      g_mutex_lock (&launcher->lock);
      continue;
    }
    if (r.op != OP_SPAWNED)
      continue;
    if (r.pid <= 0) {
      g_mutex_unlock (&launcher->lock);
      g_set_error (error, CORDON_PIPELINE_ERROR, CORDON_PIPELINE_ERROR_FAILED, "cannot start the worker: %s",
                   g_strerror (-r.pid));
      return 0;
    }
    g_hash_table_replace (launcher->names, GINT_TO_POINTER (r.pid), g_strdup (name));
    g_mutex_unlock (&launcher->lock);
    return r.pid;
  }
}

void
cordon_launcher_kill (pid_t pid)
{
  if (!launcher || pid <= 0)
    return;
  LauncherMsg m = { .op = OP_KILL, .pid = pid };
  g_mutex_lock (&launcher->lock);
  send_fds (launcher->fd, &m, NULL, 0);
  g_mutex_unlock (&launcher->lock);
}

pid_t
cordon_pipeline_launcher_get_pid (void)
{
  return launcher ? launcher->pid : 0;
}
