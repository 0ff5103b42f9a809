/* cordon — ONVIF authentication (see onvif-auth.h). */
#define G_LOG_DOMAIN "cordon-onvif"

#include "proxy/onvif-auth.h"

#include <string.h>

#define REALM "cordon"

typedef struct {
  gint64 expires;                  /* monotonic */
  guint64 last_nc;                 /* HTTP digest: highest nc seen */
} Nonce;

struct _CordonOnvifAuth {
  const CordonConfig *config;
  SoupAuthDomain *digest;
  GHashTable *token_nonces;        /* "user\nnonce" → Nonce* */
  GHashTable *digest_nonces;       /* nonce → Nonce* */
};

static const CordonRecorder *
recorder_by_username (CordonOnvifAuth *a, const char *username)
{
  for (guint i = 0; username && i < a->config->recorders->len; i++) {
    const CordonRecorder *r = a->config->recorders->pdata[i];
    if (r->username && strcmp (r->username, username) == 0)
      return r;
  }
  return NULL;
}

static char *
digest_password (SoupAuthDomain *domain, SoupServerMessage *msg, const char *username, gpointer data)
{
  const CordonRecorder *rec = recorder_by_username (data, username);
  return rec && rec->password ? soup_auth_domain_digest_encode_password (username, REALM, rec->password) : NULL;
}

CordonOnvifAuth *
cordon_onvif_auth_new (const CordonConfig *config)
{
  CordonOnvifAuth *a = g_new0 (CordonOnvifAuth, 1);
  a->config = config;
  a->token_nonces = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  a->digest_nonces = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  a->digest = soup_auth_domain_digest_new ("realm", REALM, NULL);
  soup_auth_domain_digest_set_auth_callback (a->digest, digest_password, a, NULL);
  return a;
}

void
cordon_onvif_auth_set_config (CordonOnvifAuth *a, const CordonConfig *config)
{
  a->config = config;
}

void
cordon_onvif_auth_free (CordonOnvifAuth *a)
{
  if (!a)
    return;
  g_clear_object (&a->digest);
  g_clear_pointer (&a->token_nonces, g_hash_table_unref);
  g_clear_pointer (&a->digest_nonces, g_hash_table_unref);
  g_free (a);
}

static void
prune (GHashTable *nonces)
{
  gint64 now = g_get_monotonic_time ();
  GHashTableIter it;
  Nonce *n;
  g_hash_table_iter_init (&it, nonces);
  while (g_hash_table_iter_next (&it, NULL, (gpointer *) &n))
    if (n->expires < now)
      g_hash_table_iter_remove (&it);
}

static gboolean
equal_in_constant_time (const char *a, const char *b)
{
  gsize la = strlen (a), lb = strlen (b);
  guint8 diff = la != lb;
  for (gsize i = 0; i < MIN (la, lb); i++)
    diff |= (guint8) (a[i] ^ b[i]);
  return diff == 0;
}

/* PasswordDigest only: the password never crosses the network, and a captured
 * token is useless after its one use. */
const CordonRecorder *
cordon_onvif_auth_check_token (CordonOnvifAuth *a, const CordonSoapRequest *r, gint64 now, const char **why)
{
  const CordonRecorder *rec = recorder_by_username (a, r->username);
  if (!rec || !rec->password) {
    *why = "unknown user";
    return NULL;
  }
  if (r->password_text || !r->password || !r->nonce || !r->created) {
    *why = "not a PasswordDigest token with Nonce and Created";
    return NULL;
  }
  if (g_bytes_get_size (r->nonce) < 8 || g_bytes_get_size (r->nonce) > 64) {
    *why = "nonce of the wrong size";
    return NULL;
  }
  g_autoptr (GTimeZone) utc = g_time_zone_new_utc ();
  g_autoptr (GDateTime) created = g_date_time_new_from_iso8601 (r->created, utc);
  if (!created) {
    *why = "Created is not a date and time";
    return NULL;
  }
  gint64 skew = now - (g_date_time_to_unix (created) * G_USEC_PER_SEC + g_date_time_get_microsecond (created));
  if (skew > CORDON_ONVIF_WINDOW_S * G_USEC_PER_SEC || skew < -CORDON_ONVIF_WINDOW_S * G_USEC_PER_SEC) {
    *why = "stale token (Created outside the window)";
    return NULL;
  }
  g_autoptr (GChecksum) sha = g_checksum_new (G_CHECKSUM_SHA1);
  gsize nlen;
  const guint8 *nonce = g_bytes_get_data (r->nonce, &nlen);
  g_checksum_update (sha, nonce, nlen);
  g_checksum_update (sha, (const guchar *) r->created, strlen (r->created));
  g_checksum_update (sha, (const guchar *) rec->password, strlen (rec->password));
  guint8 digest[20];
  gsize dlen = sizeof digest;
  g_checksum_get_digest (sha, digest, &dlen);
  g_autofree char *expected = g_base64_encode (digest, dlen);
  if (!equal_in_constant_time (expected, r->password)) {
    *why = "wrong password";
    return NULL;
  }
  /* Remembered for twice the window: a token with that nonce is refused as
   * stale by then anyway. */
  g_autofree char *nonce_b64 = g_base64_encode (nonce, nlen);
  g_autofree char *key = g_strconcat (rec->username, "\n", nonce_b64, NULL);
  prune (a->token_nonces);
  if (g_hash_table_contains (a->token_nonces, key)) {
    *why = "replayed token (nonce already used)";
    return NULL;
  }
  if (g_hash_table_size (a->token_nonces) >= CORDON_ONVIF_MAX_NONCES) {
    *why = "too many tokens in the window";
    return NULL;
  }
  Nonce *n = g_new0 (Nonce, 1);
  n->expires = g_get_monotonic_time () + 2 * CORDON_ONVIF_WINDOW_S * G_USEC_PER_SEC;
  g_hash_table_insert (a->token_nonces, g_steal_pointer (&key), n);
  return rec;
}

/* libsoup checks the response hash; the nonce and nc checks are ours, so
 * that a captured header cannot be sent again. */
const CordonRecorder *
cordon_onvif_auth_check_digest (CordonOnvifAuth *a, SoupServerMessage *msg, const char **why)
{
  const char *header = soup_message_headers_get_one (soup_server_message_get_request_headers (msg),
                                                     "Authorization");
  if (!header || g_ascii_strncasecmp (header, "Digest ", 7) != 0) {
    *why = "no credentials";
    return NULL;
  }
  g_autoptr (GHashTable) params = soup_header_parse_param_list (header + 7);
  const char *nonce = g_hash_table_lookup (params, "nonce");
  const char *nc = g_hash_table_lookup (params, "nc");
  prune (a->digest_nonces);
  Nonce *n = nonce ? g_hash_table_lookup (a->digest_nonces, nonce) : NULL;
  guint64 count = 0;
  if (!n || !nc || !g_ascii_string_to_unsigned (nc, 16, 1, G_MAXUINT32, &count, NULL) || count <= n->last_nc) {
    *why = "unknown, stale or reused digest nonce";
    return NULL;
  }
  g_autofree char *user = soup_auth_domain_accepts (a->digest, msg);
  const CordonRecorder *rec = recorder_by_username (a, user);
  if (!rec) {
    *why = "wrong digest credentials";
    return NULL;
  }
  n->last_nc = count;
  return rec;
}

void
cordon_onvif_auth_challenge (CordonOnvifAuth *a, SoupServerMessage *msg)
{
  soup_auth_domain_challenge (a->digest, msg);
  const char *header = soup_message_headers_get_one (soup_server_message_get_response_headers (msg),
                                                     "WWW-Authenticate");
  if (!header || g_ascii_strncasecmp (header, "Digest ", 7) != 0)
    return;
  g_autoptr (GHashTable) params = soup_header_parse_param_list (header + 7);
  const char *nonce = g_hash_table_lookup (params, "nonce");
  prune (a->digest_nonces);
  if (nonce && g_hash_table_size (a->digest_nonces) < CORDON_ONVIF_MAX_NONCES) {
    Nonce *n = g_new0 (Nonce, 1);
    n->expires = g_get_monotonic_time () + CORDON_ONVIF_WINDOW_S * G_USEC_PER_SEC;
    g_hash_table_replace (a->digest_nonces, g_strdup (nonce), n);
  }
}

