/* cordon — status endpoint (/status JSON, /metrics Prometheus) and the
 * `cordon status` client. Served from the main loop with libsoup: each
 * request takes one snapshot of the daemon and renders it
 * (proxy/status-render.c). */
#define G_LOG_DOMAIN "cordon-status"

#include <stdio.h>
#include <string.h>

#include "cordon-build.h"
#include "proxy/daemon.h"
#include "proxy/digest.h"
#include "proxy/status-render.h"
#include "proxy/ui.h"

/* Output bitrate over the interval since the previous look, at most once a
 * second so that two scrapes in a row do not divide by nearly zero. */
static double
camera_rate (CordonDaemon *d, const char *name, guint64 bytes)
{
  gint64 now = g_get_monotonic_time ();
  RateSample *s = g_hash_table_lookup (d->rates, name);
  if (!s) {
    s = g_new0 (RateSample, 1);
    s->bytes = bytes;
    s->time = now;
    g_hash_table_insert (d->rates, g_strdup (name), s);
    return 0;
  }
  if (now - s->time >= G_USEC_PER_SEC && bytes >= s->bytes) {
    s->kbps = (bytes - s->bytes) * 8.0 / 1000.0 / ((now - s->time) / (double) G_USEC_PER_SEC);
    s->bytes = bytes;
    s->time = now;
  }
  return s->kbps;
}

/* The firewall's drop counters come from the helper, which answers over a
 * socket and may be slow (or, stopped, never answer within its time-out,
 * after which it is gone for good and so are reloads). A scrape must not wait
 * on that in the main loop, nor ask once per scrape: a thread of ours asks
 * every COUNTER_INTERVAL and the scrape shows the last answer. */
#define COUNTER_INTERVAL_US (2 * G_USEC_PER_SEC)

struct _CordonCounterCache {
  GMutex lock;
  GCond cond;
  GHashTable *counters;   /* camera name → guint64*, the last answer (or NULL) */
  gboolean stop;
  GThread *thread;
  CordonDaemon *daemon;
};

static gpointer
counter_thread (gpointer data)
{
  CordonCounterCache *c = data;
  CordonDaemon *d = c->daemon;
  g_mutex_lock (&c->lock);
  while (!c->stop) {
    g_mutex_unlock (&c->lock);
    GHashTable *fresh = NULL;
    if (d->firewall_applied) {
      g_autoptr (GError) error = NULL;
      g_mutex_lock (&d->fwhelper_lock);
      fresh = cordon_fw_helper_read_counters (d->fwhelper, &error);
      g_mutex_unlock (&d->fwhelper_lock);
      if (!fresh)
        g_debug ("firewall counters unavailable: %s", error->message);
    }
    g_mutex_lock (&c->lock);
    g_clear_pointer (&c->counters, g_hash_table_unref);
    c->counters = fresh;
    g_cond_wait_until (&c->cond, &c->lock, g_get_monotonic_time () + COUNTER_INTERVAL_US);
  }
  g_mutex_unlock (&c->lock);
  return NULL;
}

static void
counter_cache_free (CordonCounterCache *c)
{
  g_mutex_lock (&c->lock);
  c->stop = TRUE;
  g_cond_signal (&c->cond);
  g_mutex_unlock (&c->lock);
  g_thread_join (c->thread);
  g_clear_pointer (&c->counters, g_hash_table_unref);
  g_mutex_clear (&c->lock);
  g_cond_clear (&c->cond);
  g_free (c);
}

void
cordon_status_stop (CordonDaemon *d)
{
  g_clear_pointer (&d->counter_cache, counter_cache_free);
}

/* The last counters: camera → guint64* (transfer full), or NULL. Without a
 * helper (cordon not started as root) the kernel is asked directly, which
 * does not block. */
static GHashTable *
firewall_counters (CordonDaemon *d)
{
  if (!d->firewall_applied)
    return NULL;
  if (!d->fwhelper) {
    g_autoptr (GError) error = NULL;
    GHashTable *counters = cordon_firewall_read_counters (d->config, &error);
    if (!counters)
      g_debug ("firewall counters unavailable: %s", error->message);
    return counters;
  }
  if (!d->counter_cache)
    return NULL;
  CordonCounterCache *c = d->counter_cache;
  g_mutex_lock (&c->lock);
  GHashTable *copy = NULL;
  if (c->counters) {
    GHashTableIter it;
    gpointer k, v;
    copy = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
    g_hash_table_iter_init (&it, c->counters);
    while (g_hash_table_iter_next (&it, &k, &v))
      g_hash_table_insert (copy, g_strdup (k), g_memdup2 (v, sizeof (guint64)));
  }
  g_mutex_unlock (&c->lock);
  return copy;
}

/* The daemon's state now, as one snapshot (transfer full). */
static CordonStatusSnapshot *
take_snapshot (CordonDaemon *d)
{
  CordonStatusSnapshot *s = cordon_status_snapshot_new ();
  g_autoptr (GHashTable) counters = firewall_counters (d);

  s->version = g_strdup (CORDON_VERSION);
  s->started = d->started;
  s->now = g_get_real_time ();
  s->reloads = d->reloads;
  s->reload_failures = d->reload_failures;
  s->mode = d->config->mode;
  s->firewall_applied = d->firewall_applied;
  s->table_present = d->firewall_table_present;
  s->camera_interface_present = cordon_firewall_camera_interface_present (d->config);
  s->reapplied = d->firewall_reapplied;
  s->reapplied_last = d->firewall_reapplied_last;
  guint64 *egress = counters ? g_hash_table_lookup (counters, CORDON_FIREWALL_EGRESS) : NULL;
  s->egress_refused = egress ? (gint64) *egress : -1;
  s->camera_names = g_new0 (char *, d->config->cameras->len + 1);
  for (guint i = 0; i < d->config->cameras->len; i++) {
    const CordonCamera *cam = d->config->cameras->pdata[i];
    s->camera_names[i] = g_strdup (cam->name);
    CordonPipeline *p = g_hash_table_lookup (d->pipelines, cam->name);
    if (!p)
      continue;
    CordonStatusCamera row = { 0 };
    row.name = g_strdup (cam->name);
    row.width = cam->width;
    row.height = cam->height;
    row.framerate = cam->framerate;
    cordon_pipeline_get_stats (p, &row.stats);
    row.media = cordon_server_media_count (d->server, cam->name);
    row.kbps = camera_rate (d, cam->name, row.stats.bytes_out);
    guint64 *n = counters ? g_hash_table_lookup (counters, cam->name) : NULL;
    row.blocked = n ? (gint64) *n : -1;
    g_array_append_val (s->cameras, row);
  }
  g_autoptr (GPtrArray) recs = cordon_server_recorder_stats (d->server, d->config);
  for (guint i = 0; i < recs->len; i++)
    g_ptr_array_add (s->recorders, recs->pdata[i]);
  s->refused_connections = cordon_server_refused_connections (d->server);
  if (d->phonehome)
    s->attempts = cordon_phonehome_list (d->phonehome);
  return s;
}

char *
cordon_status_json (CordonDaemon *d)
{
  g_autoptr (CordonStatusSnapshot) s = take_snapshot (d);
  return cordon_status_render_json (s);
}

char *
cordon_status_metrics (CordonDaemon *d)
{
  g_autoptr (CordonStatusSnapshot) s = take_snapshot (d);
  return cordon_status_render_metrics (s);
}

char *
cordon_status_table (CordonDaemon *d)
{
  g_autoptr (CordonStatusSnapshot) s = take_snapshot (d);
  return cordon_status_render_table (s);
}

static void
handle (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query, gpointer data)
{
  CordonDaemon *d = data;
  char *body;
  const char *type;

  if (soup_server_message_get_method (msg) != SOUP_METHOD_GET) {
    soup_server_message_set_status (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, NULL);
    return;
  }
  if (strcmp (path, "/status") == 0 && query && g_strcmp0 (g_hash_table_lookup (query, "format"), "table") == 0) {
    body = cordon_status_table (d);
    type = "text/plain; charset=utf-8";
  } else if (strcmp (path, "/status") == 0) {
    body = cordon_status_json (d);
    type = "application/json";
  } else if (strcmp (path, "/metrics") == 0) {
    body = cordon_status_metrics (d);
    type = "text/plain; version=0.0.4; charset=utf-8";
  } else {
    soup_server_message_set_status (msg, SOUP_STATUS_NOT_FOUND, NULL);
    return;
  }
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, type, SOUP_MEMORY_TAKE, body, strlen (body));
}

static gboolean
check_status_password (SoupAuthDomain *domain, SoupServerMessage *msg, const char *username, const char *password,
                       gpointer data)
{
  CordonDaemon *d = data;
  /* Compared in full whatever matches: the time says nothing. */
  gboolean user_ok = cordon_digest_equal (username ? username : "", d->config->status_username);
  gboolean pass_ok = cordon_digest_equal (password ? password : "", d->config->status_password);
  return user_ok && pass_ok;
}

gboolean
cordon_status_start (CordonDaemon *d, GError **error)
{
  g_autoptr (GInetAddress) addr = g_inet_address_new_from_string (d->config->status_host);
  g_autoptr (GSocketAddress) sa = g_inet_socket_address_new (addr, d->config->status_port);

  d->status = soup_server_new ("server-header", "cordon", NULL);
  soup_server_add_handler (d->status, NULL, handle, d, NULL);
  cordon_ui_register (d->status, d);
  /* Off loopback the configuration insists on credentials (config.c). */
  if (d->config->status_username) {
    g_autoptr (SoupAuthDomain) domain = soup_auth_domain_basic_new ("realm", "cordon", NULL);
    soup_auth_domain_basic_set_auth_callback (domain, check_status_password, d, NULL);
    soup_auth_domain_add_path (domain, "/");
    soup_server_add_auth_domain (d->status, domain);
  }
  if (!soup_server_listen (d->status, sa, 0, error)) {
    g_prefix_error (error, "cannot listen on %s port %u: ", d->config->status_host, d->config->status_port);
    return FALSE;
  }
  if (d->fwhelper && !d->counter_cache) {
    CordonCounterCache *c = g_new0 (CordonCounterCache, 1);
    g_mutex_init (&c->lock);
    g_cond_init (&c->cond);
    c->daemon = d;
    c->thread = g_thread_new ("cordon-counters", counter_thread, c);
    d->counter_cache = c;
  }
  g_message ("status on http://%s%s%s:%u/status and /metrics", strchr (d->config->status_host, ':') ? "[" : "",
             d->config->status_host, strchr (d->config->status_host, ':') ? "]" : "", d->config->status_port);
  return TRUE;
}

int
cordon_status_client (const char *config_path, const char *address, gboolean json)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *host = NULL;
  guint16 port = 0;

  if (address ? !cordon_config_parse_hostport (address, &host, &port, &error)
              : !cordon_config_peek_status (config_path, &host, &port, &error)) {
    g_printerr ("cordon status: %s\n", error->message);
    return 1;
  }
  g_autofree char *url = g_strdup_printf ("http://%s%s%s:%u/status%s", strchr (host, ':') ? "[" : "", host,
                                          strchr (host, ':') ? "]" : "", port, json ? "" : "?format=table");
  g_autoptr (SoupSession) session = soup_session_new_with_options ("timeout", 5, NULL);
  g_autoptr (SoupMessage) msg = soup_message_new ("GET", url);
  g_autoptr (GBytes) body = soup_session_send_and_read (session, msg, NULL, &error);
  if (!body) {
    g_printerr ("cordon status: cannot reach the daemon at %s: %s\n", url, error->message);
    return 1;
  }
  if (soup_message_get_status (msg) != SOUP_STATUS_OK) {
    g_printerr ("cordon status: %s answered %u\n", url, soup_message_get_status (msg));
    return 1;
  }
  gsize len;
  const char *data = g_bytes_get_data (body, &len);
  fwrite (data, 1, len, stdout);
  return 0;
}
