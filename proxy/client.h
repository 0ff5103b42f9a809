/* cordon — one recorder connection: a GstRTSPClient with cordon's typed
 * per-connection state (who it is, what it watches, how it has behaved). */
#pragma once

#include <gst/rtsp-server/rtsp-server.h>

G_BEGIN_DECLS

#define CORDON_TYPE_CLIENT (cordon_client_get_type ())
G_DECLARE_FINAL_TYPE (CordonClient, cordon_client, CORDON, CLIENT, GstRTSPClient)

/* A client with a session pool of its own: its sessions cannot be found
 * from any other connection. TUNNEL allows RTSP over HTTP. */
CordonClient *cordon_client_new (gboolean tunnel);

/* The peer's address (valid once the connection is set). */
const char *cordon_client_get_ip (CordonClient *client);

/* The recorder it authenticated as, or NULL. A connection is one recorder's:
 * once set, it does not change. */
const char *cordon_client_get_recorder (CordonClient *client);
void cordon_client_set_recorder (CordonClient *client, const char *recorder);

/* The digest nonce this connection was challenged with (made on first use;
 * a nonce is valid only on the connection it was given to). */
const char *cordon_client_get_nonce (CordonClient *client);

/* Failed logins on this connection so far, after counting one more. */
guint cordon_client_add_failure (CordonClient *client);

/* Ends the connection from the main loop's next turn; until then it gets
 * no answer (cordon_client_is_shut). */
void cordon_client_shut (CordonClient *client);
gboolean cordon_client_is_shut (CordonClient *client);

/* The client completed a request now. */
void cordon_client_note_request (CordonClient *client);
/* Microseconds since its last complete request (or since it connected). */
gint64 cordon_client_idle_us (CordonClient *client);

/* Sessions it holds. */
guint cordon_client_session_count (CordonClient *client);

/* Bytes accounting: the client started playing camera media of FACTORY
 * (a CordonMediaFactory) whose pipeline had produced START bytes then. */
void cordon_client_watch (CordonClient *client, GObject *factory, guint64 start);
/* Encoded bytes the cameras it watches produced since it started watching. */
guint64 cordon_client_bytes_sent (CordonClient *client);

G_END_DECLS
