/* cordon — command line. */
#define G_LOG_DOMAIN "cordon"

#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "config/config.h"
#include "cordon-build.h"
#include "firewall/firewall.h"
#include "proxy/daemon.h"

#define DEFAULT_CONFIG CORDON_SYSCONFDIR "/cordon/cordon.conf"

static const char usage[] =
  "Usage:\n"
  "  cordon check    [--config FILE]           validate; print every error\n"
  "  cordon run      [--config FILE] [--verbose]  run the daemon in the foreground\n"
  "  cordon firewall plan|apply|remove|unit-addresses [--config FILE]\n"
  "  cordon status   [--config FILE | --address HOST:PORT] [--json]\n"
  "  cordon version\n"
  "\nThe default configuration is " DEFAULT_CONFIG ".\n";

static char *opt_config;
static gboolean opt_verbose, opt_json;
static char *opt_address;

static gboolean
parse (int *argc, char ***argv, const char *what, gboolean with_run, gboolean with_status)
{
  const GOptionEntry common[] = {
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &opt_config, "Configuration file", "FILE" },
    { NULL }
  };
  const GOptionEntry run[] = {
    { "verbose", 'v', 0, G_OPTION_ARG_NONE, &opt_verbose, "Log debug detail, GStreamer included", NULL },
    { NULL }
  };
  const GOptionEntry status[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &opt_json, "Print the daemon's JSON status", NULL },
    { "address", 'a', 0, G_OPTION_ARG_STRING, &opt_address, "Status endpoint HOST:PORT", "HOST:PORT" },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new (what);
  g_autoptr (GError) error = NULL;

  g_option_context_add_main_entries (ctx, common, NULL);
  if (with_run)
    g_option_context_add_main_entries (ctx, run, NULL);
  if (with_status)
    g_option_context_add_main_entries (ctx, status, NULL);
  if (!g_option_context_parse (ctx, argc, argv, &error)) {
    g_printerr ("cordon: %s\n", error->message);
    return FALSE;
  }
  if (!opt_config)
    opt_config = g_strdup (DEFAULT_CONFIG);
  return TRUE;
}

static CordonConfig *
load_or_report (void)
{
  g_autoptr (GError) error = NULL;
  CordonConfig *config = cordon_config_load (opt_config, &error);
  if (!config)
    g_printerr ("%s\n", error->message);
  return config;
}

static int
cmd_check (void)
{
  g_autoptr (CordonConfig) config = load_or_report ();
  if (!config)
    return 1;
  g_autoptr (GPtrArray) weak = cordon_config_warnings (config);
  for (guint i = 0; i < weak->len; i++)
    g_printerr ("warning: %s\n", (char *) weak->pdata[i]);
  printf ("%s: OK (%u camera(s), %u recorder(s), firewall %s)\n", opt_config, config->cameras->len,
          config->recorders->len, cordon_firewall_mode_to_string (config->mode));
  g_auto (GStrv) warnings = cordon_firewall_host_warnings (config);
  for (guint i = 0; warnings[i]; i++)
    g_printerr ("%s: warning: %s\n", opt_config, warnings[i]);
  return 0;
}

/* `firewall apply` with a configuration that does not load (at boot, before
 * the network): lock the camera interface down rather than leave it open,
 * and still fail with every error listed. */
static int
firewall_lockdown (GError *load_error)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *iface = NULL;
  gboolean off = FALSE;
  guint group = 0;

  g_printerr ("%s\n", load_error->message);
  if (!cordon_config_peek_firewall (opt_config, &off, &iface, &group, &error))
    g_printerr ("cordon firewall apply: %s\n", error->message);
  g_clear_error (&error);
  if (off) {
    g_printerr ("cordon firewall apply: the configuration is invalid and says mode = off: no lock-down\n");
    return 1;
  }
  if (!cordon_firewall_apply_lockdown (iface, group, &error)) {
    g_printerr ("cordon firewall apply: lock-down failed too: %s\n", error->message);
    return 1;
  }
  if (iface)
    g_printerr ("cordon firewall apply: configuration invalid: LOCK-DOWN applied, everything on %s refused\n", iface);
  else
    g_printerr ("cordon firewall apply: configuration invalid, camera interface unknown: LOCK-DOWN applied, "
                "nothing is forwarded\n");
  return 1;
}

static int
cmd_firewall (const char *action)
{
  g_autoptr (GError) error = NULL;

  if (g_strcmp0 (action, "remove") == 0) {
    /* Lifting isolation needs no valid configuration: it must work even when
     * the file is broken. */
    if (!cordon_firewall_remove (&error)) {
      g_printerr ("cordon firewall remove: %s\n", error->message);
      return 1;
    }
    printf ("table inet %s removed: cameras are no longer isolated by cordon\n", CORDON_FIREWALL_TABLE);
    return 0;
  }
  /* The firewall needs no secret: a bad password file must not keep the
   * cameras uncontained at boot. */
  g_autoptr (CordonConfig) config = cordon_config_load_flags (opt_config, CORDON_CONFIG_LOAD_NO_SECRETS, &error);
  if (!config && g_strcmp0 (action, "apply") == 0)
    return firewall_lockdown (error);
  if (!config) {
    g_printerr ("%s\n", error->message);
    return 1;
  }
  if (g_strcmp0 (action, "plan") == 0) {
    g_autofree char *text = cordon_firewall_plan (config, &error);
    if (!text) {
      g_printerr ("cordon firewall plan: %s\n", error->message);
      return 1;
    }
    fputs (text, stdout);
    return 0;
  }
  if (g_strcmp0 (action, "unit-addresses") == 0) {
    g_autofree char *text = cordon_firewall_unit_addresses (config);
    fputs (text, stdout);
    return 0;
  }
  if (g_strcmp0 (action, "apply") == 0) {
    if (!cordon_firewall_apply (config, &error)) {
      g_printerr ("cordon firewall apply: %s (the previous ruleset, if any, is unchanged)\n", error->message);
      return 1;
    }
    if (config->mode == CORDON_FIREWALL_MODE_OFF)
      printf ("mode = off: table inet %s removed\n", CORDON_FIREWALL_TABLE);
    else
      printf ("table inet %s applied (%s mode)\n", CORDON_FIREWALL_TABLE, cordon_firewall_mode_to_string (config->mode));
    return 0;
  }
  g_printerr ("cordon firewall: expected plan, apply, remove or unit-addresses\n%s", usage);
  return 2;
}

int
main (int argc, char **argv)
{
  setlocale (LC_ALL, "");
  if (argc < 2 || strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0 || strcmp (argv[1], "help") == 0) {
    fputs (usage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  const char *cmd = argv[1];
  /* Drop the command word so GOption sees only options. */
  argv[1] = argv[0];
  argc--;
  argv++;

  if (strcmp (cmd, "version") == 0 || strcmp (cmd, "--version") == 0) {
    printf ("cordon %s\n", CORDON_VERSION);
    return 0;
  }
  if (strcmp (cmd, "check") == 0)
    return parse (&argc, &argv, "- validate the configuration", FALSE, FALSE) ? cmd_check () : 2;
  if (strcmp (cmd, "run") == 0) {
    if (!parse (&argc, &argv, "- run the daemon", TRUE, FALSE))
      return 2;
    cordon_log_init (opt_verbose);
    return cordon_daemon_run (opt_config, opt_verbose);
  }
  if (strcmp (cmd, "firewall") == 0) {
    if (!parse (&argc, &argv, "plan|apply|remove - the nftables ruleset", FALSE, FALSE))
      return 2;
    return cmd_firewall (argc > 1 ? argv[1] : NULL);
  }
  if (strcmp (cmd, "status") == 0) {
    if (!parse (&argc, &argv, "- what the running daemon reports", FALSE, TRUE))
      return 2;
    return cordon_status_client (opt_config, opt_address, opt_json);
  }
  g_printerr ("cordon: unknown command \"%s\"\n%s", cmd, usage);
  return 2;
}
