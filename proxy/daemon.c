/* cordon — `cordon run`: set-up order, main loop, signals, reload. */
#define G_LOG_DOMAIN "cordon"

#include "proxy/daemon.h"

#include "cordon-build.h"

#include <errno.h>
#include <glib-unix.h>
#include <sys/prctl.h>
#include <unistd.h>
#include <gst/gst.h>
#include <systemd/sd-daemon.h>

static void
on_camera_state (CordonPipeline *pipeline, CordonCameraState state, const char *reason, gpointer user_data)
{
  /* The pipeline logs the transition itself; nothing else to do yet. */
}

static gboolean
start_camera (CordonDaemon *d, CordonCamera *cam, GError **error)
{
  g_autoptr (CordonPipeline) p = cordon_pipeline_new (cam, error);
  if (!p)
    return FALSE;
  cordon_pipeline_set_state_func (p, on_camera_state, d);
  if (!cordon_pipeline_start (p, error))
    return FALSE;
  cordon_server_add_camera (d->server, p, d->config);
  g_hash_table_replace (d->pipelines, g_strdup (cam->name), g_steal_pointer (&p));
  return TRUE;
}

static void
stop_camera (CordonDaemon *d, const char *name)
{
  g_autofree char *key = g_strdup (name);
  cordon_server_remove_camera (d->server, key);
  CordonPipeline *p = g_hash_table_lookup (d->pipelines, key);
  if (p)
    cordon_pipeline_stop (p);
  g_hash_table_remove (d->pipelines, key);
  g_hash_table_remove (d->rates, key);
}

gboolean
cordon_daemon_reload (CordonDaemon *d)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CordonConfig) next = cordon_config_load (d->config_path, &error);

  if (!next) {
    d->reload_failures++;
    g_auto (GStrv) lines = g_strsplit (error->message, "\n", -1);
    for (guint i = 0; lines[i]; i++)
      g_warning ("reload refused: %s", lines[i]);
    g_warning ("reload refused: still running the previous configuration");
    return FALSE;
  }
  if (g_strcmp0 (next->listen_host, d->config->listen_host) != 0 || next->listen_port != d->config->listen_port
      || g_strcmp0 (next->tls_listen_host, d->config->tls_listen_host) != 0
      || next->tls_listen_port != d->config->tls_listen_port
      || g_strcmp0 (next->tls_certificate, d->config->tls_certificate) != 0
      || g_strcmp0 (next->status_host, d->config->status_host) != 0 || next->status_port != d->config->status_port
      || g_strcmp0 (next->user, d->config->user) != 0)
    g_warning ("reload: changes to listen, tls-*, status and user in [proxy] take effect only on restart");
  if (g_strcmp0 (next->onvif_host, d->config->onvif_host) != 0 || next->onvif_port != d->config->onvif_port
      || next->onvif_discovery != d->config->onvif_discovery
      || g_strcmp0 (next->onvif_serial, d->config->onvif_serial) != 0)
    g_warning ("reload: changes to [onvif] take effect only on restart");

  /* The firewall first: if the new rules cannot be applied the old ones stay
   * and so does the old configuration, so rules and streams never disagree. */
  if (next->mode != CORDON_FIREWALL_MODE_OFF || d->firewall_applied) {
    gboolean ok;
    if (d->fwhelper) {
      g_mutex_lock (&d->fwhelper_lock);
      ok = cordon_fw_helper_apply (d->fwhelper, &error);
      g_mutex_unlock (&d->fwhelper_lock);
    } else {
      ok = cordon_firewall_apply (next, &error);
    }
    if (!ok) {
      d->reload_failures++;
      g_warning ("reload refused: firewall: %s; still running the previous configuration", error->message);
      return FALSE;
    }
    d->firewall_applied = next->mode != CORDON_FIREWALL_MODE_OFF;
    d->firewall_table_present = d->firewall_applied;
  }

  guint added = 0, removed = 0, changed = 0, kept = 0;
  for (guint i = 0; i < d->config->cameras->len; i++) {
    const CordonCamera *old = d->config->cameras->pdata[i];
    const CordonCamera *now = cordon_config_find_camera (next, old->name);
    if (!now) {
      g_message ("%s: removed by reload", old->name);
      stop_camera (d, old->name);
      removed++;
    }
  }
  CordonConfig *prev = d->config;
  d->config = g_steal_pointer (&next);
  for (guint i = 0; i < d->config->cameras->len; i++) {
    CordonCamera *cam = d->config->cameras->pdata[i];
    const CordonCamera *old = cordon_config_find_camera (prev, cam->name);
    if (old && cordon_camera_equal (old, cam)) {
      kept++;
      continue;
    }
    if (old) {
      g_message ("%s: changed by reload; restarting it", cam->name);
      stop_camera (d, cam->name);
      changed++;
    } else {
      g_message ("%s: added by reload", cam->name);
      added++;
    }
    if (!start_camera (d, cam, &error)) {
      g_warning ("%s: cannot start: %s", cam->name, error->message);
      g_clear_error (&error);
    }
  }
  cordon_server_set_config (d->server, d->config);
  if (d->onvif)
    cordon_onvif_set_config (d->onvif, d->config);
  if (d->phonehome)
    cordon_phonehome_set_config (d->phonehome, d->config);
  cordon_config_free (prev);
  d->reloads++;
  g_message ("reloaded %s: %u added, %u removed, %u restarted, %u unchanged", d->config_path, added, removed,
             changed, kept);
  return TRUE;
}

/* Someone else's flush ruleset, nft -f or firewalld reload took table inet
 * cordon away: put it back at once, through the helper when there is one. */
static void
on_firewall_change (CordonFirewallChange change, int pid, const char *process, gpointer user_data)
{
  CordonDaemon *d = user_data;
  g_autoptr (GError) error = NULL;

  if (!d->firewall_applied)
    return;
  if (pid != 0 && (pid == getpid () || (d->fwhelper && pid == cordon_fw_helper_get_pid (d->fwhelper))))
    return;  /* our own apply or reload */
  const char *what = change == CORDON_FIREWALL_CHANGE_DELETED ? "deleted"
                   : change == CORDON_FIREWALL_CHANGE_DAMAGED ? "partly removed" : "possibly removed (events lost)";
  if (change != CORDON_FIREWALL_CHANGE_UNKNOWN)
    d->firewall_table_present = FALSE;
  gboolean ok;
  if (d->fwhelper) {
    /* One helper call at a time: the status counter thread uses it too. */
    g_mutex_lock (&d->fwhelper_lock);
    ok = cordon_fw_helper_reapply (d->fwhelper, &error);
    g_mutex_unlock (&d->fwhelper_lock);
  } else {
    ok = cordon_firewall_apply (d->config, &error);
  }
  if (!ok) {
    g_critical ("firewall: table inet %s %s by %s (pid %d) and NOT re-applied: %s", CORDON_FIREWALL_TABLE, what,
                process ? process : "?", pid, error->message);
    return;
  }
  d->firewall_table_present = TRUE;
  d->firewall_reapplied++;
  d->firewall_reapplied_last = g_get_real_time ();
  g_warning ("firewall: table inet %s %s by %s (pid %d); re-applied (%u time(s) so far)", CORDON_FIREWALL_TABLE,
             what, process ? process : "?", pid, d->firewall_reapplied);
}

static gboolean
on_quit (gpointer data)
{
  CordonDaemon *d = data;
  g_message ("stopping");
  sd_notify (0, "STOPPING=1");
  g_main_loop_quit (d->loop);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_hup (gpointer data)
{
  CordonDaemon *d = data;
  sd_notify (0, "RELOADING=1");
  cordon_daemon_reload (d);
  sd_notify (0, "READY=1");
  return G_SOURCE_CONTINUE;
}

static gboolean
on_watchdog (gpointer data)
{
  /* Sent from the main loop: a wedged loop stops the pings and systemd
   * restarts us. */
  sd_notify (0, "WATCHDOG=1");
  return G_SOURCE_CONTINUE;
}

static void
daemon_free (CordonDaemon *d)
{
  /* The server is bound before set-up can still fail; the cameras come later. */
  if (d->server && d->pipelines) {
    GHashTableIter it;
    gpointer k;
    g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
    g_hash_table_iter_init (&it, d->pipelines);
    while (g_hash_table_iter_next (&it, &k, NULL))
      g_ptr_array_add (names, g_strdup (k));
    for (guint i = 0; i < names->len; i++)
      stop_camera (d, names->pdata[i]);
  }
  g_clear_pointer (&d->onvif, cordon_onvif_free);
  cordon_status_stop (d);
  g_clear_pointer (&d->server, cordon_server_free);
  g_clear_pointer (&d->pipelines, g_hash_table_unref);
  g_clear_pointer (&d->rates, g_hash_table_unref);
  g_clear_object (&d->status);
  g_clear_pointer (&d->phonehome, cordon_phonehome_free);
  g_clear_pointer (&d->fwwatch, cordon_firewall_watch_free);
  g_clear_pointer (&d->fwhelper, cordon_fw_helper_free);
  g_mutex_clear (&d->fwhelper_lock);
  g_clear_pointer (&d->config, cordon_config_free);
  g_clear_pointer (&d->loop, g_main_loop_unref);
  g_free (d->config_path);
  g_free (d);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CordonDaemon, daemon_free)

/* No transparent huge pages in cordon's processes (inherited by the
 * launcher and the workers). x264 asks for them (madvise) for every buffer
 * from 1.75 MiB up, and a huge page is resident whole once one byte of it is
 * touched: its output bitstream buffers (megabytes, of which a picture uses a
 * few hundred kB) and the tail of every frame cost a 1080p encoder 7 MiB of
 * memory it does not use, for no encode time measurably saved
 * (docs/performance.md, "Memory"). */
static void
no_huge_pages (void)
{
  if (prctl (PR_SET_THP_DISABLE, 1, 0, 0, 0) < 0)
    g_debug ("PR_SET_THP_DISABLE: %s", g_strerror (errno));
}

int
cordon_daemon_run (const char *config_path, gboolean verbose)
{
  g_autoptr (CordonDaemon) d = g_new0 (CordonDaemon, 1);
  g_autoptr (GError) error = NULL;
  guint64 watchdog_us = 0;

  /* Camera connections never go through a proxy taken from the environment
   * or desktop settings, and the daemon has no use for GSettings (whose dconf
   * backend would try to write under $HOME after the drop). */
  g_setenv ("GIO_USE_PROXY_RESOLVER", "dummy", TRUE);
  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);
  /* RTSPS at TLS 1.2 or later, whatever the system default allows. Read by
   * glib-networking once, at its first TLS connection. */
  g_setenv ("G_TLS_GNUTLS_PRIORITY", "NORMAL:%COMPAT:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2", TRUE);

  no_huge_pages ();
  g_mutex_init (&d->fwhelper_lock);
  d->config_path = g_strdup (config_path);
  d->started = g_get_real_time ();
  d->config = cordon_config_load (config_path, &error);
  if (!d->config) {
    g_auto (GStrv) lines = g_strsplit (error->message, "\n", -1);
    for (guint i = 0; lines[i]; i++)
      g_critical ("%s", lines[i]);
    return 1;
  }

  /* Isolation before any camera connection: if the rules cannot be applied we
   * do not start at all. */
  if (d->config->mode != CORDON_FIREWALL_MODE_OFF) {
    if (!cordon_firewall_apply (d->config, &error)) {
      g_critical ("firewall: %s; not starting", error->message);
      return 1;
    }
    d->firewall_applied = TRUE;
    g_message ("firewall: table inet %s applied (%s mode)", CORDON_FIREWALL_TABLE,
               cordon_firewall_mode_to_string (d->config->mode));
    d->phonehome = cordon_phonehome_new (d->config, &error);
    if (!d->phonehome) {
      g_warning ("firewall: phone-home report unavailable: %s", error->message);
      g_clear_error (&error);
    }
    d->firewall_table_present = TRUE;
  } else {
    g_warning ("firewall: mode = off; cameras are NOT isolated by cordon");
  }
  /* Watched also with mode = off when root: a reload may turn it on, and
   * joining the event group needs the privileges we are about to drop. */
  if (d->config->mode != CORDON_FIREWALL_MODE_OFF || geteuid () == 0) {
    d->fwwatch = cordon_firewall_watch_new (on_firewall_change, d, &error);
    if (!d->fwwatch && d->config->mode != CORDON_FIREWALL_MODE_OFF) {
      g_critical ("firewall: %s; not starting (a foreign flush would go unnoticed)", error->message);
      return 1;
    }
    if (!d->fwwatch) {
      g_warning ("firewall: %s; a reload that turns the firewall on will not notice foreign flushes",
                 error->message);
      g_clear_error (&error);
    }
  }

  d->server = cordon_server_new (d->config, &error);
  if (!d->server) {
    g_critical ("%s", error->message);
    return 1;
  }

  d->onvif = cordon_onvif_new (d->config, &error);
  if (error) {
    g_critical ("%s", error->message);
    return 1;
  }

  /* Everything that needs root is done. The helper keeps CAP_NET_ADMIN for
   * reloads; this process drops to the configured user with no capability,
   * before gst_init() or anything else starts a thread (capabilities are per
   * thread). */
  if (geteuid () == 0) {
    d->fwhelper = cordon_fw_helper_spawn (config_path, &error);
    if (!d->fwhelper) {
      g_critical ("%s; not starting", error->message);
      return 1;
    }
  }
  /* The launcher of the camera workers: forked now, while root, because it
   * gives each worker a uid of its own. */
  const char *worker = g_getenv ("CORDON_WORKER");
  if (!cordon_pipeline_launcher_start (worker && *worker ? worker : CORDON_WORKER_PATH, CORDON_WORKER_UID_MIN,
                                       verbose, &error)) {
    g_critical ("%s; not starting", error->message);
    return 1;
  }
  if (!cordon_privileges_drop (d->config->user, &error)) {
    g_critical ("%s; not starting", error->message);
    return 1;
  }

  gst_init (NULL, NULL);
  if (verbose)
    gst_debug_set_threshold_from_string ("*:2,rtspsrc:4,rtspclient:4,rtspmedia:3", TRUE);

  d->loop = g_main_loop_new (NULL, FALSE);
  d->pipelines = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) cordon_pipeline_free);
  d->rates = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  for (guint i = 0; i < d->config->cameras->len; i++) {
    CordonCamera *cam = d->config->cameras->pdata[i];
    if (!start_camera (d, cam, &error)) {
      g_critical ("%s: cannot start: %s", cam->name, error->message);
      return 1;
    }
  }
  if (!cordon_server_start (d->server, &error)) {
    g_critical ("%s", error->message);
    return 1;
  }
  if (d->config->status_host && !cordon_status_start (d, &error)) {
    g_critical ("status: %s", error->message);
    return 1;
  }
  if (d->onvif && !cordon_onvif_start (d->onvif, d->pipelines, &error)) {
    g_critical ("%s", error->message);
    return 1;
  }
  g_message ("serving %u camera(s) on rtsp://%s:%u/", d->config->cameras->len, d->config->listen_host,
             cordon_server_get_port (d->server));
  if (d->config->tls_certificate)
    g_message ("serving RTSPS on %s:%u", d->config->tls_listen_host, d->config->tls_listen_port);

  g_unix_signal_add (SIGTERM, on_quit, d);
  g_unix_signal_add (SIGINT, on_quit, d);
  g_unix_signal_add (SIGHUP, on_hup, d);
  if (sd_watchdog_enabled (0, &watchdog_us) > 0)
    g_timeout_add (MAX (watchdog_us / 2000, 100), on_watchdog, d);
  /* READY only now: the firewall is applied and the RTSP port is open. */
  sd_notify (0, "READY=1\nSTATUS=serving");

  g_main_loop_run (d->loop);
  return d->exit_code;
}
