/* cordon — recorder authentication: digest credentials, address allow-lists,
 * per-camera permissions (as media factory roles), TLS policy and a brake on
 * password guessing. */
#define G_LOG_DOMAIN "cordon-proxy"

#include "proxy/auth.h"
#include "proxy/brake.h"

#include <string.h>

struct _CordonAuth {
  GstRTSPAuth parent;
  gboolean tls;
  GMutex lock;
  GPtrArray *recorders;   /* CordonRecorderInfo*, a private copy of what we need */
  CordonBrake *brake;     /* failed logins per address (under lock) */
  GHashTable *failures;   /* recorder name → guint64* */
  GHashTable *connections; /* ip → open connection count (GUINT_TO_POINTER) */
  guint max_per_address;
  guint64 refused_connections;
};

typedef struct {
  char *name;
  char *username;
  GPtrArray *addresses;   /* GInetAddressMask*, refs */
  CordonPolicy tls;
} RecorderInfo;

G_DEFINE_TYPE (CordonAuth, cordon_auth, GST_TYPE_RTSP_AUTH)

static void
recorder_info_free (RecorderInfo *r)
{
  g_free (r->name);
  g_free (r->username);
  g_ptr_array_unref (r->addresses);
  g_free (r);
}

static gboolean
allowed_address (RecorderInfo *r, const char *ip)
{
  CordonRecorder fake = { .addresses = r->addresses };
  g_autoptr (GInetAddress) addr = g_inet_address_new_from_string (ip);
  return addr && cordon_recorder_allows_address (&fake, addr);
}

static RecorderInfo *
find_by_name (CordonAuth *self, const char *name)
{
  for (guint i = 0; i < self->recorders->len; i++) {
    RecorderInfo *r = self->recorders->pdata[i];
    if (g_strcmp0 (r->name, name) == 0)
      return r;
  }
  return NULL;
}

static void
send_status (GstRTSPContext *ctx, GstRTSPStatusCode code)
{
  if (!ctx->client || !ctx->request || !ctx->response)
    return;
  gst_rtsp_message_init_response (ctx->response, code, gst_rtsp_status_as_text (code), ctx->request);
  gst_rtsp_client_send_message (ctx->client, ctx->session, ctx->response);
}

static const char *
context_ip (GstRTSPContext *ctx)
{
  GstRTSPConnection *conn = ctx->conn;
  if (!conn && ctx->client)
    conn = gst_rtsp_client_get_connection (ctx->client);
  return conn ? gst_rtsp_connection_get_ip (conn) : NULL;
}

static void
note_failure (CordonAuth *self, const char *ip, const char *username)
{
  gint64 now = g_get_monotonic_time ();
  const char *recorder = "";

  g_mutex_lock (&self->lock);
  for (guint i = 0; username && i < self->recorders->len; i++) {
    RecorderInfo *r = self->recorders->pdata[i];
    if (g_strcmp0 (r->username, username) == 0)
      recorder = r->name;
  }
  guint64 *count = g_hash_table_lookup (self->failures, recorder);
  if (!count) {
    count = g_new0 (guint64, 1);
    g_hash_table_insert (self->failures, g_strdup (recorder), count);
  }
  (*count)++;

  /* One log line per address every 10 s at most: a guessing run must not
   * flood the journal. The password is never logged; the user name is. */
  guint suppressed = 0;
  gboolean block = FALSE;
  if (cordon_brake_note_failure (self->brake, ip, now, &suppressed, &block)) {
    if (*recorder)
      g_message ("%s: failed login from %s (user \"%s\")%s", recorder, ip, username,
                 block ? "; address blocked for 60 s" : "");
    else
      g_message ("failed login from %s (unknown user%s%s%s)%s", ip, username ? " \"" : "",
                 username ? username : "", username ? "\"" : "", block ? "; address blocked for 60 s" : "");
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
  /* Only addresses of some recorder may talk RTSP to us at all. */
  for (guint i = 0; i < self->recorders->len && !ok; i++)
    ok = allowed_address (self->recorders->pdata[i], ip);
  const char *why = ok ? NULL : "not a recorder address";
  /* Bounded per address: a flood of connections from one host (a broken or
   * hostile recorder) cannot exhaust the daemon for the others. */
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
cordon_auth_connection_closed (CordonAuth *self, const char *ip)
{
  g_mutex_lock (&self->lock);
  guint open = GPOINTER_TO_UINT (g_hash_table_lookup (self->connections, ip));
  if (open <= 1)
    g_hash_table_remove (self->connections, ip);
  else
    g_hash_table_insert (self->connections, g_strdup (ip), GUINT_TO_POINTER (open - 1));
  g_mutex_unlock (&self->lock);
}

static gboolean
cordon_auth_check (GstRTSPAuth *auth, GstRTSPContext *ctx, const char *check)
{
  CordonAuth *self = CORDON_AUTH (auth);

  /* The parent's connect check is where gst-rtsp-server starts TLS on RTSPS
   * connections, so it runs after ours, never instead of it. */
  if (g_str_equal (check, GST_RTSP_AUTH_CHECK_CONNECT))
    return check_connect (self, ctx) && GST_RTSP_AUTH_CLASS (cordon_auth_parent_class)->check (auth, ctx, check);

  gboolean ok = GST_RTSP_AUTH_CLASS (cordon_auth_parent_class)->check (auth, ctx, check);
  if (!ok) {
    /* A failed check ends the request, so this counts once per request; only
     * requests that carried credentials are failed logins (the first request
     * of every client has none and just learns the challenge). */
    g_autofree char *user = cordon_auth_request_username (ctx->request);
    const char *ip = context_ip (ctx);
    if (user && ip && !ctx->token)
      note_failure (self, ip, *user ? user : NULL);
    return FALSE;
  }
  if (!ctx->token || !ctx->client)
    return ok;

  const char *role = gst_rtsp_token_get_string (ctx->token, GST_RTSP_TOKEN_MEDIA_FACTORY_ROLE);
  const char *ip = context_ip (ctx);
  g_mutex_lock (&self->lock);
  RecorderInfo *r = role ? find_by_name (self, role) : NULL;
  gboolean address_ok = r && ip && allowed_address (r, ip);
  gboolean tls_ok = r && (self->tls || r->tls != CORDON_POLICY_REQUIRED);
  g_autofree char *name = r ? g_strdup (r->name) : NULL;
  g_mutex_unlock (&self->lock);

  if (!address_ok || !tls_ok) {
    g_message ("%s: refused %s from %s: %s", name ? name : "?", check, ip ? ip : "?",
               !address_ok ? "address not allowed for this recorder" : "this recorder must use RTSPS");
    send_status (ctx, GST_RTSP_STS_FORBIDDEN);
    return FALSE;
  }
  if (!g_object_get_data (G_OBJECT (ctx->client), "cordon-recorder"))
    g_object_set_data_full (G_OBJECT (ctx->client), "cordon-recorder", g_strdup (name), g_free);
  return TRUE;
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

static void
cordon_auth_class_init (CordonAuthClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = cordon_auth_finalize;
  GST_RTSP_AUTH_CLASS (klass)->check = cordon_auth_check;
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
  GstRTSPAuth *auth = GST_RTSP_AUTH (self);

  g_mutex_lock (&self->lock);
  self->max_per_address = config->max_clients_per_address;
  for (guint i = 0; i < self->recorders->len; i++)
    gst_rtsp_auth_remove_digest (auth, ((RecorderInfo *) self->recorders->pdata[i])->username);
  g_ptr_array_set_size (self->recorders, 0);
  for (guint i = 0; i < config->recorders->len; i++) {
    const CordonRecorder *rec = config->recorders->pdata[i];
    RecorderInfo *r = g_new0 (RecorderInfo, 1);
    r->name = g_strdup (rec->name);
    r->username = g_strdup (rec->username);
    r->addresses = g_ptr_array_new_with_free_func (g_object_unref);
    for (guint j = 0; j < rec->addresses->len; j++)
      g_ptr_array_add (r->addresses, g_object_ref (rec->addresses->pdata[j]));
    r->tls = rec->tls;
    g_ptr_array_add (self->recorders, r);

    g_autoptr (GstRTSPToken) token = gst_rtsp_token_new (GST_RTSP_TOKEN_MEDIA_FACTORY_ROLE, G_TYPE_STRING,
                                                         rec->name, NULL);
    gst_rtsp_auth_add_digest (auth, rec->username, rec->password, token);
  }
  g_mutex_unlock (&self->lock);
}

CordonAuth *
cordon_auth_new (const CordonConfig *config, gboolean tls)
{
  CordonAuth *self = g_object_new (CORDON_TYPE_AUTH, NULL);
  self->tls = tls;
  gst_rtsp_auth_set_supported_methods (GST_RTSP_AUTH (self), GST_RTSP_AUTH_DIGEST);
  gst_rtsp_auth_set_realm (GST_RTSP_AUTH (self), "cordon");
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

const char *
cordon_auth_client_recorder (GstRTSPClient *client)
{
  return g_object_get_data (G_OBJECT (client), "cordon-recorder");
}
