/* cordon — the session pool of one recorder connection, with session ids
 * from getrandom(2). Each connection has a pool of its own, so a session id
 * can only ever be found, and its media driven, on the connection that set
 * it up (see proxy/client.c). */
#pragma once

#include <gst/rtsp-server/rtsp-server.h>

G_BEGIN_DECLS

#define CORDON_TYPE_SESSION_POOL (cordon_session_pool_get_type ())
G_DECLARE_FINAL_TYPE (CordonSessionPool, cordon_session_pool, CORDON, SESSION_POOL, GstRTSPSessionPool)

CordonSessionPool *cordon_session_pool_new (void);

/* A new session id, as the pool makes them (transfer full). */
char *cordon_session_pool_make_id (void);

G_END_DECLS
