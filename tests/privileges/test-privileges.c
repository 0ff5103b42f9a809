/* privileges: the refusals, which need neither root nor a network. Whatever
 * could change credentials runs in a subprocess. */
#include <string.h>
#include <unistd.h>

#include "privileges.h"

static gpointer
sleeper (gpointer data)
{
  g_usleep (5 * G_USEC_PER_SEC);
  return NULL;
}

static void
drop_refuses_root_user (void)
{
  g_autoptr (GError) error = NULL;
  uid_t before = geteuid ();

  g_assert_false (cordon_privileges_drop ("root", &error));
  g_assert_error (error, CORDON_PRIVILEGES_ERROR, CORDON_PRIVILEGES_ERROR_REFUSED);
  g_assert_nonnull (strstr (error->message, "root"));
  g_assert_cmpuint (geteuid (), ==, before);
}

static void
drop_refuses_unknown_user (void)
{
  g_autoptr (GError) error = NULL;

  g_assert_false (cordon_privileges_drop ("cordon-no-such-user-4711", &error));
  g_assert_error (error, CORDON_PRIVILEGES_ERROR, CORDON_PRIVILEGES_ERROR_NO_USER);
  g_assert_nonnull (strstr (error->message, "cordon-no-such-user-4711"));
}

static void
drop_refuses_when_a_thread_exists (void)
{
  if (g_test_subprocess ()) {
    g_autoptr (GError) error = NULL;
    uid_t before = geteuid ();
    g_thread_unref (g_thread_new ("second", sleeper, NULL));
    g_assert_false (cordon_privileges_check_threads_single (NULL));
    g_assert_false (cordon_privileges_drop ("nobody", &error));
    g_assert_error (error, CORDON_PRIVILEGES_ERROR, CORDON_PRIVILEGES_ERROR_REFUSED);
    g_assert_nonnull (strstr (error->message, "threads"));
    g_assert_cmpuint (geteuid (), ==, before);
    return;
  }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

static void
single_thread_is_detected (void)
{
  if (g_test_subprocess ()) {
    g_assert_true (cordon_privileges_check_threads_single (NULL));
    return;
  }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

static void
drop_leaves_no_capabilities (void)
{
  if (g_test_subprocess ()) {
    g_autoptr (GError) error = NULL;
    g_autoptr (GString) report = g_string_new (NULL);
    g_assert_true (cordon_privileges_drop ("nobody", &error));
    g_assert_no_error (error);
    g_assert_cmpuint (geteuid (), !=, 0);
    g_assert_true (cordon_privileges_thread_report (getpid (), report, &error));
    g_assert_nonnull (strstr (report->str, "CapEff=0000000000000000"));
    g_assert_nonnull (strstr (report->str, "CapPrm=0000000000000000"));
    g_assert_nonnull (strstr (report->str, "CapInh=0000000000000000"));
    g_assert_nonnull (strstr (report->str, "CapAmb=0000000000000000"));
    g_assert_nonnull (strstr (report->str, "NoNewPrivs=1"));
    if (getuid () == 65534)
      g_assert_nonnull (strstr (report->str, "Uid=65534,65534,65534,65534"));
    return;
  }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

static void
thread_report_lists_every_thread (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GString) report = g_string_new (NULL);
  g_autoptr (GThread) t = g_thread_new ("report-me", sleeper, NULL);

  /* The new thread names itself once it runs. */
  for (int i = 0; i < 200; i++) {
    g_string_truncate (report, 0);
    g_assert_true (cordon_privileges_thread_report (getpid (), report, &error));
    g_assert_no_error (error);
    if (strstr (report->str, "report-me"))
      break;
    g_usleep (10 * 1000);
  }
  g_assert_nonnull (strstr (report->str, "report-me"));
  g_auto (GStrv) lines = g_strsplit (report->str, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), >=, 3); /* two threads and the empty tail */
  for (guint i = 0; lines[i] && *lines[i]; i++) {
    g_assert_nonnull (strstr (lines[i], " Uid="));
    g_assert_nonnull (strstr (lines[i], " CapEff="));
    g_assert_nonnull (strstr (lines[i], " NoNewPrivs="));
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/privileges/drop-refuses-root-user", drop_refuses_root_user);
  g_test_add_func ("/privileges/drop-refuses-unknown-user", drop_refuses_unknown_user);
  g_test_add_func ("/privileges/drop-refuses-when-a-thread-exists", drop_refuses_when_a_thread_exists);
  g_test_add_func ("/privileges/single-thread-is-detected", single_thread_is_detected);
  g_test_add_func ("/privileges/drop-leaves-no-capabilities", drop_leaves_no_capabilities);
  g_test_add_func ("/privileges/thread-report-lists-every-thread", thread_report_lists_every_thread);
  return g_test_run ();
}
