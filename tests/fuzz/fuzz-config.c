/* libFuzzer target: the configuration loader on arbitrary bytes. The file
 * is written to a private temporary folder each time; secrets it may name are
 * looked up relative to it and mostly do not exist, which is fine: the point
 * is that no input crashes, hangs or leaks. */
#include <glib.h>
#include <glib/gstdio.h>
#include <stdint.h>
#include <unistd.h>

#include "config.h"

static char *dir;
static char *path;

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  if (!dir) {
    dir = g_dir_make_tmp ("cordon-fuzz-XXXXXX", NULL);
    path = g_build_filename (dir, "cordon.conf", NULL);
    g_autofree char *secret = g_build_filename (dir, "s", NULL);
    g_file_set_contents (secret, "pw\n", -1, NULL);
    g_chmod (secret, 0600);
  }
  if (!g_file_set_contents (path, (const char *) data, size, NULL))
    return 0;
  g_autoptr (GError) error = NULL;
  g_autoptr (CordonConfig) config = cordon_config_load (path, &error);
  g_assert (config || error);
  return 0;
}
