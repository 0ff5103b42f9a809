/* cordon — the RTSP egress: one mount per camera, shared media (one encode,
 * any number of recorders), recorder authentication. */
#pragma once

#include <gst/rtsp-server/rtsp-server.h>

#include "config/config.h"
#include "pipeline/pipeline.h"

G_BEGIN_DECLS

typedef struct _CordonServer CordonServer;

/* Creates the server and binds its listening sockets (plain RTSP, and RTSPS
 * when configured). Binding happens here so that it can be done before
 * privileges are dropped. */
CordonServer *cordon_server_new (const CordonConfig *config, GError **error);

/* Starts accepting connections on the thread-default main context. */
gboolean cordon_server_start (CordonServer *server, GError **error);

/* Serves PIPELINE's camera at /NAME to the recorders CONFIG allows. */
void cordon_server_add_camera (CordonServer *server, CordonPipeline *pipeline, const CordonConfig *config);

/* Stops serving camera NAME and disconnects its recorders. After this the
 * server holds no reference to the camera's pipeline. */
void cordon_server_remove_camera (CordonServer *server, const char *name);

/* New recorder list and permissions (after a reload). */
void cordon_server_set_config (CordonServer *server, const CordonConfig *config);

/* Prepared media instances for camera NAME (one per shared stream). */
guint cordon_server_media_count (CordonServer *server, const char *name);

typedef struct {
  char *name;
  guint sessions;        /* RTSP clients authenticated as this recorder */
  guint64 auth_failures;
  guint64 bytes_sent;    /* encoded video bytes sent (RTP/TLS overhead not counted) */
  GStrv blocked_addresses; /* of its allowed addresses, those the guessing brake blocks now */
} CordonRecorderStats;

/* Per recorder of CONFIG: GPtrArray of CordonRecorderStats* (transfer full). */
GPtrArray *cordon_server_recorder_stats (CordonServer *server, const CordonConfig *config);
guint64 cordon_server_refused_connections (CordonServer *server);

/* The actual bound port (useful with port 0 in tests). */
guint16 cordon_server_get_port (CordonServer *server);

void cordon_server_free (CordonServer *server);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CordonServer, cordon_server_free)

G_END_DECLS
