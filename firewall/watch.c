/* cordon — watching nftables for someone else removing table inet cordon.
 *
 * The kernel sends every committed change to the NFNLGRP_NFTABLES group: one
 * message per object, then NFT_MSG_NEWGEN with the pid and name of the
 * process whose batch it was. One batch that deletes the table (flush
 * ruleset, nft -f /etc/nftables.conf, a firewalld reload), or that takes
 * rules, chains, sets or counters out of it without adding rules back, is one
 * report. A batch that replaces the table (cordon firewall apply) is not.
 */
#define G_LOG_DOMAIN "cordon-firewall"

#include "firewall-private.h"

#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>

#include <glib-unix.h>
#include <libmnl/libmnl.h>

#define RECV_SIZE (256 * 1024)

struct _CordonFirewallWatch {
  struct mnl_socket *nl;
  GSource *source;
  CordonFirewallWatchFunc func;
  gpointer user_data;
  FwWatchState state;
  guint8 *buf;
};

/* Every nf_tables object message names its table in attribute 1
 * (NFTA_TABLE_NAME, NFTA_CHAIN_TABLE, NFTA_RULE_TABLE, NFTA_SET_TABLE,
 * NFTA_SET_ELEM_LIST_TABLE, NFTA_OBJ_TABLE, NFTA_FLOWTABLE_TABLE). */
#define FW_ATTR_TABLE 1

typedef struct {
  const struct nlattr *table;
  const struct nlattr *gen_pid;
  const struct nlattr *gen_name;
  guint16 msg;
} Attrs;

static int
attr_cb (const struct nlattr *attr, void *data)
{
  Attrs *a = data;
  guint16 type = mnl_attr_get_type (attr);

  if (a->msg == NFT_MSG_NEWGEN) {
    if (type == NFTA_GEN_PROC_PID && mnl_attr_validate (attr, MNL_TYPE_U32) == 0)
      a->gen_pid = attr;
    else if (type == NFTA_GEN_PROC_NAME && mnl_attr_validate (attr, MNL_TYPE_NUL_STRING) == 0)
      a->gen_name = attr;
  } else if (type == FW_ATTR_TABLE && mnl_attr_validate (attr, MNL_TYPE_NUL_STRING) == 0) {
    a->table = attr;
  }
  return MNL_CB_OK;
}

static gboolean
is_ours (const struct nlmsghdr *nlh, const Attrs *a)
{
  const struct nfgenmsg *nfg = mnl_nlmsg_get_payload (nlh);
  return nfg->nfgen_family == NFPROTO_INET && a->table
         && strcmp (mnl_attr_get_str (a->table), CORDON_FIREWALL_TABLE) == 0;
}

typedef struct {
  FwWatchState *state;
  FwWatchReportFunc func;
  gpointer user_data;
} WatchWalk;

static void
watch_message (const struct nlmsghdr *nlh, gpointer data)
{
  WatchWalk *w = data;
  FwWatchState *state = w->state;

  if (NFNL_SUBSYS_ID (nlh->nlmsg_type) != NFNL_SUBSYS_NFTABLES
      || nlh->nlmsg_len < mnl_nlmsg_size (sizeof (struct nfgenmsg)))
    return;
  Attrs a = { .msg = NFNL_MSG_TYPE (nlh->nlmsg_type) };
  if (mnl_attr_parse (nlh, sizeof (struct nfgenmsg), attr_cb, &a) < 0)
    return;

  switch (a.msg) {
  case NFT_MSG_DELTABLE:
    if (is_ours (nlh, &a))
      state->deleted = TRUE;
    break;
  case NFT_MSG_DELRULE:
  case NFT_MSG_DELCHAIN:
  case NFT_MSG_DELSET:
  case NFT_MSG_DELSETELEM:
  case NFT_MSG_DELOBJ:
    if (is_ours (nlh, &a))
      state->removed = TRUE;
    break;
  case NFT_MSG_NEWRULE:
    if (is_ours (nlh, &a))
      state->added = TRUE;
    break;
  case NFT_MSG_NEWGEN: {
    /* The end of one batch: judge it as a whole. */
    gboolean lost = state->deleted || (state->removed && !state->added);
    if (lost && w->func) {
      guint32 pid = a.gen_pid ? ntohl (mnl_attr_get_u32 (a.gen_pid)) : 0;
      w->func (state->deleted, (int) pid, a.gen_name ? mnl_attr_get_str (a.gen_name) : NULL, w->user_data);
    }
    memset (state, 0, sizeof *state);
    break;
  }
  default:
    break;
  }
}

void
fw_watch_parse (const guint8 *buf, gsize len, FwWatchState *state, FwWatchReportFunc func, gpointer user_data)
{
  WatchWalk w = { state, func, user_data };
  fw_nlmsg_walk (buf, len, watch_message, &w);
}

static void
report_cb (gboolean deleted, int pid, const char *process, gpointer user_data)
{
  CordonFirewallWatch *w = user_data;
  g_autofree char *name = process ? g_strescape (process, NULL) : NULL;
  w->func (deleted ? CORDON_FIREWALL_CHANGE_DELETED : CORDON_FIREWALL_CHANGE_DAMAGED, pid, name, w->user_data);
}

static gboolean
readable_cb (int fd, GIOCondition condition, gpointer user_data)
{
  CordonFirewallWatch *w = user_data;

  for (guint n = 0; n < 64; n++) {
    ssize_t got = recv (fd, w->buf, RECV_SIZE, MSG_DONTWAIT);
    if (got < 0) {
      if (errno == EINTR)
        continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK)
        break;
      if (errno == ENOBUFS) {
        /* Events were lost: whether the table survived is unknown. */
        memset (&w->state, 0, sizeof w->state);
        w->func (CORDON_FIREWALL_CHANGE_UNKNOWN, 0, NULL, w->user_data);
        continue;
      }
      g_warning ("firewall watch: reading nftables events: %s; no longer watching", g_strerror (errno));
      w->source = NULL;
      return G_SOURCE_REMOVE;
    }
    if (got == 0)
      break;
    fw_watch_parse (w->buf, (gsize) got, &w->state, report_cb, w);
  }
  return G_SOURCE_CONTINUE;
}

CordonFirewallWatch *
cordon_firewall_watch_new (CordonFirewallWatchFunc func, gpointer user_data, GError **error)
{
  g_autoptr (CordonFirewallWatch) w = g_new0 (CordonFirewallWatch, 1);
  w->func = func;
  w->user_data = user_data;
  w->buf = g_malloc (RECV_SIZE);

  w->nl = mnl_socket_open (NETLINK_NETFILTER);
  if (!w->nl || mnl_socket_bind (w->nl, 1u << (NFNLGRP_NFTABLES - 1), MNL_SOCKET_AUTOPID) < 0) {
    int e = errno;
    g_set_error (error, CORDON_FIREWALL_ERROR, CORDON_FIREWALL_ERROR_KERNEL,
                 "cannot watch nftables events (NFNLGRP_NFTABLES): %s", g_strerror (e));
    return NULL;
  }
  int size = 1 << 20;
  int fd = mnl_socket_get_fd (w->nl);
  if (setsockopt (fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) < 0)
    setsockopt (fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);

  w->source = g_unix_fd_source_new (fd, G_IO_IN);
  g_source_set_callback (w->source, (GSourceFunc) (void (*) (void)) readable_cb, w, NULL);
  g_source_attach (w->source, g_main_context_get_thread_default ());
  g_source_unref (w->source);
  return g_steal_pointer (&w);
}

void
cordon_firewall_watch_free (CordonFirewallWatch *w)
{
  if (!w)
    return;
  if (w->source)
    g_source_destroy (w->source);
  if (w->nl)
    mnl_socket_close (w->nl);
  g_free (w->buf);
  g_free (w);
}
