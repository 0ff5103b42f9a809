/* Unit tests of the ONVIF UsernameToken check (proxy/onvif-auth.c): digest,
 * the Created window and single-use nonces. The clock is passed in, so no
 * test depends on how fast it runs. */
#include <glib/gstdio.h>
#include <string.h>

#include "proxy/brake.h"
#include "proxy/onvif-auth.h"

static CordonConfig *config;
static gint64 now;                 /* g_get_real_time () units */

static char *
iso (gint64 t)
{
  g_autoptr (GDateTime) d = g_date_time_new_from_unix_utc (t / G_USEC_PER_SEC);
  return g_date_time_format (d, "%Y-%m-%dT%H:%M:%S.000Z");
}

/* A token as the npm client makes one: SHA1(nonce + created + password). */
static CordonSoapRequest *
token (const char *user, const char *password, guint8 nonce_byte, gsize nonce_len, gint64 created)
{
  CordonSoapRequest *r = g_new0 (CordonSoapRequest, 1);
  guint8 nonce[64];
  memset (nonce, nonce_byte, sizeof nonce);
  r->action = g_strdup ("GetDeviceInformation");
  r->username = g_strdup (user);
  r->created = iso (created);
  r->nonce = g_bytes_new (nonce, nonce_len);
  g_autoptr (GChecksum) sha = g_checksum_new (G_CHECKSUM_SHA1);
  g_checksum_update (sha, nonce, nonce_len);
  g_checksum_update (sha, (const guchar *) r->created, strlen (r->created));
  g_checksum_update (sha, (const guchar *) password, strlen (password));
  guint8 digest[20];
  gsize len = sizeof digest;
  g_checksum_get_digest (sha, digest, &len);
  r->password = g_base64_encode (digest, len);
  return r;
}

static void
expect (CordonOnvifAuth *auth, CordonSoapRequest *r, const char *why_part)
{
  const char *why = NULL;
  const CordonRecorder *rec = cordon_onvif_auth_check_token (auth, r, now, &why);
  if (!why_part) {
    g_assert_nonnull (rec);
    g_assert_cmpstr (rec->name, ==, "nvr1");
  } else {
    g_assert_null (rec);
    if (!why || !strstr (why, why_part))
      g_error ("expected \"%s\", got \"%s\"", why_part, why ? why : "(none)");
  }
  cordon_soap_request_free (r);
}

static void
test_good_token_once_only (void)
{
  g_autoptr (CordonOnvifAuth) auth = cordon_onvif_auth_new (config);
  expect (auth, token ("nvr1", "nvr1-pass", 1, 16, now), NULL);
  expect (auth, token ("nvr1", "nvr1-pass", 1, 16, now), "replayed");
  /* The same nonce with another Created is still the same nonce. */
  expect (auth, token ("nvr1", "nvr1-pass", 1, 16, now - G_USEC_PER_SEC), "replayed");
  expect (auth, token ("nvr1", "nvr1-pass", 2, 16, now), NULL);
}

static void
test_created_window (void)
{
  g_autoptr (CordonOnvifAuth) auth = cordon_onvif_auth_new (config);
  gint64 w = CORDON_ONVIF_WINDOW_S * G_USEC_PER_SEC;
  expect (auth, token ("nvr1", "nvr1-pass", 3, 16, now - w + G_USEC_PER_SEC), NULL);
  expect (auth, token ("nvr1", "nvr1-pass", 4, 16, now + w - G_USEC_PER_SEC), NULL);
  expect (auth, token ("nvr1", "nvr1-pass", 5, 16, now - w - G_USEC_PER_SEC), "stale");
  expect (auth, token ("nvr1", "nvr1-pass", 6, 16, now + w + G_USEC_PER_SEC), "stale");
  CordonSoapRequest *r = token ("nvr1", "nvr1-pass", 7, 16, now);
  g_free (r->created);
  r->created = g_strdup ("yesterday");
  expect (auth, r, "not a date");
}

static void
test_wrong_tokens_refused (void)
{
  g_autoptr (CordonOnvifAuth) auth = cordon_onvif_auth_new (config);
  expect (auth, token ("nvr1", "wrong", 8, 16, now), "wrong password");
  expect (auth, token ("nvr9", "nvr1-pass", 9, 16, now), "unknown user");
  expect (auth, token ("nvr1", "nvr1-pass", 10, 4, now), "nonce of the wrong size");
  CordonSoapRequest *r = token ("nvr1", "nvr1-pass", 11, 16, now);
  r->password_text = TRUE;
  expect (auth, r, "not a PasswordDigest");
  r = token ("nvr1", "nvr1-pass", 12, 16, now);
  g_clear_pointer (&r->nonce, g_bytes_unref);
  expect (auth, r, "not a PasswordDigest");
  /* A wrong password does not use up the nonce of a later right one. */
  expect (auth, token ("nvr1", "nvr1-pass", 8, 16, now), NULL);
}

/* The brake (proxy/brake.c) that ONVIF and RTSP share, on an injected clock. */
static void
test_guessing_blocks_the_address (void)
{
  g_autoptr (CordonBrake) brake = cordon_brake_new ();
  gint64 t = 1000 * G_USEC_PER_SEC;
  guint suppressed = 0, logged = 0;
  gboolean blocked = FALSE;
  for (guint i = 0; i < CORDON_BRAKE_FAIL_LIMIT - 1; i++) {
    logged += cordon_brake_note_failure (brake, "198.18.2.5", t + i, &suppressed, &blocked);
    g_assert_false (blocked);
  }
  g_assert_false (cordon_brake_is_blocked (brake, "198.18.2.5", t + 10));
  g_assert_true (cordon_brake_note_failure (brake, "198.18.2.5", t + 10, &suppressed, &blocked));
  g_assert_true (blocked);
  g_assert_cmpuint (suppressed, ==, CORDON_BRAKE_FAIL_LIMIT - 2);  /* the first was logged */
  g_assert_cmpuint (logged, ==, 1);
  g_assert_true (cordon_brake_is_blocked (brake, "198.18.2.5", t + 59 * G_USEC_PER_SEC));
  g_assert_false (cordon_brake_is_blocked (brake, "198.18.2.6", t + 11));
  /* A minute later the block is over and counting starts afresh. */
  g_assert_false (cordon_brake_is_blocked (brake, "198.18.2.5", t + 61 * G_USEC_PER_SEC));
  g_assert_true (cordon_brake_note_failure (brake, "198.18.2.5", t + 61 * G_USEC_PER_SEC, &suppressed, &blocked));
  g_assert_false (blocked);
  /* Other lines about an address: one every 10 s. */
  g_assert_true (cordon_brake_may_log (brake, "198.18.2.7", t));
  g_assert_false (cordon_brake_may_log (brake, "198.18.2.7", t + 9 * G_USEC_PER_SEC));
  g_assert_true (cordon_brake_may_log (brake, "198.18.2.7", t + 10 * G_USEC_PER_SEC));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  const char *src = g_getenv ("CORDON_ONVIF_FIXTURES");
  g_assert_nonnull (src);
  /* A private copy: the loader refuses secrets that others may read. */
  g_autofree char *dir = g_dir_make_tmp ("cordon-onvif-auth-XXXXXX", NULL);
  const char *files[] = { "cordon.conf", "nvr1.secret" };
  for (guint i = 0; i < G_N_ELEMENTS (files); i++) {
    g_autofree char *from = g_build_filename (src, "auth", files[i], NULL);
    g_autofree char *to = g_build_filename (dir, files[i], NULL);
    g_autofree char *text = NULL;
    gsize len;
    g_assert_true (g_file_get_contents (from, &text, &len, NULL));
    g_assert_true (g_file_set_contents (to, text, len, NULL));
    g_chmod (to, 0600);
  }
  g_autofree char *path = g_build_filename (dir, "cordon.conf", NULL);
  g_autoptr (GError) err = NULL;
  config = cordon_config_load (path, &err);
  g_assert_no_error (err);
  now = g_get_real_time () / G_USEC_PER_SEC * G_USEC_PER_SEC;

  g_test_add_func ("/onvif-auth/good-token-once-only", test_good_token_once_only);
  g_test_add_func ("/onvif-auth/created-window", test_created_window);
  g_test_add_func ("/onvif-auth/wrong-tokens-refused", test_wrong_tokens_refused);
  g_test_add_func ("/brake/guessing-blocks-the-address", test_guessing_blocks_the_address);
  int rc = g_test_run ();
  for (guint i = 0; i < G_N_ELEMENTS (files); i++) {
    g_autofree char *to = g_build_filename (dir, files[i], NULL);
    g_unlink (to);
  }
  g_rmdir (dir);
  cordon_config_free (config);
  return rc;
}
