/* cordon — request path normalisation. */
#include "proxy/path.h"

#include <string.h>

static gboolean
name_char (char c)
{
  return g_ascii_isalnum (c) || c == '-' || c == '_' || c == '.';
}

/* Decodes PATH's escapes; NULL on a bad escape or a decoded '/', '\\' or
 * control character (they would change what the segments are). */
static char *
decode (const char *path)
{
  GString *out = g_string_new (NULL);
  for (const char *p = path; *p; p++) {
    char c = *p;
    if (c == '%') {
      if (!g_ascii_isxdigit (p[1]) || !g_ascii_isxdigit (p[2]))
        goto bad;
      c = (char) (g_ascii_xdigit_value (p[1]) * 16 + g_ascii_xdigit_value (p[2]));
      p += 2;
      if (c == '/' || c == '\\' || (guchar) c < 0x20 || (guchar) c >= 0x7f)
        goto bad;
    } else if ((guchar) c < 0x20 || (guchar) c >= 0x7f || c == '\\') {
      goto bad;
    }
    g_string_append_c (out, c);
  }
  return g_string_free (out, FALSE);
bad:
  g_string_free (out, TRUE);
  return NULL;
}

static gboolean
valid_name (const char *s)
{
  if (!*s || strlen (s) > 64)
    return FALSE;
  for (const char *p = s; *p; p++)
    if (!name_char (*p))
      return FALSE;
  return TRUE;
}

static gboolean
valid_control (const char *s)
{
  if (!g_str_has_prefix (s, "stream="))
    return FALSE;
  const char *n = s + strlen ("stream=");
  if (!*n || strlen (n) > 2)
    return FALSE;
  for (const char *p = n; *p; p++)
    if (!g_ascii_isdigit (*p))
      return FALSE;
  return TRUE;
}

char *
cordon_path_normalise (const char *path)
{
  if (!path || path[0] != '/' || strlen (path) > 512)
    return NULL;
  g_autofree char *plain = decode (path);
  if (!plain)
    return NULL;
  g_auto (GStrv) parts = g_strsplit (plain, "/", -1);
  const char *segments[3];
  guint n = 0;
  for (guint i = 0; parts[i]; i++) {
    const char *s = parts[i];
    if (!*s)
      continue;
    /* A dot segment could climb from one camera's path into another's. */
    if (strcmp (s, ".") == 0 || strcmp (s, "..") == 0 || n == 2)
      return NULL;
    segments[n++] = s;
  }
  if (n == 0 || !valid_name (segments[0]) || g_str_has_prefix (segments[0], "."))
    return NULL;
  if (n == 2 && !valid_control (segments[1]))
    return NULL;
  return n == 2 ? g_strconcat ("/", segments[0], "/", segments[1], NULL) : g_strconcat ("/", segments[0], NULL);
}
