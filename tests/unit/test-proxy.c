/* Unit tests for proxy/: request paths, digest, the brake, grants, sessions
 * bound to their connection, and randomness that is not GLib's. No root, no
 * network. */
#include <gst/gst.h>
#include <string.h>

#include "proxy/auth.h"
#include "proxy/client.h"
#include "proxy/digest.h"
#include "proxy/path.h"
#include "proxy/session-pool.h"

/* Every way of writing a request path either reaches the camera it names, or
 * is refused (NULL): never another camera. */
static void
test_path_table (void)
{
  static const struct {
    const char *in, *out;
  } table[] = {
    { "/lobby", "/lobby" },
    { "/lobby/", "/lobby" },
    { "//lobby//", "/lobby" },
    { "/lobby/stream=0", "/lobby/stream=0" },
    { "/lobby/stream=1/", "/lobby/stream=1" },
    { "/lob%62y", "/lobby" },
    { "/lobby%2fstream=0", NULL },
    { "/lobby%2Fyard", NULL },
    { "/LOBBY", "/LOBBY" },            /* another name: 404 unless a camera is called so */
    { "/lobby/../yard", NULL },
    { "/lobby/./stream=0", NULL },
    { "/./lobby", NULL },
    { "/%2e%2e/yard", NULL },
    { "/lobby/%2e%2e/yard", NULL },
    { "/yard/..", NULL },
    { "/lobby/stream=0/extra", NULL },
    { "/lobby/track1", NULL },
    { "/lobby/stream=", NULL },
    { "/lobby/stream=x", NULL },
    { "/lobby~srtp", NULL },           /* the SRTP mounts are reached by routing only */
    { "/lobby%00", NULL },
    { "/lobby%0a", NULL },
    { "/lobby%", NULL },
    { "/lobby%zz", NULL },
    { "/lob\\by", NULL },
    { "/.hidden", NULL },
    { "/", NULL },
    { "", NULL },
    { "lobby", NULL },
    { "/l%C3%A9", NULL },
  };
  for (guint i = 0; i < G_N_ELEMENTS (table); i++) {
    g_autofree char *got = cordon_path_normalise (table[i].in);
    if (g_strcmp0 (got, table[i].out) != 0)
      g_error ("\"%s\": got %s, want %s", table[i].in, got ? got : "NULL", table[i].out ? table[i].out : "NULL");
  }
  g_assert_null (cordon_path_normalise (NULL));
}

/* RFC 2617 3.5's example, then the RFC 2069 form and what must fail. */
static void
test_digest (void)
{
  g_autofree char *r = cordon_digest_response ("Mufasa", "testrealm@host.com", "Circle Of Life", "GET",
                                               "/dir/index.html", "dcd98b7102dd2f0e8b11d0f600bfb0c093", "auth",
                                               "00000001", "0a4f113b");
  g_assert_cmpstr (r, ==, "6629fae49393a05397450978507c4ef1");
  CordonDigest d = { .username = "Mufasa", .realm = "testrealm@host.com",
                     .nonce = "dcd98b7102dd2f0e8b11d0f600bfb0c093", .uri = "/dir/index.html", .response = r,
                     .qop = "auth", .nc = "00000001", .cnonce = "0a4f113b" };
  g_assert_true (cordon_digest_verify (&d, "GET", "testrealm@host.com", d.nonce, "Circle Of Life"));
  g_assert_false (cordon_digest_verify (&d, "GET", "testrealm@host.com", d.nonce, "circle of life"));
  g_assert_false (cordon_digest_verify (&d, "PLAY", "testrealm@host.com", d.nonce, "Circle Of Life"));
  g_assert_false (cordon_digest_verify (&d, "GET", "testrealm@host.com", "another-nonce", "Circle Of Life"));
  g_assert_false (cordon_digest_verify (&d, "GET", "cordon", d.nonce, "Circle Of Life"));
  CordonDigest intqop = d;
  intqop.qop = "auth-int";
  g_assert_false (cordon_digest_verify (&intqop, "GET", "testrealm@host.com", d.nonce, "Circle Of Life"));
  CordonDigest nocnonce = d;
  nocnonce.cnonce = NULL;
  g_assert_false (cordon_digest_verify (&nocnonce, "GET", "testrealm@host.com", d.nonce, "Circle Of Life"));

  g_autofree char *legacy = cordon_digest_response ("nvr1", "cordon", "pw", "DESCRIBE", "rtsp://h/lobby", "n1", NULL,
                                                    NULL, NULL);
  CordonDigest l = { .username = "nvr1", .realm = "cordon", .nonce = "n1", .uri = "rtsp://h/lobby",
                     .response = legacy };
  g_assert_true (cordon_digest_verify (&l, "DESCRIBE", "cordon", "n1", "pw"));
  g_autofree char *upper = g_ascii_strup (legacy, -1);
  l.response = upper;
  g_assert_true (cordon_digest_verify (&l, "DESCRIBE", "cordon", "n1", "pw"));
  l.algorithm = "SHA-256";
  g_assert_false (cordon_digest_verify (&l, "DESCRIBE", "cordon", "n1", "pw"));
  CordonDigest empty = { 0 };
  g_assert_false (cordon_digest_verify (&empty, "DESCRIBE", "cordon", "n1", "pw"));

  g_assert_true (cordon_digest_equal ("abc", "abc"));
  g_assert_false (cordon_digest_equal ("abc", "abd"));
  g_assert_false (cordon_digest_equal ("abc", "ab"));
  g_assert_false (cordon_digest_equal ("", "a"));
  g_assert_true (cordon_digest_equal ("", ""));
  g_autofree char *challenge = cordon_digest_challenge ("cordon", "n1");
  g_assert_nonnull (strstr (challenge, "qop=\"auth\""));
}

static CordonConfig *
two_recorders (void)
{
  CordonConfig *c = g_new0 (CordonConfig, 1);
  c->recorders = g_ptr_array_new ();
  c->cameras = g_ptr_array_new ();
  c->max_clients_per_address = 4;
  static const char *const lobby[] = { "lobby", NULL };
  const char *names[] = { "nvr1", "nvr2" };
  for (guint i = 0; i < 2; i++) {
    CordonRecorder *r = g_new0 (CordonRecorder, 1);
    r->name = g_strdup (names[i]);
    r->username = g_strdup (names[i]);
    r->password = g_strdup ("secret");
    r->addresses = g_ptr_array_new_with_free_func (g_object_unref);
    g_ptr_array_add (r->addresses, g_inet_address_mask_new_from_string ("198.18.2.0/24", NULL));
    r->all_cameras = i == 1;
    r->cameras = i == 0 ? g_strdupv ((char **) lobby) : NULL;
    r->tls = CORDON_POLICY_OPTIONAL;
    g_ptr_array_add (c->recorders, r);
  }
  return c;
}

static void
free_recorders (CordonConfig *c)
{
  for (guint i = 0; i < c->recorders->len; i++) {
    CordonRecorder *r = c->recorders->pdata[i];
    g_free (r->name);
    g_free (r->username);
    g_free (r->password);
    g_ptr_array_unref (r->addresses);
    g_strfreev (r->cameras);
    g_free (r);
  }
  g_ptr_array_unref (c->recorders);
  g_ptr_array_unref (c->cameras);
  g_free (c);
}

/* CORDON_AUTH_FAIL_LIMIT failures within a minute block an address for a
 * minute; other addresses are untouched; failures count per recorder. */
static void
capture (const char *domain, GLogLevelFlags level, const char *message, gpointer data)
{
  g_ptr_array_add (data, g_strdup (message));
}

static void
test_brake (void)
{
  CordonConfig *c = two_recorders ();
  g_autoptr (CordonAuth) auth = cordon_auth_new (c, FALSE);
  g_autoptr (GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);
  guint handler = g_log_set_handler ("cordon-proxy", G_LOG_LEVEL_MESSAGE, capture, lines);
  gint64 t = 1000 * G_USEC_PER_SEC;
  for (guint i = 1; i < CORDON_AUTH_FAIL_LIMIT; i++) {
    cordon_auth_note_failure (auth, "198.18.2.9", i % 2 ? "nobody\x1b[2J" : "nvr1", t + i);
    g_assert_false (cordon_auth_is_blocked (auth, "198.18.2.9", t + i));
  }
  cordon_auth_note_failure (auth, "198.18.2.9", "nvr1", t + 100);
  g_assert_true (cordon_auth_is_blocked (auth, "198.18.2.9", t + 101));
  /* The client's user name reaches the log only as printable text. */
  g_log_remove_handler ("cordon-proxy", handler);
  g_assert_cmpuint (lines->len, >, 0);
  gboolean saw_user = FALSE;
  for (guint i = 0; i < lines->len; i++) {
    const char *line = lines->pdata[i];
    for (const char *p = line; *p; p++)
      g_assert_true (g_ascii_isprint (*p));
    saw_user |= strstr (line, "nobody?[2J") != NULL;
  }
  g_assert_true (saw_user);
  g_assert_false (cordon_auth_is_blocked (auth, "198.18.2.8", t + 101));
  g_assert_true (cordon_auth_is_blocked (auth, "198.18.2.9", t + 59 * G_USEC_PER_SEC));
  g_assert_false (cordon_auth_is_blocked (auth, "198.18.2.9", t + 61 * G_USEC_PER_SEC));
  /* Failures spread over more than the window do not add up. */
  for (guint i = 0; i < 2 * CORDON_AUTH_FAIL_LIMIT; i++)
    cordon_auth_note_failure (auth, "198.18.2.7", "nvr2", t + i * 7 * G_USEC_PER_SEC);
  g_assert_false (cordon_auth_is_blocked (auth, "198.18.2.7", t + 2 * CORDON_AUTH_FAIL_LIMIT * 7 * G_USEC_PER_SEC));

  g_autoptr (GHashTable) fails = cordon_auth_get_failures (auth);
  guint64 *n1 = g_hash_table_lookup (fails, "nvr1"), *unknown = g_hash_table_lookup (fails, "");
  g_assert_nonnull (n1);
  g_assert_nonnull (unknown);
  g_assert_cmpuint (*n1, ==, CORDON_AUTH_FAIL_LIMIT / 2);
  g_assert_cmpuint (*unknown, ==, CORDON_AUTH_FAIL_LIMIT / 2);
  free_recorders (c);
}

/* A recorder's grants are the cameras it lists, or every camera for *. */
static void
test_grants (void)
{
  CordonConfig *c = two_recorders ();
  g_autoptr (GstRTSPPermissions) lobby = cordon_auth_permissions (c, "lobby");
  g_autoptr (GstRTSPPermissions) yard = cordon_auth_permissions (c, "yard");
  g_assert_true (gst_rtsp_permissions_is_allowed (lobby, "nvr1", GST_RTSP_PERM_MEDIA_FACTORY_ACCESS));
  g_assert_true (gst_rtsp_permissions_is_allowed (lobby, "nvr2", GST_RTSP_PERM_MEDIA_FACTORY_ACCESS));
  g_assert_false (gst_rtsp_permissions_is_allowed (yard, "nvr1", GST_RTSP_PERM_MEDIA_FACTORY_ACCESS));
  g_assert_false (gst_rtsp_permissions_is_allowed (yard, "nvr1", GST_RTSP_PERM_MEDIA_FACTORY_CONSTRUCT));
  g_assert_true (gst_rtsp_permissions_is_allowed (yard, "nvr2", GST_RTSP_PERM_MEDIA_FACTORY_CONSTRUCT));
  g_assert_false (gst_rtsp_permissions_is_allowed (yard, "nobody", GST_RTSP_PERM_MEDIA_FACTORY_ACCESS));
  free_recorders (c);
}

/* A session made on one connection is not found from another: each
 * connection has a pool of its own. And a connection stays one recorder's. */
static void
test_sessions_owned (void)
{
  g_autoptr (CordonClient) a = cordon_client_new (FALSE);
  g_autoptr (CordonClient) b = cordon_client_new (FALSE);
  g_autoptr (GstRTSPSessionPool) pa = gst_rtsp_client_get_session_pool (GST_RTSP_CLIENT (a));
  g_autoptr (GstRTSPSessionPool) pb = gst_rtsp_client_get_session_pool (GST_RTSP_CLIENT (b));
  g_assert_true (pa != pb);
  g_autoptr (GstRTSPSession) s = gst_rtsp_session_pool_create (pa);
  const char *id = gst_rtsp_session_get_sessionid (s);
  g_autoptr (GstRTSPSession) found = gst_rtsp_session_pool_find (pa, id);
  g_assert_true (found == s);
  g_autoptr (GstRTSPSession) elsewhere = gst_rtsp_session_pool_find (pb, id);
  g_assert_null (elsewhere);
  gst_rtsp_session_pool_remove (pa, s);

  cordon_client_set_recorder (a, "nvr1");
  cordon_client_set_recorder (a, "nvr2");
  g_assert_cmpstr (cordon_client_get_recorder (a), ==, "nvr1");
  g_assert_cmpuint (cordon_client_add_failure (b), ==, 1);
  g_assert_cmpuint (cordon_client_add_failure (b), ==, 2);
}

/* Session ids and nonces do not come from GLib's generator: re-seeding it
 * the same way does not repeat them. The control shows that
 * gst-rtsp-server's own pool does repeat (what this test would catch). */
static void
test_randomness_not_glib (void)
{
  g_random_set_seed (42);
  g_autofree char *id1 = cordon_session_pool_make_id ();
  g_random_set_seed (42);
  g_autofree char *id2 = cordon_session_pool_make_id ();
  g_assert_cmpstr (id1, !=, id2);
  g_assert_cmpuint (strlen (id1), ==, 16);

  g_autoptr (CordonClient) a = cordon_client_new (FALSE);
  g_autoptr (CordonClient) b = cordon_client_new (FALSE);
  g_random_set_seed (42);
  const char *n1 = cordon_client_get_nonce (a);
  g_random_set_seed (42);
  const char *n2 = cordon_client_get_nonce (b);
  g_assert_cmpstr (n1, !=, n2);
  g_assert_cmpuint (strlen (n1), ==, 32);
  g_assert_cmpstr (cordon_client_get_nonce (a), ==, n1);

  g_autoptr (CordonSessionPool) ours = cordon_session_pool_new ();
  g_random_set_seed (7);
  g_autoptr (GstRTSPSession) o1 = gst_rtsp_session_pool_create (GST_RTSP_SESSION_POOL (ours));
  g_random_set_seed (7);
  g_autoptr (GstRTSPSession) o2 = gst_rtsp_session_pool_create (GST_RTSP_SESSION_POOL (ours));
  g_assert_cmpstr (gst_rtsp_session_get_sessionid (o1), !=, gst_rtsp_session_get_sessionid (o2));

  g_autoptr (GstRTSPSessionPool) stock = gst_rtsp_session_pool_new ();
  g_random_set_seed (7);
  g_autoptr (GstRTSPSession) s1 = gst_rtsp_session_pool_create (stock);
  g_autofree char *sid1 = g_strdup (gst_rtsp_session_get_sessionid (s1));
  gst_rtsp_session_pool_remove (stock, s1);
  g_random_set_seed (7);
  g_autoptr (GstRTSPSession) s2 = gst_rtsp_session_pool_create (stock);
  g_assert_cmpstr (sid1, ==, gst_rtsp_session_get_sessionid (s2));
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/proxy/path/table-never-another-camera", test_path_table);
  g_test_add_func ("/proxy/digest/rfc2617-and-legacy", test_digest);
  g_test_add_func ("/proxy/auth/brake-blocks-after-limit", test_brake);
  g_test_add_func ("/proxy/auth/grants-per-camera", test_grants);
  g_test_add_func ("/proxy/auth/sessions-owned-by-connection", test_sessions_owned);
  g_test_add_func ("/proxy/random/not-glib", test_randomness_not_glib);
  return g_test_run ();
}
