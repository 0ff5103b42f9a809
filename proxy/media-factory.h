/* cordon — the media factory: one per camera and listener, shared media fed
 * by the camera's pipeline (one encode, any number of recorders). */
#pragma once

#include <gst/rtsp-server/rtsp-server.h>

#include "config/config.h"
#include "pipeline/pipeline.h"

G_BEGIN_DECLS

#define CORDON_TYPE_MEDIA_FACTORY (cordon_media_factory_get_type ())
G_DECLARE_FINAL_TYPE (CordonMediaFactory, cordon_media_factory, CORDON, MEDIA_FACTORY, GstRTSPMediaFactory)

/* A shared factory serving PIPELINE's camera at PATH of MOUNTS (not mounted
 * yet: the caller adds it), with the given transports and profiles. */
CordonMediaFactory *cordon_media_factory_new (CordonPipeline *pipeline, GstRTSPMountPoints *mounts, const char *path,
                                              GstRTSPLowerTrans protocols, GstRTSPProfile profiles);

const char *cordon_media_factory_get_camera (CordonMediaFactory *factory);
const char *cordon_media_factory_get_path (CordonMediaFactory *factory);
GstRTSPMountPoints *cordon_media_factory_get_mounts (CordonMediaFactory *factory);

/* Grants access to the recorders of CONFIG that may watch this camera. */
void cordon_media_factory_set_permissions (CordonMediaFactory *factory, const CordonConfig *config);

/* Ends every attached stream and forgets the pipeline: after this the
 * factory holds no reference to the camera. */
void cordon_media_factory_detach_all (CordonMediaFactory *factory);

/* Prepared media instances (0 or 1: the media is shared). */
guint cordon_media_factory_media_count (CordonMediaFactory *factory);

/* Encoded bytes the camera's pipeline has produced (0 once detached). */
guint64 cordon_media_factory_bytes (CordonMediaFactory *factory);

/* Asks the camera's encoder for a keyframe. */
void cordon_media_factory_request_keyframe (CordonMediaFactory *factory);

/* The camera a media made by one of these factories serves, or NULL. */
const char *cordon_media_factory_media_camera (GstRTSPMedia *media);

G_END_DECLS
