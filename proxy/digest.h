/* cordon — HTTP digest authentication (RFC 2617) for RTSP, as recorders
 * speak it: qop=auth where the client uses it (ffmpeg), the RFC 2069 form
 * where it does not (GStreamer's rtspsrc, live555/VLC). The Authorization
 * header is hostile input: parsed here, unit-tested, fuzzed. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The fields of one Digest credential; each NULL when absent. Pointers into
 * the parsed header, valid while it is. */
typedef struct {
  const char *username;
  const char *realm;
  const char *nonce;
  const char *uri;
  const char *response;
  const char *qop;
  const char *nc;
  const char *cnonce;
  const char *algorithm;
} CordonDigest;

/* The WWW-Authenticate value challenging with NONCE (transfer full). */
char *cordon_digest_challenge (const char *realm, const char *nonce);

/* TRUE when D answers the challenge (REALM, NONCE) for METHOD with PASSWORD.
 * The response is compared in constant time. */
gboolean cordon_digest_verify (const CordonDigest *d, const char *method, const char *realm, const char *nonce,
                               const char *password);

/* The response a client computes (lower-case hex, transfer full); QOP, NC
 * and CNONCE NULL for the RFC 2069 form. For tests and verify. */
char *cordon_digest_response (const char *username, const char *realm, const char *password, const char *method,
                              const char *uri, const char *nonce, const char *qop, const char *nc,
                              const char *cnonce);

/* Constant-time string comparison (time depends on the lengths only). */
gboolean cordon_digest_equal (const char *a, const char *b);

G_END_DECLS
