/* cordon — the mount points of one listener. On RTSPS, SRTP recorders are
 * routed to SAVP media. */
#pragma once

#include <gst/rtsp-server/rtsp-server.h>

#include "config/config.h"

G_BEGIN_DECLS

/* On the RTSPS listener each camera has two factories: /NAME (RTP inside the
 * TLS connection only) and /NAME~srtp (SAVP only). '~' cannot occur in a
 * camera name. */
#define CORDON_SRTP_SUFFIX "~srtp"

#define CORDON_TYPE_MOUNTS (cordon_mounts_get_type ())
G_DECLARE_FINAL_TYPE (CordonMounts, cordon_mounts, CORDON, MOUNTS, GstRTSPMountPoints)

/* Mount points whose request paths are made canonical first
 * (cordon_path_normalise: a path that is not refused reaches one camera
 * only). SRTP routes SRTP recorders to the ~srtp mounts (RTSPS only). */
CordonMounts *cordon_mounts_new (gboolean srtp);

/* Which recorders use SRTP (after a reload too). */
void cordon_mounts_set_config (CordonMounts *mounts, const CordonConfig *config);

/* The mount an SRTP recorder's request for PATH reaches on the RTSPS
 * listener: /NAME/rest becomes /NAME~srtp/rest (transfer full). */
char *cordon_mounts_route_srtp (const char *path);

G_END_DECLS
