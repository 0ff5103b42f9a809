/* cordon — dropping privileges in the media process. */
#define _GNU_SOURCE /* getresuid, setresuid, close_range, dup3 */
#define G_LOG_DOMAIN "cordon-privileges"

#include "privileges.h"

#include <errno.h>
#include <grp.h>
#include <linux/securebits.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

G_DEFINE_QUARK (cordon-privileges-error-quark, cordon_privileges_error)

/* cap_t is a pointer typedef; g_autoptr needs the struct. */
typedef struct _cap_struct CordonCaps;
static void
caps_free (CordonCaps *caps)
{
  cap_free (caps);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CordonCaps, caps_free)

static gboolean
fail_errno (GError **error, int saved_errno, const char *what)
{
  g_set_error (error, CORDON_PRIVILEGES_ERROR, CORDON_PRIVILEGES_ERROR_FAILED, "%s: %s", what,
               g_strerror (saved_errno));
  return FALSE;
}

/* The highest capability the running kernel knows, which may be above the
 * CAP_LAST_CAP this was compiled with: a newer kernel's capability must not
 * survive in the bounding set because our headers did not name it. */
static int
kernel_last_cap (void)
{
  int cap = CAP_LAST_CAP;
  while (prctl (PR_CAPBSET_READ, (unsigned long) cap + 1, 0, 0, 0) >= 0)
    cap++;
  return cap;
}

gboolean
cordon_privileges_check_threads_single (GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autoptr (GDir) dir = g_dir_open ("/proc/self/task", 0, &local);
  guint n = 0;

  if (!dir) {
    g_set_error (error, CORDON_PRIVILEGES_ERROR, CORDON_PRIVILEGES_ERROR_FAILED,
                 "cannot count threads (is /proc mounted?): %s", local->message);
    return FALSE;
  }
  while (g_dir_read_name (dir))
    n++;
  if (n != 1) {
    g_set_error (error, CORDON_PRIVILEGES_ERROR, CORDON_PRIVILEGES_ERROR_REFUSED,
                 "the process already has %u threads; privileges are per thread, so they must be dropped "
                 "before gst_init() or anything else starts a thread",
                 n);
    return FALSE;
  }
  return TRUE;
}

static gboolean
has_effective (cap_value_t cap)
{
  g_autoptr (CordonCaps) caps = cap_get_proc ();
  cap_flag_value_t v = CAP_CLEAR;
  return caps && cap_get_flag (caps, cap, CAP_EFFECTIVE, &v) == 0 && v == CAP_SET;
}

/* Drops every capability except KEEP (-1: none) from the bounding set. */
static gboolean
drop_bounding (int keep, GError **error)
{
  int last = kernel_last_cap ();
  for (int cap = 0; cap <= last; cap++) {
    if (cap == keep)
      continue;
    if (prctl (PR_CAPBSET_DROP, (unsigned long) cap, 0, 0, 0) < 0) {
      g_autofree char *what = g_strdup_printf ("cannot drop capability %d from the bounding set", cap);
      return fail_errno (error, errno, what);
    }
  }
  return TRUE;
}

static gboolean
clear_ambient (GError **error)
{
  /* EINVAL: a kernel without ambient capabilities (< 4.3) has none to clear. */
  if (prctl (PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
    return fail_errno (error, errno, "cannot clear the ambient capabilities");
  return TRUE;
}

static gboolean
set_no_new_privs (GError **error)
{
  if (prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    return fail_errno (error, errno, "cannot set no_new_privs");
  return TRUE;
}

/* Sets effective and permitted to exactly KEEP (-1: nothing), inheritable to
 * nothing. */
static gboolean
set_caps (int keep, GError **error)
{
  g_autoptr (CordonCaps) caps = cap_init ();
  if (!caps)
    return fail_errno (error, errno, "cap_init");
  if (keep >= 0) {
    cap_value_t v = keep;
    if (cap_set_flag (caps, CAP_EFFECTIVE, 1, &v, CAP_SET) < 0 || cap_set_flag (caps, CAP_PERMITTED, 1, &v, CAP_SET) < 0)
      return fail_errno (error, errno, "cap_set_flag");
  }
  if (cap_set_proc (caps) < 0)
    return fail_errno (error, errno, "cannot set the process capabilities");
  return TRUE;
}

static gboolean
verify_fail (GError **error, const char *format, ...) G_GNUC_PRINTF (2, 3);

static gboolean
verify_fail (GError **error, const char *format, ...)
{
  va_list ap;
  va_start (ap, format);
  g_autofree char *msg = g_strdup_vprintf (format, ap);
  va_end (ap);
  g_set_error (error, CORDON_PRIVILEGES_ERROR, CORDON_PRIVILEGES_ERROR_VERIFY,
               "privileges not dropped as required (%s); refusing to continue", msg);
  return FALSE;
}

/* Checks the capability state of the calling thread: effective and permitted
 * exactly KEEP (-1: none), inheritable and ambient empty, bounding set at most
 * KEEP when CHECK_BOUNDING, no_new_privs set. */
static gboolean
verify_caps (int keep, gboolean check_bounding, GError **error)
{
  g_autoptr (CordonCaps) now = cap_get_proc ();
  g_autoptr (CordonCaps) want = cap_init ();
  int last = kernel_last_cap ();

  if (!now || !want)
    return fail_errno (error, errno, "cannot read the process capabilities");
  if (keep >= 0) {
    cap_value_t v = keep;
    cap_set_flag (want, CAP_EFFECTIVE, 1, &v, CAP_SET);
    cap_set_flag (want, CAP_PERMITTED, 1, &v, CAP_SET);
  }
  if (cap_compare (now, want) != 0) {
    char *text = cap_to_text (now, NULL);
    verify_fail (error, "capabilities are \"%s\"", text ? text : "?");
    cap_free (text);
    return FALSE;
  }
  for (int cap = 0; cap <= last; cap++) {
    int amb = prctl (PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, (unsigned long) cap, 0, 0);
    if (amb > 0)
      return verify_fail (error, "ambient capability %d is still set", cap);
    if (check_bounding && cap != keep && prctl (PR_CAPBSET_READ, (unsigned long) cap, 0, 0, 0) != 0)
      return verify_fail (error, "capability %d is still in the bounding set", cap);
  }
  if (prctl (PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
    return verify_fail (error, "no_new_privs is not set");
  return TRUE;
}

static gboolean
drop_unprivileged (const struct passwd *pw, GError **error)
{
  uid_t r, e, s;
  gboolean bounding = has_effective (CAP_SETPCAP);

  if (getresuid (&r, &e, &s) < 0)
    return fail_errno (error, errno, "getresuid");
  if (r == 0 || s == 0)
    return verify_fail (error, "effective uid %u but real or saved uid 0", (guint) e);
  /* Without CAP_SETPCAP the bounding set cannot shrink; no_new_privs already
   * keeps execve from granting anything from it. */
  if (bounding && !drop_bounding (-1, error))
    return FALSE;
  if (!clear_ambient (error) || !set_caps (-1, error) || !set_no_new_privs (error))
    return FALSE;
  if (!verify_caps (-1, bounding, error))
    return FALSE;
  if (e == pw->pw_uid)
    g_message ("running as user %s (uid %u) already; capabilities cleared, no_new_privs set", pw->pw_name, (guint) e);
  else
    g_message ("not started as root: staying uid %u instead of switching to user %s (uid %u); "
               "capabilities cleared, no_new_privs set",
               (guint) e, pw->pw_name, (guint) pw->pw_uid);
  return TRUE;
}

gboolean
cordon_privileges_drop (const char *user, GError **error)
{
  g_return_val_if_fail (user != NULL, FALSE);

  errno = 0;
  struct passwd *found = getpwnam (user);
  if (!found) {
    if (errno != 0 && errno != ENOENT && errno != ESRCH)
      return fail_errno (error, errno, "cannot look up the user of [proxy] user");
    g_set_error (error, CORDON_PRIVILEGES_ERROR, CORDON_PRIVILEGES_ERROR_NO_USER,
                 "[proxy] user: no such user \"%s\" (create it, e.g. useradd --system %s)", user, user);
    return FALSE;
  }
  /* getpwnam's buffer is static; keep what we need before anything else runs. */
  struct passwd pw = *found;
  g_autofree char *name = g_strdup (found->pw_name);
  pw.pw_name = name;

  if (pw.pw_uid == 0 || pw.pw_gid == 0) {
    g_set_error (error, CORDON_PRIVILEGES_ERROR, CORDON_PRIVILEGES_ERROR_REFUSED,
                 "[proxy] user: refusing \"%s\" (uid %u, gid %u): the process that parses camera data must "
                 "not run as root or with the root group",
                 user, (guint) pw.pw_uid, (guint) pw.pw_gid);
    return FALSE;
  }
  if (!cordon_privileges_check_threads_single (error))
    return FALSE;

  if (geteuid () != 0)
    return drop_unprivileged (&pw, error);

  /* The bounding set first: dropping from it needs CAP_SETPCAP, which goes
   * with the uid switch below. A container may have withheld CAP_SETPCAP;
   * then no_new_privs and the non-root uid keep execve from granting
   * anything from the bounding set, so carry on. */
  gboolean bounding = has_effective (CAP_SETPCAP);
  if (!bounding)
    g_warning ("no CAP_SETPCAP: the capability bounding set cannot be emptied (no_new_privs still applies)");
  if ((bounding && !drop_bounding (-1, error)) || !clear_ambient (error))
    return FALSE;
  if (setgroups (1, &pw.pw_gid) < 0)
    return fail_errno (error, errno, "cannot set the supplementary groups");
  if (setresgid (pw.pw_gid, pw.pw_gid, pw.pw_gid) < 0)
    return fail_errno (error, errno, "cannot switch group");
  if (setresuid (pw.pw_uid, pw.pw_uid, pw.pw_uid) < 0)
    return fail_errno (error, errno, "cannot switch user");
  /* The switch away from uid 0 empties permitted and effective (no
   * keep-caps); inheritable must be cleared by hand. */
  if (!set_caps (-1, error) || !clear_ambient (error) || !set_no_new_privs (error))
    return FALSE;

  uid_t r, e, s;
  gid_t rg, eg, sg;
  gid_t groups[2];
  if (getresuid (&r, &e, &s) < 0 || getresgid (&rg, &eg, &sg) < 0)
    return fail_errno (error, errno, "cannot read back the user and group ids");
  if (r != pw.pw_uid || e != pw.pw_uid || s != pw.pw_uid || r == 0)
    return verify_fail (error, "uids are %u/%u/%u, wanted %u", (guint) r, (guint) e, (guint) s, (guint) pw.pw_uid);
  if (rg != pw.pw_gid || eg != pw.pw_gid || sg != pw.pw_gid)
    return verify_fail (error, "gids are %u/%u/%u, wanted %u", (guint) rg, (guint) eg, (guint) sg,
                        (guint) pw.pw_gid);
  int n = getgroups (G_N_ELEMENTS (groups), groups);
  if (n < 0 || n > 1 || (n == 1 && groups[0] != pw.pw_gid))
    return verify_fail (error, "supplementary groups were not reduced to gid %u", (guint) pw.pw_gid);
  if (!verify_caps (-1, bounding, error))
    return FALSE;
  /* The proof that matters: root cannot be taken back. */
  if (setuid (0) == 0 || seteuid (0) == 0)
    return verify_fail (error, "uid 0 could be regained");
  if (!cordon_privileges_check_threads_single (error))
    return FALSE;

  g_message ("running as user %s (uid %u, gid %u); no capabilities, no_new_privs set", pw.pw_name,
             (guint) pw.pw_uid, (guint) pw.pw_gid);
  return TRUE;
}

gboolean
cordon_privileges_restrict_to_net_admin (GError **error)
{
  if (geteuid () != 0) {
    g_set_error (error, CORDON_PRIVILEGES_ERROR, CORDON_PRIVILEGES_ERROR_REFUSED,
                 "the firewall helper needs to start as root (running as uid %u)", (guint) geteuid ());
    return FALSE;
  }
  if (!cordon_privileges_check_threads_single (error))
    return FALSE;
  if (!drop_bounding (CAP_NET_ADMIN, error) || !clear_ambient (error))
    return FALSE;
  /* uid 0 stays (root-owned secrets stay readable), so root's special cases
   * must go: no capabilities back from execve or from a uid change, no
   * ambient raise; locked so that they cannot be undone. Needs CAP_SETPCAP,
   * so before set_caps. */
  if (prctl (PR_SET_SECUREBITS,
             SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP | SECBIT_NO_SETUID_FIXUP_LOCKED
               | SECBIT_KEEP_CAPS_LOCKED | SECBIT_NO_CAP_AMBIENT_RAISE | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED,
             0, 0, 0)
      < 0)
    return fail_errno (error, errno, "cannot set the securebits");
  if (!set_caps (CAP_NET_ADMIN, error) || !set_no_new_privs (error))
    return FALSE;
  return verify_caps (CAP_NET_ADMIN, TRUE, error);
}

static int
compare_tid (gconstpointer a, gconstpointer b)
{
  gint64 x = g_ascii_strtoll (*(const char *const *) a, NULL, 10);
  gint64 y = g_ascii_strtoll (*(const char *const *) b, NULL, 10);
  return x < y ? -1 : x > y;
}

gboolean
cordon_privileges_thread_report (pid_t pid, GString *out, GError **error)
{
  static const char *const fields[] = { "Name", "Uid", "Gid", "CapInh", "CapPrm", "CapEff",
                                        "CapBnd", "CapAmb", "NoNewPrivs", NULL };
  g_autofree char *task_dir = g_strdup_printf ("/proc/%d/task", (int) pid);
  g_autoptr (GDir) dir = g_dir_open (task_dir, 0, error);
  g_autoptr (GPtrArray) tids = g_ptr_array_new_with_free_func (g_free);
  const char *entry;

  if (!dir)
    return FALSE;
  while ((entry = g_dir_read_name (dir)))
    g_ptr_array_add (tids, g_strdup (entry));
  g_ptr_array_sort (tids, compare_tid);

  for (guint i = 0; i < tids->len; i++) {
    g_autofree char *path = g_build_filename (task_dir, tids->pdata[i], "status", NULL);
    g_autofree char *contents = NULL;
    g_autoptr (GError) local = NULL;

    /* A thread may end between listing and reading. */
    if (!g_file_get_contents (path, &contents, NULL, &local)) {
      if (g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        continue;
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
    g_auto (GStrv) lines = g_strsplit (contents, "\n", -1);
    g_string_append (out, tids->pdata[i]);
    for (guint f = 0; fields[f]; f++) {
      gsize len = strlen (fields[f]);
      for (guint l = 0; lines[l]; l++) {
        if (strncmp (lines[l], fields[f], len) != 0 || lines[l][len] != ':')
          continue;
        g_autofree char *value = g_strdup (lines[l] + len + 1);
        g_strstrip (value);
        /* "Uid:\t0\t0\t0\t0" → Uid=0,0,0,0; names may hold spaces. */
        g_strdelimit (value, "\t ", f == 0 ? '_' : ',');
        if (f == 0)
          g_string_append_printf (out, " %s", value);
        else
          g_string_append_printf (out, " %s=%s", fields[f], value);
        break;
      }
    }
    g_string_append_c (out, '\n');
  }
  return TRUE;
}
