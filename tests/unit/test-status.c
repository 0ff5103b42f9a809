/* Golden-file tests of the status renderers: one hand-made snapshot, its
 * JSON, Prometheus and table views compared with tests/status/. Set
 * CORDON_UPDATE_GOLDEN=1 to rewrite the files after a deliberate change
 * (and review the diff). */
#include <string.h>

#include "proxy/status-render.h"

#define T0 G_GINT64_CONSTANT (1764590400000000) /* 2025-12-01T12:00:00Z */

static CordonStatusSnapshot *
sample (void)
{
  CordonStatusSnapshot *s = cordon_status_snapshot_new ();
  s->version = g_strdup ("0.1.0");
  s->started = T0;
  s->now = T0 + (gint64) 3723 * G_USEC_PER_SEC;
  s->reloads = 2;
  s->reload_failures = 1;
  s->mode = CORDON_FIREWALL_MODE_GATEWAY;
  s->firewall_applied = TRUE;
  s->table_present = TRUE;
  s->camera_interface_present = TRUE;
  s->reapplied = 1;
  s->reapplied_last = T0 + 1800 * G_USEC_PER_SEC;
  s->egress_refused = 4;
  const char *names[] = { "lobby", "yard", "spare", NULL };
  s->camera_names = g_strdupv ((char **) names);
  CordonStatusCamera lobby = { .name = g_strdup ("lobby"), .width = 1280, .height = 720, .framerate = 25,
                               .media = 1, .kbps = 1987.25, .blocked = 42 };
  lobby.stats = (CordonPipelineStats) { .state = CORDON_CAMERA_LIVE, .state_since = T0 + 5 * G_USEC_PER_SEC,
                                        .reconnects = 0, .input_codec = "h264", .input_width = 1920,
                                        .input_height = 1080, .frames_in = 93000, .frames_out = 92990,
                                        .frames_dropped = 10, .frames_rate_dropped = 4, .bytes_out = 925000000, .nal_units_dropped = 3, .last_frame_age_ms = 40,
                                        .encoders = 1, .last_error = NULL };
  g_array_append_val (s->cameras, lobby);
  CordonStatusCamera yard = { .name = g_strdup ("yard"), .width = 640, .height = 360, .framerate = 10, .media = 0,
                              .kbps = 0, .blocked = -1 };
  yard.stats = (CordonPipelineStats) { .state = CORDON_CAMERA_OFFLINE, .state_since = T0 + 60 * G_USEC_PER_SEC,
                                       .reconnects = 7, .input_codec = NULL, .frames_out = 3000,
                                       .last_frame_age_ms = -1, .encoders = 1,
                                       .last_error = g_strdup ("connection refused \"by\" camera\\n") };
  g_array_append_val (s->cameras, yard);
  const char *recs[] = { "nvr1", "nvr2" };
  for (guint i = 0; i < 2; i++) {
    CordonRecorderStats *r = g_new0 (CordonRecorderStats, 1);
    r->name = g_strdup (recs[i]);
    r->sessions = 2 - i;
    r->auth_failures = 3 * i;
    r->bytes_sent = 123456789 * (1 - i);
    if (i == 1) {
      const char *const blocked[] = { "198.18.2.30", "fd00:2::\"x", NULL };
      r->blocked_addresses = g_strdupv ((GStrv) blocked);
    }
    g_ptr_array_add (s->recorders, r);
  }
  s->refused_connections = 17;
  s->attempts = g_ptr_array_new_with_free_func ((GDestroyNotify) cordon_blocked_attempt_free);
  CordonBlockedAttempt *a = g_new0 (CordonBlockedAttempt, 1);
  a->camera = g_strdup ("lobby");
  a->protocol = g_strdup ("udp");
  a->destination = g_strdup ("198.51.100.53");
  a->port = 53;
  a->dns_name = g_strdup ("cloud.example.com");
  a->count = 12;
  a->first_seen = T0 + 100 * G_USEC_PER_SEC;
  a->last_seen = T0 + 200 * G_USEC_PER_SEC;
  g_ptr_array_add (s->attempts, a);
  return s;
}

static void
compare (const char *name, const char *got)
{
  g_autofree char *path = g_build_filename (GOLDEN_DIR, name, NULL);
  if (g_getenv ("CORDON_UPDATE_GOLDEN")) {
    g_assert_true (g_file_set_contents (path, got, -1, NULL));
    return;
  }
  g_autofree char *want = NULL;
  g_assert_true (g_file_get_contents (path, &want, NULL, NULL));
  g_assert_cmpstr (got, ==, want);
}

static void
test_json (void)
{
  g_autoptr (CordonStatusSnapshot) s = sample ();
  g_autofree char *out = cordon_status_render_json (s);
  compare ("status.json", out);
}

static void
test_metrics (void)
{
  g_autoptr (CordonStatusSnapshot) s = sample ();
  g_autofree char *out = cordon_status_render_metrics (s);
  compare ("metrics.prom", out);
}

static void
test_table (void)
{
  g_autoptr (CordonStatusSnapshot) s = sample ();
  g_autofree char *out = cordon_status_render_table (s);
  compare ("status.table", out);
}

/* Without the phone-home report there are no attempts and no per-camera
 * destination metrics, and an empty snapshot renders at all. */
static void
test_empty (void)
{
  g_autoptr (CordonStatusSnapshot) s = cordon_status_snapshot_new ();
  s->version = g_strdup ("0.1.0");
  s->mode = CORDON_FIREWALL_MODE_OFF;
  g_autofree char *json = cordon_status_render_json (s);
  g_autofree char *prom = cordon_status_render_metrics (s);
  g_autofree char *table = cordon_status_render_table (s);
  g_assert_nonnull (strstr (json, "\"cameras\":[]"));
  g_assert_null (strstr (prom, "cordon_phonehome_destinations{"));
  g_assert_nonnull (strstr (table, "firewall off (not applied)"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/status/json-golden", test_json);
  g_test_add_func ("/status/metrics-golden", test_metrics);
  g_test_add_func ("/status/table-golden", test_table);
  g_test_add_func ("/status/empty-snapshot", test_empty);
  return g_test_run ();
}
