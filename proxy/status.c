/* cordon — status endpoint (/status JSON, /metrics Prometheus) and the
 * `cordon status` client. Served from the main loop with libsoup. */
#define G_LOG_DOMAIN "cordon-status"

#include <stdio.h>
#include <string.h>

#include "cordon-build.h"
#include "proxy/daemon.h"
#include "proxy/ui.h"

static void
json_string (GString *out, const char *s)
{
  if (!s) {
    g_string_append (out, "null");
    return;
  }
  g_string_append_c (out, '"');
  for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
    switch (*p) {
    case '"': g_string_append (out, "\\\""); break;
    case '\\': g_string_append (out, "\\\\"); break;
    case '\n': g_string_append (out, "\\n"); break;
    case '\r': g_string_append (out, "\\r"); break;
    case '\t': g_string_append (out, "\\t"); break;
    default:
      if (*p < 0x20)
        g_string_append_printf (out, "\\u%04x", *p);
      else
        g_string_append_c (out, *p);
    }
  }
  g_string_append_c (out, '"');
}

static void
json_key (GString *out, const char *key)
{
  json_string (out, key);
  g_string_append_c (out, ':');
}

static char *
iso_time (gint64 us)
{
  if (us <= 0)
    return NULL;
  g_autoptr (GDateTime) t = g_date_time_new_from_unix_utc (us / G_USEC_PER_SEC);
  return t ? g_date_time_format_iso8601 (t) : NULL;
}

typedef struct {
  const CordonCamera *cam;
  CordonPipelineStats stats;
  guint media;
  double kbps;
  gint64 blocked;  /* -1 when unknown */
} CameraRow;

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

static GArray *
collect_cameras (CordonDaemon *d, GHashTable **counters_out)
{
  GArray *rows = g_array_new (FALSE, TRUE, sizeof (CameraRow));
  g_autoptr (GError) error = NULL;
  GHashTable *counters = NULL;

  if (d->firewall_applied) {
    counters = d->fwhelper ? cordon_fw_helper_read_counters (d->fwhelper, &error)
                           : cordon_firewall_read_counters (d->config, &error);
    if (!counters)
      g_debug ("firewall counters unavailable: %s", error->message);
  }
  for (guint i = 0; i < d->config->cameras->len; i++) {
    CameraRow row = { 0 };
    row.cam = d->config->cameras->pdata[i];
    CordonPipeline *p = g_hash_table_lookup (d->pipelines, row.cam->name);
    if (!p)
      continue;
    cordon_pipeline_get_stats (p, &row.stats);
    row.media = cordon_server_media_count (d->server, row.cam->name);
    row.kbps = camera_rate (d, row.cam->name, row.stats.bytes_out);
    guint64 *n = counters ? g_hash_table_lookup (counters, row.cam->name) : NULL;
    row.blocked = n ? (gint64) *n : -1;
    g_array_append_val (rows, row);
  }
  *counters_out = counters;
  return rows;
}

static void
free_rows (GArray *rows)
{
  for (guint i = 0; i < rows->len; i++)
    cordon_pipeline_stats_clear (&g_array_index (rows, CameraRow, i).stats);
  g_array_unref (rows);
}

char *
cordon_status_json (CordonDaemon *d)
{
  GString *o = g_string_new ("{");
  GHashTable *counters = NULL;
  GArray *rows = collect_cameras (d, &counters);
  g_autofree char *started = iso_time (d->started);

  json_key (o, "version");
  json_string (o, CORDON_VERSION);
  g_string_append_c (o, ',');
  json_key (o, "started");
  json_string (o, started);
  g_string_append_printf (o, ",\"uptime_seconds\":%" G_GINT64_FORMAT ",\"reloads\":%u,\"reload_failures\":%u",
                          (g_get_real_time () - d->started) / G_USEC_PER_SEC, d->reloads, d->reload_failures);

  g_string_append (o, ",\"cameras\":[");
  for (guint i = 0; i < rows->len; i++) {
    CameraRow *r = &g_array_index (rows, CameraRow, i);
    g_autofree char *since = iso_time (r->stats.state_since);
    if (i)
      g_string_append_c (o, ',');
    g_string_append_c (o, '{');
    json_key (o, "name");
    json_string (o, r->cam->name);
    g_string_append_c (o, ',');
    json_key (o, "state");
    json_string (o, cordon_camera_state_to_string (r->stats.state));
    g_string_append_c (o, ',');
    json_key (o, "since");
    json_string (o, since);
    g_string_append_c (o, ',');
    json_key (o, "input_codec");
    json_string (o, r->stats.input_codec);
    g_string_append_printf (o, ",\"input_width\":%u,\"input_height\":%u", r->stats.input_width,
                            r->stats.input_height);
    g_string_append_printf (o, ",\"output_width\":%u,\"output_height\":%u,\"output_framerate\":%u",
                            r->cam->width, r->cam->height, r->cam->framerate);
    g_string_append_printf (o, ",\"reconnects\":%u,\"frames_in\":%" G_GUINT64_FORMAT
                               ",\"frames_out\":%" G_GUINT64_FORMAT ",\"frames_dropped\":%" G_GUINT64_FORMAT
                               ",\"bytes_out\":%" G_GUINT64_FORMAT ",\"nal_units_dropped\":%" G_GUINT64_FORMAT
                               ",\"output_kbps\":%.1f"
                               ",\"last_frame_age_ms\":%" G_GINT64_FORMAT ",\"encoders\":%u,\"media\":%u",
                            r->stats.reconnects, r->stats.frames_in, r->stats.frames_out, r->stats.frames_dropped,
                            r->stats.bytes_out, r->stats.nal_units_dropped, r->kbps, r->stats.last_frame_age_ms, r->stats.encoders, r->media);
    /* worker → daemon picture hand-over, moving average */
    g_string_append_printf (o, ",\"handover_us\":%" G_GINT64_FORMAT, r->stats.handover_us);
    if (r->blocked >= 0)
      g_string_append_printf (o, ",\"blocked_packets\":%" G_GINT64_FORMAT, r->blocked);
    g_string_append_c (o, ',');
    json_key (o, "last_error");
    json_string (o, r->stats.last_error);
    g_string_append_c (o, '}');
  }
  g_string_append (o, "],\"recorders\":[");
  g_autoptr (GPtrArray) recs = cordon_server_recorder_stats (d->server, d->config);
  for (guint i = 0; i < recs->len; i++) {
    CordonRecorderStats *s = recs->pdata[i];
    if (i)
      g_string_append_c (o, ',');
    g_string_append_c (o, '{');
    json_key (o, "name");
    json_string (o, s->name);
    g_string_append_printf (o, ",\"sessions\":%u,\"auth_failures\":%" G_GUINT64_FORMAT
                               ",\"bytes_sent\":%" G_GUINT64_FORMAT "}",
                            s->sessions, s->auth_failures, s->bytes_sent);
    g_free (s->name);
    g_free (s);
  }
  g_string_append_printf (o, "],\"refused_connections\":%" G_GUINT64_FORMAT,
                          cordon_server_refused_connections (d->server));

  g_string_append (o, ",\"firewall\":{");
  json_key (o, "mode");
  json_string (o, cordon_firewall_mode_to_string (d->config->mode));
  g_autofree char *reapplied_last = iso_time (d->firewall_reapplied_last);
  g_string_append_printf (o, ",\"applied\":%s,\"table_present\":%s,\"camera_interface_present\":%s,"
                             "\"reapplied\":%u,\"last_reapplied\":",
                          d->firewall_applied ? "true" : "false",
                          d->firewall_applied && d->firewall_table_present ? "true" : "false",
                          cordon_firewall_camera_interface_present (d->config) ? "true" : "false",
                          d->firewall_reapplied);
  json_string (o, reapplied_last);
  g_string_append (o, ",\"attempts\":[");
  if (d->phonehome) {
    g_autoptr (GPtrArray) attempts = cordon_phonehome_list (d->phonehome);
    for (guint i = 0; i < attempts->len; i++) {
      CordonBlockedAttempt *a = attempts->pdata[i];
      g_autofree char *first = iso_time (a->first_seen), *last = iso_time (a->last_seen);
      if (i)
        g_string_append_c (o, ',');
      g_string_append_c (o, '{');
      json_key (o, "camera");
      json_string (o, a->camera);
      g_string_append_c (o, ',');
      json_key (o, "protocol");
      json_string (o, a->protocol);
      g_string_append_c (o, ',');
      json_key (o, "destination");
      json_string (o, a->destination);
      g_string_append_printf (o, ",\"port\":%u,", a->port);
      json_key (o, "dns_name");
      json_string (o, a->dns_name);
      g_string_append_printf (o, ",\"count\":%" G_GUINT64_FORMAT ",", a->count);
      json_key (o, "first_seen");
      json_string (o, first);
      g_string_append_c (o, ',');
      json_key (o, "last_seen");
      json_string (o, last);
      g_string_append_c (o, '}');
    }
  }
  g_string_append (o, "]}}\n");
  free_rows (rows);
  g_clear_pointer (&counters, g_hash_table_unref);
  return g_string_free (o, FALSE);
}

static void
metric_header (GString *o, const char *name, const char *type, const char *help)
{
  g_string_append_printf (o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

char *
cordon_status_metrics (CordonDaemon *d)
{
  GString *o = g_string_new (NULL);
  GHashTable *counters = NULL;
  GArray *rows = collect_cameras (d, &counters);

  /* Label values are camera and recorder names (A-Z a-z 0-9 - _ .) and IP
   * addresses, which need no escaping. */
#define PER_CAMERA(metric, type, help, fmt, expr)                                  \
  metric_header (o, metric, type, help);                                           \
  for (guint i = 0; i < rows->len; i++) {                                          \
    CameraRow *r = &g_array_index (rows, CameraRow, i);                            \
    g_string_append_printf (o, metric "{camera=\"%s\"} " fmt "\n", r->cam->name, expr); \
  }

  PER_CAMERA ("cordon_camera_up", "gauge", "1 when camera frames reach the encoder.", "%d",
              r->stats.state == CORDON_CAMERA_LIVE)
  metric_header (o, "cordon_camera_state", "gauge", "Current state of each camera (1 for the current one).");
  for (guint i = 0; i < rows->len; i++) {
    CameraRow *r = &g_array_index (rows, CameraRow, i);
    for (int s = CORDON_CAMERA_CONNECTING; s <= CORDON_CAMERA_OFFLINE; s++)
      g_string_append_printf (o, "cordon_camera_state{camera=\"%s\",state=\"%s\"} %d\n", r->cam->name,
                              cordon_camera_state_to_string (s), r->stats.state == (CordonCameraState) s);
  }
  PER_CAMERA ("cordon_camera_state_since_seconds", "gauge", "Unix time the camera entered its current state.",
              "%.3f", r->stats.state_since / 1e6)
  PER_CAMERA ("cordon_camera_reconnects_total", "counter", "Connection attempts after the first.", "%u",
              r->stats.reconnects)
  PER_CAMERA ("cordon_camera_frames_in_total", "counter", "Frames decoded from the camera.", "%" G_GUINT64_FORMAT,
              r->stats.frames_in)
  PER_CAMERA ("cordon_camera_frames_out_total", "counter", "Frames encoded for recorders (camera or slate).",
              "%" G_GUINT64_FORMAT, r->stats.frames_out)
  PER_CAMERA ("cordon_camera_frames_dropped_total", "counter", "Frames dropped by normalisation or encoding.",
              "%" G_GUINT64_FORMAT, r->stats.frames_dropped)
  PER_CAMERA ("cordon_camera_nal_units_dropped_total", "counter",
              "Encoded NAL units outside the allow-list (slice, IDR, SPS, PPS, AUD), not sent.",
              "%" G_GUINT64_FORMAT, r->stats.nal_units_dropped)
  PER_CAMERA ("cordon_camera_output_bytes_total", "counter", "Encoded bytes produced.", "%" G_GUINT64_FORMAT,
              r->stats.bytes_out)
  PER_CAMERA ("cordon_camera_output_bitrate_kbps", "gauge", "Encoded bitrate over the last interval.", "%.1f",
              r->kbps)
  PER_CAMERA ("cordon_camera_last_frame_age_seconds", "gauge", "Seconds since the last camera frame (-1: none).",
              "%.3f", r->stats.last_frame_age_ms < 0 ? -1.0 : r->stats.last_frame_age_ms / 1000.0)
  PER_CAMERA ("cordon_camera_input_width_pixels", "gauge", "Width of the camera's own picture.", "%u",
              r->stats.input_width)
  PER_CAMERA ("cordon_camera_input_height_pixels", "gauge", "Height of the camera's own picture.", "%u",
              r->stats.input_height)
  PER_CAMERA ("cordon_camera_encoders", "gauge", "Live encoder instances for the camera.", "%u", r->stats.encoders)
  PER_CAMERA ("cordon_camera_media", "gauge", "Shared RTSP media instances for the camera.", "%u", r->media)

  metric_header (o, "cordon_firewall_blocked_packets_total", "counter",
                 "Packets from the camera refused by the firewall.");
  for (guint i = 0; i < rows->len; i++) {
    CameraRow *r = &g_array_index (rows, CameraRow, i);
    if (r->blocked >= 0)
      g_string_append_printf (o, "cordon_firewall_blocked_packets_total{camera=\"%s\"} %" G_GINT64_FORMAT "\n",
                              r->cam->name, r->blocked);
  }
  metric_header (o, "cordon_firewall_applied", "gauge", "1 when cordon's table is applied.");
  g_string_append_printf (o, "cordon_firewall_applied %d\n", d->firewall_applied);
  metric_header (o, "cordon_firewall_table_present", "gauge",
                 "1 while table inet cordon is in the kernel (0 from a foreign removal until it is back).");
  g_string_append_printf (o, "cordon_firewall_table_present %d\n", d->firewall_applied && d->firewall_table_present);
  metric_header (o, "cordon_firewall_reapplied_total", "counter",
                 "Times the table was put back after another tool removed it.");
  g_string_append_printf (o, "cordon_firewall_reapplied_total %u\n", d->firewall_reapplied);
  metric_header (o, "cordon_firewall_camera_interface_present", "gauge",
                 "1 when [firewall] camera-interface exists on this host.");
  g_string_append_printf (o, "cordon_firewall_camera_interface_present %d\n",
                          cordon_firewall_camera_interface_present (d->config));
  metric_header (o, "cordon_firewall_egress_refused_total", "counter",
                 "Connections cordon's own processes tried to open and the firewall refused.");
  guint64 *egress = counters ? g_hash_table_lookup (counters, CORDON_FIREWALL_EGRESS) : NULL;
  if (egress)
    g_string_append_printf (o, "cordon_firewall_egress_refused_total %" G_GUINT64_FORMAT "\n", *egress);
  metric_header (o, "cordon_phonehome_destinations", "gauge",
                 "Distinct refused destinations per camera (see /status for the list).");
  if (d->phonehome) {
    g_autoptr (GPtrArray) attempts = cordon_phonehome_list (d->phonehome);
    g_autoptr (GHashTable) per = g_hash_table_new (g_str_hash, g_str_equal);
    for (guint i = 0; i < attempts->len; i++) {
      CordonBlockedAttempt *a = attempts->pdata[i];
      const char *cam = a->camera ? a->camera : "";
      g_hash_table_insert (per, (gpointer) cam, GUINT_TO_POINTER (GPOINTER_TO_UINT (g_hash_table_lookup (per, cam)) + 1));
    }
    for (guint i = 0; i < d->config->cameras->len; i++) {
      const CordonCamera *c = d->config->cameras->pdata[i];
      g_string_append_printf (o, "cordon_phonehome_destinations{camera=\"%s\"} %u\n", c->name,
                              GPOINTER_TO_UINT (g_hash_table_lookup (per, c->name)));
    }
  }

  g_autoptr (GPtrArray) recs = cordon_server_recorder_stats (d->server, d->config);
  metric_header (o, "cordon_recorder_sessions", "gauge", "RTSP connections authenticated as the recorder.");
  for (guint i = 0; i < recs->len; i++) {
    CordonRecorderStats *s = recs->pdata[i];
    g_string_append_printf (o, "cordon_recorder_sessions{recorder=\"%s\"} %u\n", s->name, s->sessions);
  }
  metric_header (o, "cordon_recorder_sent_bytes_total", "counter",
                 "Encoded video bytes sent to the recorder (RTP and TLS overhead not counted).");
  for (guint i = 0; i < recs->len; i++) {
    CordonRecorderStats *s = recs->pdata[i];
    g_string_append_printf (o, "cordon_recorder_sent_bytes_total{recorder=\"%s\"} %" G_GUINT64_FORMAT "\n", s->name,
                            s->bytes_sent);
  }
  metric_header (o, "cordon_recorder_auth_failures_total", "counter", "Failed logins with the recorder's user name.");
  for (guint i = 0; i < recs->len; i++) {
    CordonRecorderStats *s = recs->pdata[i];
    g_string_append_printf (o, "cordon_recorder_auth_failures_total{recorder=\"%s\"} %" G_GUINT64_FORMAT "\n",
                            s->name, s->auth_failures);
    g_free (s->name);
    g_free (s);
  }
  metric_header (o, "cordon_refused_connections_total", "counter",
                 "RTSP connections refused before any request (address not allowed or blocked).");
  g_string_append_printf (o, "cordon_refused_connections_total %" G_GUINT64_FORMAT "\n",
                          cordon_server_refused_connections (d->server));
  metric_header (o, "cordon_reloads_total", "counter", "Successful configuration reloads.");
  g_string_append_printf (o, "cordon_reloads_total %u\n", d->reloads);
  metric_header (o, "cordon_reload_failures_total", "counter", "Refused configuration reloads.");
  g_string_append_printf (o, "cordon_reload_failures_total %u\n", d->reload_failures);
#undef PER_CAMERA
  free_rows (rows);
  g_clear_pointer (&counters, g_hash_table_unref);
  return g_string_free (o, FALSE);
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

gboolean
cordon_status_start (CordonDaemon *d, GError **error)
{
  g_autoptr (GInetAddress) addr = g_inet_address_new_from_string (d->config->status_host);
  g_autoptr (GSocketAddress) sa = g_inet_socket_address_new (addr, d->config->status_port);

  d->status = soup_server_new ("server-header", "cordon", NULL);
  soup_server_add_handler (d->status, NULL, handle, d, NULL);
  cordon_ui_register (d->status, d);
  if (!soup_server_listen (d->status, sa, 0, error)) {
    g_prefix_error (error, "cannot listen on %s port %u: ", d->config->status_host, d->config->status_port);
    return FALSE;
  }
  g_message ("status on http://%s%s%s:%u/status and /metrics", strchr (d->config->status_host, ':') ? "[" : "",
             d->config->status_host, strchr (d->config->status_host, ':') ? "]" : "", d->config->status_port);
  return TRUE;
}

static void
table_row (GString *o, const char *const *cells, const int *widths, guint n)
{
  for (guint i = 0; i < n; i++)
    g_string_append_printf (o, "%-*s%s", widths[i], cells[i] ? cells[i] : "-", i + 1 < n ? "  " : "\n");
}

char *
cordon_status_table (CordonDaemon *d)
{
  GString *o = g_string_new (NULL);
  GHashTable *counters = NULL;
  GArray *rows = collect_cameras (d, &counters);
  g_autofree char *started = iso_time (d->started);
  static const int cw[] = { 16, 10, 20, 16, 10, 10, 9, 10, 8, 8 };
  static const char *const ch[] = { "CAMERA", "STATE", "SINCE", "INPUT", "FRAMES", "KBIT/S", "RECONN", "LAST-FRAME",
                                    "ENCODERS", "BLOCKED" };

  g_string_append_printf (o, "cordon %s, up since %s, firewall %s (%s)\n\n", CORDON_VERSION, started,
                          cordon_firewall_mode_to_string (d->config->mode),
                          d->firewall_applied ? "applied" : "not applied");
  table_row (o, ch, cw, G_N_ELEMENTS (cw));
  for (guint i = 0; i < rows->len; i++) {
    CameraRow *r = &g_array_index (rows, CameraRow, i);
    g_autofree char *since = iso_time (r->stats.state_since);
    g_autofree char *input = r->stats.input_codec ? g_strdup_printf ("%s %ux%u", r->stats.input_codec,
                                                                     r->stats.input_width, r->stats.input_height)
                                                  : NULL;
    g_autofree char *frames = g_strdup_printf ("%" G_GUINT64_FORMAT, r->stats.frames_out);
    g_autofree char *kbps = g_strdup_printf ("%.0f", r->kbps);
    g_autofree char *rec = g_strdup_printf ("%u", r->stats.reconnects);
    g_autofree char *age = r->stats.last_frame_age_ms < 0 ? g_strdup ("never")
                                                          : g_strdup_printf ("%.1fs", r->stats.last_frame_age_ms / 1e3);
    g_autofree char *enc = g_strdup_printf ("%u", r->stats.encoders);
    g_autofree char *blk = r->blocked >= 0 ? g_strdup_printf ("%" G_GINT64_FORMAT, r->blocked) : NULL;
    const char *cells[] = { r->cam->name, cordon_camera_state_to_string (r->stats.state), since, input, frames, kbps,
                            rec, age, enc, blk };
    table_row (o, cells, cw, G_N_ELEMENTS (cw));
  }
  g_autoptr (GPtrArray) recs = cordon_server_recorder_stats (d->server, d->config);
  static const int rw[] = { 16, 10, 14, 12 };
  static const char *const rh[] = { "RECORDER", "SESSIONS", "AUTH-FAILURES", "SENT-MB" };
  g_string_append_c (o, '\n');
  table_row (o, rh, rw, G_N_ELEMENTS (rw));
  for (guint i = 0; i < recs->len; i++) {
    CordonRecorderStats *s = recs->pdata[i];
    g_autofree char *n = g_strdup_printf ("%u", s->sessions);
    g_autofree char *f = g_strdup_printf ("%" G_GUINT64_FORMAT, s->auth_failures);
    g_autofree char *mb = g_strdup_printf ("%.1f", s->bytes_sent / 1e6);
    const char *cells[] = { s->name, n, f, mb };
    table_row (o, cells, rw, G_N_ELEMENTS (rw));
    g_free (s->name);
    g_free (s);
  }
  if (d->phonehome) {
    g_autoptr (GPtrArray) attempts = cordon_phonehome_list (d->phonehome);
    static const int aw[] = { 16, 7, 40, 6, 8, 0 };
    static const char *const ah[] = { "CAMERA", "PROTO", "BLOCKED DESTINATION", "PORT", "COUNT", "DNS NAME" };
    g_string_append_c (o, '\n');
    table_row (o, ah, aw, G_N_ELEMENTS (aw));
    for (guint i = 0; i < attempts->len; i++) {
      CordonBlockedAttempt *a = attempts->pdata[i];
      g_autofree char *port = g_strdup_printf ("%u", a->port);
      g_autofree char *count = g_strdup_printf ("%" G_GUINT64_FORMAT, a->count);
      const char *cells[] = { a->camera ? a->camera : "(unknown)", a->protocol, a->destination, port, count,
                              a->dns_name };
      table_row (o, cells, aw, G_N_ELEMENTS (aw));
    }
  }
  free_rows (rows);
  g_clear_pointer (&counters, g_hash_table_unref);
  return g_string_free (o, FALSE);
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
