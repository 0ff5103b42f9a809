/* cordon — configuration loader: INI text → validated CordonConfig. */
#define G_LOG_DOMAIN "cordon-config"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

G_DEFINE_QUARK (cordon-config-error-quark, cordon_config_error)

#define DEFAULT_LISTEN "0.0.0.0:554"
#define DEFAULT_TLS_LISTEN_PORT 322
#define DEFAULT_STATUS "127.0.0.1:9554"
#define DEFAULT_USER "cordon"
#define DEFAULT_WORKER_UID_BASE 61000
#define DEFAULT_NFLOG_GROUP 1984

typedef struct {
  const char *group;   /* "proxy", "firewall", "camera:" or "recorder:" */
  const char *const *keys;
} GroupSchema;

static const char *const proxy_keys[] = {
  "listen", "user", "status", "tls-listen", "tls-certificate", "tls-key",
  "max-clients-per-address", "udp", "tunnel", "status-username", "status-password-file", "worker-uid-base",
  "encoder-threads", NULL
};
static const char *const firewall_keys[] = {
  "mode", "camera-interface", "core-interface", "nflog-group", "serve-ntp", "serve-dhcp", NULL
};
static const char *const onvif_keys[] = { "listen", "discovery", "serial", NULL };
static const char *const camera_keys[] = {
  "url", "username", "password-file", "mac", "size", "framerate", "bitrate",
  "keyframe-interval", "profile", "preset", "audio", "auth", "max-input-size", "max-input-framerate",
  "sub-stream", "sub-bitrate", NULL
};
static const char *const recorder_keys[] = {
  "address", "username", "password-file", "cameras", "tls", "srtp", "client-certificate", NULL
};
static const char *const x264_presets[] = {
  "ultrafast", "superfast", "veryfast", "faster", "fast", "medium", NULL
};
static const char *const h264_profiles[] = { "baseline", "main", "high", NULL };
static const char *const camera_auths[] = { "digest", "basic", NULL };

/* Collects every problem so that `cordon check` can report them all at once. */
typedef struct {
  const char *path;
  char *dir;
  GKeyFile *kf;
  GPtrArray *problems;
  struct stat config_st;  /* the configuration file, as opened */
  struct stat key_st;     /* the TLS key, as opened (st_nlink 0: none) */
  CordonConfigLoadFlags flags;
} Loader;

G_GNUC_PRINTF (4, 5)
static void
problem (Loader *l, const char *group, const char *key, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  if (group && key)
    g_ptr_array_add (l->problems, g_strdup_printf ("%s: [%s] %s: %s", l->path, group, key, msg));
  else if (group)
    g_ptr_array_add (l->problems, g_strdup_printf ("%s: [%s]: %s", l->path, group, msg));
  else
    g_ptr_array_add (l->problems, g_strdup_printf ("%s: %s", l->path, msg));
}

/* GKeyFile knows neither ';' comments nor comments after a value, both of
 * which admins write (and DESIGN.md's example uses). It also merges repeated
 * groups and keys silently, which would hide a copy-paste mistake. So the text
 * is normalised here first: comments dropped, repeats reported. */
static char *
normalise_text (Loader *l, const char *text)
{
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  g_autoptr (GString) out = g_string_new (NULL);
  g_autoptr (GHashTable) groups = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (GHashTable) keys = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autofree char *group = NULL;

  for (guint n = 0; lines[n]; n++) {
    char *line = g_strstrip (lines[n]);

    if (*line == ';' || *line == '#' || *line == '\0') {
      g_string_append_c (out, '\n');
      continue;
    }
    /* A comment after a value starts with ';' or '#' after white space. */
    for (char *p = line + 1; *p; p++) {
      if ((*p == ';' || *p == '#') && g_ascii_isspace (p[-1])) {
        *p = '\0';
        g_strchomp (line);
        break;
      }
    }
    if (*line == '[') {
      char *end = strchr (line, ']');
      g_free (group);
      group = end ? g_strndup (line + 1, end - line - 1) : g_strdup (line + 1);
      if (g_hash_table_contains (groups, group))
        problem (l, group, NULL, "group appears more than once (line %u)", n + 1);
      else
        g_hash_table_add (groups, g_strdup (group));
      g_hash_table_remove_all (keys);
    } else {
      char *eq = strchr (line, '=');
      if (eq && group) {
        g_autofree char *key = g_strstrip (g_strndup (line, eq - line));
        if (g_hash_table_contains (keys, key))
          problem (l, group, key, "key appears more than once in the group (line %u)", n + 1);
        else
          g_hash_table_add (keys, g_steal_pointer (&key));
      }
    }
    g_string_append (out, line);
    g_string_append_c (out, '\n');
  }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

static gboolean
valid_name (const char *name)
{
  if (!name || !*name || strlen (name) > 64)
    return FALSE;
  for (const char *p = name; *p; p++)
    if (!g_ascii_isalnum (*p) && *p != '-' && *p != '_' && *p != '.')
      return FALSE;
  return name[0] != '.';
}

static char *
get_string (Loader *l, const char *group, const char *key)
{
  g_autofree char *v = g_key_file_get_value (l->kf, group, key, NULL);
  if (!v)
    return NULL;
  g_strstrip (v);
  return g_steal_pointer (&v);
}

static gboolean
get_uint (Loader *l, const char *group, const char *key, guint min, guint max, guint def, guint *out)
{
  g_autofree char *v = get_string (l, group, key);
  guint64 n;
  g_autoptr (GError) err = NULL;

  *out = def;
  if (!v)
    return TRUE;
  if (!g_ascii_string_to_unsigned (v, 10, min, max, &n, &err)) {
    problem (l, group, key, "\"%s\" is not a whole number from %u to %u", v, min, max);
    return FALSE;
  }
  *out = (guint) n;
  return TRUE;
}

static gboolean
get_bool (Loader *l, const char *group, const char *key, gboolean def, gboolean *out)
{
  g_autofree char *v = get_string (l, group, key);
  *out = def;
  if (!v)
    return TRUE;
  if (g_ascii_strcasecmp (v, "true") == 0 || g_ascii_strcasecmp (v, "yes") == 0 || strcmp (v, "1") == 0)
    *out = TRUE;
  else if (g_ascii_strcasecmp (v, "false") == 0 || g_ascii_strcasecmp (v, "no") == 0 || strcmp (v, "0") == 0)
    *out = FALSE;
  else {
    problem (l, group, key, "\"%s\" is not a boolean (use true or false)", v);
    return FALSE;
  }
  return TRUE;
}

static char *
get_choice (Loader *l, const char *group, const char *key, const char *const *choices, const char *def)
{
  g_autofree char *v = get_string (l, group, key);
  if (!v)
    return g_strdup (def);
  if (!g_strv_contains (choices, v)) {
    g_autofree char *list = g_strjoinv (", ", (GStrv) choices);
    problem (l, group, key, "\"%s\" is not one of: %s", v, list);
    return NULL;
  }
  return g_steal_pointer (&v);
}

static gboolean
get_policy (Loader *l, const char *group, const char *key, gboolean allow_off, CordonPolicy def, CordonPolicy *out)
{
  static const char *const with_off[] = { "off", "optional", "required", NULL };
  static const char *const without_off[] = { "optional", "required", NULL };
  g_autofree char *v = get_choice (l, group, key, allow_off ? with_off : without_off,
                                   cordon_policy_to_string (def));
  if (!v)
    return FALSE;
  *out = strcmp (v, "off") == 0 ? CORDON_POLICY_OFF
       : strcmp (v, "optional") == 0 ? CORDON_POLICY_OPTIONAL : CORDON_POLICY_REQUIRED;
  return TRUE;
}

static char *
resolve_path (Loader *l, const char *file)
{
  if (g_path_is_absolute (file))
    return g_strdup (file);
  return g_build_filename (l->dir, file, NULL);
}

typedef enum {
  FILE_CONFIG,   /* the configuration: nobody but root may change it */
  FILE_PUBLIC,   /* a certificate: the same */
  FILE_SECRET,   /* a password or key: and nobody else may read it */
} FileKind;

/* The owner a file cordon trusts must have: root, or the user running
 * cordon when that is not root (unprivileged tests, `cordon check`). */
static gboolean
trusted_owner (uid_t uid)
{
  return uid == 0 || uid == geteuid ();
}

/* Every directory above PATH must be closed to others: whoever may write in
 * one can swap what lies below it. A sticky directory (/tmp) lets nobody
 * replace another user's entries, so it passes. */
static gboolean
check_parents (const char *path, char **why)
{
  g_autofree char *dir = g_path_get_dirname (path);
  while (TRUE) {
    struct stat st;
    if (stat (dir, &st) == 0 && (st.st_mode & S_IWOTH) && !(st.st_mode & S_ISVTX)) {
      *why = g_strdup_printf ("directory \"%s\" is writable by others; run chmod o-w on it", dir);
      return FALSE;
    }
    char *up = g_path_get_dirname (dir);
    gboolean top = strcmp (up, dir) == 0;
    g_free (dir);
    dir = up;
    if (top)
      return TRUE;
  }
}

/* Opens PATH once, without following a symbolic link, checks what it is on
 * the open descriptor and reads it from there, so that what is checked is
 * what is read. On failure returns NULL and sets WHY (transfer full). */
static char *
read_checked (const char *path, FileKind kind, struct stat *st_out, char **why, gboolean *refused)
{
  int fd = open (path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (refused)
    *refused = fd < 0 && errno == ELOOP;
  if (fd < 0) {
    *why = errno == ELOOP ? g_strdup_printf ("\"%s\" is a symbolic link; name the file itself", path)
                          : g_strdup_printf ("cannot use \"%s\": %s", path, g_strerror (errno));
    return NULL;
  }
  struct stat st = { 0 };
  GString *data = NULL;
  if (fstat (fd, &st) < 0) {
    *why = g_strdup_printf ("cannot use \"%s\": %s", path, g_strerror (errno));
  } else if (!S_ISREG (st.st_mode)) {
    *why = g_strdup_printf ("\"%s\" is not a regular file", path);
  } else if (!trusted_owner (st.st_uid)) {
    *why = g_strdup_printf ("\"%s\" belongs to uid %u; it must belong to root", path, (guint) st.st_uid);
  } else if (st.st_mode & (S_IWGRP | S_IWOTH)) {
    *why = g_strdup_printf ("\"%s\" is writable by group or others; run chmod go-w on it", path);
  } else if (kind == FILE_SECRET && (st.st_mode & S_IROTH)) {
    *why = g_strdup_printf ("\"%s\" is world-readable; run chmod o-rwx on it", path);
  } else if (st.st_size > 1024 * 1024) {
    *why = g_strdup_printf ("\"%s\" is larger than 1 MiB", path);
  } else if (check_parents (path, why)) {
    data = g_string_sized_new (st.st_size + 1);
    char buf[4096];
    ssize_t n;
    while ((n = read (fd, buf, sizeof buf)) > 0 && data->len <= 1024 * 1024)
      g_string_append_len (data, buf, n);
    if (n < 0) {
      *why = g_strdup_printf ("cannot read \"%s\": %s", path, g_strerror (errno));
      g_string_free (data, TRUE);
      data = NULL;
    }
  }
  close (fd);
  if (st_out)
    *st_out = st;
  if (refused && !data && !g_str_has_prefix (*why, "cannot "))
    *refused = TRUE;
  return data ? g_string_free (data, FALSE) : NULL;
}

/* Secrets must not be readable by every local user: a camera password opens
 * the camera, a recorder password opens every camera it may see. */
static char *
read_secret (Loader *l, const char *group, const char *key, const char *file)
{
  g_autofree char *path = resolve_path (l, file);
  g_autofree char *why = NULL;
  if (l->flags & CORDON_CONFIG_LOAD_NO_SECRETS)
    return NULL;
  g_autofree char *contents = read_checked (path, FILE_SECRET, NULL, &why, NULL);

  if (!contents) {
    problem (l, group, key, "%s", why);
    return NULL;
  }
  /* One line; a trailing newline from an editor is not part of the secret. */
  char *nl = strpbrk (contents, "\r\n");
  if (nl)
    *nl = '\0';
  if (!*contents) {
    problem (l, group, key, "\"%s\" is empty", path);
    return NULL;
  }
  return g_steal_pointer (&contents);
}

/* The firewall helper applies whatever the configuration says, and the TLS
 * key is the listener's identity: neither may be writable by the user the
 * media process runs as. */
static void
check_not_writable_by (Loader *l, const char *group, const char *key, const char *path, const struct stat *st,
                       const char *user)
{
  struct passwd *pw = user ? getpwnam (user) : NULL;
  /* user = root is refused on its own. */
  if (!pw || pw->pw_uid == 0 || st->st_nlink == 0)
    return;
  if ((st->st_uid == pw->pw_uid && (st->st_mode & S_IWUSR))
      || (st->st_gid == pw->pw_gid && (st->st_mode & S_IWGRP)))
    problem (l, group, key, "\"%s\" is writable by the [proxy] user \"%s\"; it must belong to root", path, user);
}

gboolean
cordon_config_parse_hostport (const char *text, char **host, guint16 *port, GError **error)
{
  g_autofree char *h = NULL;
  const char *port_text;
  guint64 p;

  if (text[0] == '[') {
    const char *end = strchr (text, ']');
    if (!end || end[1] != ':') {
      g_set_error (error, CORDON_CONFIG_ERROR, CORDON_CONFIG_ERROR_INVALID,
                   "\"%s\" is not [IPV6]:PORT", text);
      return FALSE;
    }
    h = g_strndup (text + 1, end - text - 1);
    port_text = end + 2;
  } else {
    const char *colon = strrchr (text, ':');
    if (!colon || strchr (text, ':') != colon) {
      g_set_error (error, CORDON_CONFIG_ERROR, CORDON_CONFIG_ERROR_INVALID,
                   "\"%s\" is not ADDRESS:PORT (write IPv6 as [ADDRESS]:PORT)", text);
      return FALSE;
    }
    h = g_strndup (text, colon - text);
    port_text = colon + 1;
  }
  g_autoptr (GInetAddress) addr = g_inet_address_new_from_string (h);
  if (!addr) {
    g_set_error (error, CORDON_CONFIG_ERROR, CORDON_CONFIG_ERROR_INVALID,
                 "\"%s\" is not an IP address", h);
    return FALSE;
  }
  if (!g_ascii_string_to_unsigned (port_text, 10, 1, 65535, &p, NULL)) {
    g_set_error (error, CORDON_CONFIG_ERROR, CORDON_CONFIG_ERROR_INVALID,
                 "\"%s\" is not a port from 1 to 65535", port_text);
    return FALSE;
  }
  *host = g_steal_pointer (&h);
  *port = (guint16) p;
  return TRUE;
}

static gboolean
get_hostport (Loader *l, const char *group, const char *key, const char *def, char **host, guint16 *port)
{
  g_autofree char *v = get_string (l, group, key);
  g_autoptr (GError) err = NULL;
  if (!cordon_config_parse_hostport (v ? v : def, host, port, &err)) {
    problem (l, group, key, "%s", err->message);
    return FALSE;
  }
  return TRUE;
}

static void
check_unknown_keys (Loader *l, const char *group, const char *const *allowed)
{
  g_auto (GStrv) keys = g_key_file_get_keys (l->kf, group, NULL, NULL);
  for (guint i = 0; keys && keys[i]; i++)
    if (!g_strv_contains (allowed, keys[i])) {
      g_autofree char *list = g_strjoinv (", ", (GStrv) allowed);
      problem (l, group, keys[i], "unknown key (known keys: %s)", list);
    }
}

static gboolean
valid_interface (const char *name)
{
  if (!name || !*name || strlen (name) >= 16)
    return FALSE;
  for (const char *p = name; *p; p++)
    if (*p == '/' || *p == ':' || g_ascii_isspace (*p))
      return FALSE;
  return strcmp (name, ".") != 0 && strcmp (name, "..") != 0;
}

/* /status and /metrics tell who watches what: off loopback they are behind
 * HTTP basic credentials. */
static void
load_status_credentials (Loader *l, CordonConfig *c)
{
  const char *g = "proxy";
  g_autofree char *user = get_string (l, g, "status-username");
  g_autofree char *file = get_string (l, g, "status-password-file");
  if (!user != !file) {
    problem (l, g, user ? "status-password-file" : "status-username",
             "status-username and status-password-file go together");
    return;
  }
  if (user) {
    c->status_username = g_steal_pointer (&user);
    c->status_password = read_secret (l, g, "status-password-file", file);
    return;
  }
  g_autoptr (GInetAddress) addr = c->status_host ? g_inet_address_new_from_string (c->status_host) : NULL;
  if (addr && !g_inet_address_get_is_loopback (addr))
    problem (l, g, "status", "%s is not a loopback address: set status-username and status-password-file",
             c->status_host);
}

static void
load_proxy (Loader *l, CordonConfig *c)
{
  const char *g = "proxy";
  g_autofree char *status = get_string (l, g, "status");
  g_autofree char *tls_listen = NULL;

  get_hostport (l, g, "listen", DEFAULT_LISTEN, &c->listen_host, &c->listen_port);
  if (status && g_ascii_strcasecmp (status, "off") == 0) {
    c->status_host = NULL;
  } else {
    get_hostport (l, g, "status", DEFAULT_STATUS, &c->status_host, &c->status_port);
  }
  c->user = get_string (l, g, "user");
  if (!c->user)
    c->user = g_strdup (DEFAULT_USER);
  else if (!*c->user || strcmp (c->user, "root") == 0 || strcmp (c->user, "0") == 0)
    problem (l, g, "user", "\"%s\" is not allowed: the media process must not run as root", c->user);
  get_uint (l, g, "max-clients-per-address", 1, 1024, 16, &c->max_clients_per_address);
  get_bool (l, g, "udp", FALSE, &c->udp);
  get_bool (l, g, "tunnel", FALSE, &c->tunnel);
  load_status_credentials (l, c);
  /* Each camera's worker runs as base + its position in the file: a uid no
   * one else has, for its firewall rule and so it can touch nothing of ours. */
  get_uint (l, g, "worker-uid-base", CORDON_WORKER_UID_MIN, 4000000000u, DEFAULT_WORKER_UID_BASE, &c->worker_uid_base);
  g_autofree char *threads = get_string (l, g, "encoder-threads");
  if (threads && g_ascii_strcasecmp (threads, "auto") != 0) {
    guint64 n = 0;
    if (!g_ascii_string_to_unsigned (threads, 10, 1, 16, &n, NULL))
      problem (l, g, "encoder-threads", "\"%s\" is neither auto nor a whole number from 1 to 16", threads);
    c->encoder_threads = (guint) n;
  }

  g_autofree char *cert = get_string (l, g, "tls-certificate");
  g_autofree char *key = get_string (l, g, "tls-key");
  if (!cert != !key) {
    problem (l, g, cert ? "tls-key" : "tls-certificate",
             "tls-certificate and tls-key go together; set both or neither");
  } else if (cert) {
    c->tls_certificate = resolve_path (l, cert);
    c->tls_key = resolve_path (l, key);
    g_autofree char *why = NULL, *why_key = NULL;
    g_autofree char *chain = read_checked (c->tls_certificate, FILE_PUBLIC, NULL, &why, NULL);
    if (!chain)
      problem (l, g, "tls-certificate", "%s", why);
    /* Read once, here: the listener builds its certificate from this text
     * and never opens the key file again. */
    g_autofree char *pem_key = NULL;
    if (!(l->flags & CORDON_CONFIG_LOAD_NO_SECRETS)
        && !(pem_key = read_checked (c->tls_key, FILE_SECRET, &l->key_st, &why_key, NULL)))
      problem (l, g, "tls-key", "%s", why_key);
    if (chain && pem_key)
      c->tls_pem = g_strconcat (chain, "\n", pem_key, NULL);
    if (pem_key)
      memset (pem_key, 0, strlen (pem_key));
    const char *lh = c->listen_host ? c->listen_host : "0.0.0.0";
    g_autofree char *def = strchr (lh, ':') ? g_strdup_printf ("[%s]:%u", lh, DEFAULT_TLS_LISTEN_PORT)
                                            : g_strdup_printf ("%s:%u", lh, DEFAULT_TLS_LISTEN_PORT);
    get_hostport (l, g, "tls-listen", def, &c->tls_listen_host, &c->tls_listen_port);
    if (c->tls_listen_host && c->listen_host && c->tls_listen_port == c->listen_port
        && strcmp (c->tls_listen_host, c->listen_host) == 0)
      problem (l, g, "tls-listen", "RTSPS needs a port of its own (listen uses %u too)", c->listen_port);
  } else if ((tls_listen = get_string (l, g, "tls-listen"))) {
    problem (l, g, "tls-listen", "set tls-certificate and tls-key to serve RTSPS");
  }
}

static void
load_firewall (Loader *l, CordonConfig *c)
{
  const char *g = "firewall";
  static const char *const modes[] = { "gateway", "host", "off", NULL };
  g_autofree char *mode = get_choice (l, g, "mode", modes, "gateway");

  if (mode)
    c->mode = strcmp (mode, "gateway") == 0 ? CORDON_FIREWALL_MODE_GATEWAY
            : strcmp (mode, "host") == 0 ? CORDON_FIREWALL_MODE_HOST : CORDON_FIREWALL_MODE_OFF;
  c->camera_interface = get_string (l, g, "camera-interface");
  c->core_interface = get_string (l, g, "core-interface");
  if (c->mode != CORDON_FIREWALL_MODE_OFF && !c->camera_interface)
    problem (l, g, "camera-interface", "missing: name the interface of the camera network (or set mode = off)");
  if (c->camera_interface && !valid_interface (c->camera_interface))
    problem (l, g, "camera-interface", "\"%s\" is not an interface name", c->camera_interface);
  if (c->mode == CORDON_FIREWALL_MODE_GATEWAY && !c->core_interface)
    problem (l, g, "core-interface", "missing: gateway mode needs the interface toward the core network");
  if (c->core_interface && !valid_interface (c->core_interface))
    problem (l, g, "core-interface", "\"%s\" is not an interface name", c->core_interface);
  if (c->camera_interface && c->core_interface && strcmp (c->camera_interface, c->core_interface) == 0)
    problem (l, g, "core-interface", "must differ from camera-interface");
  get_uint (l, g, "nflog-group", 0, 65535, DEFAULT_NFLOG_GROUP, &c->nflog_group);
  get_bool (l, g, "serve-ntp", FALSE, &c->serve_ntp);
  get_bool (l, g, "serve-dhcp", FALSE, &c->serve_dhcp);
}

static void
load_onvif (Loader *l, CordonConfig *c)
{
  const char *g = "onvif";
  g_autofree char *listen = get_string (l, g, "listen");

  if (listen && g_ascii_strcasecmp (listen, "off") != 0)
    get_hostport (l, g, "listen", NULL, &c->onvif_host, &c->onvif_port);
  get_bool (l, g, "discovery", FALSE, &c->onvif_discovery);
  if (c->onvif_discovery && !c->onvif_host)
    problem (l, g, "discovery", "WS-Discovery needs the ONVIF service: set listen in [onvif]");
  if (c->onvif_discovery && !c->core_interface)
    problem (l, g, "discovery", "WS-Discovery answers only on the core network: set core-interface in [firewall]");
  c->onvif_serial = get_string (l, g, "serial");
  if (c->onvif_serial) {
    gboolean ok = *c->onvif_serial && strlen (c->onvif_serial) <= 64;
    for (const char *p = c->onvif_serial; ok && *p; p++)
      ok = g_ascii_isalnum (*p) || *p == '-' || *p == '_' || *p == '.';
    if (!ok)
      problem (l, g, "serial", "\"%s\" is not a serial number (up to 64 of A-Z a-z 0-9 . _ -)", c->onvif_serial);
  }
  if (c->onvif_host && c->onvif_port == c->listen_port && g_strcmp0 (c->onvif_host, c->listen_host) == 0)
    problem (l, g, "listen", "ONVIF needs a port of its own ([proxy] listen uses %u too)", c->listen_port);
}

static gboolean
parse_mac (const char *text, char **out)
{
  guint b[6];
  char tail;
  if (strlen (text) != 17
      || sscanf (text, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &tail) != 6)
    return FALSE;
  for (guint i = 0; i < 17; i++)
    if (i % 3 == 2 ? text[i] != ':' : !g_ascii_isxdigit (text[i]))
      return FALSE;
  *out = g_strdup_printf ("%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4], b[5]);
  return TRUE;
}

static void
load_camera_url (Loader *l, const char *g, CordonCamera *cam)
{
  g_autofree char *url = get_string (l, g, "url");
  g_autoptr (GError) err = NULL;
  g_autoptr (GUri) uri = NULL;

  if (!url) {
    problem (l, g, "url", "missing: give the camera's rtsp:// address");
    return;
  }
  uri = g_uri_parse (url, G_URI_FLAGS_ENCODED, &err);
  if (!uri) {
    /* GUri's message may echo the URL, which may carry a password. */
    problem (l, g, "url", "not a valid URL");
    return;
  }
  if (g_strcmp0 (g_uri_get_scheme (uri), "rtsp") != 0) {
    problem (l, g, "url", "scheme must be rtsp:// (cordon pulls RTSP over TCP)");
    return;
  }
  if (g_uri_get_userinfo (uri)) {
    problem (l, g, "url", "must not contain credentials; use username and password-file");
    return;
  }
  const char *host = g_uri_get_host (uri);
  if (!host || !*host) {
    problem (l, g, "url", "has no host");
    return;
  }
  /* An IP literal, not a name: DNS on the camera network is itself a path for
   * spoofing, and the firewall pins rules to addresses. */
  g_autoptr (GInetAddress) addr = g_inet_address_new_from_string (host);
  if (!addr) {
    problem (l, g, "url", "host \"%s\" must be an IP address", host);
    return;
  }
  if (g_inet_address_get_is_any (addr) || g_inet_address_get_is_multicast (addr)) {
    problem (l, g, "url", "host \"%s\" is not a camera address", host);
    return;
  }
  gint port = g_uri_get_port (uri);
  cam->port = port > 0 ? (guint16) port : 554;
  cam->host = g_strdup (host);
  cam->address = g_steal_pointer (&addr);
  cam->url = g_steal_pointer (&url);
}

static void
load_credentials (Loader *l, const char *g, gboolean required, char **username, char **password)
{
  g_autofree char *file = get_string (l, g, "password-file");
  *username = get_string (l, g, "username");
  if (required && !*username)
    problem (l, g, "username", "missing");
  if (required && !file)
    problem (l, g, "password-file", "missing");
  if (*username && !**username)
    problem (l, g, "username", "is empty");
  if (*username && strpbrk (*username, ":\"\\") != NULL)
    problem (l, g, "username", "must not contain ':', '\"' or '\\'");
  if (!required && !*username != !file)
    problem (l, g, *username ? "password-file" : "username", "username and password-file go together");
  if (file)
    *password = read_secret (l, g, "password-file", file);
}

/* KEY = WIDTHxHEIGHT into *WIDTH, *HEIGHT; TRUE when the key is given and valid. */
static gboolean
get_size (Loader *l, const char *group, const char *key, guint *width, guint *height)
{
  g_autofree char *size = get_string (l, group, key);
  guint w = 0, h = 0;
  char tail;
  if (!size)
    return FALSE;
  if (sscanf (size, "%ux%u%c", &w, &h, &tail) != 2 || w < 160 || w > 3840 || h < 120 || h > 2160
      || w % 2 || h % 2) {
    problem (l, group, key, "\"%s\" is not WIDTHxHEIGHT with even sides from 160x120 to 3840x2160", size);
    return FALSE;
  }
  *width = w;
  *height = h;
  return TRUE;
}

/* What a camera may send before cordon decodes it: larger or faster streams
 * are refused before a decoder allocates for them. */
static void
load_camera_input_bounds (Loader *l, const char *g, CordonCamera *cam)
{
  g_autofree char *size = get_string (l, g, "max-input-size");

  cam->max_input_width = 4096;
  cam->max_input_height = 2160;
  if (size) {
    guint w = 0, h = 0;
    char tail;
    if (sscanf (size, "%ux%u%c", &w, &h, &tail) != 2 || w < 160 || w > 8192 || h < 120 || h > 8192)
      problem (l, g, "max-input-size", "\"%s\" is not WIDTHxHEIGHT from 160x120 to 8192x8192", size);
    else {
      cam->max_input_width = w;
      cam->max_input_height = h;
    }
  }
  get_uint (l, g, "max-input-framerate", 1, 240, 60, &cam->max_input_framerate);
}

static void
load_camera (Loader *l, CordonConfig *c, const char *g)
{
  g_autoptr (CordonCamera) cam = g_new0 (CordonCamera, 1);
  g_autofree char *mac = NULL;

  cam->refcount = 1;
  cam->name = g_strdup (g + strlen ("camera:"));
  if (!valid_name (cam->name))
    problem (l, g, NULL, "camera name must be 1-64 of A-Z a-z 0-9 - _ . (it becomes the path /NAME)");
  load_camera_url (l, g, cam);
  load_credentials (l, g, FALSE, &cam->username, &cam->password);

  if ((mac = get_string (l, g, "mac")) && !parse_mac (mac, &cam->mac))
    problem (l, g, "mac", "\"%s\" is not a MAC address like 00:11:22:33:44:55", mac);

  cam->width = 1280;
  cam->height = 720;
  get_size (l, g, "size", &cam->width, &cam->height);
  get_uint (l, g, "framerate", 1, 60, 25, &cam->framerate);
  get_uint (l, g, "bitrate", 64, 50000, 2000, &cam->bitrate);
  get_uint (l, g, "keyframe-interval", 1, 10, 2, &cam->keyframe_interval);
  cam->profile = get_choice (l, g, "profile", h264_profiles, "main");
  cam->preset = get_choice (l, g, "preset", x264_presets, "veryfast");
  get_bool (l, g, "audio", FALSE, &cam->audio);
  g_autofree char *auth = get_choice (l, g, "auth", camera_auths, "digest");
  cam->allow_basic = g_strcmp0 (auth, "basic") == 0;
  load_camera_input_bounds (l, g, cam);
  if (get_size (l, g, "sub-stream", &cam->sub_width, &cam->sub_height)
      && (cam->sub_width > cam->width || cam->sub_height > cam->height))
    problem (l, g, "sub-stream", "%ux%u is larger than the main stream's %ux%u", cam->sub_width,
             cam->sub_height, cam->width, cam->height);
  get_uint (l, g, "sub-bitrate", 64, 50000, 512, &cam->sub_bitrate);
  if (!cam->sub_width && g_key_file_has_key (l->kf, g, "sub-bitrate", NULL))
    problem (l, g, "sub-bitrate", "set without sub-stream (give the sub stream's size with sub-stream = WIDTHxHEIGHT)");

  for (guint i = 0; i < c->cameras->len; i++) {
    CordonCamera *other = c->cameras->pdata[i];
    if (cam->address && other->address && g_inet_address_equal (cam->address, other->address)
        && cam->port == other->port && g_strcmp0 (cam->url, other->url) == 0)
      problem (l, g, "url", "same stream as [camera:%s]", other->name);
  }
  cam->worker_uid = c->worker_uid_base + c->cameras->len;
  g_ptr_array_add (c->cameras, g_steal_pointer (&cam));
}

/* encoder-threads = auto: when there are at least as many encoders as CPUs
 * this process may run on, one x264 thread each (no frame or slice threads:
 * the least work per frame, one slice per picture, and the cameras are the
 * parallelism); otherwise x264's own choice (slice threads, for the latency
 * of a big picture on an idle machine). Every camera gets the same, so a reload that changes the decision
 * rebuilds them all (cordon_camera_equal). */
static void
resolve_encoder_threads (CordonConfig *c)
{
  guint encoders = 0;
  for (guint i = 0; i < c->cameras->len; i++) {
    CordonCamera *cam = c->cameras->pdata[i];
    encoders += cam->sub_width ? 2 : 1;
  }
  guint threads = c->encoder_threads;
  if (threads == 0 && encoders >= g_get_num_processors ())
    threads = 1;
  for (guint i = 0; i < c->cameras->len; i++)
    ((CordonCamera *) c->cameras->pdata[i])->encoder_threads = threads;
}

static void
recorder_free (CordonRecorder *r)
{
  g_free (r->name);
  g_free (r->username);
  if (r->password)
    memset (r->password, 0, strlen (r->password));
  g_free (r->password);
  g_free (r->client_certificate);
  g_ptr_array_unref (r->addresses);
  g_strfreev (r->cameras);
  g_free (r);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CordonRecorder, recorder_free)

static GInetAddressMask *
parse_prefix (const char *text)
{
  const char *slash = strchr (text, '/');
  g_autofree char *host = slash ? g_strndup (text, slash - text) : g_strdup (text);
  g_autoptr (GInetAddress) addr = g_inet_address_new_from_string (host);
  guint64 bits;

  if (!addr)
    return NULL;
  guint max = g_inet_address_get_family (addr) == G_SOCKET_FAMILY_IPV4 ? 32 : 128;
  if (!slash)
    bits = max;
  else if (!g_ascii_string_to_unsigned (slash + 1, 10, 0, max, &bits, NULL))
    return NULL;
  g_autoptr (GInetAddressMask) mask = g_inet_address_mask_new (addr, (guint) bits, NULL);
  /* 10.0.0.5/8 is almost always a typo for 10.0.0.0/8 or 10.0.0.5/32: refuse
   * host bits rather than guess. */
  if (!mask)
    return NULL;
  return g_steal_pointer (&mask);
}

static void
load_recorder (Loader *l, CordonConfig *c, const char *g)
{
  g_autoptr (CordonRecorder) r = g_new0 (CordonRecorder, 1);
  g_autofree char *cameras = NULL;
  g_auto (GStrv) addrs = NULL;

  r->name = g_strdup (g + strlen ("recorder:"));
  r->addresses = g_ptr_array_new_with_free_func (g_object_unref);
  if (!valid_name (r->name))
    problem (l, g, NULL, "recorder name must be 1-64 of A-Z a-z 0-9 - _ .");
  load_credentials (l, g, TRUE, &r->username, &r->password);

  addrs = g_key_file_get_string_list (l->kf, g, "address", NULL, NULL);
  if (!addrs || !addrs[0])
    problem (l, g, "address", "missing: list the addresses or prefixes this recorder connects from");
  for (guint i = 0; addrs && addrs[i]; i++) {
    char *a = g_strstrip (addrs[i]);
    if (!*a)
      continue;
    GInetAddressMask *mask = parse_prefix (a);
    if (!mask)
      problem (l, g, "address", "\"%s\" is not an IP address or prefix (ADDRESS/BITS with no host bits set)", a);
    else
      g_ptr_array_add (r->addresses, mask);
  }

  if (!(cameras = get_string (l, g, "cameras")))
    problem (l, g, "cameras", "missing: list the cameras this recorder may see, or *");
  else if (strcmp (cameras, "*") == 0)
    r->all_cameras = TRUE;
  else {
    g_auto (GStrv) list = g_key_file_get_string_list (l->kf, g, "cameras", NULL, NULL);
    g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
    for (guint i = 0; list && list[i]; i++) {
      char *n = g_strstrip (list[i]);
      if (!*n)
        continue;
      if (strcmp (n, "*") == 0)
        problem (l, g, "cameras", "* stands alone; it cannot be mixed with names");
      /* Checked against the cameras once all groups are read. */
      g_ptr_array_add (names, g_strdup (n));
    }
    g_ptr_array_add (names, NULL);
    r->cameras = (GStrv) g_ptr_array_free (g_steal_pointer (&names), FALSE);
  }
  get_policy (l, g, "tls", FALSE, CORDON_POLICY_OPTIONAL, &r->tls);
  get_policy (l, g, "srtp", TRUE, CORDON_POLICY_OFF, &r->srtp);
  /* MIKEY in gst-rtsp-server carries the SRTP key in clear inside RTSP, so SRTP
   * is only ever offered inside TLS. */
  if (r->srtp != CORDON_POLICY_OFF && !c->tls_certificate)
    problem (l, g, "srtp", "SRTP is offered only over RTSPS: set tls-certificate and tls-key in [proxy]");
  if (r->srtp == CORDON_POLICY_REQUIRED && r->tls != CORDON_POLICY_REQUIRED)
    problem (l, g, "tls", "must be required when srtp = required (SRTP keys travel only inside TLS)");
  if (r->tls == CORDON_POLICY_REQUIRED && !c->tls_certificate)
    problem (l, g, "tls", "tls = required needs tls-certificate and tls-key in [proxy]");
  g_autofree char *client_cert = get_string (l, g, "client-certificate");
  if (client_cert) {
    g_autofree char *path = resolve_path (l, client_cert);
    g_autofree char *why = NULL;
    g_autoptr (GError) err = NULL;
    r->client_certificate = read_checked (path, FILE_PUBLIC, NULL, &why, NULL);
    if (!r->client_certificate) {
      problem (l, g, "client-certificate", "%s", why);
    } else {
      g_autoptr (GTlsCertificate) cert = g_tls_certificate_new_from_pem (r->client_certificate, -1, &err);
      if (!cert)
        problem (l, g, "client-certificate", "\"%s\" holds no PEM certificate: %s", path, err->message);
    }
    if (r->tls != CORDON_POLICY_REQUIRED)
      problem (l, g, "client-certificate", "a client certificate is checked only over RTSPS: set tls = required");
  }

  for (guint i = 0; i < c->recorders->len; i++) {
    CordonRecorder *other = c->recorders->pdata[i];
    if (r->username && g_strcmp0 (other->username, r->username) == 0)
      problem (l, g, "username", "\"%s\" is already used by [recorder:%s]", r->username, other->name);
  }
  g_ptr_array_add (c->recorders, g_steal_pointer (&r));
}

CordonConfig *
cordon_config_load (const char *path, GError **error)
{
  return cordon_config_load_flags (path, CORDON_CONFIG_LOAD_DEFAULT, error);
}

CordonConfig *
cordon_config_load_flags (const char *path, CordonConfigLoadFlags flags, GError **error)
{
  g_autoptr (CordonConfig) c = g_new0 (CordonConfig, 1);
  g_autoptr (GError) err = NULL;
  g_autofree char *text = NULL, *clean = NULL;
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GPtrArray) problems = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *dir = g_path_get_dirname (path);
  Loader l = { .path = path, .dir = dir, .kf = kf, .problems = problems, .flags = flags };

  g_key_file_set_list_separator (kf, ',');
  g_auto (GStrv) groups = NULL;

  c->path = g_strdup (path);
  c->cameras = g_ptr_array_new_with_free_func ((GDestroyNotify) cordon_camera_unref);
  c->recorders = g_ptr_array_new_with_free_func ((GDestroyNotify) recorder_free);

  g_autofree char *why = NULL;
  gboolean refused = FALSE;
  if (!(text = read_checked (path, FILE_CONFIG, &l.config_st, &why, &refused))) {
    /* A file that is there but may not be trusted is the admin's to fix,
     * like any other problem in it. */
    g_set_error (error, CORDON_CONFIG_ERROR, refused ? CORDON_CONFIG_ERROR_INVALID : CORDON_CONFIG_ERROR_IO, "%s", why);
    return NULL;
  }
  if (!g_utf8_validate (text, -1, NULL)) {
    g_set_error (error, CORDON_CONFIG_ERROR, CORDON_CONFIG_ERROR_INVALID, "%s: not UTF-8 text", path);
    return NULL;
  }
  clean = normalise_text (&l, text);
  if (!g_key_file_load_from_data (kf, clean, -1, G_KEY_FILE_NONE, &err)) {
    problem (&l, NULL, NULL, "%s", err->message);
    goto out;
  }

  /* [proxy] before recorders: SRTP and TLS checks need to know about RTSPS. */
  load_proxy (&l, c);
  check_not_writable_by (&l, "proxy", "user", path, &l.config_st, c->user);
  if (c->tls_key)
    check_not_writable_by (&l, "proxy", "tls-key", c->tls_key, &l.key_st, c->user);
  load_firewall (&l, c);
  check_unknown_keys (&l, "proxy", proxy_keys);
  check_unknown_keys (&l, "firewall", firewall_keys);
  load_onvif (&l, c);
  check_unknown_keys (&l, "onvif", onvif_keys);

  groups = g_key_file_get_groups (kf, NULL);
  for (guint i = 0; groups[i]; i++) {
    const char *g = groups[i];
    if (g_str_has_prefix (g, "camera:")) {
      load_camera (&l, c, g);
      check_unknown_keys (&l, g, camera_keys);
    } else if (g_str_has_prefix (g, "recorder:")) {
      load_recorder (&l, c, g);
      check_unknown_keys (&l, g, recorder_keys);
    } else if (strcmp (g, "proxy") != 0 && strcmp (g, "firewall") != 0 && strcmp (g, "onvif") != 0) {
      problem (&l, g, NULL, "unknown group (expected proxy, firewall, onvif, camera:NAME or recorder:NAME)");
    }
  }
  if (c->cameras->len == 0)
    problem (&l, NULL, NULL, "no [camera:NAME] group: there is nothing to serve");
  resolve_encoder_threads (c);
  for (guint i = 0; i < c->recorders->len; i++) {
    CordonRecorder *r = c->recorders->pdata[i];
    g_autofree char *g = g_strconcat ("recorder:", r->name, NULL);
    for (guint j = 0; r->cameras && r->cameras[j]; j++)
      if (strcmp (r->cameras[j], "*") != 0 && !cordon_config_find_camera (c, r->cameras[j]))
        problem (&l, g, "cameras", "names camera \"%s\", which is not configured", r->cameras[j]);
  }

out:
  if (problems->len > 0) {
    g_ptr_array_add (problems, NULL);
    g_autofree char *msg = g_strjoinv ("\n", (GStrv) problems->pdata);
    g_set_error_literal (error, CORDON_CONFIG_ERROR, CORDON_CONFIG_ERROR_INVALID, msg);
    return NULL;
  }
  return g_steal_pointer (&c);
}

void
cordon_config_free (CordonConfig *c)
{
  if (!c)
    return;
  g_free (c->path);
  g_free (c->listen_host);
  g_free (c->tls_listen_host);
  g_free (c->tls_certificate);
  g_free (c->tls_key);
  if (c->tls_pem)
    memset (c->tls_pem, 0, strlen (c->tls_pem));
  g_free (c->tls_pem);
  g_free (c->user);
  g_free (c->status_host);
  g_free (c->status_username);
  if (c->status_password)
    memset (c->status_password, 0, strlen (c->status_password));
  g_free (c->status_password);
  g_free (c->camera_interface);
  g_free (c->core_interface);
  g_free (c->onvif_host);
  g_free (c->onvif_serial);
  g_clear_pointer (&c->cameras, g_ptr_array_unref);
  g_clear_pointer (&c->recorders, g_ptr_array_unref);
  g_free (c);
}

CordonCamera *
cordon_camera_ref (CordonCamera *cam)
{
  g_atomic_int_inc (&cam->refcount);
  return cam;
}

void
cordon_camera_unref (CordonCamera *cam)
{
  if (!cam || !g_atomic_int_dec_and_test (&cam->refcount))
    return;
  g_free (cam->name);
  g_free (cam->url);
  g_free (cam->host);
  g_clear_object (&cam->address);
  g_free (cam->username);
  if (cam->password)
    memset (cam->password, 0, strlen (cam->password));
  g_free (cam->password);
  g_free (cam->mac);
  g_free (cam->profile);
  g_free (cam->preset);
  g_free (cam);
}

gboolean
cordon_camera_equal (const CordonCamera *a, const CordonCamera *b)
{
  return g_strcmp0 (a->name, b->name) == 0 && g_strcmp0 (a->url, b->url) == 0
      && g_strcmp0 (a->username, b->username) == 0 && g_strcmp0 (a->password, b->password) == 0
      && g_strcmp0 (a->mac, b->mac) == 0 && a->width == b->width && a->height == b->height
      && a->framerate == b->framerate && a->bitrate == b->bitrate
      && a->keyframe_interval == b->keyframe_interval && g_strcmp0 (a->profile, b->profile) == 0
      && g_strcmp0 (a->preset, b->preset) == 0 && a->audio == b->audio && a->allow_basic == b->allow_basic
      && a->max_input_width == b->max_input_width && a->max_input_height == b->max_input_height
      && a->max_input_framerate == b->max_input_framerate && a->worker_uid == b->worker_uid
      && a->sub_width == b->sub_width && a->sub_height == b->sub_height
      && a->sub_bitrate == b->sub_bitrate && a->encoder_threads == b->encoder_threads;
}

const CordonCamera *
cordon_config_find_camera (const CordonConfig *c, const char *name)
{
  for (guint i = 0; i < c->cameras->len; i++) {
    const CordonCamera *cam = c->cameras->pdata[i];
    if (g_strcmp0 (cam->name, name) == 0)
      return cam;
  }
  return NULL;
}

const CordonRecorder *
cordon_config_find_recorder (const CordonConfig *c, const char *name)
{
  for (guint i = 0; i < c->recorders->len; i++) {
    const CordonRecorder *r = c->recorders->pdata[i];
    if (g_strcmp0 (r->name, name) == 0)
      return r;
  }
  return NULL;
}

gboolean
cordon_recorder_allows_camera (const CordonRecorder *r, const char *camera)
{
  return r->all_cameras || (r->cameras && g_strv_contains ((const char *const *) r->cameras, camera));
}

gboolean
cordon_recorder_allows_address (const CordonRecorder *r, GInetAddress *address)
{
  g_autoptr (GInetAddress) plain = NULL;

  /* An IPv4 client on a dual-stack socket shows up as ::ffff:a.b.c.d. */
  if (g_inet_address_get_family (address) == G_SOCKET_FAMILY_IPV6) {
    const guint8 *b = g_inet_address_to_bytes (address);
    static const guint8 mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    if (memcmp (b, mapped, 12) == 0)
      address = plain = g_inet_address_new_from_bytes (b + 12, G_SOCKET_FAMILY_IPV4);
  }
  for (guint i = 0; i < r->addresses->len; i++) {
    GInetAddressMask *m = r->addresses->pdata[i];
    if (g_inet_address_mask_get_family (m) == g_inet_address_get_family (address)
        && g_inet_address_mask_matches (m, address))
      return TRUE;
  }
  return FALSE;
}

GPtrArray *
cordon_config_warnings (const CordonConfig *c)
{
  GPtrArray *out = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < c->cameras->len; i++) {
    const CordonCamera *cam = c->cameras->pdata[i];
    if (!cam->mac && c->mode != CORDON_FIREWALL_MODE_OFF)
      g_ptr_array_add (out, g_strdup_printf ("%s: [camera:%s] mac: not set: the camera's traffic is not pinned to "
                                             "its MAC address, so a spoofed ARP/ND reply could steer it",
                                             c->path, cam->name));
  }
  for (guint i = 0; i < c->recorders->len; i++) {
    const CordonRecorder *r = c->recorders->pdata[i];
    glong n = r->password ? g_utf8_strlen (r->password, -1) : 0;
    if (n < CORDON_CONFIG_MIN_PASSWORD)
      g_ptr_array_add (out, g_strdup_printf ("%s: [recorder:%s] password-file: the password has %ld characters; "
                                             "use at least %d (digest responses can be guessed offline)",
                                             c->path, r->name, n, CORDON_CONFIG_MIN_PASSWORD));
  }
  return out;
}

const char *
cordon_firewall_mode_to_string (CordonFirewallMode mode)
{
  switch (mode) {
  case CORDON_FIREWALL_MODE_GATEWAY: return "gateway";
  case CORDON_FIREWALL_MODE_HOST: return "host";
  case CORDON_FIREWALL_MODE_OFF: return "off";
  }
  return "?";
}

const char *
cordon_policy_to_string (CordonPolicy p)
{
  switch (p) {
  case CORDON_POLICY_OFF: return "off";
  case CORDON_POLICY_OPTIONAL: return "optional";
  case CORDON_POLICY_REQUIRED: return "required";
  }
  return "?";
}

gboolean
cordon_config_peek_status (const char *path, char **host, guint16 *port, GError **error)
{
  g_autofree char *text = NULL, *clean = NULL, *value = NULL;
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GPtrArray) problems = g_ptr_array_new_with_free_func (g_free);
  Loader l = { path, NULL, kf, problems };

  if (!g_file_get_contents (path, &text, NULL, error))
    return FALSE;
  clean = normalise_text (&l, text);
  if (!g_key_file_load_from_data (kf, clean, -1, G_KEY_FILE_NONE, error))
    return FALSE;
  value = g_key_file_get_value (kf, "proxy", "status", NULL);
  if (value && g_ascii_strcasecmp (g_strstrip (value), "off") == 0) {
    g_set_error (error, CORDON_CONFIG_ERROR, CORDON_CONFIG_ERROR_INVALID, "%s: [proxy] status = off", path);
    return FALSE;
  }
  return cordon_config_parse_hostport (value ? value : DEFAULT_STATUS, host, port, error);
}

gboolean
cordon_config_peek_firewall (const char *path, gboolean *off, char **camera_interface, guint *nflog_group,
                             GError **error)
{
  g_autofree char *text = NULL, *clean = NULL, *mode = NULL, *iface = NULL, *group = NULL;
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GPtrArray) problems = g_ptr_array_new_with_free_func (g_free);
  Loader l = { path, NULL, kf, problems };
  guint64 n;

  *off = FALSE;
  *camera_interface = NULL;
  *nflog_group = DEFAULT_NFLOG_GROUP;
  if (!g_file_get_contents (path, &text, NULL, error))
    return FALSE;
  clean = normalise_text (&l, text);
  if (!g_key_file_load_from_data (kf, clean, -1, G_KEY_FILE_NONE, error))
    return FALSE;
  mode = g_key_file_get_value (kf, "firewall", "mode", NULL);
  *off = mode && strcmp (g_strstrip (mode), "off") == 0;
  iface = g_key_file_get_value (kf, "firewall", "camera-interface", NULL);
  if (iface && valid_interface (g_strstrip (iface)))
    *camera_interface = g_steal_pointer (&iface);
  group = g_key_file_get_value (kf, "firewall", "nflog-group", NULL);
  if (group && g_ascii_string_to_unsigned (g_strstrip (group), 10, 0, 65535, &n, NULL))
    *nflog_group = (guint) n;
  return TRUE;
}
