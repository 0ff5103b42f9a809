/* cordon — the operator page: static assets from the GResource bundle, the
 * site description and history (/ui/site.json) and camera snapshots. */
#define G_LOG_DOMAIN "cordon-ui"

#include <string.h>

#include "proxy/daemon.h"
#include "proxy/history.h"
#include "proxy/ui.h"
#include "ui-resources.h"

#define HISTORY_SECONDS 3600
#define SNAPSHOT_WIDTH 480

typedef struct {
  CordonDaemon *daemon;
  CordonHistory *history;
  guint timer;
  gboolean served;   /* status on loopback, or behind [proxy] status credentials */
} CordonUi;

/* The page runs no inline script or style and loads nothing from elsewhere:
 * whatever a camera name or a phone-home DNS name holds can only ever be
 * text. */
static const char csp[] = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
                          "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

static void
ui_free (CordonUi *ui)
{
  g_clear_handle_id (&ui->timer, g_source_remove);
  g_clear_pointer (&ui->history, cordon_history_free);
  g_free (ui);
}

static guint64
blocked_of (GHashTable *per_camera, const char *name)
{
  guint64 *n = per_camera ? g_hash_table_lookup (per_camera, name) : NULL;
  return n ? *n : 0;
}

static gboolean
sample (gpointer data)
{
  CordonUi *ui = data;
  CordonDaemon *d = ui->daemon;
  g_autoptr (GHashTable) blocked = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);
  g_autoptr (GPtrArray) attempts = NULL;
  g_autoptr (GStrvBuilder) names = g_strv_builder_new ();
  gint64 now = g_get_monotonic_time ();

  if (!d->pipelines)
    return G_SOURCE_CONTINUE;
  /* Attempts rather than firewall packet counters: the phone-home report is
   * in this process, the counters need the CAP_NET_ADMIN helper. */
  if (d->phonehome) {
    attempts = cordon_phonehome_list (d->phonehome);
    for (guint i = 0; i < attempts->len; i++) {
      CordonBlockedAttempt *a = attempts->pdata[i];
      if (!a->camera)
        continue;
      guint64 *n = g_hash_table_lookup (blocked, a->camera);
      if (!n) {
        n = g_new0 (guint64, 1);
        g_hash_table_insert (blocked, a->camera, n);
      }
      *n += a->count;
    }
  }
  for (guint i = 0; i < d->config->cameras->len; i++) {
    const CordonCamera *cam = d->config->cameras->pdata[i];
    CordonPipeline *p = g_hash_table_lookup (d->pipelines, cam->name);
    CordonPipelineStats stats = { 0 };
    if (!p)
      continue;
    cordon_pipeline_get_stats (p, &stats);
    cordon_history_record (ui->history, cam->name, now, stats.frames_in, stats.bytes_out,
                           blocked_of (blocked, cam->name));
    cordon_pipeline_stats_clear (&stats);
    g_strv_builder_add (names, cam->name);
  }
  g_auto (GStrv) kept = g_strv_builder_end (names);
  cordon_history_retain (ui->history, (const char *const *) kept);
  return G_SOURCE_CONTINUE;
}

static void
json_string_list (GString *o, const char *const *items)
{
  g_string_append_c (o, '[');
  for (guint i = 0; items && items[i]; i++)
    g_string_append_printf (o, "%s\"%s\"", i ? "," : "", items[i]);
  g_string_append_c (o, ']');
}

/* Zone names and abbreviations come from TZ and the tz database: keep them
 * to the characters those use, so the JSON stays JSON whatever TZ holds. */
static char *
zone_text (const char *s)
{
  char *t = g_strdup (s ? s : "");
  g_strcanon (t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/_+-:.", '?');
  return t;
}

/* What the page needs besides /status: the site's time zone (dates are
 * shown in it), which cameras each recorder may watch, and the history. Every
 * string here is a config-validated name, an address or a zone name. */
static char *
site_json (CordonUi *ui)
{
  CordonDaemon *d = ui->daemon;
  GString *o = g_string_new (NULL);
  g_autoptr (GTimeZone) tz = g_time_zone_new_local ();
  g_autoptr (GDateTime) now = g_date_time_new_now (tz);

  g_string_append_printf (o, "{\"interval_seconds\":%u,\"window_seconds\":%u,", CORDON_UI_SAMPLE_SECONDS,
                          HISTORY_SECONDS);
  g_autofree char *zone = zone_text (g_time_zone_get_identifier (tz));
  g_autofree char *abbreviation = zone_text (g_date_time_get_timezone_abbreviation (now));
  g_string_append_printf (o, "\"timezone\":{\"name\":\"%s\",\"abbreviation\":\"%s\",\"offset_seconds\":%" G_GINT64_FORMAT
                             "},",
                          zone, abbreviation, g_date_time_get_utc_offset (now) / G_TIME_SPAN_SECOND);
  g_string_append (o, "\"recorders\":{");
  for (guint i = 0; i < d->config->recorders->len; i++) {
    const CordonRecorder *r = d->config->recorders->pdata[i];
    g_autoptr (GStrvBuilder) addrs = g_strv_builder_new ();
    for (guint j = 0; j < r->addresses->len; j++) {
      g_autofree char *a = g_inet_address_mask_to_string (r->addresses->pdata[j]);
      g_strv_builder_add (addrs, a);
    }
    g_auto (GStrv) addresses = g_strv_builder_end (addrs);
    static const char *const all[] = { "*", NULL };
    g_string_append_printf (o, "%s\"%s\":{\"cameras\":", i ? "," : "", r->name);
    json_string_list (o, r->all_cameras ? all : (const char *const *) r->cameras);
    g_string_append (o, ",\"addresses\":");
    json_string_list (o, (const char *const *) addresses);
    g_string_append_c (o, '}');
  }
  g_string_append (o, "},\"history\":");
  cordon_history_to_json (ui->history, g_get_monotonic_time (), o);
  g_string_append (o, "}\n");
  return g_string_free (o, FALSE);
}

static const char *
content_type (const char *name)
{
  if (g_str_has_suffix (name, ".html"))
    return "text/html; charset=utf-8";
  if (g_str_has_suffix (name, ".js"))
    return "text/javascript; charset=utf-8";
  if (g_str_has_suffix (name, ".css"))
    return "text/css; charset=utf-8";
  if (g_str_has_suffix (name, ".svg"))
    return "image/svg+xml";
  return "application/octet-stream";
}

static void
respond_text (SoupServerMessage *msg, guint status, const char *text)
{
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "text/plain; charset=utf-8", SOUP_MEMORY_COPY, text, strlen (text));
}

static void
respond_bytes (SoupServerMessage *msg, const char *type, GBytes *body)
{
  gsize len;
  gconstpointer data = g_bytes_get_data (body, &len);
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, type, SOUP_MEMORY_COPY, data, len);
}

static void
snapshot (CordonUi *ui, SoupServerMessage *msg, const char *file)
{
  g_autofree char *name = g_strndup (file, strlen (file) - strlen (".jpg"));
  CordonPipeline *p = ui->daemon->pipelines ? g_hash_table_lookup (ui->daemon->pipelines, name) : NULL;

  if (!p) {
    respond_text (msg, SOUP_STATUS_NOT_FOUND, "no such camera\n");
    return;
  }
  /* On the main loop, as reloads are: the pipeline cannot go away under the
   * encode. The pipeline keeps one JPEG a second per size, so viewers add
   * no encodes. */
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) jpeg = cordon_pipeline_snapshot_jpeg (p, SNAPSHOT_WIDTH, &error);
  if (!jpeg) {
    g_autofree char *text = g_strdup_printf ("no snapshot: %s\n", error->message);
    g_debug ("%s", text);
    respond_text (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, text);
    return;
  }
  respond_bytes (msg, "image/jpeg", jpeg);
}

static void
handle (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query, gpointer data)
{
  CordonUi *ui = data;
  const char *method = soup_server_message_get_method (msg);
  SoupMessageHeaders *h = soup_server_message_get_response_headers (msg);

  soup_message_headers_replace (h, "Content-Security-Policy", csp);
  soup_message_headers_replace (h, "X-Content-Type-Options", "nosniff");
  soup_message_headers_replace (h, "X-Frame-Options", "DENY");
  soup_message_headers_replace (h, "Referrer-Policy", "no-referrer");
  soup_message_headers_replace (h, "Cross-Origin-Resource-Policy", "same-origin");
  soup_message_headers_replace (h, "Cache-Control", "no-store");

  /* Read-only: the page can look, never act. */
  if (method != SOUP_METHOD_GET && method != SOUP_METHOD_HEAD) {
    soup_message_headers_replace (h, "Allow", "GET, HEAD");
    respond_text (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "the operator page is read-only\n");
    return;
  }
  /* Off loopback the status server's credentials guard every path, the
   * page's too; without them (never valid in a checked config) nothing. */
  if (!ui->served) {
    respond_text (msg, SOUP_STATUS_FORBIDDEN,
                  "the operator page needs [proxy] status on loopback or status credentials\n");
    return;
  }
  if (strcmp (path, "/ui") == 0) {
    soup_server_message_set_redirect (msg, SOUP_STATUS_MOVED_PERMANENTLY, "/ui/");
    return;
  }
  const char *file = path + strlen ("/ui/");
  if (strcmp (path, "/ui/") == 0)
    file = "index.html";
  if (strcmp (file, "site.json") == 0) {
    char *body = site_json (ui);
    soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
    soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_TAKE, body, strlen (body));
    return;
  }
  if (g_str_has_prefix (file, "snapshot/") && g_str_has_suffix (file, ".jpg")
      && !strchr (file + strlen ("snapshot/"), '/')) {
    snapshot (ui, msg, file + strlen ("snapshot/"));
    return;
  }
  /* Only the bundle's own flat names: no path reaches the file system. */
  if (strchr (file, '/')) {
    respond_text (msg, SOUP_STATUS_NOT_FOUND, "not found\n");
    return;
  }
  g_autofree char *rpath = g_strconcat ("/org/cordon/ui/", file, NULL);
  g_autoptr (GBytes) body = g_resource_lookup_data (cordon_ui_get_resource (), rpath, G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);
  if (!body) {
    respond_text (msg, SOUP_STATUS_NOT_FOUND, "not found\n");
    return;
  }
  /* The assets are part of the binary: they change only with it. */
  soup_message_headers_replace (h, "Cache-Control", "no-cache");
  respond_bytes (msg, content_type (file), body);
}

void
cordon_ui_register (SoupServer *server, CordonDaemon *d)
{
  CordonUi *ui = g_new0 (CordonUi, 1);
  g_autoptr (GInetAddress) addr = g_inet_address_new_from_string (d->config->status_host);

  ui->daemon = d;
  ui->served = (addr && g_inet_address_get_is_loopback (addr)) || d->config->status_username;
  ui->history = cordon_history_new (HISTORY_SECONDS / CORDON_UI_SAMPLE_SECONDS);
  sample (ui);
  ui->timer = g_timeout_add_seconds (CORDON_UI_SAMPLE_SECONDS, sample, ui);
  soup_server_add_handler (server, "/ui", handle, ui, (GDestroyNotify) ui_free);
  if (!ui->served)
    g_warning ("status is on %s, not loopback, without credentials: the operator page /ui/ is not served",
               d->config->status_host);
}
