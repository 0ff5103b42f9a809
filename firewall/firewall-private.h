/* cordon — firewall internals: the rule description shared by the netlink
 * writer (netlink.c) and the nft text renderer (render.c).
 *
 * The description is deliberately small: a rule is a list of items in the
 * order nft would write them. Both back ends walk the same list, so `plan`
 * shows exactly what `apply` loads.
 */
#pragma once

#include "firewall.h"

#include <linux/netlink.h>

G_BEGIN_DECLS

#define FW_PRIORITY (-10)     /* before the usual filter tables (priority 0) */
#define FW_LOG_RATE 50        /* nflog packets per second, per rule */
#define FW_LOG_BURST 5        /* nft's default burst for `limit rate N/second` */
#define FW_UNKNOWN_COUNTER "unknown"
#define FW_CAMERA_COUNTER_PREFIX "camera_"
#define FW_REFUSE_CHAIN "refuse"              /* unknown sources */
#define FW_CAMERA_REFUSE_PREFIX "refuse_"     /* + camera: one log budget each */
#define FW_EGRESS_PREFIX "egress_"            /* + entry name: chain and counter */

typedef enum {
  FW_HOOK_NONE = -1,          /* regular chain, reached by jump */
  FW_HOOK_PREROUTING = 0,     /* NF_INET_PRE_ROUTING */
  FW_HOOK_INPUT = 1,          /* NF_INET_LOCAL_IN */
  FW_HOOK_FORWARD = 2,        /* NF_INET_FORWARD */
  FW_HOOK_OUTPUT = 3,         /* NF_INET_LOCAL_OUT */
} FwHook;

typedef enum {
  FW_IIFNAME,     /* text; negate */
  FW_OIFNAME,     /* text; negate */
  FW_SADDR,       /* family, addr; negate */
  FW_DADDR,       /* family, addr; negate */
  FW_SADDR_SET,   /* family, text = set name; negate */
  FW_DADDR_SET,   /* family, text = set name; negate */
  FW_SKUID,       /* value = uid of the socket's owner */
  FW_CT_ORIG_DADDR, /* family, addr: destination of the connection's original direction */
  FW_CT_ORIG_PROTO, /* value = IP protocol of the connection */
  FW_CT_ORIG_DPORT, /* value = destination port of the connection */
  FW_L4PROTO,     /* value = IP protocol number */
  FW_SPORT,       /* proto, value = port */
  FW_DPORT,       /* proto, value = port */
  FW_DPORT_MIN,   /* proto, value = lowest port */
  FW_ICMPV6_TYPE, /* value */
  FW_HOPLIMIT,    /* value */
  FW_CT_STATE,    /* value = NF_CT_STATE_BIT mask */
  FW_ETHER_SADDR, /* addr[0..5]; negate */
  FW_PKTTYPE,     /* value = PACKET_HOST etc.; negate */
  FW_COUNTER,     /* anonymous counter */
  FW_COUNTER_REF, /* text = named counter */
  FW_LIMIT,       /* value = packets per second (burst FW_LOG_BURST) */
  FW_LOG,         /* value = nflog group */
  FW_ACCEPT,
  FW_DROP,
  FW_RETURN,
  FW_JUMP,        /* text = chain */
} FwKind;

/* ct state bits, as nft and the kernel number them. */
#define FW_CT_INVALID     0x1
#define FW_CT_ESTABLISHED 0x2
#define FW_CT_RELATED     0x4
#define FW_CT_NEW         0x8

typedef struct {
  FwKind kind;
  gboolean negate;
  int family;       /* 4 or 6 for address items */
  guint8 proto;     /* IPPROTO_TCP / IPPROTO_UDP for ports */
  guint32 value;
  guint8 addr[16];
  char *text;
} FwItem;

typedef struct {
  char *chain;
  GArray *items;    /* FwItem */
  char *comment;    /* stored in the kernel with the rule; may be NULL */
} FwRule;

typedef struct {
  char *name;
  FwHook hook;
  char *comment;    /* plan only */
} FwChain;

typedef struct {
  guint8 addr[16];
  guint prefix;     /* bits; the full length for a single address */
} FwElement;

typedef struct {
  char *name;
  int family;       /* 4: ipv4_addr, 6: ipv6_addr */
  gboolean interval;
  GArray *elements; /* FwElement, sorted, no element inside another */
  char *comment;    /* plan only */
} FwSet;

typedef struct {
  char *name;
  char *camera;     /* NULL for the counter of unknown sources */
  char *comment;    /* plan only */
} FwCounter;

/* Where one local user's sockets may open connections. */
typedef struct {
  guint8 proto;     /* IPPROTO_TCP or IPPROTO_UDP */
  int family;       /* 4 or 6 */
  guint8 addr[16];  /* when set is NULL */
  char *set;        /* or a set of the table ("recorders4") */
  gboolean local;   /* or this host itself (oifname "lo"), family unused */
  guint16 port;     /* 0: any port from port_min up */
  guint16 port_min;
  char *comment;
} FwDestination;

/* One (uid → allowed destinations) entry of cordon's own egress. Its
 * processes' sockets may open flows only to DESTINATIONS; replies on
 * connections made to them pass; everything else is dropped and counted in
 * counter egress_NAME. The daemon is one entry; each ingest worker with a uid
 * of its own is meant to be another. */
typedef struct {
  char *name;            /* [a-z0-9_]: chain and counter egress_NAME */
  guint32 uid;
  char *who;             /* for comments: "[proxy] user nobody" */
  GArray *destinations;  /* FwDestination */
} FwEgress;

typedef struct {
  CordonFirewallMode mode;
  gboolean lockdown;   /* built by fw_ruleset_new_lockdown() */
  char *summary;    /* plan header */
  GPtrArray *chains;   /* FwChain*, in creation order */
  GPtrArray *sets;     /* FwSet* */
  GPtrArray *counters; /* FwCounter* */
  GPtrArray *rules;    /* FwRule*, in order within each chain */
  GPtrArray *egress;   /* FwEgress* */
  GPtrArray *notes;    /* char*: what the plan header and apply point out */
} FwRuleset;

/* ruleset.c */
FwRuleset *fw_ruleset_new (const CordonConfig *config, GError **error);
/* Everything on the camera interface refused and logged, nothing forwarded to
 * or from it (CAMERA_INTERFACE may be NULL: then only forwarding and ...). */
FwRuleset *fw_ruleset_new_lockdown (const char *camera_interface, guint nflog_group, GError **error);
/* The egress entries for CONFIG: the daemon's ([proxy] user), when that
 * user exists. */
GPtrArray *fw_egress_for_config (const CordonConfig *config, GPtrArray *notes);
void fw_ruleset_free (FwRuleset *ruleset);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FwRuleset, fw_ruleset_free)
char *fw_camera_counter_name (const char *camera);
char *fw_camera_refuse_chain (const char *camera);

/* render.c */
char *fw_render (const FwRuleset *ruleset);

/* netlink.c */
gboolean fw_netlink_apply (const FwRuleset *ruleset, GError **error);
gboolean fw_netlink_remove (GError **error);
gboolean fw_netlink_table_present (GError **error);
/* counter name → guint64* packets */
GHashTable *fw_netlink_read_counters (GError **error);

/* nflog.c: pure parsing, exposed for unit tests and the fuzzer. */
typedef struct {
  int family;            /* 4 or 6 */
  guint8 src[16];
  guint8 dst[16];
  guint8 protocol;
  guint16 dport;         /* 0 when the protocol has none or the header is cut */
  char dns_name[256];    /* "" unless a UDP/53 query carried a readable name */
} FwPacketInfo;

/* Parses an IP packet (network header first). FALSE when it is not a readable
 * IPv4/IPv6 packet. Bounded by LEN; never reads past it. */
gboolean fw_parse_packet (const guint8 *buf, gsize len, FwPacketInfo *info);

/* Reads the first question name of a DNS message into NAME (dotted, at most
 * 253 characters, NUL terminated). FALSE on anything malformed. */
gboolean fw_parse_dns_qname (const guint8 *buf, gsize len, char *name, gsize name_size);

/* Parses one netlink message stream from the nflog socket and feeds every
 * packet to REPORT (may be NULL: parse only, for the fuzzer). */
typedef void (*FwPacketFunc) (const FwPacketInfo *info, gpointer user_data);
void fw_parse_nflog_messages (const guint8 *buf, gsize len, FwPacketFunc func, gpointer user_data);

/* Calls FUNC for each whole netlink message in BUF (LEN bytes, from the
 * kernel or anyone else): a message whose length runs past the buffer ends
 * the walk. */
typedef void (*FwNlmsgFunc) (const struct nlmsghdr *nlh, gpointer user_data);
void fw_nlmsg_walk (const guint8 *buf, gsize len, FwNlmsgFunc func, gpointer user_data);

/* The report without its socket, fed by fw_phonehome_record() (unit tests). */
CordonPhoneHome *fw_phonehome_new_detached (const CordonConfig *config);
/* Records one refused packet in the report USER_DATA (an FwPacketFunc). */
void fw_phonehome_record (const FwPacketInfo *info, gpointer user_data);

/* neigh.c: a permanent neighbour entry on the camera interface for every
 * camera with a pinned MAC; cordon's entries of cameras no longer pinned are
 * removed. *PINNED counts the entries set. Needs CAP_NET_ADMIN. */
gboolean fw_neigh_pin (const CordonConfig *config, guint *pinned, GError **error);
/* Deletes every neighbour entry cordon made, on any interface. */
gboolean fw_neigh_unpin_all (GError **error);

/* watch.c: what one batch of nftables events did to table inet cordon. */
typedef struct {
  gboolean deleted;   /* DELTABLE */
  gboolean removed;   /* rules, chains, sets, elements or counters deleted */
  gboolean added;     /* rules added: a replace, not damage */
} FwWatchState;

typedef void (*FwWatchReportFunc) (gboolean deleted, int pid, const char *process, gpointer user_data);

/* Parses a buffer of nftables event messages, carrying STATE across calls;
 * calls FUNC at the end of each batch that deleted or damaged the table.
 * Bounded by LEN. */
void fw_watch_parse (const guint8 *buf, gsize len, FwWatchState *state, FwWatchReportFunc func, gpointer user_data);

/* Shared by the back ends. */
const char *fw_proto_name (guint8 proto);

G_END_DECLS
