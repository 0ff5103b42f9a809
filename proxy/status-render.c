/* cordon — status renderers: one snapshot, three views (JSON for /status,
 * Prometheus text for /metrics, a table for `cordon status`). Pure: what is
 * rendered is only what the snapshot holds, so golden files can test it. */
#include "proxy/status-render.h"

#include <string.h>

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

char *
cordon_status_render_json (const CordonStatusSnapshot *s)
{
  GString *o = g_string_new ("{");
  g_autofree char *started = iso_time (s->started);

  json_key (o, "version");
  json_string (o, s->version);
  g_string_append_c (o, ',');
  json_key (o, "started");
  json_string (o, started);
  g_string_append_printf (o, ",\"uptime_seconds\":%" G_GINT64_FORMAT ",\"reloads\":%u,\"reload_failures\":%u",
                          (s->now - s->started) / G_USEC_PER_SEC, s->reloads, s->reload_failures);

  g_string_append (o, ",\"cameras\":[");
  for (guint i = 0; i < s->cameras->len; i++) {
    const CordonStatusCamera *r = &g_array_index (s->cameras, CordonStatusCamera, i);
    g_autofree char *since = iso_time (r->stats.state_since);
    if (i)
      g_string_append_c (o, ',');
    g_string_append_c (o, '{');
    json_key (o, "name");
    json_string (o, r->name);
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
                            r->width, r->height, r->framerate);
    g_string_append_printf (o, ",\"reconnects\":%u,\"frames_in\":%" G_GUINT64_FORMAT
                               ",\"frames_out\":%" G_GUINT64_FORMAT ",\"frames_dropped\":%" G_GUINT64_FORMAT
                               ",\"frames_rate_dropped\":%" G_GUINT64_FORMAT
                               ",\"bytes_out\":%" G_GUINT64_FORMAT ",\"nal_units_dropped\":%" G_GUINT64_FORMAT
                               ",\"output_kbps\":%.1f"
                               ",\"last_frame_age_ms\":%" G_GINT64_FORMAT ",\"encoders\":%u,\"media\":%u",
                            r->stats.reconnects, r->stats.frames_in, r->stats.frames_out, r->stats.frames_dropped,
                            r->stats.frames_rate_dropped, r->stats.bytes_out, r->stats.nal_units_dropped, r->kbps,
                            r->stats.last_frame_age_ms, r->stats.encoders, r->media);
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
  for (guint i = 0; i < s->recorders->len; i++) {
    const CordonRecorderStats *rs = s->recorders->pdata[i];
    if (i)
      g_string_append_c (o, ',');
    g_string_append_c (o, '{');
    json_key (o, "name");
    json_string (o, rs->name);
    g_string_append_printf (o, ",\"sessions\":%u,\"auth_failures\":%" G_GUINT64_FORMAT
                               ",\"bytes_sent\":%" G_GUINT64_FORMAT ",\"blocked_addresses\":[",
                            rs->sessions, rs->auth_failures, rs->bytes_sent);
    for (guint j = 0; rs->blocked_addresses && rs->blocked_addresses[j]; j++) {
      if (j)
        g_string_append_c (o, ',');
      json_string (o, rs->blocked_addresses[j]);
    }
    g_string_append (o, "]}");
  }
  g_string_append_printf (o, "],\"refused_connections\":%" G_GUINT64_FORMAT,
                          s->refused_connections);

  g_string_append (o, ",\"firewall\":{");
  json_key (o, "mode");
  json_string (o, cordon_firewall_mode_to_string (s->mode));
  g_autofree char *reapplied_last = iso_time (s->reapplied_last);
  g_string_append_printf (o, ",\"applied\":%s,\"table_present\":%s,\"camera_interface_present\":%s,"
                             "\"reapplied\":%u,\"last_reapplied\":",
                          s->firewall_applied ? "true" : "false", s->firewall_applied && s->table_present ? "true" : "false",
                          s->camera_interface_present ? "true" : "false", s->reapplied);
  json_string (o, reapplied_last);
  g_string_append (o, ",\"attempts\":[");
  if (s->attempts) {
    for (guint i = 0; i < s->attempts->len; i++) {
      const CordonBlockedAttempt *a = s->attempts->pdata[i];
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
  return g_string_free (o, FALSE);
}

static void
metric_header (GString *o, const char *name, const char *type, const char *help)
{
  g_string_append_printf (o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

char *
cordon_status_render_metrics (const CordonStatusSnapshot *s)
{
  GString *o = g_string_new (NULL);

  /* Label values are camera and recorder names (A-Z a-z 0-9 - _ .) and IP
   * addresses, which need no escaping. */
#define PER_CAMERA(metric, type, help, fmt, expr)                                  \
  metric_header (o, metric, type, help);                                           \
  for (guint i = 0; i < s->cameras->len; i++) {                                          \
    const CordonStatusCamera *r = &g_array_index (s->cameras, CordonStatusCamera, i);                            \
    g_string_append_printf (o, metric "{camera=\"%s\"} " fmt "\n", r->name, expr); \
  }

  PER_CAMERA ("cordon_camera_up", "gauge", "1 when camera frames reach the encoder.", "%d",
              r->stats.state == CORDON_CAMERA_LIVE)
  metric_header (o, "cordon_camera_state", "gauge", "Current state of each camera (1 for the current one).");
  for (guint i = 0; i < s->cameras->len; i++) {
    const CordonStatusCamera *r = &g_array_index (s->cameras, CordonStatusCamera, i);
    for (int st = CORDON_CAMERA_CONNECTING; st <= CORDON_CAMERA_OFFLINE; st++)
      g_string_append_printf (o, "cordon_camera_state{camera=\"%s\",state=\"%s\"} %d\n", r->name,
                              cordon_camera_state_to_string (st), r->stats.state == (CordonCameraState) st);
  }
  PER_CAMERA ("cordon_camera_state_since_seconds", "gauge", "Unix time the camera entered its current state.",
              "%.3f", r->stats.state_since / 1e6)
  PER_CAMERA ("cordon_camera_reconnects_total", "counter", "Connection attempts after the first.", "%u",
              r->stats.reconnects)
  PER_CAMERA ("cordon_camera_frames_in_total", "counter", "Frames decoded from the camera.", "%" G_GUINT64_FORMAT,
              r->stats.frames_in)
  PER_CAMERA ("cordon_camera_frames_out_total", "counter", "Frames encoded for recorders (camera or slate).",
              "%" G_GUINT64_FORMAT, r->stats.frames_out)
  PER_CAMERA ("cordon_camera_frames_dropped_total", "counter", "Pictures lost between the camera and the recorders (rate, hand-over, encoder queue, recorder queues).",
              "%" G_GUINT64_FORMAT, r->stats.frames_dropped)
  PER_CAMERA ("cordon_camera_frames_rate_dropped_total", "counter",
              "Of the pictures dropped, those the frame-rate normaliser left out (a camera faster than the output rate).",
              "%" G_GUINT64_FORMAT, r->stats.frames_rate_dropped)
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
  for (guint i = 0; i < s->cameras->len; i++) {
    const CordonStatusCamera *r = &g_array_index (s->cameras, CordonStatusCamera, i);
    if (r->blocked >= 0)
      g_string_append_printf (o, "cordon_firewall_blocked_packets_total{camera=\"%s\"} %" G_GINT64_FORMAT "\n",
                              r->name, r->blocked);
  }
  metric_header (o, "cordon_firewall_applied", "gauge", "1 when cordon's table is applied.");
  g_string_append_printf (o, "cordon_firewall_applied %d\n", s->firewall_applied);
  metric_header (o, "cordon_firewall_table_present", "gauge",
                 "1 while table inet cordon is in the kernel (0 from a foreign removal until it is back).");
  g_string_append_printf (o, "cordon_firewall_table_present %d\n", s->firewall_applied && s->table_present);
  metric_header (o, "cordon_firewall_reapplied_total", "counter",
                 "Times the table was put back after another tool removed it.");
  g_string_append_printf (o, "cordon_firewall_reapplied_total %u\n", s->reapplied);
  metric_header (o, "cordon_firewall_camera_interface_present", "gauge",
                 "1 when [firewall] camera-interface exists on this host.");
  g_string_append_printf (o, "cordon_firewall_camera_interface_present %d\n", s->camera_interface_present);
  metric_header (o, "cordon_firewall_egress_refused_total", "counter",
                 "Connections cordon's own processes tried to open and the firewall refused.");
  if (s->egress_refused >= 0)
    g_string_append_printf (o, "cordon_firewall_egress_refused_total %" G_GINT64_FORMAT "\n", s->egress_refused);
  metric_header (o, "cordon_phonehome_destinations", "gauge",
                 "Distinct refused destinations per camera (see /status for the list).");
  if (s->attempts) {
    g_autoptr (GHashTable) per = g_hash_table_new (g_str_hash, g_str_equal);
    for (guint i = 0; i < s->attempts->len; i++) {
      const CordonBlockedAttempt *a = s->attempts->pdata[i];
      const char *cam = a->camera ? a->camera : "";
      g_hash_table_insert (per, (gpointer) cam, GUINT_TO_POINTER (GPOINTER_TO_UINT (g_hash_table_lookup (per, cam)) + 1));
    }
    for (guint i = 0; s->camera_names && s->camera_names[i]; i++)
      g_string_append_printf (o, "cordon_phonehome_destinations{camera=\"%s\"} %u\n", s->camera_names[i],
                              GPOINTER_TO_UINT (g_hash_table_lookup (per, s->camera_names[i])));
  }

  metric_header (o, "cordon_recorder_sessions", "gauge", "RTSP connections authenticated as the recorder.");
  for (guint i = 0; i < s->recorders->len; i++) {
    const CordonRecorderStats *rs = s->recorders->pdata[i];
    g_string_append_printf (o, "cordon_recorder_sessions{recorder=\"%s\"} %u\n", rs->name, rs->sessions);
  }
  metric_header (o, "cordon_recorder_sent_bytes_total", "counter",
                 "Encoded video bytes sent to the recorder (RTP and TLS overhead not counted).");
  for (guint i = 0; i < s->recorders->len; i++) {
    const CordonRecorderStats *rs = s->recorders->pdata[i];
    g_string_append_printf (o, "cordon_recorder_sent_bytes_total{recorder=\"%s\"} %" G_GUINT64_FORMAT "\n", rs->name,
                            rs->bytes_sent);
  }
  metric_header (o, "cordon_recorder_auth_failures_total", "counter", "Failed logins with the recorder's user name.");
  for (guint i = 0; i < s->recorders->len; i++) {
    const CordonRecorderStats *rs = s->recorders->pdata[i];
    g_string_append_printf (o, "cordon_recorder_auth_failures_total{recorder=\"%s\"} %" G_GUINT64_FORMAT "\n",
                            rs->name, rs->auth_failures);
  }
  metric_header (o, "cordon_recorder_blocked_addresses", "gauge",
                 "Of the recorder's allowed addresses, those blocked now for password guessing.");
  for (guint i = 0; i < s->recorders->len; i++) {
    const CordonRecorderStats *rs = s->recorders->pdata[i];
    g_string_append_printf (o, "cordon_recorder_blocked_addresses{recorder=\"%s\"} %u\n", rs->name,
                            rs->blocked_addresses ? g_strv_length (rs->blocked_addresses) : 0);
  }
  metric_header (o, "cordon_refused_connections_total", "counter",
                 "RTSP connections refused before any request (address not allowed or blocked).");
  g_string_append_printf (o, "cordon_refused_connections_total %" G_GUINT64_FORMAT "\n",
                          s->refused_connections);
  metric_header (o, "cordon_reloads_total", "counter", "Successful configuration reloads.");
  g_string_append_printf (o, "cordon_reloads_total %u\n", s->reloads);
  metric_header (o, "cordon_reload_failures_total", "counter", "Refused configuration reloads.");
  g_string_append_printf (o, "cordon_reload_failures_total %u\n", s->reload_failures);
#undef PER_CAMERA
  return g_string_free (o, FALSE);
}

static void
table_row (GString *o, const char *const *cells, const int *widths, guint n)
{
  for (guint i = 0; i < n; i++)
    g_string_append_printf (o, "%-*s%s", widths[i], cells[i] ? cells[i] : "-", i + 1 < n ? "  " : "\n");
}

char *
cordon_status_render_table (const CordonStatusSnapshot *s)
{
  GString *o = g_string_new (NULL);
  g_autofree char *started = iso_time (s->started);
  static const int cw[] = { 16, 10, 20, 16, 10, 10, 9, 10, 8, 8 };
  static const char *const ch[] = { "CAMERA", "STATE", "SINCE", "INPUT", "FRAMES", "KBIT/S", "RECONN", "LAST-FRAME",
                                    "ENCODERS", "BLOCKED" };

  g_string_append_printf (o, "cordon %s, up since %s, firewall %s (%s)\n\n", s->version, started,
                          cordon_firewall_mode_to_string (s->mode),
                          s->firewall_applied ? "applied" : "not applied");
  table_row (o, ch, cw, G_N_ELEMENTS (cw));
  for (guint i = 0; i < s->cameras->len; i++) {
    const CordonStatusCamera *r = &g_array_index (s->cameras, CordonStatusCamera, i);
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
    const char *cells[] = { r->name, cordon_camera_state_to_string (r->stats.state), since, input, frames, kbps,
                            rec, age, enc, blk };
    table_row (o, cells, cw, G_N_ELEMENTS (cw));
  }
  static const int rw[] = { 16, 10, 14, 12 };
  static const char *const rh[] = { "RECORDER", "SESSIONS", "AUTH-FAILURES", "SENT-MB" };
  g_string_append_c (o, '\n');
  table_row (o, rh, rw, G_N_ELEMENTS (rw));
  for (guint i = 0; i < s->recorders->len; i++) {
    const CordonRecorderStats *rs = s->recorders->pdata[i];
    g_autofree char *n = g_strdup_printf ("%u", rs->sessions);
    g_autofree char *f = g_strdup_printf ("%" G_GUINT64_FORMAT, rs->auth_failures);
    g_autofree char *mb = g_strdup_printf ("%.1f", rs->bytes_sent / 1e6);
    const char *cells[] = { rs->name, n, f, mb };
    table_row (o, cells, rw, G_N_ELEMENTS (rw));
  }
  if (s->attempts) {
    GPtrArray *attempts = s->attempts;
    static const int aw[] = { 16, 7, 40, 6, 8, 0 };
    static const char *const ah[] = { "CAMERA", "PROTO", "BLOCKED DESTINATION", "PORT", "COUNT", "DNS NAME" };
    g_string_append_c (o, '\n');
    table_row (o, ah, aw, G_N_ELEMENTS (aw));
    for (guint i = 0; i < attempts->len; i++) {
      const CordonBlockedAttempt *a = attempts->pdata[i];
      g_autofree char *port = g_strdup_printf ("%u", a->port);
      g_autofree char *count = g_strdup_printf ("%" G_GUINT64_FORMAT, a->count);
      const char *cells[] = { a->camera ? a->camera : "(unknown)", a->protocol, a->destination, port, count,
                              a->dns_name };
      table_row (o, cells, aw, G_N_ELEMENTS (aw));
    }
  }
  return g_string_free (o, FALSE);
}

static void
recorder_stats_free (CordonRecorderStats *s)
{
  g_free (s->name);
  g_strfreev (s->blocked_addresses);
  g_free (s);
}

CordonStatusSnapshot *
cordon_status_snapshot_new (void)
{
  CordonStatusSnapshot *s = g_new0 (CordonStatusSnapshot, 1);
  s->cameras = g_array_new (FALSE, TRUE, sizeof (CordonStatusCamera));
  s->recorders = g_ptr_array_new_with_free_func ((GDestroyNotify) recorder_stats_free);
  s->egress_refused = -1;
  return s;
}

void
cordon_status_snapshot_free (CordonStatusSnapshot *s)
{
  if (!s)
    return;
  for (guint i = 0; i < s->cameras->len; i++) {
    CordonStatusCamera *c = &g_array_index (s->cameras, CordonStatusCamera, i);
    g_free (c->name);
    cordon_pipeline_stats_clear (&c->stats);
  }
  g_array_unref (s->cameras);
  g_ptr_array_unref (s->recorders);
  g_clear_pointer (&s->attempts, g_ptr_array_unref);
  g_strfreev (s->camera_names);
  g_free (s->version);
  g_free (s);
}
