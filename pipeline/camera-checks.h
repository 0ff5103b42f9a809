/* cordon — checks on what a camera says before cordon acts on it: where its
 * URLs point, which authentication it asks for, how large and fast it claims
 * its stream is. Pure functions of hostile input (unit tests:
 * tests/unit/test-camera-checks.c, fuzz target: tests/fuzz/fuzz-camera-checks.c). */
#pragma once

#include "config.h"

#include <gst/gst.h>
#include <gst/rtsp/gstrtspmessage.h>

G_BEGIN_DECLS

/* TRUE when URI is rtsp:// to the camera's own address and port. Otherwise
 * FALSE and *reason (transfer full) says where it points, sanitised. */
gboolean cordon_camera_check_uri (const CordonCamera *camera, const char *uri, char **reason);

/* For a 3xx RESPONSE: TRUE when it has no Location or the Location passes
 * cordon_camera_check_uri(); else FALSE with *reason. Other responses: TRUE. */
gboolean cordon_camera_check_redirect (const CordonCamera *camera, const GstRTSPMessage *response, char **reason);

/* Removes every WWW-Authenticate header of RESPONSE that offers Basic
 * (unless the camera is allowed Basic). Returns FALSE with *reason when that
 * left a challenge with nothing cordon will answer. */
gboolean cordon_camera_filter_auth (const CordonCamera *camera, GstRTSPMessage *response, char **reason);

/* Checks a size and rate the camera announced (0 for either side of the size,
 * or a rate of 0/1, when not announced) against max-input-size and
 * max-input-framerate. */
gboolean cordon_camera_check_bounds (const CordonCamera *camera, int width, int height,
                                     int fps_n, int fps_d, char **reason);

/* Decoder threads for a stream of WIDTH×HEIGHT pictures at FPS_N/FPS_D (25
 * when not announced), of a codec that costs COST per pixel to decode (1:
 * H.264, 2: H.265), on NCPU CPUs. One thread decodes up to 4K25 H.264, or
 * half that in H.265, with room to spare (docs/performance.md: 4K25 H.265 at
 * 8 Mbit/s takes 71 % of one core here); a bigger load gets a frame thread
 * more per such unit, at most 4 and at most NCPU. */
guint cordon_camera_decoder_threads (int width, int height, int fps_n, int fps_d, guint cost, guint ncpu);

/* Pictures counted as they arrive, for streams that announce no rate or lie
 * about it. Zero-initialised before the first picture. */
typedef struct {
  gint64 window_start;   /* monotonic µs */
  guint frames;
} CordonRateMeter;

#define CORDON_RATE_WINDOW_S 2

/* Counts one picture arriving at NOW (monotonic µs). FALSE with *reason once
 * more than twice max-input-framerate pictures per second arrived within
 * one window of CORDON_RATE_WINDOW_S seconds (twice: cameras send a GOP in a
 * burst after PLAY, and jitter). */
gboolean cordon_camera_meter_rate (const CordonCamera *camera, CordonRateMeter *meter, gint64 now, char **reason);

/* The size and rate an SDP media (as rtspsrc's caps: a-framesize,
 * x-dimensions, a-framerate) announces; fields it does not announce are 0. */
void cordon_camera_sdp_bounds (const GstStructure *media, int *width, int *height, int *fps_n, int *fps_d);


G_END_DECLS
