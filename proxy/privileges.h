/* cordon — dropping privileges in the media process.
 *
 * Root is needed only to set up (apply the ruleset, open the nflog socket,
 * bind port 554, read secrets, start the firewall helper). Then the process
 * that parses camera data switches to the configured user, clears every
 * capability set and sets no_new_privs. Capabilities and uids are per thread:
 * this must happen while the process has a single thread, i.e. before
 * gst_init() and before anything else starts one.
 */
#pragma once

#include <glib.h>
#include <sys/types.h>

G_BEGIN_DECLS

#define CORDON_PRIVILEGES_ERROR (cordon_privileges_error_quark ())
GQuark cordon_privileges_error_quark (void);

typedef enum {
  CORDON_PRIVILEGES_ERROR_FAILED,   /* a system call failed; the message keeps errno's text */
  CORDON_PRIVILEGES_ERROR_REFUSED,  /* root as target user, or a thread already exists */
  CORDON_PRIVILEGES_ERROR_NO_USER,  /* the configured user does not exist */
  CORDON_PRIVILEGES_ERROR_VERIFY,   /* the drop did not stick; do not carry on */
} CordonPrivilegesError;

/* TRUE when the calling process has exactly one thread (/proc/self/task);
 * otherwise FALSE with CORDON_PRIVILEGES_ERROR_REFUSED naming the count. */
gboolean cordon_privileges_check_threads_single (GError **error);

/* Switches the whole (single-threaded) process to USER: supplementary groups
 * become the user's primary group only, then real/effective/saved gid and uid;
 * the bounding set, inheritable, permitted, effective and ambient capabilities
 * are emptied and no_new_privs is set. Refuses a user with uid or gid 0 and
 * refuses while a second thread exists. Already unprivileged (a developer's
 * run), it only clears what capabilities it can and sets no_new_privs.
 * Verifies the result and fails closed: on FALSE the caller must exit. */
gboolean cordon_privileges_drop (const char *user, GError **error);

/* For the firewall helper: stays uid 0 (so root-owned 0600 secrets stay
 * readable) but keeps only CAP_NET_ADMIN, in effective and permitted; empties
 * inheritable, ambient and every other bit of the bounding set, locks the
 * securebits against regaining root's capabilities and sets no_new_privs.
 * Needs root; the process must be single-threaded. Verifies and fails closed. */
gboolean cordon_privileges_restrict_to_net_admin (GError **error);

/* Appends one line per thread of PID, from /proc/PID/task/TID/status:
 * "TID NAME Uid=... Gid=... CapInh=... CapPrm=... CapEff=... CapBnd=...
 * CapAmb=... NoNewPrivs=...". For tests and diagnostics. */
gboolean cordon_privileges_thread_report (pid_t pid, GString *out, GError **error);

G_END_DECLS
