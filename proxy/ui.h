/* cordon — the operator page: a read-only web page under /ui/ on the status
 * HTTP server. Its HTML, CSS and JavaScript are compiled into the binary
 * (GResource); the page draws everything from /status and /ui/site.json and
 * shows camera snapshots from /ui/snapshot/NAME.jpg. */
#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

typedef struct _CordonDaemon CordonDaemon;

/* Serves /ui/ on SERVER for DAEMON and starts sampling the per-camera history
 * (every CORDON_UI_SAMPLE_SECONDS, kept for an hour). Everything is released
 * with the server. */
void cordon_ui_register (SoupServer *server, CordonDaemon *daemon);

#define CORDON_UI_SAMPLE_SECONDS 10

G_END_DECLS
