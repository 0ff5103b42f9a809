/* cordon — the worker launcher: `cordon-worker --launcher`, a fork server.
 *
 * The daemon forks a child while still root and single-threaded, which execs
 * the fixed worker binary in this mode (launcher.c): a fresh image, so none
 * of the daemon's memory (its configuration, every secret) lives on next to
 * CAP_SETUID. Here it does what every worker did before its jail (worker.c:
 * gst_init without registry, the RTSP guard, the plugins, GIO's defaults),
 * once, and then forks each camera's worker from that state without an
 * exec, so the plugin registration and the libraries' relocations are
 * shared copy-on-write instead of built again per camera.
 *
 * It reads fixed-size requests and never camera data: SPAWN (with the
 * worker's three descriptors) forks a worker as a uid at or above the
 * configured base, never 0; KILL sends SIGKILL to one of its own children;
 * it reports every exit. It has one thread at every fork, or refuses.
 */
#define _GNU_SOURCE
#define G_LOG_DOMAIN "cordon-launcher"

#include "jail.h"
#include "launcher.h"
#include "worker.h"

#include <errno.h>
#include <gio/gio.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/securebits.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static GHashTable *children; /* pid → uid */
static gboolean as_root;
static gboolean verbose;
static guint uid_min;
static pid_t daemon_pid;
static char worker_comm[16]; /* the name exec gave (cordon-worker), for the children */
static char *args_start;     /* argv's strings, rewritten in each child */
static gsize args_len;

static gboolean
fail (GError **error, const char *what)
{
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "worker launcher: %s: %s", what, g_strerror (errno));
  return FALSE;
}

static gboolean
parse_uint (const char *text, guint64 min, guint64 max, guint64 *out)
{
  return text && g_ascii_string_to_unsigned (text, 10, min, max, out, NULL);
}

/* Root: exactly CAP_SETUID and CAP_SETGID effective and permitted, kept
 * across the exec as ambient capabilities (launcher.c). */
static gboolean
caps_are_launch_caps (void)
{
  cap_t caps = cap_get_proc ();
  gboolean ok = caps != NULL;
  for (int cap = 0; ok && cap <= CAP_LAST_CAP; cap++) {
    cap_flag_value_t eff = CAP_CLEAR, prm = CAP_CLEAR;
    gboolean wanted = cap == CAP_SETUID || cap == CAP_SETGID;
    if (cap_get_flag (caps, cap, CAP_EFFECTIVE, &eff) < 0 || cap_get_flag (caps, cap, CAP_PERMITTED, &prm) < 0)
      ok = FALSE;
    else if ((eff == CAP_SET) != wanted || (prm == CAP_SET) != wanted)
      ok = FALSE;
  }
  if (caps)
    cap_free (caps);
  return ok;
}

gboolean
cordon_launcher_server_init (int argc, char **argv, GError **error)
{
  guint64 pid, min;
  struct stat st;

  /* cordon-worker --launcher DAEMON-PID UID-MIN --verbose|--quiet */
  if (argc != 5 || strcmp (argv[1], CORDON_LAUNCHER_ARG) != 0 || !parse_uint (argv[2], 2, G_MAXINT32, &pid)
      || !parse_uint (argv[3], 1, G_MAXUINT32 - 1, &min)
      || (strcmp (argv[4], "--verbose") != 0 && strcmp (argv[4], "--quiet") != 0)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "worker launcher: wrong arguments");
    return FALSE;
  }
  daemon_pid = (pid_t) pid;
  uid_min = (guint) min;
  verbose = strcmp (argv[4], "--verbose") == 0;
  args_start = argv[0];
  args_len = (gsize) (argv[argc - 1] + strlen (argv[argc - 1]) + 1 - argv[0]);

  if (fstat (CORDON_LAUNCHER_FD, &st) < 0 || !S_ISSOCK (st.st_mode)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                 "worker launcher: started by the cordon daemon only (needs its socket on descriptor 3)");
    return FALSE;
  }
  /* Set before the exec too; an exec that changes credentials clears it,
   * and the daemon may have died meanwhile. */
  if (prctl (PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
    return fail (error, "PR_SET_PDEATHSIG");
  if (getppid () != daemon_pid) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "worker launcher: the daemon is gone");
    return FALSE;
  }
  if (prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    return fail (error, "no_new_privs");
  /* No ptrace and no core of the process every worker is forked from. */
  if (prctl (PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
    return fail (error, "PR_SET_DUMPABLE");
  as_root = geteuid () == 0;
  if (as_root && !caps_are_launch_caps ()) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                 "worker launcher: its capabilities are not exactly CAP_SETUID and CAP_SETGID; not serving");
    return FALSE;
  }
  /* The workers are named as exec named this binary (cordon-worker); the
   * launcher differently, so that nothing looking for workers by name takes
   * it for one. */
  if (prctl (PR_GET_NAME, worker_comm, 0, 0, 0) < 0 || prctl (PR_SET_NAME, "cordon-launcher", 0, 0, 0) < 0)
    return fail (error, "PR_SET_NAME");
  return TRUE;
}

/* Without CAP_KILL: for a moment the worker's own uid, which may signal it;
 * a child that has not switched to that uid yet is still uid 0's. */
static void
kill_child (pid_t pid)
{
  guint uid = GPOINTER_TO_UINT (g_hash_table_lookup (children, GINT_TO_POINTER (pid)));
  if (as_root && uid != 0 && seteuid (uid) < 0)
    return;
  int rc = kill (pid, SIGKILL), err = errno;
  if (as_root && uid != 0 && seteuid (0) < 0)
    _exit (1);
  if (rc < 0 && err == EPERM)
    kill (pid, SIGKILL);
}

/* /proc/PID/cmdline of the worker: "cordon-worker NAME", as an exec'd
 * worker had (the name cut to the room the launcher's arguments leave). */
static void
set_worker_title (const char *name)
{
  static const char prog[] = "cordon-worker";
  memset (args_start, 0, args_len);
  memcpy (args_start, prog, MIN (sizeof prog, args_len - 1));
  if (args_len > sizeof prog + 1)
    g_strlcpy (args_start + sizeof prog, name, args_len - sizeof prog);
}

/* In the forked child, before anything else: the descriptors in place, the
 * camera's ids, no capability left, tied to the launcher. Exits on any
 * failure (the daemon logs the status). */
static void
become_worker (const CordonLauncherMsg *m, const int *fds, pid_t launcher)
{
  sigset_t none;
  int moved[3];

  sigemptyset (&none);
  sigprocmask (SIG_SETMASK, &none, NULL);
  /* Above 5 first, so that moving into 3, 4, 5 never overwrites one; 3 is
   * the launcher's socket, replaced here. */
  for (int i = 0; i < 3; i++)
    if ((moved[i] = fcntl (fds[i], F_DUPFD, 10)) < 0)
      _exit (127);
  for (int i = 0; i < 3; i++)
    if (dup2 (moved[i], CORDON_WORKER_FD_CONTROL + i) < 0)
      _exit (127);
  int null = open ("/dev/null", O_RDWR | O_CLOEXEC);
  if (null < 0 || dup2 (null, 0) < 0 || dup2 (null, 1) < 0 || (!verbose && dup2 (null, 2) < 0))
    _exit (127);
  close_range (CORDON_WORKER_FD_PARAMS + 1, ~0U, 0);

  if (m->uid != 0) {
    gid_t gid = m->uid;
    /* Every id non-zero: the kernel clears the permitted, effective and
     * ambient sets here. */
    if (setgroups (1, &gid) < 0 || setresgid (gid, gid, gid) < 0 || setresuid (m->uid, m->uid, m->uid) < 0)
      _exit (126);
  }
  /* And the inheritable set, explicitly, and whatever a non-root launcher
   * had; the bounding set keeps the launcher's two, which no_new_privs
   * leaves unusable. */
  cap_t empty = cap_init ();
  if (!empty || cap_set_proc (empty) < 0 || prctl (PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
    _exit (126);
  cap_free (empty);
  /* After the uid change, which clears it; and the launcher may have died
   * just before. */
  if (prctl (PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || getppid () != launcher)
    _exit (125);
  if (prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || prctl (PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
    _exit (124);
  prctl (PR_SET_NAME, worker_comm, 0, 0, 0);
  set_worker_title (m->name);
}

/* Returns the child's pid, 0 in the child, or -errno. */
static pid_t
spawn (const CordonLauncherMsg *m, const int *fds)
{
  int threads = cordon_jail_count_threads ();
  if (threads != 1) {
    /* A forked worker would lose the other threads' locks mid-way, and its
     * jail would refuse it anyway. */
    g_warning ("%s: not starting its worker: the launcher has %d threads, a fork needs exactly one", m->name,
               threads);
    return -ENOTRECOVERABLE;
  }
  pid_t launcher = getpid ();
  pid_t pid = fork ();
  if (pid == 0) {
    become_worker (m, fds, launcher);
    return 0;
  }
  return pid < 0 ? -errno : pid;
}

void
cordon_launcher_serve (void)
{
  int sock = CORDON_LAUNCHER_FD;
  sigset_t chld;

  sigemptyset (&chld);
  sigaddset (&chld, SIGCHLD);
  sigprocmask (SIG_BLOCK, &chld, NULL);
  int sfd = signalfd (-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sfd < 0) {
    g_warning ("worker launcher: signalfd: %s", g_strerror (errno));
    _exit (1);
  }
  children = g_hash_table_new (g_direct_hash, g_direct_equal);
  CordonLauncherMsg ready = { .op = CORDON_LAUNCHER_READY };
  cordon_launcher_send (sock, &ready, NULL, 0);

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
        CordonLauncherMsg m = { .op = CORDON_LAUNCHER_EXITED, .pid = pid, .status = status };
        cordon_launcher_send (sock, &m, NULL, 0);
      }
    }
    if (!pfd[0].revents)
      continue;
    CordonLauncherMsg m;
    int fds[3];
    ssize_t n = cordon_launcher_recv (sock, &m, fds);
    if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
      break;
    if (n == (ssize_t) sizeof m && m.op == CORDON_LAUNCHER_KILL) {
      if (g_hash_table_contains (children, GINT_TO_POINTER (m.pid)))
        kill_child (m.pid);
    } else if (n == (ssize_t) sizeof m && m.op == CORDON_LAUNCHER_SPAWN) {
      CordonLauncherMsg reply = { .op = CORDON_LAUNCHER_SPAWNED };
      m.name[sizeof m.name - 1] = '\0';
      /* Only uids of the configured range, and none at all when not root. */
      if (fds[0] < 0 || fds[1] < 0 || fds[2] < 0 || (as_root && m.uid < uid_min) || (!as_root && m.uid != 0)) {
        reply.pid = -EINVAL;
      } else {
        reply.pid = spawn (&m, fds);
        /* The worker: its descriptors already replaced the signalfd's. */
        if (reply.pid == 0)
          return;
        if (reply.pid > 0)
          g_hash_table_insert (children, GINT_TO_POINTER (reply.pid), GUINT_TO_POINTER (m.uid));
      }
      cordon_launcher_send (sock, &reply, NULL, 0);
    }
    for (int i = 0; i < 3; i++)
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
