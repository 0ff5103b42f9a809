/* cordon — camera isolation with nftables.
 *
 * The configuration becomes one table, `inet cordon`, applied atomically in a
 * single netlink batch (libnftnl + libmnl). The table is not owner-bound: it
 * stays in the kernel when cordon exits or crashes, and only
 * cordon_firewall_remove() lifts it. The same rule description renders as
 * `nft` text for review (cordon firewall plan).
 */
#pragma once

#include <glib.h>

#include "config.h"

G_BEGIN_DECLS

#define CORDON_FIREWALL_ERROR (cordon_firewall_error_quark ())
GQuark cordon_firewall_error_quark (void);

typedef enum {
  CORDON_FIREWALL_ERROR_FAILED,
  CORDON_FIREWALL_ERROR_KERNEL,  /* netlink said no; the message keeps errno's text */
} CordonFirewallError;

#define CORDON_FIREWALL_TABLE "cordon"

/* The ruleset for CONFIG as commented `nft -f` input (transfer full). */
char *cordon_firewall_plan (const CordonConfig *config, GError **error);

/* A systemd drop-in for cordon.service (IPAddressDeny=any, IPAddressAllow=
 * loopback, the recorders' prefixes and the cameras' addresses): a second
 * layer under the table, derived from the same configuration. */
char *cordon_firewall_unit_addresses (const CordonConfig *config);

/* Replaces table inet cordon with CONFIG's ruleset in one batch. On failure
 * the previous table is untouched. mode = off removes the table. */
gboolean cordon_firewall_apply (const CordonConfig *config, GError **error);

/* The lock-down table for a configuration that cannot be loaded: everything
 * arriving on CAMERA_INTERFACE is refused and logged (nflog NFLOG_GROUP),
 * nothing is routed from or to it, nothing is sent to it. With
 * CAMERA_INTERFACE NULL (not even that could be read) nothing is routed at
 * all and the host's own traffic is left alone. */
gboolean cordon_firewall_apply_lockdown (const char *camera_interface, guint nflog_group, GError **error);

/* What about this host weakens CONFIG's containment, one sentence each
 * (transfer full, NULL-terminated; empty when nothing): the camera interface
 * is missing, forwarding is on in host mode, [proxy] user is unknown. */
GStrv cordon_firewall_host_warnings (const CordonConfig *config);

/* TRUE when CONFIG's camera interface exists (always TRUE for mode = off). */
gboolean cordon_firewall_camera_interface_present (const CordonConfig *config);

/* TRUE when table inet cordon is in the kernel. Needs CAP_NET_ADMIN. */
gboolean cordon_firewall_table_present (GError **error);

/* Deletes table inet cordon; TRUE also when it was not there. */
gboolean cordon_firewall_remove (GError **error);

/* Key of read_counters() for packets on the camera interface from no
 * configured camera (spoofed or unknown sources, MAC pinning violations).
 * Camera names cannot contain parentheses, so it never collides. */
#define CORDON_FIREWALL_UNKNOWN_SOURCE "(unknown)"
/* Key of read_counters() for connections cordon's own processes tried to
 * open and the table refused (all egress entries together). */
#define CORDON_FIREWALL_EGRESS "(egress)"

/* Reads the per-camera drop counters of the applied table: camera name →
 * guint64* packets (transfer full), plus CORDON_FIREWALL_UNKNOWN_SOURCE and
 * CORDON_FIREWALL_EGRESS.
 * Needs CAP_NET_ADMIN. */
GHashTable *cordon_firewall_read_counters (const CordonConfig *config, GError **error);

/* One distinct thing a camera tried and was refused. */
typedef struct {
  char *camera;       /* camera name, or NULL when the source matched none */
  char *protocol;     /* "tcp", "udp", "icmp", "icmpv6" or a number */
  char *destination;  /* address as text */
  guint16 port;       /* 0 when the protocol has none */
  char *dns_name;     /* for DNS queries, the name asked for, else NULL */
  guint64 count;
  gint64 first_seen;  /* g_get_real_time() */
  gint64 last_seen;
} CordonBlockedAttempt;

/* The phone-home report: listens on the nflog group (open it while root; the
 * socket keeps working after privileges are dropped) from the thread-default
 * main context. */
typedef struct _CordonPhoneHome CordonPhoneHome;

CordonPhoneHome *cordon_phonehome_new (const CordonConfig *config, GError **error);
/* Maps source addresses to cameras again after a reload. */
void cordon_phonehome_set_config (CordonPhoneHome *report, const CordonConfig *config);
/* Snapshot of every distinct attempt so far: GPtrArray of CordonBlockedAttempt*
 * (transfer full, elements freed with the array). */
GPtrArray *cordon_phonehome_list (CordonPhoneHome *report);
void cordon_phonehome_free (CordonPhoneHome *report);

void cordon_blocked_attempt_free (CordonBlockedAttempt *attempt);

/* Watching for someone else removing the table: nftables change events
 * (NFNLGRP_NFTABLES). Open it while root (joining the group needs
 * CAP_NET_ADMIN; the socket keeps working after privileges are dropped); it
 * reports from the thread-default main context. */
typedef struct _CordonFirewallWatch CordonFirewallWatch;

typedef enum {
  CORDON_FIREWALL_CHANGE_DELETED,  /* table inet cordon was deleted */
  CORDON_FIREWALL_CHANGE_DAMAGED,  /* rules, chains, sets or counters taken out of it */
  CORDON_FIREWALL_CHANGE_UNKNOWN,  /* events were lost (socket overrun): it may be gone */
} CordonFirewallChange;

/* Called once per batch that removed (part of) the table: PID and PROCESS
 * (sanitised; NULL when unknown) are the batch's author, so the caller can
 * ignore its own changes. */
typedef void (*CordonFirewallWatchFunc) (CordonFirewallChange change, int pid, const char *process,
                                         gpointer user_data);

CordonFirewallWatch *cordon_firewall_watch_new (CordonFirewallWatchFunc func, gpointer user_data, GError **error);
void cordon_firewall_watch_free (CordonFirewallWatch *watch);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CordonFirewallWatch, cordon_firewall_watch_free)

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CordonPhoneHome, cordon_phonehome_free)

G_END_DECLS
