/* cordon — what the daemon and an ingest worker agree on besides the
 * messages (handover.h): the inherited descriptors and the parameters. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Inherited by the worker at these numbers; everything else is closed. */
#define CORDON_WORKER_FD_CONTROL 3 /* SOCK_SEQPACKET: messages both ways */
#define CORDON_WORKER_FD_RING 4    /* the sealed memfd of picture slots */
#define CORDON_WORKER_FD_PARAMS 5  /* sealed memfd: this camera's parameters (key file) */

/* The [worker] group of the parameters: name, url, host, port, username,
 * password, width, height, framerate, audio, slots, slot-size, daemon-pid. */
#define CORDON_WORKER_GROUP "worker"



#ifdef CORDON_HOSTILE_WORKER
/* Test builds only (-Dhostile_worker=true, never installed): after the jail is
 * in place, tests/jail/hostile.c may replace the camera handling with
 * misbehaviour chosen by the URL's path. Returns FALSE to run normally. */
typedef struct {
  int control;
  guint8 *ring;
  gsize slot_size;
  guint slots;
  const char *url;
  const char *host;
  guint16 port;
  int daemon_pid;
} CordonHostileEnv;
gboolean cordon_hostile_run (const CordonHostileEnv *env);
#endif
G_END_DECLS
