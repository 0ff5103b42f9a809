/* cordon — the running daemon: cameras, egress, firewall, status, reload. */
#pragma once

#include <libsoup/soup.h>

#include "config/config.h"
#include "firewall/firewall.h"
#include "pipeline/pipeline.h"
#include "proxy/fwhelper.h"
#include "proxy/onvif.h"
#include "proxy/privileges.h"
#include "proxy/server.h"

G_BEGIN_DECLS

typedef struct {
  guint64 bytes;
  gint64 time;
  double kbps;
} RateSample;

typedef struct _CordonCounterCache CordonCounterCache;

typedef struct _CordonDaemon {
  char *config_path;
  CordonConfig *config;
  GMainLoop *loop;
  CordonServer *server;
  GHashTable *pipelines;     /* camera name → CordonPipeline* */
  GHashTable *rates;         /* camera name → RateSample* */
  CordonPhoneHome *phonehome;
  CordonFwHelper *fwhelper;  /* CAP_NET_ADMIN-only helper for reloads; NULL when not root */
  GMutex fwhelper_lock;      /* one call to the helper at a time (main loop, counter thread) */
  CordonCounterCache *counter_cache; /* the helper's last drop counters (status.c) */
  SoupServer *status;
  CordonOnvif *onvif;        /* NULL when [onvif] listen is off */
  gint64 started;            /* g_get_real_time () */
  guint reloads;
  guint reload_failures;
  gboolean firewall_applied;
  CordonFirewallWatch *fwwatch;    /* nftables events; NULL when the firewall is off */
  gboolean firewall_table_present; /* FALSE from a foreign removal until it is back */
  guint firewall_reapplied;        /* times the table was put back after a foreign removal */
  gint64 firewall_reapplied_last;  /* g_get_real_time () of the last one, 0: never */
  int exit_code;
} CordonDaemon;

/* `cordon run`: returns the process exit code. */
int cordon_daemon_run (const char *config_path, gboolean verbose);

/* Re-reads the configuration and applies the difference; on error keeps the
 * running configuration and logs each problem. */
gboolean cordon_daemon_reload (CordonDaemon *daemon);

/* status.c */
gboolean cordon_status_start (CordonDaemon *daemon, GError **error);
/* Stops what cordon_status_start started besides the HTTP server. */
void cordon_status_stop (CordonDaemon *daemon);
char *cordon_status_json (CordonDaemon *daemon);
char *cordon_status_metrics (CordonDaemon *daemon);
char *cordon_status_table (CordonDaemon *daemon);
/* `cordon status`: returns the process exit code. */
int cordon_status_client (const char *config_path, const char *address, gboolean json);

/* log.c */
void cordon_log_init (gboolean verbose);

G_END_DECLS
