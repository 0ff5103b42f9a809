/* cordon — the daemon's state as one snapshot, and its renderers. */
#pragma once

#include "config/config.h"
#include "firewall/firewall.h"
#include "pipeline/pipeline.h"
#include "proxy/server.h"

G_BEGIN_DECLS

typedef struct {
  char *name;
  CordonPipelineStats stats;  /* owned: cleared with the snapshot */
  guint width, height, framerate;  /* configured output */
  guint media;                /* shared RTSP media instances */
  double kbps;                /* output bitrate over the last interval */
  gint64 blocked;             /* packets the firewall refused; -1 when unknown */
} CordonStatusCamera;

/* Everything the status views show, taken at one moment. */
typedef struct {
  char *version;
  gint64 started;             /* g_get_real_time () at start */
  gint64 now;                 /* g_get_real_time () when taken */
  guint reloads, reload_failures;
  CordonFirewallMode mode;
  gboolean firewall_applied;
  gboolean table_present;     /* applied and in the kernel now */
  gboolean camera_interface_present;
  guint reapplied;            /* times put back after a foreign removal */
  gint64 reapplied_last;      /* g_get_real_time () of the last, 0: never */
  gint64 egress_refused;      /* cordon's own refused connections; -1 when unknown */
  GStrv camera_names;         /* every configured camera, running or not */
  GArray *cameras;            /* CordonStatusCamera, running cameras */
  GPtrArray *recorders;       /* CordonRecorderStats*, one per configured recorder */
  guint64 refused_connections;
  GPtrArray *attempts;        /* CordonBlockedAttempt*; NULL without the phone-home report */
} CordonStatusSnapshot;

/* An empty snapshot to fill (transfer full). */
CordonStatusSnapshot *cordon_status_snapshot_new (void);
void cordon_status_snapshot_free (CordonStatusSnapshot *snapshot);

char *cordon_status_render_json (const CordonStatusSnapshot *snapshot);
char *cordon_status_render_metrics (const CordonStatusSnapshot *snapshot);
char *cordon_status_render_table (const CordonStatusSnapshot *snapshot);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CordonStatusSnapshot, cordon_status_snapshot_free)

G_END_DECLS
