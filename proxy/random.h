/* cordon — randomness for anything a client could use to guess its way in
 * (digest nonces, session ids, SRTP master keys): the kernel's CSPRNG, never
 * GLib's Mersenne Twister, whose state is recoverable from its outputs. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Fills BUF with LEN bytes from getrandom(2). Aborts if the kernel cannot
 * provide them: there is no safe fallback. */
void cordon_random_bytes (void *buf, gsize len);

/* 2 * BYTES lower-case hex digits of fresh randomness (transfer full). */
char *cordon_random_hex (gsize bytes);

/* LEN characters drawn uniformly from CHARSET (transfer full). */
char *cordon_random_string (const char *charset, gsize len);

G_END_DECLS
