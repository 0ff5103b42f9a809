/* cordon — digest authentication. */
#include "proxy/digest.h"

#include <string.h>

char *
cordon_digest_challenge (const char *realm, const char *nonce)
{
  return g_strdup_printf ("Digest realm=\"%s\", nonce=\"%s\", algorithm=MD5, qop=\"auth\"", realm, nonce);
}

static char *
md5_join (const char *const *parts)
{
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_MD5);
  for (guint i = 0; parts[i]; i++) {
    if (i)
      g_checksum_update (sum, (const guchar *) ":", 1);
    g_checksum_update (sum, (const guchar *) parts[i], strlen (parts[i]));
  }
  return g_strdup (g_checksum_get_string (sum));
}

char *
cordon_digest_response (const char *username, const char *realm, const char *password, const char *method,
                        const char *uri, const char *nonce, const char *qop, const char *nc, const char *cnonce)
{
  const char *a1[] = { username, realm, password, NULL };
  const char *a2[] = { method, uri, NULL };
  g_autofree char *ha1 = md5_join (a1);
  g_autofree char *ha2 = md5_join (a2);
  if (qop) {
    const char *r[] = { ha1, nonce, nc, cnonce, qop, ha2, NULL };
    return md5_join (r);
  }
  const char *r[] = { ha1, nonce, ha2, NULL };
  return md5_join (r);
}

gboolean
cordon_digest_equal (const char *a, const char *b)
{
  gsize la = strlen (a), lb = strlen (b);
  guchar diff = la != lb;
  for (gsize i = 0; i < la; i++)
    diff |= (guchar) a[i] ^ (guchar) (lb ? b[i % lb] : 0);
  return diff == 0;
}

gboolean
cordon_digest_verify (const CordonDigest *d, const char *method, const char *realm, const char *nonce,
                      const char *password)
{
  if (!d->username || !d->realm || !d->nonce || !d->uri || !d->response || !method || !password)
    return FALSE;
  if (d->algorithm && g_ascii_strcasecmp (d->algorithm, "MD5") != 0)
    return FALSE;
  if (strcmp (d->realm, realm) != 0 || !cordon_digest_equal (d->nonce, nonce))
    return FALSE;
  if (d->qop) {
    /* RFC 2617 3.2.2: with qop=auth the client's nonce count and nonce go
     * into the hash. auth-int is not offered. */
    if (strcmp (d->qop, "auth") != 0 || !d->nc || !d->cnonce || strlen (d->nc) != 8)
      return FALSE;
  }
  g_autofree char *expected = cordon_digest_response (d->username, realm, password, method, d->uri, nonce, d->qop,
                                                      d->nc, d->cnonce);
  g_autofree char *given = g_ascii_strdown (d->response, -1);
  return cordon_digest_equal (given, expected);
}
