/* Unit tests for config/: every error kind has a fixture in tests/config/
 * (NAME.conf with the expected message in NAME.err); good files are checked
 * field by field. */
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"

static char *fixtures; /* a private copy of tests/config, secrets chmod'ed */

/* Git keeps no modes or owners: fixtures get theirs from their names.
 * Secrets are private except *public*; *group-writable* is 0620, the
 * open-dir directory 0777, *nobody* belongs to uid 65534 (root only), and
 * symbolic links stay links. */
static void
copy_tree (const char *from, const char *to)
{
  g_autoptr (GDir) dir = g_dir_open (from, 0, NULL);
  const char *name;
  g_assert_nonnull (dir);
  g_mkdir_with_parents (to, 0700);
  while ((name = g_dir_read_name (dir))) {
    g_autofree char *src = g_build_filename (from, name, NULL);
    g_autofree char *dst = g_build_filename (to, name, NULL);
    if (g_file_test (src, G_FILE_TEST_IS_SYMLINK)) {
      g_autofree char *target = g_file_read_link (src, NULL);
      g_assert_nonnull (target);
      g_assert_cmpint (symlink (target, dst), ==, 0);
      continue;
    }
    if (g_file_test (src, G_FILE_TEST_IS_DIR)) {
      copy_tree (src, dst);
      g_chmod (dst, strcmp (name, "open-dir") == 0 ? 0777 : 0700);
      continue;
    }
    g_autofree char *data = NULL;
    gsize len;
    g_assert_true (g_file_get_contents (src, &data, &len, NULL));
    g_assert_true (g_file_set_contents (dst, data, len, NULL));
    g_chmod (dst, strstr (name, "public") ? 0644 : strstr (name, "group-writable") ? 0620 : 0600);
    if (strstr (name, "nobody") && geteuid () == 0)
      g_assert_cmpint (chown (dst, 65534, 65534), ==, 0);
  }
}

static void
rm_tree (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;
  while (dir && (name = g_dir_read_name (dir))) {
    g_autofree char *child = g_build_filename (path, name, NULL);
    if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
      rm_tree (child);
    else
      g_unlink (child);
  }
  g_rmdir (path);
}

static char *
replace (const char *text, const char *from, const char *to)
{
  g_auto (GStrv) parts = g_strsplit (text, from, -1);
  return g_strjoinv (to, parts);
}

static void
test_bad_fixture (gconstpointer data)
{
  const char *base = data;
  if (strstr (base, "owner") && geteuid () != 0) {
    g_test_skip ("needs root to give a fixture to another user");
    return;
  }
  g_autofree char *conf = g_strdup_printf ("%s/%s.conf", fixtures, base);
  g_autofree char *errfile = g_strdup_printf ("%s/%s.err", fixtures, base);
  g_autofree char *expected = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (CordonConfig) config = cordon_config_load (conf, &error);

  g_assert_null (config);
  g_assert_error (error, CORDON_CONFIG_ERROR, CORDON_CONFIG_ERROR_INVALID);
  g_assert_true (g_file_get_contents (errfile, &expected, NULL, NULL));
  g_strchomp (expected);
  g_autofree char *step = replace (error->message, conf, "FILE");
  g_autofree char *got = replace (step, fixtures, "DIR");
  g_assert_cmpstr (got, ==, expected);
}

static void
test_good_minimal (void)
{
  g_autofree char *conf = g_build_filename (fixtures, "good-minimal.conf", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (CordonConfig) c = cordon_config_load (conf, &error);

  g_assert_no_error (error);
  g_assert_cmpstr (c->listen_host, ==, "0.0.0.0");
  g_assert_cmpuint (c->listen_port, ==, 554);
  g_assert_cmpstr (c->status_host, ==, "127.0.0.1");
  g_assert_cmpuint (c->status_port, ==, 9554);
  g_assert_cmpstr (c->user, ==, "cordon");
  g_assert_cmpint (c->mode, ==, CORDON_FIREWALL_MODE_OFF);
  g_assert_null (c->tls_certificate);
  g_assert_cmpuint (c->cameras->len, ==, 1);
  const CordonCamera *cam = cordon_config_find_camera (c, "lobby");
  g_assert_nonnull (cam);
  g_assert_cmpstr (cam->host, ==, "198.18.1.10");
  g_assert_cmpuint (cam->port, ==, 554);
  g_assert_null (cam->username);
  g_assert_null (cam->password);
  g_assert_cmpuint (cam->width, ==, 1280);
  g_assert_cmpuint (cam->height, ==, 720);
  g_assert_cmpuint (cam->framerate, ==, 25);
  g_assert_cmpuint (cam->bitrate, ==, 2000);
  g_assert_cmpuint (cam->keyframe_interval, ==, 2);
  g_assert_cmpstr (cam->profile, ==, "main");
  g_assert_cmpstr (cam->preset, ==, "veryfast");
  g_assert_false (cam->audio);
  g_assert_cmpuint (cam->sub_width, ==, 0);
  g_assert_cmpuint (cam->sub_height, ==, 0);
  g_assert_cmpuint (c->encoder_threads, ==, 0);
  /* auto, one encoder: x264 chooses unless this machine has one CPU */
  g_assert_cmpuint (cam->encoder_threads, ==, g_get_num_processors () > 1 ? 0 : 1);
  g_assert_false (cam->allow_basic);
  g_assert_cmpuint (cam->max_input_width, ==, 4096);
  g_assert_cmpuint (cam->max_input_height, ==, 2160);
  g_assert_cmpuint (cam->max_input_framerate, ==, 60);
}

/* The threads every camera of a configuration with CAMERAS cameras (SUB: each
 * with a sub stream) gets from encoder-threads = auto; asserts they agree. */
static guint
auto_threads (guint cameras, gboolean sub)
{
  g_autofree char *dir = g_dir_make_tmp ("cordon-config-XXXXXX", NULL);
  g_autofree char *conf = g_build_filename (dir, "many.conf", NULL);
  g_autoptr (GString) text = g_string_new ("[firewall]\nmode = off\n");
  for (guint i = 0; i < cameras; i++)
    g_string_append_printf (text, "[camera:c%u]\nurl = rtsp://198.18.1.%u/\n%s", i, 10 + i,
                            sub ? "sub-stream = 320x180\n" : "");
  g_assert_true (g_file_set_contents (conf, text->str, -1, NULL));

  g_autoptr (GError) error = NULL;
  g_autoptr (CordonConfig) c = cordon_config_load (conf, &error);
  g_assert_no_error (error);
  guint threads = ((CordonCamera *) c->cameras->pdata[0])->encoder_threads;
  for (guint i = 0; i < c->cameras->len; i++)
    g_assert_cmpuint (((CordonCamera *) c->cameras->pdata[i])->encoder_threads, ==, threads);
  g_unlink (conf);
  g_rmdir (dir);
  return threads;
}

/* encoder-threads = auto with at least as many encoders as CPUs: one thread
 * each, every camera alike; a sub stream counts as an encoder. With fewer,
 * x264 chooses (0). */
static void
test_encoder_threads_auto (void)
{
  guint cpus = g_get_num_processors ();
  g_assert_cmpuint (auto_threads (cpus, FALSE), ==, 1);
  g_assert_cmpuint (auto_threads (cpus + 1, FALSE), ==, 1);
  /* cpus / 2 + 1 cameras with a sub stream each: cpus + 1 or cpus + 2 encoders */
  g_assert_cmpuint (auto_threads (cpus / 2 + 1, TRUE), ==, 1);
  if (cpus > 1)
    g_assert_cmpuint (auto_threads (cpus - 1, FALSE), ==, 0);
}

static void
test_good_full (void)
{
  g_autofree char *conf = g_build_filename (fixtures, "good-full.conf", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (CordonConfig) c = cordon_config_load (conf, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (c->listen_port, ==, 8554);
  g_assert_cmpstr (c->user, ==, "nobody");
  g_assert_cmpuint (c->max_clients_per_address, ==, 8);
  g_assert_cmpint (c->mode, ==, CORDON_FIREWALL_MODE_GATEWAY);
  g_assert_cmpstr (c->camera_interface, ==, "cam0");
  g_assert_cmpstr (c->core_interface, ==, "eth0");
  g_assert_cmpuint (c->nflog_group, ==, 7);
  g_assert_true (c->serve_ntp);
  g_assert_false (c->serve_dhcp);

  const CordonCamera *lobby = cordon_config_find_camera (c, "lobby");
  g_assert_cmpstr (lobby->username, ==, "admin");
  g_assert_cmpstr (lobby->password, ==, "camsecret"); /* newline stripped */
  g_assert_cmpstr (lobby->mac, ==, "00:11:22:aa:bb:cc");
  g_assert_cmpuint (lobby->width, ==, 1920);
  g_assert_cmpuint (lobby->height, ==, 1080);
  g_assert_cmpuint (lobby->framerate, ==, 15);
  g_assert_cmpuint (lobby->bitrate, ==, 4000);
  g_assert_cmpuint (lobby->keyframe_interval, ==, 1);
  g_assert_cmpuint (lobby->sub_width, ==, 640);
  g_assert_cmpuint (lobby->sub_height, ==, 360);
  g_assert_cmpuint (lobby->sub_bitrate, ==, 384);
  g_assert_cmpuint (c->encoder_threads, ==, 2);
  g_assert_cmpuint (lobby->encoder_threads, ==, 2);
  g_assert_cmpstr (lobby->profile, ==, "high");
  g_assert_cmpstr (lobby->preset, ==, "ultrafast");
  g_assert_true (lobby->audio);
  g_assert_true (lobby->allow_basic);
  g_assert_cmpuint (lobby->max_input_width, ==, 1920);
  g_assert_cmpuint (lobby->max_input_height, ==, 1080);
  g_assert_cmpuint (lobby->max_input_framerate, ==, 30);

  const CordonCamera *yard = cordon_config_find_camera (c, "yard");
  g_assert_cmpstr (yard->host, ==, "fd00:cafe::20");
  g_assert_cmpstr (yard->url, ==, "rtsp://[fd00:cafe::20]/cam/realmonitor?channel=1&subtype=0");

  const CordonRecorder *r = cordon_config_find_recorder (c, "nvr1");
  g_assert_nonnull (r);
  g_assert_cmpuint (r->addresses->len, ==, 3);
  g_assert_true (cordon_recorder_allows_camera (r, "yard"));
  g_assert_false (cordon_recorder_allows_camera (r, "gate"));
  g_assert_cmpint (r->tls, ==, CORDON_POLICY_OPTIONAL);
  g_assert_cmpint (r->srtp, ==, CORDON_POLICY_OFF);

  struct { const char *addr; gboolean ok; } cases[] = {
    { "198.18.0.5", TRUE }, { "198.18.0.6", FALSE }, { "198.19.200.1", TRUE },
    { "::ffff:198.18.0.5", TRUE }, { "::ffff:198.18.0.7", FALSE },
    { "fd00:20::1", TRUE }, { "fd00:21::1", FALSE },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (GInetAddress) a = g_inet_address_new_from_string (cases[i].addr);
    g_assert_cmpint (cordon_recorder_allows_address (r, a), ==, cases[i].ok);
  }
}

static void
test_unreadable_file (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CordonConfig) c = cordon_config_load ("/nonexistent/cordon.conf", &error);
  g_assert_null (c);
  g_assert_error (error, CORDON_CONFIG_ERROR, CORDON_CONFIG_ERROR_IO);
}

static void
test_syntax_error (void)
{
  g_autofree char *conf = g_build_filename (fixtures, "bad-syntax.conf", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (CordonConfig) c = cordon_config_load (conf, &error);
  g_assert_null (c);
  g_assert_error (error, CORDON_CONFIG_ERROR, CORDON_CONFIG_ERROR_INVALID);
  g_assert_true (g_str_has_prefix (error->message, conf));
}

static void
test_hostport (void)
{
  struct { const char *in; const char *host; guint16 port; } ok[] = {
    { "0.0.0.0:554", "0.0.0.0", 554 }, { "[::]:8554", "::", 8554 }, { "[fd00::1]:1", "fd00::1", 1 },
  };
  const char *bad[] = { "", ":554", "1.2.3.4", "1.2.3.4:0", "1.2.3.4:65536", "::1:554", "[::1]554",
                        "host:554", "1.2.3.4:55x" };
  for (guint i = 0; i < G_N_ELEMENTS (ok); i++) {
    g_autofree char *host = NULL;
    guint16 port = 0;
    g_assert_true (cordon_config_parse_hostport (ok[i].in, &host, &port, NULL));
    g_assert_cmpstr (host, ==, ok[i].host);
    g_assert_cmpuint (port, ==, ok[i].port);
  }
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_autofree char *host = NULL;
    guint16 port = 0;
    g_autoptr (GError) error = NULL;
    g_assert_false (cordon_config_parse_hostport (bad[i], &host, &port, &error));
    g_assert_nonnull (error);
  }
}

static void
test_camera_equal (void)
{
  g_autofree char *conf = g_build_filename (fixtures, "good-full.conf", NULL);
  g_autoptr (CordonConfig) a = cordon_config_load (conf, NULL);
  g_autoptr (CordonConfig) b = cordon_config_load (conf, NULL);
  CordonCamera *ca = (CordonCamera *) cordon_config_find_camera (a, "lobby");
  CordonCamera *cb = (CordonCamera *) cordon_config_find_camera (b, "lobby");
  g_assert_true (cordon_camera_equal (ca, cb));
  cb->bitrate++;
  g_assert_false (cordon_camera_equal (ca, cb));
  g_assert_false (cordon_camera_equal (ca, cordon_config_find_camera (a, "yard")));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_autofree char *tmp = g_dir_make_tmp ("cordon-config-XXXXXX", NULL);
  fixtures = g_build_filename (tmp, "config", NULL);
  copy_tree (FIXTURE_DIR, fixtures);

  g_autoptr (GDir) dir = g_dir_open (FIXTURE_DIR, 0, NULL);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;
  while ((name = g_dir_read_name (dir)))
    if (g_str_has_prefix (name, "bad-") && g_str_has_suffix (name, ".err"))
      g_ptr_array_add (names, g_strndup (name, strlen (name) - 4));
  g_ptr_array_sort (names, (GCompareFunc) g_strcmp0);
  for (guint i = 0; i < names->len; i++) {
    g_autofree char *path = g_strdup_printf ("/config/fixture/%s", (char *) names->pdata[i]);
    g_test_add_data_func (path, names->pdata[i], test_bad_fixture);
  }
  g_test_add_func ("/config/good-minimal-defaults", test_good_minimal);
  g_test_add_func ("/config/good-full-every-key", test_good_full);
  g_test_add_func ("/config/unreadable-file", test_unreadable_file);
  g_test_add_func ("/config/syntax-error-names-file", test_syntax_error);
  g_test_add_func ("/config/hostport", test_hostport);
  g_test_add_func ("/config/camera-equal", test_camera_equal);
  g_test_add_func ("/config/encoder-threads-auto", test_encoder_threads_auto);
  int ret = g_test_run ();

  rm_tree (tmp);
  return ret;
}
