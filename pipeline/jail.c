/* cordon — the ingest worker's confinement. */
#define _GNU_SOURCE
#define G_LOG_DOMAIN "cordon-worker"

#include "jail.h"
#include "ring.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

G_DEFINE_QUARK (cordon-jail-error-quark, cordon_jail_error)

/* Newer than the installed kernel headers (Debian 12 ships 6.1's). */
#define JAIL_FS_TRUNCATE (1ULL << 14)   /* ABI 3 */
#define JAIL_FS_IOCTL_DEV (1ULL << 15)  /* ABI 5 */
#define JAIL_NET_BIND_TCP (1ULL << 0)   /* ABI 4 */
#define JAIL_NET_CONNECT_TCP (1ULL << 1)
#define JAIL_RULE_NET_PORT 2
#define JAIL_SCOPE_ABSTRACT_UNIX (1ULL << 0) /* ABI 6 */
#define JAIL_SCOPE_SIGNAL (1ULL << 1)

struct jail_ruleset_attr {
  guint64 handled_access_fs;
  guint64 handled_access_net;
  guint64 scoped;
};

struct jail_net_port_attr {
  guint64 allowed_access;
  guint64 port;
};

#define JAIL_NOFILE 64
#define JAIL_NPROC 64                               /* threads of the worker's uid */
#define JAIL_AS (G_GUINT64_CONSTANT (2) << 30)      /* address space */
#define JAIL_CPU_S (24 * 3600)                      /* then SIGXCPU/SIGKILL: restarted */

static gboolean
fail (GError **error, const char *what, int err)
{
  g_set_error (error, CORDON_JAIL_ERROR, 0, "%s: %s", what, g_strerror (err));
  return FALSE;
}

int
cordon_jail_count_threads (void)
{
  /* /proc may be gone later; here it is still readable. */
  g_autoptr (GDir) dir = g_dir_open ("/proc/self/task", 0, NULL);
  int n = 0;
  if (!dir)
    return -1;
  while (g_dir_read_name (dir))
    n++;
  return n;
}

static gboolean
set_limit (int resource, rlim_t value, const char *name, GError **error)
{
  struct rlimit cur, want;
  if (getrlimit (resource, &cur) < 0)
    return fail (error, name, errno);
  /* Never above what we already have: lowering needs no privilege. */
  want.rlim_max = MIN (cur.rlim_max, value);
  want.rlim_cur = want.rlim_max;
  if (setrlimit (resource, &want) < 0)
    return fail (error, name, errno);
  return TRUE;
}

static gboolean
set_limits (const CordonJailSpec *spec, GError **error)
{
  return set_limit (RLIMIT_NOFILE, JAIL_NOFILE, "RLIMIT_NOFILE", error)
    && set_limit (RLIMIT_AS, JAIL_AS, "RLIMIT_AS", error)
    && set_limit (RLIMIT_CPU, JAIL_CPU_S, "RLIMIT_CPU", error)
    && set_limit (RLIMIT_CORE, 0, "RLIMIT_CORE", error)
    && (!spec->limit_tasks || set_limit (RLIMIT_NPROC, JAIL_NPROC, "RLIMIT_NPROC", error));
}

/* Landlock: every file-system right handled and none granted; TCP connect
 * only to the camera's port and no bind; no signals and no abstract sockets
 * outside the worker. Each part where the kernel's ABI has it. */
static gboolean
enter_landlock (const CordonJailSpec *spec, CordonJailReport *report, GError **error)
{
  int abi = syscall (SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
  if (abi < 0) {
    report->landlock_abi = 0;
    g_message ("Landlock is not available (%s): file-system access is refused by seccomp only",
               g_strerror (errno));
    return TRUE;
  }
  report->landlock_abi = abi;

  struct jail_ruleset_attr attr = { 0 };
  gsize size = sizeof attr.handled_access_fs;
  attr.handled_access_fs = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1;
  if (abi >= 2)
    attr.handled_access_fs |= LANDLOCK_ACCESS_FS_REFER;
  if (abi >= 3)
    attr.handled_access_fs |= JAIL_FS_TRUNCATE;
  if (abi >= 5)
    attr.handled_access_fs |= JAIL_FS_IOCTL_DEV;
  if (abi >= 4) {
    attr.handled_access_net = JAIL_NET_BIND_TCP | JAIL_NET_CONNECT_TCP;
    size = G_STRUCT_OFFSET (struct jail_ruleset_attr, scoped);
  }
  if (abi >= 6) {
    attr.scoped = JAIL_SCOPE_ABSTRACT_UNIX | JAIL_SCOPE_SIGNAL;
    size = sizeof attr;
  }
  int fd = syscall (SYS_landlock_create_ruleset, &attr, size, 0);
  if (fd < 0)
    return fail (error, "landlock_create_ruleset", errno);
  if (abi >= 4) {
    struct jail_net_port_attr port = { .allowed_access = JAIL_NET_CONNECT_TCP, .port = spec->camera_port };
    if (syscall (SYS_landlock_add_rule, fd, JAIL_RULE_NET_PORT, &port, 0) < 0) {
      int saved = errno;
      close (fd);
      return fail (error, "landlock_add_rule (camera port)", saved);
    }
    report->landlock_net = TRUE;
  }
  report->landlock_signal = abi >= 6;
  if (syscall (SYS_landlock_restrict_self, fd, 0) < 0) {
    int saved = errno;
    close (fd);
    return fail (error, "landlock_restrict_self", saved);
  }
  close (fd);
  return TRUE;
}

/* ---- seccomp ---- */

static int report_fd = -1;

/* A system call outside the allow-list: say which, then go. Only
 * async-signal-safe calls here. */
static void
on_sigsys (int sig, siginfo_t *info, void *ucontext)
{
  CordonWorkerMsg m;
  /* Both only clock_gettime, memset and stores. */
  cordon_worker_msg_init (&m, CORDON_MSG_FAILED, 0, 0, cordon_handover_now_ns ());
  m.code = CORDON_WORKER_SECCOMP;
  m.detail = (guint32) info->si_syscall;
  if (report_fd >= 0)
    send (report_fd, &m, sizeof m, MSG_DONTWAIT | MSG_NOSIGNAL);
  _exit (128 + SIGSYS);
}

typedef struct _scmp_filter_ctx_opaque CordonSeccomp; /* scmp_filter_ctx is void* */
static void
seccomp_free (CordonSeccomp *ctx)
{
  seccomp_release (ctx);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CordonSeccomp, seccomp_free)

/* What rtspsrc, the depayloaders, parsers, libav's decoders, the converters
 * and GLib's main loop need once everything is loaded. Everything else traps
 * (and the worker reports which call it was): exec, ptrace, fork, listen,
 * bind, accept, mount, namespaces, bpf, keyrings, io_uring, … */
static const char *const allowed[] = {
  "read", "write", "readv", "writev", "pread64", "pwrite64", "close", "dup", "dup3", "lseek",
  "fstat", "newfstatat", "statx", "fcntl",
  "poll", "ppoll", "select", "pselect6", "epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait",
  "eventfd2", "pipe2", "timerfd_create", "timerfd_settime", "timerfd_gettime",
  "connect", "sendto", "sendmsg", "sendmmsg", "recvfrom", "recvmsg", "recvmmsg", "getsockname",
  "getpeername", "getsockopt", "setsockopt", "shutdown",
  "mmap", "munmap", "mprotect", "mremap", "madvise", "brk", "membarrier",
  "futex", "set_robust_list", "get_robust_list", "rseq", "restart_syscall", "sched_yield",
  "sched_getaffinity", "sched_getparam", "sched_getscheduler", "sched_get_priority_max",
  "sched_get_priority_min", "sched_getattr", "getcpu",
  "nanosleep", "clock_nanosleep", "clock_gettime", "clock_getres", "gettimeofday", "time",
  "getpid", "gettid", "getppid", "getuid", "geteuid", "getgid", "getegid", "getresuid", "getresgid",
  "getgroups", "uname", "sysinfo", "getrusage", "getrlimit", "times",
  "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "sigaltstack", "rt_sigtimedwait",
  "exit", "exit_group", "getrandom", "umask",
};

/* Refused with an error instead: code that probes and copes. */
static const struct { const char *name; int err; } refused[] = {
  { "open", EACCES }, { "openat", EACCES }, { "openat2", EACCES }, { "creat", EACCES },
  { "stat", EACCES }, { "lstat", EACCES }, { "access", EACCES }, { "faccessat", EACCES },
  { "faccessat2", EACCES }, { "readlink", EACCES }, { "readlinkat", EACCES },
  { "getdents64", EACCES }, { "mkdir", EACCES }, { "unlink", EACCES },
  { "sched_setscheduler", EPERM }, { "sched_setparam", EPERM }, { "setpriority", EPERM },
  { "getpriority", EPERM }, { "sched_setaffinity", EPERM }, { "sched_setattr", EPERM },
  /* glibc's pthread_create tries clone3 first and falls back to clone,
   * whose flags a filter can read. */
  { "clone3", ENOSYS },
};

static gboolean
add_rule (scmp_filter_ctx ctx, guint32 action, const char *name, unsigned n, const struct scmp_arg_cmp *cmp,
          GError **error)
{
  int nr = seccomp_syscall_resolve_name (name);
  if (nr == __NR_SCMP_ERROR)
    return TRUE; /* not on this architecture */
  int rc = seccomp_rule_add_array (ctx, action, nr, n, cmp);
  if (rc < 0) {
    g_autofree char *what = g_strdup_printf ("seccomp rule for %s", name);
    return fail (error, what, -rc);
  }
  return TRUE;
}

static gboolean
enter_seccomp (const CordonJailSpec *spec, CordonJailReport *report, GError **error)
{
  struct sigaction sa = { 0 };
  sa.sa_sigaction = on_sigsys;
  sa.sa_flags = SA_SIGINFO;
  sigemptyset (&sa.sa_mask);
  report_fd = spec->report_fd;
  if (sigaction (SIGSYS, &sa, NULL) < 0)
    return fail (error, "sigaction SIGSYS", errno);

  g_autoptr (CordonSeccomp) ctx = seccomp_init (SCMP_ACT_TRAP);
  if (!ctx)
    return fail (error, "seccomp_init", ENOMEM);
  /* Every thread, including any GLib already started. */
  if (seccomp_attr_set (ctx, SCMP_FLTATR_CTL_TSYNC, 1) < 0)
    return fail (error, "seccomp TSYNC", EINVAL);
  for (guint i = 0; i < G_N_ELEMENTS (allowed); i++)
    if (!add_rule (ctx, SCMP_ACT_ALLOW, allowed[i], 0, NULL, error))
      return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (refused); i++)
    if (!add_rule (ctx, SCMP_ACT_ERRNO (refused[i].err), refused[i].name, 0, NULL, error))
      return FALSE;

  /* Threads only: a clone without CLONE_THREAD (a new process) traps. */
  struct scmp_arg_cmp thread = SCMP_A0 (SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD);
  if (!add_rule (ctx, SCMP_ACT_ALLOW, "clone", 1, &thread, error))
    return FALSE;
  /* Signals only to itself. */
  struct scmp_arg_cmp self = SCMP_A0 (SCMP_CMP_EQ, (scmp_datum_t) getpid ());
  if (!add_rule (ctx, SCMP_ACT_ALLOW, "tgkill", 1, &self, error)
      || !add_rule (ctx, SCMP_ACT_ALLOW, "kill", 1, &self, error))
    return FALSE;
  /* Internet sockets only (rtspsrc's TCP); no unix, netlink or raw. */
  struct scmp_arg_cmp inet = SCMP_A0 (SCMP_CMP_EQ, AF_INET);
  struct scmp_arg_cmp inet6 = SCMP_A0 (SCMP_CMP_EQ, AF_INET6);
  if (!add_rule (ctx, SCMP_ACT_ALLOW, "socket", 1, &inet, error)
      || !add_rule (ctx, SCMP_ACT_ALLOW, "socket", 1, &inet6, error))
    return FALSE;
  /* GstPoll's wake-up pair: unnamed, reaches nothing outside. */
  struct scmp_arg_cmp unix_pair = SCMP_A0 (SCMP_CMP_EQ, AF_UNIX);
  if (!add_rule (ctx, SCMP_ACT_ALLOW, "socketpair", 1, &unix_pair, error))
    return FALSE;
  /* Thread names; nothing else of prctl. */
  struct scmp_arg_cmp set_name = SCMP_A0 (SCMP_CMP_EQ, PR_SET_NAME);
  struct scmp_arg_cmp get_name = SCMP_A0 (SCMP_CMP_EQ, PR_GET_NAME);
  if (!add_rule (ctx, SCMP_ACT_ALLOW, "prctl", 1, &set_name, error)
      || !add_rule (ctx, SCMP_ACT_ALLOW, "prctl", 1, &get_name, error))
    return FALSE;
  /* Reading limits, never raising them. */
  struct scmp_arg_cmp get_only = SCMP_A2 (SCMP_CMP_EQ, 0);
  if (!add_rule (ctx, SCMP_ACT_ALLOW, "prlimit64", 1, &get_only, error))
    return FALSE;
  /* GSocket asks how much is queued; isatty() on stderr. */
  static const unsigned long ioctls[] = { FIONREAD, FIONBIO, TCGETS };
  for (guint i = 0; i < G_N_ELEMENTS (ioctls); i++) {
    struct scmp_arg_cmp req = SCMP_A1 (SCMP_CMP_EQ, ioctls[i]);
    if (!add_rule (ctx, SCMP_ACT_ALLOW, "ioctl", 1, &req, error))
      return FALSE;
  }
  int rc = seccomp_load (ctx);
  if (rc < 0)
    return fail (error, "seccomp_load", -rc);
  report->seccomp = TRUE;
  return TRUE;
}

gboolean
cordon_jail_enter (const CordonJailSpec *spec, CordonJailReport *report, GError **error)
{
  memset (report, 0, sizeof *report);
  int threads = cordon_jail_count_threads ();
  if (threads != 1) {
    g_set_error (error, CORDON_JAIL_ERROR, 0,
                 "the worker has %d threads before its jail; Landlock would not cover them", threads);
    return FALSE;
  }
  /* Also set by the launcher before the fork; seccomp and Landlock need it. */
  if (prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    return fail (error, "no_new_privs", errno);
  if (prctl (PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
    return fail (error, "PR_SET_DUMPABLE", errno);
  return set_limits (spec, error) && enter_landlock (spec, report, error) && enter_seccomp (spec, report, error);
}

const char *
cordon_jail_syscall_name (int nr)
{
  static GHashTable *names;
  static GMutex lock;
  const char *name;

  g_mutex_lock (&lock);
  if (!names)
    names = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, g_free);
  name = g_hash_table_lookup (names, GINT_TO_POINTER (nr));
  if (!name) {
    char *n = seccomp_syscall_resolve_num_arch (SCMP_ARCH_NATIVE, nr);
    if (n) {
      g_hash_table_insert (names, GINT_TO_POINTER (nr), g_strdup (n));
      name = g_hash_table_lookup (names, GINT_TO_POINTER (nr));
      free (n);
    }
  }
  g_mutex_unlock (&lock);
  return name;
}
