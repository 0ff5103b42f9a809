/* cordon — the firewall helper: the one process that keeps CAP_NET_ADMIN.
 *
 * Forked while the daemon is still root and single-threaded, before the media
 * process drops its privileges. The helper stays uid 0 (it must re-read the
 * root-owned configuration; it reads no secret file) but holds CAP_NET_ADMIN only,
 * no_new_privs, and dies with its parent. It takes two commands over a
 * SOCK_SEQPACKET pair and never rule data: asked to apply, it re-reads and
 * validates the configuration file itself and applies that, so a compromised
 * media process can at most ask it to re-apply what is on disk.
 *
 * Calls block for at most CORDON_FW_HELPER_TIMEOUT_MS. After a timeout or a
 * protocol error the helper is stopped and every later call fails.
 */
#pragma once

#include <glib.h>
#include <sys/types.h>

G_BEGIN_DECLS

#define CORDON_FW_HELPER_ERROR (cordon_fw_helper_error_quark ())
GQuark cordon_fw_helper_error_quark (void);

typedef enum {
  CORDON_FW_HELPER_ERROR_FAILED,  /* local system call or protocol failure */
  CORDON_FW_HELPER_ERROR_GONE,    /* the helper exited, timed out or was stopped */
  CORDON_FW_HELPER_ERROR_REMOTE,  /* the helper answered "error: ..."; the message is its text */
} CordonFwHelperError;

#define CORDON_FW_HELPER_TIMEOUT_MS 10000

typedef struct _CordonFwHelper CordonFwHelper;

/* Forks the helper for the configuration at CONFIG_PATH and waits until it
 * has reduced itself to CAP_NET_ADMIN and loaded the configuration. Needs
 * root and a single-threaded process: call it after the set-up that needs
 * root and before cordon_privileges_drop() and gst_init(). The helper's
 * parent-death signal is tied to the calling thread, so call it from the
 * main thread. */
CordonFwHelper *cordon_fw_helper_spawn (const char *config_path, GError **error);

/* Asks the helper to re-read the configuration file, validate it and apply
 * its ruleset (cordon_firewall_apply()). TRUE when it did. */
gboolean cordon_fw_helper_apply (CordonFwHelper *helper, GError **error);

/* Asks the helper to apply again the configuration it applied last (after
 * someone else removed table inet cordon). TRUE when it did. */
gboolean cordon_fw_helper_reapply (CordonFwHelper *helper, GError **error);

/* The per-camera drop counters of the configuration the helper last loaded,
 * as cordon_firewall_read_counters(): camera name → guint64* (transfer full). */
GHashTable *cordon_fw_helper_read_counters (CordonFwHelper *helper, GError **error);

/* Sends COMMAND as it is and returns the raw reply (transfer full). For tests
 * and diagnostics; the daemon uses the two calls above. */
char *cordon_fw_helper_call (CordonFwHelper *helper, const char *command, GError **error);

pid_t cordon_fw_helper_get_pid (CordonFwHelper *helper);

/* Closes the socket (the helper exits on end of file) and reaps the helper,
 * killing it when it does not exit within a few seconds. */
void cordon_fw_helper_free (CordonFwHelper *helper);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CordonFwHelper, cordon_fw_helper_free)

G_END_DECLS
