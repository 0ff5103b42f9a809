/* fw-tool — test driver for the firewall module until the cordon binary
 * exists:  fw-tool plan|apply|remove|counters CONFIG
 *          fw-tool listen CONFIG SECONDS   (phone-home report as JSON lines
 *                                           when SECONDS pass or on SIGTERM)
 *          fw-tool apply-broken CONFIG     (CONFIG's ruleset plus one rule the
 *                                           kernel refuses: proves rollback) */
#define G_LOG_DOMAIN "cordon-firewall"

#include "firewall-private.h"

#include <glib-unix.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

static gboolean
quit_cb (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

static void
print_json_string (const char *s)
{
  if (!s) {
    fputs ("null", stdout);
    return;
  }
  putchar ('"');
  for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
    if (*p == '"' || *p == '\\')
      printf ("\\%c", *p);
    else if (*p < 0x20 || *p >= 0x7f)
      printf ("\\u%04x", *p);
    else
      putchar (*p);
  }
  putchar ('"');
}

static int
listen_report (const CordonConfig *config, guint seconds)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CordonPhoneHome) report = cordon_phonehome_new (config, &error);
  if (!report) {
    g_printerr ("fw-tool: %s\n", error->message);
    return 1;
  }
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_timeout_add_seconds (seconds, quit_cb, loop);
  /* SIGTERM ends the listening early; the report is printed either way. */
  g_unix_signal_add (SIGTERM, quit_cb, loop);
  g_unix_signal_add (SIGINT, quit_cb, loop);
  g_printerr ("fw-tool: listening\n");
  g_main_loop_run (loop);

  g_autoptr (GPtrArray) list = cordon_phonehome_list (report);
  for (guint i = 0; i < list->len; i++) {
    const CordonBlockedAttempt *a = g_ptr_array_index (list, i);
    fputs ("{\"camera\": ", stdout);
    print_json_string (a->camera);
    fputs (", \"protocol\": ", stdout);
    print_json_string (a->protocol);
    fputs (", \"destination\": ", stdout);
    print_json_string (a->destination);
    printf (", \"port\": %u, \"dns\": ", a->port);
    print_json_string (a->dns_name);
    printf (", \"count\": %" G_GUINT64_FORMAT "}\n", a->count);
  }
  return 0;
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;

  if (argc < 3) {
    g_printerr ("usage: fw-tool plan|apply|remove|counters CONFIG | listen CONFIG SECONDS\n");
    return 2;
  }
  const char *cmd = argv[1];
  g_autoptr (CordonConfig) config = cordon_config_load (argv[2], &error);
  if (!config) {
    g_printerr ("fw-tool: %s\n", error->message);
    return 1;
  }

  if (strcmp (cmd, "plan") == 0) {
    g_autofree char *plan = cordon_firewall_plan (config, &error);
    if (!plan) {
      g_printerr ("fw-tool: %s\n", error->message);
      return 1;
    }
    fputs (plan, stdout);
    return 0;
  }
  if (strcmp (cmd, "apply") == 0 || strcmp (cmd, "remove") == 0) {
    gboolean ok = cmd[0] == 'a' ? cordon_firewall_apply (config, &error) : cordon_firewall_remove (&error);
    if (!ok) {
      g_printerr ("fw-tool: %s\n", error->message);
      return 1;
    }
    return 0;
  }
  if (strcmp (cmd, "counters") == 0) {
    g_autoptr (GHashTable) counters = cordon_firewall_read_counters (config, &error);
    if (!counters) {
      g_printerr ("fw-tool: %s\n", error->message);
      return 1;
    }
    g_autoptr (GList) keys = g_list_sort (g_hash_table_get_keys (counters), (GCompareFunc) strcmp);
    for (GList *l = keys; l; l = l->next)
      printf ("%s %" G_GUINT64_FORMAT "\n", (char *) l->data, *(guint64 *) g_hash_table_lookup (counters, l->data));
    return 0;
  }
  if (strcmp (cmd, "apply-broken") == 0) {
    g_autoptr (FwRuleset) rs = fw_ruleset_new (config, &error);
    if (!rs) {
      g_printerr ("fw-tool: %s\n", error->message);
      return 1;
    }
    FwRule *rule = g_new0 (FwRule, 1);
    FwItem jump = { .kind = FW_JUMP, .text = g_strdup ("no_such_chain") };
    rule->chain = g_strdup ("refuse");
    rule->comment = g_strdup ("deliberately broken");
    rule->items = g_array_new (FALSE, TRUE, sizeof (FwItem));
    g_array_append_val (rule->items, jump);
    g_ptr_array_add (rs->rules, rule);
    if (!fw_netlink_apply (rs, &error)) {
      g_printerr ("fw-tool: %s\n", error->message);
      return 1;
    }
    return 0;
  }
  if (strcmp (cmd, "listen") == 0 && argc >= 4)
    return listen_report (config, (guint) g_ascii_strtoull (argv[3], NULL, 10));
  g_printerr ("fw-tool: unknown command %s\n", cmd);
  return 2;
}
