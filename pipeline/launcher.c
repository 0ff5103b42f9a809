/* cordon — the worker launcher, the daemon's side: starts it, asks it to
 * start and kill ingest workers, logs their exits.
 *
 * The launcher is forked from the daemon while it is still root and
 * single-threaded (before the privilege drop and gst_init), because giving
 * each worker a uid of its own needs CAP_SETUID, which the daemon then no
 * longer has. The forked child keeps CAP_SETUID and CAP_SETGID only, as
 * ambient capabilities, sets no_new_privs, dies with the daemon, and at once
 * execs the fixed worker binary as `cordon-worker --launcher`
 * (launcher-server.c): nothing of the daemon's memory survives next to those
 * two capabilities. That process loads the worker's plugins once and forks
 * each camera's worker from there (launcher.h: the messages).
 */
#define _GNU_SOURCE
#define G_LOG_DOMAIN "cordon-pipeline"

#include "launcher.h"
#include "pipeline-private.h"
#include "worker.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <glib-unix.h>
#include <linux/securebits.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define LAUNCHER_READY_MS 30000 /* the plugins load under load too */

typedef CordonLauncherMsg LauncherMsg;

typedef struct {
  GMutex lock;
  int fd;
  pid_t pid;
  guint uid_min;
  GHashTable *names;  /* pid → camera name, for the exit log line */
  GHashTable *killed; /* pids cordon asked the launcher to kill */
  gboolean own_uids;  /* started as root: each worker gets its camera's uid */
  GSource *watch;
} Launcher;

static Launcher *launcher;

/* ---- the forked child, until its exec ---- */

/* Root: CAP_SETUID and CAP_SETGID in every set but the bounding set's
 * others, raised as ambient so that they survive the exec of a binary
 * without file capabilities; uid 0 itself gives nothing at that exec
 * (SECBIT_NOROOT, locked), and no ambient capability can be raised later. */
static gboolean
keep_launch_caps (void)
{
  cap_value_t keep[] = { CAP_SETUID, CAP_SETGID, CAP_SETPCAP };
  cap_t caps = cap_init ();
  /* CAP_SETPCAP for the securebits and the bounding set, then dropped. */
  cap_set_flag (caps, CAP_EFFECTIVE, G_N_ELEMENTS (keep), keep, CAP_SET);
  cap_set_flag (caps, CAP_PERMITTED, G_N_ELEMENTS (keep), keep, CAP_SET);
  cap_set_flag (caps, CAP_INHERITABLE, 2, keep, CAP_SET);
  gboolean ok = cap_set_proc (caps) == 0;
  cap_free (caps);
  for (int cap = 0; ok && cap <= CAP_LAST_CAP + 8; cap++)
    if (cap != CAP_SETUID && cap != CAP_SETGID && prctl (PR_CAPBSET_DROP, (unsigned long) cap, 0, 0, 0) < 0
        && errno != EINVAL)
      ok = FALSE;
  ok = ok && prctl (PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) == 0
       && prctl (PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_SETUID, 0, 0) == 0
       && prctl (PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_SETGID, 0, 0) == 0
       && prctl (PR_SET_SECUREBITS, SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_CAP_AMBIENT_RAISE
                                      | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED, 0, 0, 0) == 0;
  if (ok) {
    caps = cap_init ();
    cap_set_flag (caps, CAP_EFFECTIVE, 2, keep, CAP_SET);
    cap_set_flag (caps, CAP_PERMITTED, 2, keep, CAP_SET);
    cap_set_flag (caps, CAP_INHERITABLE, 2, keep, CAP_SET);
    ok = cap_set_proc (caps) == 0;
    cap_free (caps);
  }
  return ok;
}

/* In the forked child of the (single-threaded) daemon. */
static void G_GNUC_NORETURN
exec_launcher (int sock, const char *path, guint uid_min, gboolean verbose, pid_t daemon)
{
  static char *envp[] = {
    "PATH=/nonexistent",
    /* No registry and no plugin scan: the launcher loads the plugins by file. */
    "GST_REGISTRY=/nonexistent/cordon-worker-registry.bin",
    "GST_REGISTRY_FORK=no",
    "GST_REGISTRY_UPDATE=no",
    "GST_PLUGIN_SYSTEM_PATH=/nonexistent",
    "GST_PLUGIN_SYSTEM_PATH_1_0=/nonexistent",
    "GST_PLUGIN_PATH=/nonexistent",
    "GIO_USE_PROXY_RESOLVER=dummy",
    "GIO_MODULE_DIR=/nonexistent",
    "GSETTINGS_BACKEND=memory",
    NULL, /* G_MESSAGES_DEBUG in verbose mode */
    NULL,
  };
  char pid_arg[16], uid_arg[16];

  /* Nothing of the daemon's lives on here: not its listening sockets, the
   * nflog socket or the firewall helper's. Only this socket and stdio. */
  if (sock != CORDON_LAUNCHER_FD) {
    if (dup2 (sock, CORDON_LAUNCHER_FD) < 0)
      _exit (1);
  } else if (fcntl (sock, F_SETFD, 0) < 0) {
    _exit (1);
  }
  close_range (CORDON_LAUNCHER_FD + 1, ~0U, 0);
  if (prctl (PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || getppid () != daemon)
    _exit (1);
  if (geteuid () == 0 && !keep_launch_caps ())
    _exit (1);
  if (prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    _exit (1);
  snprintf (pid_arg, sizeof pid_arg, "%d", (int) daemon);
  snprintf (uid_arg, sizeof uid_arg, "%u", uid_min);
  char *argv[] = { (char *) "cordon-launcher", (char *) CORDON_LAUNCHER_ARG, pid_arg, uid_arg,
                   (char *) (verbose ? "--verbose" : "--quiet"), NULL };
  if (verbose)
    envp[G_N_ELEMENTS (envp) - 2] = "G_MESSAGES_DEBUG=all";
  execve (path, argv, envp);
  _exit (127);
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
  gboolean asked = g_hash_table_remove (launcher->killed, GINT_TO_POINTER (m->pid));
  g_mutex_unlock (&launcher->lock);
  /* A SIGKILL cordon sent is the end of an attempt, not news; one it did not
   * send (the OOM killer, an admin) is. */
  g_autofree char *how = asked && WIFSIGNALED (m->status) && WTERMSIG (m->status) == SIGKILL
                           ? g_strdup ("stopped by cordon (SIGKILL)")
                           : describe_exit (m->status);
  g_message ("%s: worker %d %s", name ? name : "?", (int) m->pid, how);
}

static gboolean
launcher_readable (int fd, GIOCondition cond, gpointer data)
{
  LauncherMsg m;
  int fds[3];
  ssize_t n = cordon_launcher_recv (fd, &m, fds);
  for (int i = 0; i < 3; i++)
    if (fds[i] >= 0)
      close (fds[i]);
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
    g_warning ("the worker launcher is gone: no camera can be reconnected");
    return G_SOURCE_REMOVE;
  }
  if (n == (ssize_t) sizeof m && m.op == CORDON_LAUNCHER_EXITED)
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
    exec_launcher (sv[1], worker_path, uid_min, verbose, daemon);
  }
  close (sv[1]);
  /* The launcher says when its plugins are loaded; a worker binary that
   * cannot serve (or is not cordon's) ends here instead of at the first
   * camera. */
  struct pollfd pfd = { sv[0], POLLIN, 0 };
  LauncherMsg ready = { 0 };
  int rfds[3] = { -1, -1, -1 };
  ssize_t n = poll (&pfd, 1, LAUNCHER_READY_MS) > 0 ? cordon_launcher_recv (sv[0], &ready, rfds) : -1;
  for (int i = 0; i < 3; i++)
    if (rfds[i] >= 0)
      close (rfds[i]);
  if (n != (ssize_t) sizeof ready || ready.op != CORDON_LAUNCHER_READY) {
    int status = 0;
    kill (pid, SIGKILL);
    waitpid (pid, &status, 0);
    close (sv[0]);
    g_autofree char *how = describe_exit (status);
    g_set_error (error, CORDON_PIPELINE_ERROR, CORDON_PIPELINE_ERROR_FAILED,
                 "the worker launcher (%s --launcher) did not start: %s", worker_path,
                 n < 0 && pfd.revents == 0 ? "no answer in 30 s" : how);
    return FALSE;
  }
  launcher = g_new0 (Launcher, 1);
  g_mutex_init (&launcher->lock);
  launcher->fd = sv[0];
  launcher->pid = pid;
  launcher->uid_min = uid_min;
  launcher->own_uids = geteuid () == 0;
  launcher->names = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, g_free);
  launcher->killed = g_hash_table_new (g_direct_hash, g_direct_equal);
  g_message ("worker launcher started (pid %d, plugins loaded)%s", (int) pid,
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
  LauncherMsg m = { .op = CORDON_LAUNCHER_SPAWN, .uid = uid };
  g_strlcpy (m.name, name, sizeof m.name);
  g_mutex_lock (&launcher->lock);
  cordon_launcher_send (launcher->fd, &m, fds, 3);
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
    ssize_t n = cordon_launcher_recv (launcher->fd, &r, rfds);
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
    if (r.op == CORDON_LAUNCHER_EXITED) {
      g_mutex_unlock (&launcher->lock);
      handle_exited (&r);
      g_mutex_lock (&launcher->lock);
      continue;
    }
    if (r.op != CORDON_LAUNCHER_SPAWNED)
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
  LauncherMsg m = { .op = CORDON_LAUNCHER_KILL, .pid = pid };
  g_mutex_lock (&launcher->lock);
  if (g_hash_table_contains (launcher->names, GINT_TO_POINTER (pid)))
    g_hash_table_add (launcher->killed, GINT_TO_POINTER (pid));
  cordon_launcher_send (launcher->fd, &m, NULL, 0);
  g_mutex_unlock (&launcher->lock);
}

pid_t
cordon_pipeline_launcher_get_pid (void)
{
  return launcher ? launcher->pid : 0;
}
