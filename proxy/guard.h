/* cordon — the request guard: a thread that resets connections sending more
 * than a request's worth of bytes without completing one. */
#pragma once

#include <gst/rtsp-server/rtsp-server.h>

G_BEGIN_DECLS

typedef struct _CordonGuard CordonGuard;

/* Starts the guard's thread. */
CordonGuard *cordon_guard_new (void);

/* Watches CLIENT's connection from now on (until cordon_guard_remove). */
void cordon_guard_add (CordonGuard *guard, GstRTSPClient *client, GstRTSPConnection *conn);
void cordon_guard_remove (CordonGuard *guard, GstRTSPClient *client);

/* REQUEST: the client just completed a request, so all it sent so far
 * counts as requests. SESSIONS: how many sessions it holds now. */
void cordon_guard_note (CordonGuard *guard, GstRTSPClient *client, gboolean request, guint sessions);

/* Stops the thread and closes every duplicate it holds. */
void cordon_guard_free (CordonGuard *guard);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CordonGuard, cordon_guard_free)

G_END_DECLS
