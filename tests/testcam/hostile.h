/* cordon-testcam --hostile MODE: a hand-written RTSP responder that
 * misbehaves in one specific way (see README.md, "Hostile modes"). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  const char *mode;
  const char *host;      /* IP literal to bind */
  guint16 port;
  int width, height, fps, bitrate;
  const char *location;  /* redirect: the Location it answers DESCRIBE with */
} TestcamHostile;

/* The modes, NULL-terminated, for --help and the error message. */
extern const char *const testcam_hostile_modes[];

gboolean testcam_hostile_mode_valid (const char *mode);

/* Binds and starts serving (one thread per connection); the caller runs the
 * main loop. The settings must outlive the server. */
gboolean testcam_hostile_start (const TestcamHostile *settings, GError **error);

/* Stops accepting and waits (up to 5 s) for the connection threads. */
void testcam_hostile_stop (void);

G_END_DECLS
