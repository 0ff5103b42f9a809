/* cordon — what keeps a camera from steering cordon's RTSP client: an
 * rtspsrc extension that checks each response before rtspsrc acts on it, and
 * a resolver that looks up no names at all. */
#pragma once

#include "config.h"

#include <gst/gst.h>

G_BEGIN_DECLS

/* Called on rtspsrc's thread when the guard refuses what the camera said;
 * REASON is sanitised text for the log and /status. */
typedef void (*CordonRtspGuardFunc) (gpointer data, const char *reason);

/* A new rtspsrc (floating) for CAMERA. Before rtspsrc acts on any response
 * of the camera, a redirect (3xx) that points anywhere but the camera's
 * address and port becomes a 403 and a Basic challenge is removed (unless
 * auth = basic), and REFUSED is called with the reason: rtspsrc then never
 * connects elsewhere and never holds a password for Basic. NULL with ERROR
 * when the guard cannot be attached (rtspsrc loaded without it): fails closed. */
GstElement *cordon_rtsp_guard_make_src (const CordonCamera *camera, CordonRtspGuardFunc refused, gpointer data,
                                        GError **error);

/* Registers the guard as an RTSP extension; idempotent. rtspsrc's plugin
 * collects its extensions when it is loaded, so a process that loads plugins
 * by hand (the ingest worker) calls this first. */
gboolean cordon_rtsp_guard_register (void);

/* Makes every host name lookup through GIO in this process fail, so that no
 * DNS query leaves it (camera addresses are IP literals by config, and
 * nothing else of the ingest needs a name). Idempotent. */
void cordon_rtsp_guard_forbid_names (void);

/* TRUE when GIO connects directly (cordon's proxy resolver is its default):
 * no proxy setting can route a camera connection elsewhere. Calls
 * cordon_rtsp_guard_forbid_names(). cordon_rtsp_guard_make_src() fails
 * without it. */
gboolean cordon_rtsp_guard_direct_only (void);

G_END_DECLS
