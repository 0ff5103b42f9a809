/* cordon — randomness from getrandom(2). */
#define G_LOG_DOMAIN "cordon-proxy"

#include "proxy/random.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

void
cordon_random_bytes (void *buf, gsize len)
{
  guint8 *p = buf;
  while (len > 0) {
    ssize_t n = getrandom (p, len, 0);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      g_error ("getrandom: %s", n < 0 ? g_strerror (errno) : "no bytes");
    p += n;
    len -= (gsize) n;
  }
}

char *
cordon_random_hex (gsize bytes)
{
  g_autofree guint8 *raw = g_malloc (bytes);
  char *out = g_malloc (2 * bytes + 1);
  cordon_random_bytes (raw, bytes);
  for (gsize i = 0; i < bytes; i++)
    g_snprintf (out + 2 * i, 3, "%02x", raw[i]);
  out[2 * bytes] = '\0';
  memset (raw, 0, bytes);
  return out;
}

char *
cordon_random_string (const char *charset, gsize len)
{
  gsize n = strlen (charset);
  /* Rejection sampling: a byte >= the largest multiple of n would favour the
   * first characters. */
  guint limit = 256 - 256 % n;
  char *out = g_malloc (len + 1);
  for (gsize i = 0; i < len;) {
    guint8 b[32];
    cordon_random_bytes (b, sizeof b);
    for (gsize j = 0; j < sizeof b && i < len; j++)
      if (b[j] < limit)
        out[i++] = charset[b[j] % n];
  }
  out[len] = '\0';
  return out;
}
