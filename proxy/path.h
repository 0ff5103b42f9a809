/* cordon — request paths from recorders, made canonical before any mount
 * lookup. This is hostile input: a parser of its own, unit-tested and
 * fuzzed. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The canonical form of request path PATH (a URL's absolute path, still
 * percent-encoded): "/CAMERA" for the aggregate URL, "/CAMERA/stream=N" for
 * a stream's control URL. Percent-escapes of unreserved characters are
 * decoded, empty segments and a trailing slash dropped. Anything else is
 * refused (NULL): dot segments, an encoded '/', '\\' or NUL, bad escapes,
 * characters no camera name has, more segments, another control name. The
 * camera name keeps its case (names are case-sensitive, and a name in
 * another case is another name: usually none, so 404). */
char *cordon_path_normalise (const char *path);

G_END_DECLS
