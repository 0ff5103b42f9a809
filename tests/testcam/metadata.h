/* cordon-testcam — camera metadata that GStreamer 1.22 turns into metas
 * (A/53 captions, AFD, bar data, time codes, user data) or caps (HDR). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  const char *kind;       /* "a53-captions", "afd", … (static) */
  GByteArray *message;    /* one sei_message(): payload type, size, payload (RBSP, unescaped) */
  GByteArray *signature;  /* bytes of the payload that only this camera writes (no 00 00) */
} TestcamMetadata;

/* Every kind for H.264 (H265 FALSE) or H.265, MARKER in those that carry
 * text (captions, user data). Free with g_ptr_array_unref. */
GPtrArray *testcam_metadata_build (gboolean h265, const char *marker);

G_END_DECLS
