/* cordon — the ONVIF service's door: accepts connections for libsoup, a
 * bounded number per client address and in all, and shuts down a connection
 * still open CORDON_ONVIF_IDLE_S after it was accepted (libsoup itself has no
 * such bound, so idle or dribbling clients could otherwise hold every
 * descriptor). Connections handed to libsoup this way carry one request each
 * (it keeps connections alive only for its own listeners), and each answer
 * says Connection: close. Private to proxy/onvif*.c. */
#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

#define CORDON_ONVIF_PER_ADDRESS 8   /* open connections one address may hold */
#define CORDON_ONVIF_CONNECTIONS 64  /* open connections in all */
#define CORDON_ONVIF_IDLE_S 10       /* a connection's whole life at most */

typedef struct _CordonOnvifGate CordonOnvifGate;

/* Accepts on the listening SOCKET (thread-default main context) and hands
 * each admitted connection to SERVER. */
CordonOnvifGate *cordon_onvif_gate_new (SoupServer *server, GSocket *socket, GError **error);
void cordon_onvif_gate_free (CordonOnvifGate *gate);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CordonOnvifGate, cordon_onvif_gate_free)

G_END_DECLS
