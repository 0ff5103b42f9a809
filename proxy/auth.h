/* cordon — recorder authentication and authorisation for gst-rtsp-server. */
#pragma once

#include <gst/rtsp-server/rtsp-server.h>

#include "config/config.h"

G_BEGIN_DECLS

#define CORDON_TYPE_AUTH (cordon_auth_get_type ())
G_DECLARE_FINAL_TYPE (CordonAuth, cordon_auth, CORDON, AUTH, GstRTSPAuth)

/* An auth manager for one listening socket; TLS says whether connections on
 * it are RTSPS. Recorders come from CONFIG (see cordon_auth_set_config). */
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

/* Every connection the connect check admits must be released here when it
 * closes, so that the per-address limit counts open connections. */
void cordon_auth_connection_closed (CordonAuth *auth, const char *ip);

/* The user name in REQUEST's Authorization header ("" when it has a header
 * without one), or NULL when there is none (transfer full). */
char *cordon_auth_request_username (GstRTSPMessage *request);

/* The recorder a client authenticated as, or NULL. */
const char *cordon_auth_client_recorder (GstRTSPClient *client);

G_END_DECLS
