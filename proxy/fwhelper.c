/* cordon — the firewall helper process and its client side. */
#define _GNU_SOURCE /* getresuid, setresuid, close_range, dup3 */
#define G_LOG_DOMAIN "cordon-privileges"

#include "fwhelper.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "firewall.h"
#include "privileges.h"

#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/lsan_interface.h>
#endif

G_DEFINE_QUARK (cordon-fw-helper-error-quark, cordon_fw_helper_error)

/* The protocol: one SOCK_SEQPACKET message per command and per reply.
 * Commands are "apply", "reapply" and "counters"; replies start "ok" or
 * "error: ".
 * The helper announces itself with "ready" (or "error: ...") once set up. */
#define MAX_COMMAND 64
#define MAX_REPLY (64 * 1024)
#define HELPER_FD 3

struct _CordonFwHelper {
  GMutex lock;  /* one exchange at a time: replies are matched by order */
  int fd;       /* -1 once the helper is gone */
  pid_t pid;    /* 0 once reaped */
};

/* ---- the helper (child) ---- */

static void
helper_send (int fd, const char *text)
{
  gsize len = MIN (strlen (text), (gsize) MAX_REPLY);
  while (send (fd, text, len, MSG_NOSIGNAL) < 0 && errno == EINTR)
    ;
}

static void
helper_send_error (int fd, const char *message)
{
  g_autofree char *reply = g_strdup_printf ("error: %s", message);
  helper_send (fd, reply);
}

static void G_GNUC_NORETURN
helper_exit (int fd, int code, const char *message)
{
  if (message) {
    g_warning ("firewall helper: %s", message);
    helper_send_error (fd, message);
  }
  _exit (code);
}

/* Leaves only the command socket (as HELPER_FD) and stderr open: descriptors
 * the daemon opened as root (the nflog socket, a listening port) must not
 * outlive their purpose in a process that keeps uid 0. */
static int
helper_isolate_fds (int fd)
{
  int keep = fcntl (fd, F_DUPFD_CLOEXEC, HELPER_FD);
  if (keep < 0)
    return -1;
  int null = open ("/dev/null", O_RDWR | O_CLOEXEC);
  if (null >= 0) {
    dup2 (null, STDIN_FILENO);
    dup2 (null, STDOUT_FILENO);
    /* A daemon started with stderr closed got the socket as fd 2: log
     * lines must not land in the protocol. */
    if (fd == STDERR_FILENO)
      dup2 (null, STDERR_FILENO);
  }
  if (keep != HELPER_FD) {
    if (dup3 (keep, HELPER_FD, O_CLOEXEC) < 0)
      return -1;
  }
  if (close_range (HELPER_FD + 1, ~0U, 0) < 0) {
    long max = sysconf (_SC_OPEN_MAX);
    for (long i = HELPER_FD + 1; i < (max > 0 ? max : 65536); i++)
      close ((int) i);
  }
  return HELPER_FD;
}

static int
compare_names (gconstpointer a, gconstpointer b, gpointer unused)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

static char *
helper_counters (const CordonConfig *config, GError **error)
{
  g_autoptr (GHashTable) counters = cordon_firewall_read_counters (config, error);
  if (!counters)
    return NULL;

  g_autoptr (GString) out = g_string_new ("ok\n");
  g_autofree gpointer *names = g_hash_table_get_keys_as_array (counters, NULL);
  guint n = g_hash_table_size (counters);
  g_qsort_with_data (names, n, sizeof (gpointer), compare_names, NULL);
  for (guint i = 0; i < n; i++) {
    const guint64 *count = g_hash_table_lookup (counters, names[i]);
    g_string_append_printf (out, "%s %" G_GUINT64_FORMAT "\n", (const char *) names[i], count ? *count : 0);
  }
  if (out->len > MAX_REPLY) {
    g_set_error (error, CORDON_FW_HELPER_ERROR, CORDON_FW_HELPER_ERROR_FAILED, "counters reply too large");
    return NULL;
  }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

static void G_GNUC_NORETURN
helper_main (int fd, const char *config_path, pid_t parent)
{
  g_autoptr (GError) error = NULL;
  sigset_t all;

  /* Inherited handlers and masks belong to the daemon. The helper's lifetime
   * is the socket's and the parent's, not the terminal's. */
  sigemptyset (&all);
  sigprocmask (SIG_SETMASK, &all, NULL);
  signal (SIGTERM, SIG_DFL);
  signal (SIGINT, SIG_IGN);
  signal (SIGHUP, SIG_IGN);
  signal (SIGPIPE, SIG_IGN);

  fd = helper_isolate_fds (fd);
  if (fd < 0)
    _exit (1);
  prctl (PR_SET_NAME, "cordon-fwhelper", 0, 0, 0);

  if (!cordon_privileges_restrict_to_net_admin (&error))
    helper_exit (fd, 1, error->message);
  /* After the capability change (which may reset it) and checked against
   * the pid we were forked from, in case the parent died in between. */
  if (prctl (PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0) < 0)
    helper_exit (fd, 1, "cannot set the parent-death signal");
  if (getppid () != parent)
    _exit (1);

  /* The firewall needs no secret, so the helper reads none: a password file
   * broken later cannot stop a re-apply. */
  g_autoptr (CordonConfig) config = cordon_config_load_flags (config_path, CORDON_CONFIG_LOAD_NO_SECRETS, &error);
  if (!config) {
    g_autofree char *msg = g_strdup_printf ("cannot load %s: %s", config_path, error->message);
    helper_exit (fd, 1, msg);
  }
  helper_send (fd, "ready");

  for (;;) {
    char buf[MAX_COMMAND + 1];
    struct iovec iov = { buf, MAX_COMMAND };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
    ssize_t n = recvmsg (fd, &msg, 0);

    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
#ifdef __SANITIZE_ADDRESS__
      /* AddressSanitizer builds only (tests/reliability/soak.sh): _exit()
       * skips LeakSanitizer's check at exit, so run it on the clean end. */
      if (n == 0)
        __lsan_do_leak_check ();
#endif
      _exit (n == 0 ? 0 : 1);
    }
    buf[n] = '\0';
    if (msg.msg_flags & MSG_TRUNC || memchr (buf, '\0', n)) {
      helper_send (fd, "error: unknown command");
      continue;
    }

    if (strcmp (buf, "apply") == 0) {
      /* Never rules from the socket: only what the file on disk says, after
       * the same validation as at start-up. */
      g_clear_error (&error);
      g_autoptr (CordonConfig) next = cordon_config_load_flags (config_path, CORDON_CONFIG_LOAD_NO_SECRETS, &error);
      if (!next) {
        helper_send_error (fd, error->message);
        continue;
      }
      if (!cordon_firewall_apply (next, &error)) {
        g_warning ("firewall helper: apply: %s", error->message);
        helper_send_error (fd, error->message);
        continue;
      }
      g_message ("firewall helper: table inet %s applied from %s (%s mode)", CORDON_FIREWALL_TABLE, config_path,
                 cordon_firewall_mode_to_string (next->mode));
      g_clear_pointer (&config, cordon_config_free);
      config = g_steal_pointer (&next);
      helper_send (fd, "ok");
    } else if (strcmp (buf, "reapply") == 0) {
      /* After someone else removed the table: put back what was applied
       * last, not whatever the file on disk says by now. */
      g_clear_error (&error);
      if (!cordon_firewall_apply (config, &error)) {
        g_warning ("firewall helper: re-apply: %s", error->message);
        helper_send_error (fd, error->message);
        continue;
      }
      helper_send (fd, "ok");
    } else if (strcmp (buf, "counters") == 0) {
      g_clear_error (&error);
      g_autofree char *reply = helper_counters (config, &error);
      if (reply)
        helper_send (fd, reply);
      else
        helper_send_error (fd, error->message);
    } else {
      helper_send (fd, "error: unknown command");
    }
  }
}

/* ---- the client (media process) ---- */

static void
helper_stop (CordonFwHelper *h, int wait_ms)
{
  if (h->fd >= 0) {
    close (h->fd);
    h->fd = -1;
  }
  if (h->pid <= 0)
    return;
  for (int waited = 0;; waited += 10) {
    pid_t r = waitpid (h->pid, NULL, WNOHANG);
    if (r == h->pid || (r < 0 && errno == ECHILD)) {
      h->pid = 0;
      return;
    }
    if (waited >= wait_ms)
      break;
    g_usleep (10 * 1000);
  }
  if (kill (h->pid, SIGKILL) < 0) {
    /* After the drop we are no longer allowed to signal a uid 0 process; it
     * has lost its socket and dies with us at the latest. */
    g_warning ("firewall helper (pid %d) did not exit and cannot be killed: %s", (int) h->pid, g_strerror (errno));
    return;
  }
  while (waitpid (h->pid, NULL, 0) < 0 && errno == EINTR)
    ;
  h->pid = 0;
}

static gboolean
gone (CordonFwHelper *h, GError **error, const char *why)
{
  g_set_error (error, CORDON_FW_HELPER_ERROR, CORDON_FW_HELPER_ERROR_GONE, "firewall helper: %s", why);
  if (h->fd >= 0)
    helper_stop (h, 500);
  return FALSE;
}

/* Receives one message within the timeout (transfer full). */
static char *
receive_reply (CordonFwHelper *h, GError **error)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) CORDON_FW_HELPER_TIMEOUT_MS * 1000;
  struct pollfd pfd = { .fd = h->fd, .events = POLLIN };

  for (;;) {
    int left = (int) MAX (0, (deadline - g_get_monotonic_time ()) / 1000);
    int r = poll (&pfd, 1, left);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0) {
      g_autofree char *why = g_strdup_printf ("poll: %s", g_strerror (errno));
      gone (h, error, why);
      return NULL;
    }
    if (r == 0) {
      /* A late answer would be taken for the next one: give up on it. */
      gone (h, error, "no answer within the timeout; stopped it");
      return NULL;
    }
    break;
  }

  g_autofree char *buf = g_malloc (MAX_REPLY + 1);
  struct iovec iov = { buf, MAX_REPLY };
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
  ssize_t n;
  while ((n = recvmsg (h->fd, &msg, MSG_DONTWAIT)) < 0 && errno == EINTR)
    ;
  if (n < 0) {
    g_autofree char *why = g_strdup_printf ("receive: %s", g_strerror (errno));
    gone (h, error, why);
    return NULL;
  }
  if (n == 0) {
    gone (h, error, "exited");
    return NULL;
  }
  if (msg.msg_flags & MSG_TRUNC) {
    gone (h, error, "reply too large");
    return NULL;
  }
  buf[n] = '\0';
  return g_steal_pointer (&buf);
}

static char *
call_locked (CordonFwHelper *h, const char *command, GError **error)
{
  if (h->fd < 0) {
    g_set_error (error, CORDON_FW_HELPER_ERROR, CORDON_FW_HELPER_ERROR_GONE, "firewall helper: not running");
    return NULL;
  }
  ssize_t n;
  while ((n = send (h->fd, command, strlen (command), MSG_NOSIGNAL)) < 0 && errno == EINTR)
    ;
  if (n < 0) {
    g_autofree char *why = g_strdup_printf ("send: %s", g_strerror (errno));
    gone (h, error, why);
    return NULL;
  }
  return receive_reply (h, error);
}

char *
cordon_fw_helper_call (CordonFwHelper *h, const char *command, GError **error)
{
  g_return_val_if_fail (h != NULL && command != NULL, NULL);
  g_mutex_lock (&h->lock);
  char *reply = call_locked (h, command, error);
  g_mutex_unlock (&h->lock);
  return reply;
}

/* "ok[\n...]" → TRUE and the rest in *body; "error: X" → FALSE with X. */
static gboolean
check_reply (const char *reply, const char **body, GError **error)
{
  if (g_str_has_prefix (reply, "error: ")) {
    g_set_error (error, CORDON_FW_HELPER_ERROR, CORDON_FW_HELPER_ERROR_REMOTE, "%s", reply + strlen ("error: "));
    return FALSE;
  }
  if (strcmp (reply, "ok") == 0 || g_str_has_prefix (reply, "ok\n")) {
    if (body)
      *body = reply[2] ? reply + 3 : reply + 2;
    return TRUE;
  }
  g_set_error (error, CORDON_FW_HELPER_ERROR, CORDON_FW_HELPER_ERROR_FAILED,
               "firewall helper: unexpected reply");
  return FALSE;
}

CordonFwHelper *
cordon_fw_helper_spawn (const char *config_path, GError **error)
{
  int sv[2];

  g_return_val_if_fail (config_path != NULL, NULL);
  if (geteuid () != 0) {
    g_set_error (error, CORDON_FW_HELPER_ERROR, CORDON_FW_HELPER_ERROR_FAILED,
                 "firewall helper: needs root (running as uid %u)", (guint) geteuid ());
    return NULL;
  }
  /* The child runs GLib after fork(): safe only when no other thread could
   * have held a lock at that moment. */
  if (!cordon_privileges_check_threads_single (error))
    return NULL;
  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
    g_set_error (error, CORDON_FW_HELPER_ERROR, CORDON_FW_HELPER_ERROR_FAILED, "firewall helper: socketpair: %s",
                 g_strerror (errno));
    return NULL;
  }

  pid_t parent = getpid ();
  fflush (NULL);
  pid_t pid = fork ();
  if (pid < 0) {
    int saved = errno;
    close (sv[0]);
    close (sv[1]);
    g_set_error (error, CORDON_FW_HELPER_ERROR, CORDON_FW_HELPER_ERROR_FAILED, "firewall helper: fork: %s",
                 g_strerror (saved));
    return NULL;
  }
  if (pid == 0) {
    close (sv[0]);
    helper_main (sv[1], config_path, parent);
  }
  close (sv[1]);

  g_autoptr (CordonFwHelper) h = g_new0 (CordonFwHelper, 1);
  g_mutex_init (&h->lock);
  h->fd = sv[0];
  h->pid = pid;

  g_autofree char *hello = receive_reply (h, error);
  if (!hello)
    return NULL;
  if (strcmp (hello, "ready") != 0) {
    if (g_str_has_prefix (hello, "error: "))
      g_set_error (error, CORDON_FW_HELPER_ERROR, CORDON_FW_HELPER_ERROR_REMOTE, "firewall helper: %s",
                   hello + strlen ("error: "));
    else
      g_set_error (error, CORDON_FW_HELPER_ERROR, CORDON_FW_HELPER_ERROR_FAILED,
                   "firewall helper: unexpected greeting");
    return NULL;
  }
  g_message ("firewall helper started (pid %d): CAP_NET_ADMIN only, applies %s on request", (int) pid,
             config_path);
  return g_steal_pointer (&h);
}

gboolean
cordon_fw_helper_apply (CordonFwHelper *h, GError **error)
{
  g_autofree char *reply = cordon_fw_helper_call (h, "apply", error);
  return reply && check_reply (reply, NULL, error);
}

gboolean
cordon_fw_helper_reapply (CordonFwHelper *h, GError **error)
{
  g_autofree char *reply = cordon_fw_helper_call (h, "reapply", error);
  return reply && check_reply (reply, NULL, error);
}

GHashTable *
cordon_fw_helper_read_counters (CordonFwHelper *h, GError **error)
{
  g_autofree char *reply = cordon_fw_helper_call (h, "counters", error);
  const char *body = NULL;
  if (!reply || !check_reply (reply, &body, error))
    return NULL;

  g_autoptr (GHashTable) counters = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_auto (GStrv) lines = g_strsplit (body, "\n", -1);
  for (guint i = 0; lines[i]; i++) {
    if (!*lines[i])
      continue;
    const char *space = strrchr (lines[i], ' ');
    guint64 value;
    if (!space || space == lines[i]
        || !g_ascii_string_to_unsigned (space + 1, 10, 0, G_MAXUINT64, &value, NULL)) {
      g_set_error (error, CORDON_FW_HELPER_ERROR, CORDON_FW_HELPER_ERROR_FAILED,
                   "firewall helper: malformed counters line %u", i + 1);
      return NULL;
    }
    g_hash_table_replace (counters, g_strndup (lines[i], space - lines[i]), g_memdup2 (&value, sizeof value));
  }
  return g_steal_pointer (&counters);
}

pid_t
cordon_fw_helper_get_pid (CordonFwHelper *h)
{
  g_return_val_if_fail (h != NULL, 0);
  return h->pid;
}

void
cordon_fw_helper_free (CordonFwHelper *h)
{
  if (!h)
    return;
  helper_stop (h, 5000);
  g_mutex_clear (&h->lock);
  g_free (h);
}
