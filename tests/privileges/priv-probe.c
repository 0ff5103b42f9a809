/* priv-probe — the daemon's privilege sequence in a small program, for the
 * privileges netns test.
 *
 *   priv-probe run CONFIG USER     spawn the firewall helper, drop to USER,
 *                                  then start threads (GStreamer and GLib),
 *                                  exercise the helper and print
 *                                  "READY <pid> <helper-pid>"; sleeps until
 *                                  killed
 *   priv-probe refuse-root         cordon_privileges_drop ("root") must fail
 *   priv-probe refuse-threaded USER  dropping (and spawning the helper) with
 *                                  a second thread must fail
 *   priv-probe dev USER            the unprivileged (developer) path
 *   priv-probe report PID          per-thread privilege report of PID
 */
#include <gst/gst.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "firewall.h"
#include "fwhelper.h"
#include "privileges.h"

static gpointer
sleeper (gpointer data)
{
  for (;;)
    g_usleep (G_USEC_PER_SEC);
  return NULL;
}

static void
say (const char *format, ...) G_GNUC_PRINTF (1, 2);

static void
say (const char *format, ...)
{
  va_list ap;
  va_start (ap, format);
  vprintf (format, ap);
  va_end (ap);
  putchar ('\n');
  fflush (stdout);
}

static void
print_error_line (const char *tag, const GError *error)
{
  g_autofree char *flat = g_strdup (error->message);
  g_strdelimit (flat, "\n", ' ');
  say ("%s error: %s", tag, flat);
}

static int
run (const char *config_path, const char *user)
{
  g_autoptr (GError) error = NULL;

  /* Loaded while root, as the daemon does; used below to show that the
   * media process cannot apply rules itself. */
  g_autoptr (CordonConfig) config = cordon_config_load (config_path, &error);
  if (!config) {
    print_error_line ("CONFIG", error);
    return 1;
  }
  g_autoptr (CordonFwHelper) helper = cordon_fw_helper_spawn (config_path, &error);
  if (!helper) {
    print_error_line ("SPAWN", error);
    return 1;
  }
  if (!cordon_privileges_drop (user, &error)) {
    print_error_line ("DROP", error);
    return 1;
  }

  /* Only now threads: GStreamer's streaming threads and plain GLib ones. */
  gst_init (NULL, NULL);
  g_autoptr (GstElement) pipeline = gst_parse_launch ("videotestsrc is-live=true ! fakesink", NULL);
  if (pipeline) {
    gst_element_set_state (pipeline, GST_STATE_PLAYING);
    gst_element_get_state (pipeline, NULL, NULL, 5 * GST_SECOND);
  }
  g_thread_unref (g_thread_new ("probe-a", sleeper, NULL));
  g_thread_unref (g_thread_new ("probe-b", sleeper, NULL));

  say ("FIREWALL real");
  /* The media process itself must not be able to change the rules. */
  {
    g_autoptr (GError) direct = NULL;
    if (cordon_firewall_apply (config, &direct))
      say ("DIRECT ok");
    else
      print_error_line ("DIRECT", direct);
  }

  if (cordon_fw_helper_apply (helper, &error))
    say ("APPLY ok");
  else {
    print_error_line ("APPLY", error);
    g_clear_error (&error);
  }

  g_autoptr (GHashTable) counters = cordon_fw_helper_read_counters (helper, &error);
  if (counters) {
    g_autoptr (GString) line = g_string_new ("COUNTERS");
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init (&it, counters);
    while (g_hash_table_iter_next (&it, &k, &v))
      g_string_append_printf (line, " %s=%" G_GUINT64_FORMAT, (char *) k, *(guint64 *) v);
    say ("%s", line->str);
  } else {
    print_error_line ("COUNTERS", error);
    g_clear_error (&error);
  }

  g_autofree char *unknown = cordon_fw_helper_call (helper, "add rule inet cordon input accept", &error);
  say ("UNKNOWN %s", unknown ? unknown : "(no reply)");
  g_clear_error (&error);
  g_autofree char *big = g_strnfill (4000, 'a');
  g_autofree char *oversize = cordon_fw_helper_call (helper, big, &error);
  say ("OVERSIZE %s", oversize ? oversize : "(no reply)");
  g_clear_error (&error);

  say ("READY %d %d", (int) getpid (), (int) cordon_fw_helper_get_pid (helper));
  for (;;)
    pause ();
}

static int
refuse_root (void)
{
  g_autoptr (GError) error = NULL;
  uid_t before = geteuid ();
  if (cordon_privileges_drop ("root", &error)) {
    say ("FAIL: dropping to root succeeded");
    return 1;
  }
  say ("refused: %s", error->message);
  if (!g_error_matches (error, CORDON_PRIVILEGES_ERROR, CORDON_PRIVILEGES_ERROR_REFUSED) || geteuid () != before) {
    say ("FAIL: wrong error or uid changed");
    return 1;
  }
  return 0;
}

static int
refuse_threaded (const char *user)
{
  g_autoptr (GError) error = NULL;
  uid_t before = geteuid ();
  g_thread_unref (g_thread_new ("second", sleeper, NULL));

  if (cordon_privileges_drop (user, &error)) {
    say ("FAIL: dropping with two threads succeeded");
    return 1;
  }
  say ("refused: %s", error->message);
  if (!g_error_matches (error, CORDON_PRIVILEGES_ERROR, CORDON_PRIVILEGES_ERROR_REFUSED) || geteuid () != before) {
    say ("FAIL: wrong error or uid changed");
    return 1;
  }
  g_clear_error (&error);
  if (before == 0) {
    g_autoptr (CordonFwHelper) helper = cordon_fw_helper_spawn ("/nonexistent", &error);
    if (helper) {
      say ("FAIL: helper spawned with two threads");
      return 1;
    }
    say ("spawn refused: %s", error->message);
  }
  return 0;
}

static int
dev (const char *user)
{
  g_autoptr (GError) error = NULL;
  if (!cordon_privileges_drop (user, &error)) {
    print_error_line ("DROP", error);
    return 1;
  }
  g_autoptr (GString) report = g_string_new (NULL);
  cordon_privileges_thread_report (getpid (), report, NULL);
  say ("DEV ok\n%s", report->str);
  return 0;
}

int
main (int argc, char **argv)
{
  if (argc == 4 && strcmp (argv[1], "run") == 0)
    return run (argv[2], argv[3]);
  if (argc == 2 && strcmp (argv[1], "refuse-root") == 0)
    return refuse_root ();
  if (argc == 3 && strcmp (argv[1], "refuse-threaded") == 0)
    return refuse_threaded (argv[2]);
  if (argc == 3 && strcmp (argv[1], "dev") == 0)
    return dev (argv[2]);
  if (argc == 3 && strcmp (argv[1], "report") == 0) {
    g_autoptr (GString) report = g_string_new (NULL);
    g_autoptr (GError) error = NULL;
    if (!cordon_privileges_thread_report ((pid_t) atoi (argv[2]), report, &error)) {
      g_printerr ("%s\n", error->message);
      return 1;
    }
    fputs (report->str, stdout);
    return 0;
  }
  g_printerr ("usage: priv-probe run CONFIG USER | refuse-root | refuse-threaded USER | dev USER | report PID\n");
  return 2;
}
