/* cordon — the ingest worker's confinement.
 *
 * Entered by the worker after GStreamer is initialised and every plugin it can
 * need is loaded, and before the first byte from the camera: no_new_privs,
 * rlimits, Landlock (no file-system access at all, TCP connect only to the
 * camera's port, no signals out of the worker, where the kernel has them),
 * then a seccomp allow-list. The uid switch happened in the launcher's fork
 * (launcher-server.c).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define CORDON_JAIL_ERROR (cordon_jail_error_quark ())
GQuark cordon_jail_error_quark (void);

typedef struct {
  guint16 camera_port;   /* the only TCP port connect() may reach (Landlock ≥ 4) */
  int report_fd;         /* where the SIGSYS handler reports a refused system call */
  gboolean limit_tasks;  /* RLIMIT_NPROC (only when the worker has a uid of its own) */
} CordonJailSpec;

/* What the kernel gave; filled by cordon_jail_enter(). */
typedef struct {
  int landlock_abi;      /* 0: no Landlock */
  gboolean landlock_net; /* connect limited to the camera port */
  gboolean landlock_signal;
  gboolean seccomp;
} CordonJailReport;

/* Confines the calling process, which must have a single thread: Landlock
 * applies to the calling thread and the threads it starts later. Fails
 * closed: on FALSE the worker must exit. */
gboolean cordon_jail_enter (const CordonJailSpec *spec, CordonJailReport *report, GError **error);

/* Entries of /proc/self/task (the calling process's threads), or -1. */
int cordon_jail_count_threads (void);

/* A name for system call NR on this architecture, or NULL (static). */
const char *cordon_jail_syscall_name (int nr);

G_END_DECLS
