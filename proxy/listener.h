/* cordon — one RTSP listener (plain or RTSPS): a GstRTSPServer whose clients
 * are CordonClients. */
#pragma once

#include <gst/rtsp-server/rtsp-server.h>

G_BEGIN_DECLS

#define CORDON_TYPE_LISTENER (cordon_listener_get_type ())
G_DECLARE_FINAL_TYPE (CordonListener, cordon_listener, CORDON, LISTENER, GstRTSPServer)

/* TUNNEL allows RTSP over HTTP on this listener's connections. */
CordonListener *cordon_listener_new (gboolean tunnel);

G_END_DECLS
