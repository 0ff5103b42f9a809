/* cordon — recorder authentication: digest credentials, address allow-lists,
 * per-camera permissions (as media factory roles), TLS policy and a brake on
 * password guessing.
 *
 * Small checks behind one dispatcher (cordon_auth_check), as rtsp-auth.c
 * does; what is known about a connection lives in its CordonClient. */
#define G_LOG_DOMAIN "cordon-proxy"

#include "proxy/auth.h"

#include <string.h>

#include "pipeline/pipeline.h"
#include "proxy/brake.h"
#include "proxy/client.h"
#include "proxy/digest.h"

#define REALM "cordon"

typedef struct {
  char *name;
  char *username;
  char *password;
  GPtrArray *addresses;   /* GInetAddressMask*, refs */
  CordonPolicy tls;
  GTlsCertificate *client_cert; /* the certificate it must present, or NULL */
  GstRTSPToken *token;    /* media factory role = name */
} RecorderInfo;

struct _CordonAuth {
  GstRTSPAuth parent;
  gboolean tls;
  GMutex lock;
  GPtrArray *recorders;   /* RecorderInfo*, a private copy of what we need */
  CordonBrake *brake;     /* failed logins per address (under lock), shared code with ONVIF */
  GHashTable *failures;   /* recorder name → guint64* */
  GHashTable *connections; /* ip → open connection count (GUINT_TO_POINTER) */
  guint max_per_address;
  guint64 refused_connections;
};

G_DEFINE_TYPE (CordonAuth, cordon_auth, GST_TYPE_RTSP_AUTH)

static void
recorder_info_free (RecorderInfo *r)
{
  g_free (r->name);
  g_free (r->username);
  if (r->password)
    memset (r->password, 0, strlen (r->password));
  g_free (r->password);
  g_ptr_array_unref (r->addresses);
  g_clear_object (&r->client_cert);
  gst_rtsp_token_unref (r->token);
  g_free (r);
}

static gboolean
allowed_address (RecorderInfo *r, const char *ip)
{
  CordonRecorder fake = { .addresses = r->addresses };
  g_autoptr (GInetAddress) addr = g_inet_address_new_from_string (ip);
  return addr && cordon_recorder_allows_address (&fake, addr);
}

/* Called with the lock held. */
static RecorderInfo *
find_by_username (CordonAuth *self, const char *username)
{
  for (guint i = 0; username && i < self->recorders->len; i++) {
    RecorderInfo *r = self->recorders->pdata[i];
    if (strcmp (r->username, username) == 0)
      return r;
  }
  return NULL;
}

static const char *
context_ip (GstRTSPContext *ctx)
{
  if (ctx->client && CORDON_IS_CLIENT (ctx->client))
    return cordon_client_get_ip (CORDON_CLIENT (ctx->client));
  GstRTSPConnection *conn = ctx->conn;
  if (!conn && ctx->client)
    conn = gst_rtsp_client_get_connection (ctx->client);
  return conn ? gst_rtsp_connection_get_ip (conn) : NULL;
}

static void
send_status (CordonAuth *self, GstRTSPContext *ctx, GstRTSPStatusCode code)
{
  if (!ctx->client || !ctx->request || !ctx->response)
    return;
  gst_rtsp_message_init_response (ctx->response, code, gst_rtsp_status_as_text (code), ctx->request);
  if (code == GST_RTSP_STS_UNAUTHORIZED && CORDON_IS_CLIENT (ctx->client)) {
    g_autofree char *challenge = cordon_digest_challenge (REALM, cordon_client_get_nonce (CORDON_CLIENT (ctx->client)));
    gst_rtsp_message_add_header (ctx->response, GST_RTSP_HDR_WWW_AUTHENTICATE, challenge);
  }
  gst_rtsp_client_send_message (ctx->client, ctx->session, ctx->response);
}

gboolean
cordon_auth_is_blocked (CordonAuth *self, const char *ip, gint64 now)
{
  g_mutex_lock (&self->lock);
  gboolean blocked = cordon_brake_is_blocked (self->brake, ip, now);
  g_mutex_unlock (&self->lock);
  return blocked;
}

GStrv
cordon_auth_blocked_addresses (CordonAuth *self, gint64 now)
{
  g_mutex_lock (&self->lock);
  GStrv blocked = cordon_brake_blocked (self->brake, now);
  g_mutex_unlock (&self->lock);
  return blocked;
}

void
cordon_auth_note_failure (CordonAuth *self, const char *ip, const char *username, gint64 now)
{
  const char *recorder = "";
  g_autofree char *clean_user = username ? cordon_sanitize (username) : NULL;

  g_mutex_lock (&self->lock);
  RecorderInfo *r = find_by_username (self, username);
  if (r)
    recorder = r->name;
  guint64 *count = g_hash_table_lookup (self->failures, recorder);
  if (!count) {
    count = g_new0 (guint64, 1);
    g_hash_table_insert (self->failures, g_strdup (recorder), count);
  }
  (*count)++;

  /* One log line per address every 10 s at most: a guessing run must not
   * flood the journal. The password is never logged; the user name is, made
   * printable (it is the client's text). */
  guint suppressed = 0;
  gboolean block = FALSE;
  if (cordon_brake_note_failure (self->brake, ip, now, &suppressed, &block)) {
    if (*recorder)
      g_message ("%s: failed login from %s (user \"%s\")%s", recorder, ip, clean_user,
                 block ? "; address blocked for 60 s" : "");
    else
      g_message ("failed login from %s (unknown user%s%s%s)%s", ip, clean_user ? " \"" : "",
                 clean_user ? clean_user : "", clean_user ? "\"" : "", block ? "; address blocked for 60 s" : "");
    if (suppressed)
      g_message ("%s: %u more failed logins not logged", ip, suppressed);
  }
  g_mutex_unlock (&self->lock);
}

char *
cordon_auth_request_username (GstRTSPMessage *request)
{
  if (!request)
    return NULL;
  GstRTSPAuthCredential **creds = gst_rtsp_message_parse_auth_credentials (request, GST_RTSP_HDR_AUTHORIZATION);
  char *user = NULL;
  for (guint i = 0; creds && creds[i] && !user; i++)
    for (guint j = 0; creds[i]->params && creds[i]->params[j]; j++)
      if (g_ascii_strcasecmp (creds[i]->params[j]->name, "username") == 0) {
        user = g_strndup (creds[i]->params[j]->value, 64);
        break;
      }
  gboolean had = creds && creds[0];
  gst_rtsp_auth_credentials_free (creds);
  if (had && !user)
    user = g_strdup ("");
  return user;
}

static void
connection_closed (GstRTSPClient *client, CordonAuth *self)
{
  const char *ip = CORDON_IS_CLIENT (client) ? cordon_client_get_ip (CORDON_CLIENT (client)) : NULL;
  if (!ip)
    return;
  g_mutex_lock (&self->lock);
  guint open = GPOINTER_TO_UINT (g_hash_table_lookup (self->connections, ip));
  if (open <= 1)
    g_hash_table_remove (self->connections, ip);
  else
    g_hash_table_insert (self->connections, g_strdup (ip), GUINT_TO_POINTER (open - 1));
  g_mutex_unlock (&self->lock);
}

guint
cordon_auth_open_connections (CordonAuth *self, const char *ip)
{
  g_mutex_lock (&self->lock);
  guint open = GPOINTER_TO_UINT (g_hash_table_lookup (self->connections, ip));
  g_mutex_unlock (&self->lock);
  return open;
}

/* A new connection: only recorder addresses, not blocked, a bounded number
 * per address. Both ends of the count are here: the client made for an
 * admitted connection is handed to cordon_auth_watch_client, whose "closed"
 * handler releases what this admitted. */
static gboolean
check_connect (CordonAuth *self, GstRTSPContext *ctx)
{
  const char *ip = context_ip (ctx);
  gboolean ok = FALSE;
  gint64 now = g_get_monotonic_time ();

  if (!ip)
    return FALSE;
  g_mutex_lock (&self->lock);
  if (cordon_brake_is_blocked (self->brake, ip, now)) {
    self->refused_connections++;
    g_mutex_unlock (&self->lock);
    return FALSE;
  }
  for (guint i = 0; i < self->recorders->len && !ok; i++)
    ok = allowed_address (self->recorders->pdata[i], ip);
  const char *why = ok ? NULL : "not a recorder address";
  /* A flood of connections from one host (a broken or hostile recorder)
   * cannot exhaust the daemon for the others. */
  guint open = GPOINTER_TO_UINT (g_hash_table_lookup (self->connections, ip));
  if (ok && open >= self->max_per_address) {
    ok = FALSE;
    why = "too many connections from this address";
  }
  if (ok) {
    g_hash_table_insert (self->connections, g_strdup (ip), GUINT_TO_POINTER (open + 1));
  } else {
    self->refused_connections++;
    if (cordon_brake_may_log (self->brake, ip, now))
      g_message ("refused connection from %s: %s", ip, why);
  }
  g_mutex_unlock (&self->lock);
  return ok;
}

void
cordon_auth_watch_client (CordonAuth *self, GstRTSPClient *client)
{
  g_signal_connect_object (client, "closed", G_CALLBACK (connection_closed), self, 0);
}

static const GstRTSPAuthCredential *
digest_credential (GstRTSPAuthCredential **creds)
{
  for (guint i = 0; creds && creds[i]; i++)
    if (creds[i]->scheme == GST_RTSP_AUTH_DIGEST)
      return creds[i];
  return NULL;
}

static void
parse_digest (const GstRTSPAuthCredential *cred, CordonDigest *d)
{
  memset (d, 0, sizeof *d);
  for (GstRTSPAuthParam **p = cred->params; p && *p; p++) {
    const char *n = (*p)->name, *v = (*p)->value;
    if (!n || !v)
      continue;
    const char **slot = g_ascii_strcasecmp (n, "username") == 0    ? &d->username
                        : g_ascii_strcasecmp (n, "realm") == 0     ? &d->realm
                        : g_ascii_strcasecmp (n, "nonce") == 0     ? &d->nonce
                        : g_ascii_strcasecmp (n, "uri") == 0       ? &d->uri
                        : g_ascii_strcasecmp (n, "response") == 0  ? &d->response
                        : g_ascii_strcasecmp (n, "qop") == 0       ? &d->qop
                        : g_ascii_strcasecmp (n, "nc") == 0        ? &d->nc
                        : g_ascii_strcasecmp (n, "cnonce") == 0    ? &d->cnonce
                        : g_ascii_strcasecmp (n, "algorithm") == 0 ? &d->algorithm
                                                                   : NULL;
    if (slot && !*slot)
      *slot = v;
  }
}

/* A failed login: counted for the brake; the connection is closed without an
 * answer once its address is blocked or it has failed too often itself. */
static void
login_failed (CordonAuth *self, GstRTSPContext *ctx, CordonClient *client, const char *ip, const char *username)
{
  gint64 now = g_get_monotonic_time ();
  cordon_auth_note_failure (self, ip, username, now);
  if (cordon_auth_is_blocked (self, ip, now) || cordon_client_add_failure (client) >= CORDON_AUTH_CONNECTION_FAIL_LIMIT)
    cordon_client_shut (client);
  else
    send_status (self, ctx, GST_RTSP_STS_UNAUTHORIZED);
}

/* A recorder with a client certificate must have presented exactly that one
 * in this connection's TLS handshake. Called with the lock held. */
static gboolean
peer_matches (RecorderInfo *r, GstRTSPContext *ctx)
{
  if (!r->client_cert)
    return TRUE;
  GstRTSPConnection *conn = ctx->conn ? ctx->conn : gst_rtsp_client_get_connection (ctx->client);
  GTlsConnection *tls = conn ? gst_rtsp_connection_get_tls (conn, NULL) : NULL;
  GTlsCertificate *peer = tls ? g_tls_connection_get_peer_certificate (tls) : NULL;
  return peer && g_tls_certificate_is_same (peer, r->client_cert);
}

/* Sets ctx->token to the recorder whose credentials the request carries, or
 * answers (401, 403) and returns FALSE. */
static gboolean
ensure_recorder (CordonAuth *self, GstRTSPContext *ctx, CordonClient *client, const char *ip)
{
  if (ctx->token)
    return TRUE;
  GstRTSPAuthCredential **creds = gst_rtsp_message_parse_auth_credentials (ctx->request, GST_RTSP_HDR_AUTHORIZATION);
  const GstRTSPAuthCredential *cred = digest_credential (creds);
  if (!cred) {
    /* No credentials yet: the usual first request, which learns the
     * challenge. A Basic credential is no login either (not offered). */
    gboolean had = creds && creds[0];
    gst_rtsp_auth_credentials_free (creds);
    if (had)
      login_failed (self, ctx, client, ip, NULL);
    else
      send_status (self, ctx, GST_RTSP_STS_UNAUTHORIZED);
    return FALSE;
  }
  CordonDigest d;
  parse_digest (cred, &d);
  g_autofree char *username = d.username ? g_strndup (d.username, 64) : NULL;

  g_mutex_lock (&self->lock);
  RecorderInfo *r = find_by_username (self, username);
  g_autofree char *name = r ? g_strdup (r->name) : NULL;
  /* Refused before the password is looked at: on the plain listener a
   * tls = required recorder's password must be no guessing oracle. */
  gboolean tls_refused = r && !self->tls && r->tls == CORDON_POLICY_REQUIRED;
  gboolean good = r && !tls_refused
                  && cordon_digest_verify (&d, gst_rtsp_method_as_text (ctx->method), REALM,
                                           cordon_client_get_nonce (client), r->password);
  gboolean address_ok = good && allowed_address (r, ip);
  /* Only on RTSPS (a recorder with a certificate is tls = required): on a
   * plain connection gst_rtsp_connection_get_tls() would start TLS. */
  gboolean cert_ok = !good || !self->tls || peer_matches (r, ctx);
  GstRTSPToken *token = good ? r->token : NULL;
  g_mutex_unlock (&self->lock);
  gst_rtsp_auth_credentials_free (creds);

  if (tls_refused) {
    g_message ("%s: refused request from %s: this recorder must use RTSPS", name, ip);
    send_status (self, ctx, GST_RTSP_STS_FORBIDDEN);
    return FALSE;
  }
  if (!good) {
    login_failed (self, ctx, client, ip, username);
    return FALSE;
  }
  const char *pinned = cordon_client_get_recorder (client);
  if (pinned && strcmp (pinned, name) != 0) {
    g_message ("%s: refused request from %s: its connection belongs to recorder %s", name, ip, pinned);
    send_status (self, ctx, GST_RTSP_STS_FORBIDDEN);
    cordon_client_shut (client);
    return FALSE;
  }
  if (!cert_ok) {
    g_message ("%s: refused request from %s: no or another client certificate than the recorder's", name, ip);
    send_status (self, ctx, GST_RTSP_STS_FORBIDDEN);
    return FALSE;
  }
  if (!address_ok) {
    g_message ("%s: refused request from %s: address not allowed for this recorder", name, ip);
    send_status (self, ctx, GST_RTSP_STS_FORBIDDEN);
    return FALSE;
  }
  /* Borrowed, as gst-rtsp-server's own authenticate does: the token lives
   * in the recorder list, which changes only on the main loop that runs
   * this request. */
  ctx->token = token;
  cordon_client_set_recorder (client, name);
  return TRUE;
}

static gboolean
cordon_auth_check (GstRTSPAuth *auth, GstRTSPContext *ctx, const char *check)
{
  CordonAuth *self = CORDON_AUTH (auth);

  /* The parent's connect check is where gst-rtsp-server starts TLS on RTSPS
   * connections, so it runs after ours, never instead of it. */
  if (g_str_equal (check, GST_RTSP_AUTH_CHECK_CONNECT))
    return check_connect (self, ctx) && GST_RTSP_AUTH_CLASS (cordon_auth_parent_class)->check (auth, ctx, check);

  if (!ctx->client || !CORDON_IS_CLIENT (ctx->client) || !ctx->request)
    return FALSE;
  CordonClient *client = CORDON_CLIENT (ctx->client);
  const char *ip = context_ip (ctx);
  /* A blocked address, or a connection on its way out, gets no answer at
   * all: not even a 401 that would tell a guess from a hit. */
  if (!ip || cordon_client_is_shut (client) || cordon_auth_is_blocked (self, ip, g_get_monotonic_time ())) {
    cordon_client_shut (client);
    return FALSE;
  }
  if (g_str_equal (check, GST_RTSP_AUTH_CHECK_URL)) {
    /* OPTIONS is the only method without a login. Every other one needs
     * the recorder, and a session is only found on the connection that set
     * it up (each connection has a session pool of its own). */
    if (ctx->method == GST_RTSP_OPTIONS)
      return TRUE;
    return ensure_recorder (self, ctx, client, ip);
  }
  if (!ensure_recorder (self, ctx, client, ip))
    return FALSE;
  return GST_RTSP_AUTH_CLASS (cordon_auth_parent_class)->check (auth, ctx, check);
}

static void
cordon_auth_finalize (GObject *object)
{
  CordonAuth *self = CORDON_AUTH (object);
  g_ptr_array_unref (self->recorders);
  cordon_brake_free (self->brake);
  g_hash_table_unref (self->failures);
  g_hash_table_unref (self->connections);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (cordon_auth_parent_class)->finalize (object);
}

static gboolean
cordon_auth_accept_certificate (GstRTSPAuth *auth, GTlsConnection *conn, GTlsCertificate *peer,
                                GTlsCertificateFlags errors)
{
  return TRUE;
}

static void
cordon_auth_class_init (CordonAuthClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = cordon_auth_finalize;
  GST_RTSP_AUTH_CLASS (klass)->check = cordon_auth_check;
  GST_RTSP_AUTH_CLASS (klass)->accept_certificate = cordon_auth_accept_certificate;
}

static void
cordon_auth_init (CordonAuth *self)
{
  g_mutex_init (&self->lock);
  self->recorders = g_ptr_array_new_with_free_func ((GDestroyNotify) recorder_info_free);
  self->brake = cordon_brake_new ();
  self->failures = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->connections = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->max_per_address = 16;
}

void
cordon_auth_set_config (CordonAuth *self, const CordonConfig *config)
{
  gboolean any_client_cert = FALSE;
  g_mutex_lock (&self->lock);
  self->max_per_address = config->max_clients_per_address;
  g_ptr_array_set_size (self->recorders, 0);
  for (guint i = 0; i < config->recorders->len; i++) {
    const CordonRecorder *rec = config->recorders->pdata[i];
    RecorderInfo *r = g_new0 (RecorderInfo, 1);
    r->name = g_strdup (rec->name);
    r->username = g_strdup (rec->username);
    r->password = g_strdup (rec->password);
    r->addresses = g_ptr_array_new_with_free_func (g_object_unref);
    for (guint j = 0; j < rec->addresses->len; j++)
      g_ptr_array_add (r->addresses, g_object_ref (rec->addresses->pdata[j]));
    r->tls = rec->tls;
    if (rec->client_certificate)
      r->client_cert = g_tls_certificate_new_from_pem (rec->client_certificate, -1, NULL);
    if (r->client_cert)
      any_client_cert = TRUE;
    r->token = gst_rtsp_token_new (GST_RTSP_TOKEN_MEDIA_FACTORY_ROLE, G_TYPE_STRING, rec->name, NULL);
    g_ptr_array_add (self->recorders, r);
  }
  g_mutex_unlock (&self->lock);
  /* Mutual TLS: the certificate is asked for (not required: recorders
   * without one still connect) and accepted at the handshake whoever issued
   * it; which recorder may use which certificate is decided at login, where
   * the user name is known (peer_matches). */
  if (self->tls)
    gst_rtsp_auth_set_tls_authentication_mode (GST_RTSP_AUTH (self), any_client_cert ? G_TLS_AUTHENTICATION_REQUESTED
                                                                                     : G_TLS_AUTHENTICATION_NONE);
}

CordonAuth *
cordon_auth_new (const CordonConfig *config, gboolean tls)
{
  CordonAuth *self = g_object_new (CORDON_TYPE_AUTH, NULL);
  self->tls = tls;
  gst_rtsp_auth_set_supported_methods (GST_RTSP_AUTH (self), GST_RTSP_AUTH_DIGEST);
  gst_rtsp_auth_set_realm (GST_RTSP_AUTH (self), REALM);
  cordon_auth_set_config (self, config);
  return self;
}

GHashTable *
cordon_auth_get_failures (CordonAuth *self)
{
  GHashTable *copy = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  GHashTableIter it;
  gpointer k, v;
  g_mutex_lock (&self->lock);
  g_hash_table_iter_init (&it, self->failures);
  while (g_hash_table_iter_next (&it, &k, &v))
    g_hash_table_insert (copy, g_strdup (k), g_memdup2 (v, sizeof (guint64)));
  g_mutex_unlock (&self->lock);
  return copy;
}

void
cordon_auth_get_stats (CordonAuth *self, CordonAuthStats *stats)
{
  GHashTableIter it;
  gpointer v;
  memset (stats, 0, sizeof *stats);
  g_mutex_lock (&self->lock);
  g_hash_table_iter_init (&it, self->failures);
  while (g_hash_table_iter_next (&it, NULL, &v))
    stats->auth_failures += *(guint64 *) v;
  stats->refused_connections = self->refused_connections;
  g_mutex_unlock (&self->lock);
}

GstRTSPPermissions *
cordon_auth_permissions (const CordonConfig *config, const char *camera)
{
  GstRTSPPermissions *perms = gst_rtsp_permissions_new ();
  for (guint i = 0; i < config->recorders->len; i++) {
    const CordonRecorder *r = config->recorders->pdata[i];
    if (cordon_recorder_allows_camera (r, camera))
      gst_rtsp_permissions_add_role (perms, r->name, GST_RTSP_PERM_MEDIA_FACTORY_ACCESS, G_TYPE_BOOLEAN, TRUE,
                                     GST_RTSP_PERM_MEDIA_FACTORY_CONSTRUCT, G_TYPE_BOOLEAN, TRUE, NULL);
  }
  return perms;
}

const char *
cordon_auth_client_recorder (GstRTSPClient *client)
{
  return CORDON_IS_CLIENT (client) ? cordon_client_get_recorder (CORDON_CLIENT (client)) : NULL;
}
