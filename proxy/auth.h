/* cordon — recorder authentication and authorisation for gst-rtsp-server. */
#pragma once

#include <gst/rtsp-server/rtsp-server.h>

#include "config/config.h"
#include "proxy/brake.h"

G_BEGIN_DECLS

#define CORDON_TYPE_AUTH (cordon_auth_get_type ())
G_DECLARE_FINAL_TYPE (CordonAuth, cordon_auth, CORDON, AUTH, GstRTSPAuth)

/* Failed logins per address within a minute before the address is blocked
 * for a minute, and per connection before it is closed. */
#define CORDON_AUTH_FAIL_LIMIT CORDON_BRAKE_FAIL_LIMIT
#define CORDON_AUTH_CONNECTION_FAIL_LIMIT 3

/* An auth manager for one listening socket; TLS says whether connections on
 * it are RTSPS. Recorders come from CONFIG (see cordon_auth_set_config).
 * Every method but OPTIONS needs a recorder's digest credentials; a blocked
 * address gets no answer on any connection. */
CordonAuth *cordon_auth_new (const CordonConfig *config, gboolean tls);

/* Replaces the recorder list (users, passwords, allowed addresses). */
void cordon_auth_set_config (CordonAuth *auth, const CordonConfig *config);

typedef struct {
  guint64 auth_failures;
  guint64 refused_connections;
} CordonAuthStats;

/* Per-recorder failed logins: recorder name (or "" for unknown users) → count. */
GHashTable *cordon_auth_get_failures (CordonAuth *auth);
void cordon_auth_get_stats (CordonAuth *auth, CordonAuthStats *stats);

/* The brake, for tests: counts a failed login from IP (USERNAME may be NULL)
 * at monotonic time NOW; TRUE when IP is blocked at NOW. */
void cordon_auth_note_failure (CordonAuth *auth, const char *ip, const char *username, gint64 now);
gboolean cordon_auth_is_blocked (CordonAuth *auth, const char *ip, gint64 now);

/* The addresses the brake blocks at NOW, sorted (transfer full). */
GStrv cordon_auth_blocked_addresses (CordonAuth *auth, gint64 now);

/* CLIENT was made for a connection the connect check admitted: its close
 * releases the connection's place in the per-address count. */
void cordon_auth_watch_client (CordonAuth *auth, GstRTSPClient *client);

/* Open connections the connect check admitted from IP. */
guint cordon_auth_open_connections (CordonAuth *auth, const char *ip);

/* The user name in REQUEST's Authorization header ("" when it has a header
 * without one), or NULL when there is none (transfer full). */
char *cordon_auth_request_username (GstRTSPMessage *request);

/* The grants on CAMERA: a media factory role per recorder of CONFIG that may
 * see it (transfer full). */
GstRTSPPermissions *cordon_auth_permissions (const CordonConfig *config, const char *camera);

/* The recorder a client authenticated as, or NULL. */
const char *cordon_auth_client_recorder (GstRTSPClient *client);

G_END_DECLS
