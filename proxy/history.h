/* cordon — a bounded in-memory history of each camera's figures for the
 * operator page: frames per second from the camera, output bitrate and
 * blocked phone-home attempts, one sample per interval, the last hour. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _CordonHistory CordonHistory;

/* Keeps at most CAPACITY samples per camera (older ones are dropped). */
CordonHistory *cordon_history_new (guint capacity);
void cordon_history_free (CordonHistory *history);

/* Records one look at CAMERA's cumulative counters at NOW_US (monotonic
 * microseconds). Rates are taken against the previous look; the first look
 * and a counter that went backwards (the camera's pipeline was rebuilt) give
 * no sample, only a new baseline. */
void cordon_history_record (CordonHistory *history, const char *camera, gint64 now_us, guint64 frames_in,
                            guint64 bytes_out, guint64 blocked);

/* Forgets every camera not in NAMES (NULL-terminated), e.g. after a reload. */
void cordon_history_retain (CordonHistory *history, const char *const *names);

/* Number of samples kept for CAMERA. */
guint cordon_history_length (CordonHistory *history, const char *camera);

/* Appends the history as a JSON object to OUT:
 * {"CAMERA":[{"age_seconds":A,"fps":F,"kbps":K,"blocked":B},...],...},
 * oldest sample first; ages are counted back from NOW_US. */
void cordon_history_to_json (CordonHistory *history, gint64 now_us, GString *out);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CordonHistory, cordon_history_free)

G_END_DECLS
