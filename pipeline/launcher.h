/* cordon — what the daemon (launcher.c) and the worker launcher
 * (launcher-server.c, `cordon-worker --launcher`) say to each other: one
 * fixed-size message each way, descriptors only with SPAWN. */
#pragma once

#include <glib.h>
#include <sys/types.h>

G_BEGIN_DECLS

/* The launcher's end of its socket pair, in the launcher process. */
#define CORDON_LAUNCHER_FD 3
#define CORDON_LAUNCHER_ARG "--launcher"

enum {
  CORDON_LAUNCHER_SPAWN = 1, /* daemon → launcher, with three descriptors */
  CORDON_LAUNCHER_SPAWNED,   /* pid, or -errno */
  CORDON_LAUNCHER_KILL,      /* pid: one of the launcher's children */
  CORDON_LAUNCHER_EXITED,    /* pid and wait status */
  CORDON_LAUNCHER_READY,     /* plugins loaded: spawns can come */
};

typedef struct {
  guint32 op;
  guint32 uid;    /* SPAWN: 0 = keep the launcher's (not root) uid */
  gint32 pid;     /* SPAWNED (or -errno), KILL, EXITED */
  gint32 status;  /* EXITED: wait status */
  char name[64];  /* SPAWN: camera name, for the worker's argv[1] */
} CordonLauncherMsg;

/* Sends M and N (0 or 3) descriptors on SOCK. */
void cordon_launcher_send (int sock, const CordonLauncherMsg *m, const int *fds, int n);

/* Receives one message and up to three descriptors (-1 where none came;
 * close-on-exec, the caller closes them). Returns recvmsg's result. */
ssize_t cordon_launcher_recv (int sock, CordonLauncherMsg *m, int *fds);

/* In `cordon-worker --launcher ...` (ARGC, ARGV as main's): checks what the
 * process was given (its socket, no_new_privs, CAP_SETUID and CAP_SETGID
 * only when root) and names it cordon-launcher. FALSE with ERROR when it
 * must not serve. */
gboolean cordon_launcher_server_init (int argc, char **argv, GError **error);

/* Tells the daemon the launcher is ready, then serves SPAWN, KILL and
 * reports exits until the daemon goes (then exits, killing its workers).
 * Returns only in a forked worker, as its camera's uid with no capability,
 * its three descriptors on 3, 4, 5 (worker.h), named cordon-worker NAME. */
void cordon_launcher_serve (void);

G_END_DECLS
