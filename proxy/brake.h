/* cordon — the brake on password guessing, per client address, shared by
 * RTSP (auth.c) and ONVIF (onvif.c): FAIL_LIMIT failed logins from one
 * address within a minute block it for a minute, and what is logged about an
 * address is at most one line every 10 s. Not thread safe: callers lock. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define CORDON_BRAKE_FAIL_LIMIT 10

typedef struct _CordonBrake CordonBrake;

CordonBrake *cordon_brake_new (void);
void cordon_brake_free (CordonBrake *brake);

/* NOW is g_get_monotonic_time(). */
gboolean cordon_brake_is_blocked (CordonBrake *brake, const char *ip, gint64 now);

/* Counts a failed login from IP. BLOCKED: this one blocked the address.
 * Returns TRUE when it should be logged; SUPPRESSED is then how many lines
 * about IP went unlogged since the last one. */
gboolean cordon_brake_note_failure (CordonBrake *brake, const char *ip, gint64 now, guint *suppressed,
                                    gboolean *blocked);

/* The addresses blocked at NOW, sorted (transfer full; never NULL). */
GStrv cordon_brake_blocked (CordonBrake *brake, gint64 now);

/* TRUE (and counted as logged) when a line about IP may be logged now. */
gboolean cordon_brake_may_log (CordonBrake *brake, const char *ip, gint64 now);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CordonBrake, cordon_brake_free)

G_END_DECLS
