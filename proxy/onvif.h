/* cordon — ONVIF Profile S facade: device and media services, snapshots and
 * WS-Discovery, on the core side only.
 *
 * Every answer is rendered from one description of what a recorder may see
 * (its granted cameras, each one profile with the true output size, rate,
 * bitrate and GOP). Nothing a client sends reaches a camera or changes cordon.
 */
#pragma once

#include "config/config.h"

G_BEGIN_DECLS

typedef struct _CordonOnvif CordonOnvif;

/* Binds the configured HTTP address (and the WS-Discovery socket when
 * enabled), so that this can run before privileges are dropped. Returns NULL
 * with no error when [onvif] listen is off. */
CordonOnvif *cordon_onvif_new (const CordonConfig *config, GError **error);

/* Starts serving on the thread-default main context. PIPELINES (camera name →
 * CordonPipeline*) is the daemon's table, looked up at each snapshot. */
gboolean cordon_onvif_start (CordonOnvif *onvif, GHashTable *pipelines, GError **error);

/* The recorder list and cameras after a reload (listen addresses keep). */
void cordon_onvif_set_config (CordonOnvif *onvif, const CordonConfig *config);

guint16 cordon_onvif_get_port (CordonOnvif *onvif);

void cordon_onvif_free (CordonOnvif *onvif);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CordonOnvif, cordon_onvif_free)

/* onvif-discovery.c: the WS-Discovery responder, used by onvif.c. */
typedef struct _CordonOnvifDiscovery CordonOnvifDiscovery;

/* Binds UDP 3702 and joins 239.255.255.250 on INTERFACE only; probes that
 * arrive on any other interface are never answered. */
CordonOnvifDiscovery *cordon_onvif_discovery_new (const char *interface, GError **error);

/* Answers matching probes with ENDPOINT (urn:uuid:…) and the device service
 * at http://ADDRESS:PORT/onvif/device_service, where ADDRESS is HOST or, for
 * a wildcard HOST, the address the probe reached. */
void cordon_onvif_discovery_start (CordonOnvifDiscovery *discovery, const char *endpoint, const char *host,
                                   guint16 port);
void cordon_onvif_discovery_free (CordonOnvifDiscovery *discovery);

G_END_DECLS
