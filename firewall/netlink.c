/* cordon — rule description → one libnftnl batch over libmnl.
 *
 * The expressions are the ones nft itself generates for the text that
 * render.c writes (dependencies such as `meta nfproto` included), so that the
 * kernel holds exactly what `cordon firewall plan` shows.
 */
#define G_LOG_DOMAIN "cordon-firewall"

#include "firewall-private.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nf_conntrack_tuple_common.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/object.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>

typedef struct mnl_socket FwMnlSocket;
typedef struct nftnl_table FwNftTable;
typedef struct nftnl_chain FwNftChain;
typedef struct nftnl_set FwNftSet;
typedef struct nftnl_obj FwNftObj;
typedef struct nftnl_rule FwNftRule;
typedef struct nftnl_udata_buf FwUdataBuf;

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FwMnlSocket, mnl_socket_close)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FwNftTable, nftnl_table_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FwNftChain, nftnl_chain_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FwNftSet, nftnl_set_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FwNftObj, nftnl_obj_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FwNftRule, nftnl_rule_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FwUdataBuf, nftnl_udata_buf_free)

#define BATCH_SIZE (8u << 20)
#define BATCH_HEADROOM (256u << 10)
#define ELEMENTS_PER_MESSAGE 128
#define TYPE_IPADDR 7          /* nft's datatype ids for set keys */
#define TYPE_IP6ADDR 8
#define NFT_BYTEORDER_BIG_ENDIAN 2

/* Socket. */

static FwMnlSocket *
open_socket (const char *doing, GError **error)
{
  g_autoptr (FwMnlSocket) nl = mnl_socket_open (NETLINK_NETFILTER);
  if (!nl || mnl_socket_bind (nl, 0, MNL_SOCKET_AUTOPID) < 0) {
    int e = errno;
    g_set_error (error, CORDON_FIREWALL_ERROR, CORDON_FIREWALL_ERROR_KERNEL,
                 "%s: cannot open the nftables netlink socket: %s", doing, g_strerror (e));
    return NULL;
  }
  return g_steal_pointer (&nl);
}

/* Dumps: the names (and for chains, hooks) of what table inet cordon holds. */

typedef struct {
  guint16 msg;
  GPtrArray *found;   /* of nftnl objects, typed by msg */
} DumpData;

static int
dump_cb (const struct nlmsghdr *nlh, void *data)
{
  DumpData *d = data;
  const char *table = NULL;

  switch (d->msg) {
  case NFT_MSG_GETCHAIN: {
    struct nftnl_chain *c = nftnl_chain_alloc ();
    if (nftnl_chain_nlmsg_parse (nlh, c) < 0) {
      nftnl_chain_free (c);
      return MNL_CB_ERROR;
    }
    table = nftnl_chain_get_str (c, NFTNL_CHAIN_TABLE);
    if (g_strcmp0 (table, CORDON_FIREWALL_TABLE) == 0 && nftnl_chain_get_u32 (c, NFTNL_CHAIN_FAMILY) == NFPROTO_INET)
      g_ptr_array_add (d->found, c);
    else
      nftnl_chain_free (c);
    break;
  }
  case NFT_MSG_GETSET: {
    struct nftnl_set *s = nftnl_set_alloc ();
    if (nftnl_set_nlmsg_parse (nlh, s) < 0) {
      nftnl_set_free (s);
      return MNL_CB_ERROR;
    }
    table = nftnl_set_get_str (s, NFTNL_SET_TABLE);
    if (g_strcmp0 (table, CORDON_FIREWALL_TABLE) == 0 && nftnl_set_get_u32 (s, NFTNL_SET_FAMILY) == NFPROTO_INET)
      g_ptr_array_add (d->found, s);
    else
      nftnl_set_free (s);
    break;
  }
  case NFT_MSG_GETOBJ: {
    struct nftnl_obj *o = nftnl_obj_alloc ();
    if (nftnl_obj_nlmsg_parse (nlh, o) < 0) {
      nftnl_obj_free (o);
      return MNL_CB_ERROR;
    }
    table = nftnl_obj_get_str (o, NFTNL_OBJ_TABLE);
    if (g_strcmp0 (table, CORDON_FIREWALL_TABLE) == 0 && nftnl_obj_get_u32 (o, NFTNL_OBJ_FAMILY) == NFPROTO_INET
        && nftnl_obj_get_u32 (o, NFTNL_OBJ_TYPE) == NFT_OBJECT_COUNTER)
      g_ptr_array_add (d->found, o);
    else
      nftnl_obj_free (o);
    break;
  }
  }
  return MNL_CB_OK;
}

static void free_chain_cb (gpointer p) { nftnl_chain_free (p); }
static void free_set_cb (gpointer p) { nftnl_set_free (p); }
static void free_obj_cb (gpointer p) { nftnl_obj_free (p); }

/* Lists chains, sets or counters of table inet cordon; an absent table lists
 * as empty. */
static GPtrArray *
dump (FwMnlSocket *nl, guint16 msg, const char *doing, GError **error)
{
  g_autofree char *buf = g_malloc (MNL_SOCKET_BUFFER_SIZE * 4);
  guint32 seq = (guint32) g_get_monotonic_time ();
  guint32 portid = mnl_socket_get_portid (nl);
  struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr (buf, msg, NFPROTO_INET, NLM_F_DUMP, seq);
  GDestroyNotify free_func = msg == NFT_MSG_GETCHAIN ? free_chain_cb : msg == NFT_MSG_GETSET ? free_set_cb : free_obj_cb;
  DumpData d = { msg, g_ptr_array_new_with_free_func (free_func) };
  g_autoptr (GPtrArray) found = d.found;
  int ret;

  /* The table filter narrows the kernel's walk; dump_cb checks it again. */
  mnl_attr_put_strz (nlh, msg == NFT_MSG_GETCHAIN ? NFTA_CHAIN_TABLE : msg == NFT_MSG_GETSET ? NFTA_SET_TABLE : NFTA_OBJ_TABLE,
                     CORDON_FIREWALL_TABLE);
  if (msg == NFT_MSG_GETOBJ)
    mnl_attr_put_u32 (nlh, NFTA_OBJ_TYPE, htonl (NFT_OBJECT_COUNTER));

  if (mnl_socket_sendto (nl, nlh, nlh->nlmsg_len) < 0) {
    int e = errno;
    g_set_error (error, CORDON_FIREWALL_ERROR, CORDON_FIREWALL_ERROR_KERNEL, "%s: %s", doing, g_strerror (e));
    return NULL;
  }
  while ((ret = mnl_socket_recvfrom (nl, buf, MNL_SOCKET_BUFFER_SIZE * 4)) > 0) {
    ret = mnl_cb_run (buf, ret, seq, portid, dump_cb, &d);
    if (ret <= MNL_CB_STOP)
      break;
  }
  if (ret < 0) {
    int e = errno;
    if (e == ENOENT)
      return g_steal_pointer (&found);
    g_set_error (error, CORDON_FIREWALL_ERROR, CORDON_FIREWALL_ERROR_KERNEL, "%s: %s", doing, g_strerror (e));
    return NULL;
  }
  return g_steal_pointer (&found);
}

/* Batch: every message carries a description of what it does, so that a
 * refusal names the rule, set or chain the kernel objected to. */

typedef struct {
  char *buf;
  struct mnl_nlmsg_batch *batch;
  guint32 first_seq;
  guint32 seq;
  GPtrArray *doing;   /* char*, indexed by seq - first_seq */
  gboolean overflow;
  guint32 set_id;
} Batch;

static void
batch_free (Batch *b)
{
  if (b->batch)
    mnl_nlmsg_batch_stop (b->batch);
  g_free (b->buf);
  if (b->doing)
    g_ptr_array_unref (b->doing);
  g_free (b);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Batch, batch_free)

static Batch *
batch_new (void)
{
  Batch *b = g_new0 (Batch, 1);
  b->buf = g_malloc0 (BATCH_SIZE);
  b->batch = mnl_nlmsg_batch_start (b->buf, BATCH_SIZE - BATCH_HEADROOM);
  b->first_seq = b->seq = (guint32) g_get_real_time ();
  b->doing = g_ptr_array_new_with_free_func (g_free);
  nftnl_batch_begin (mnl_nlmsg_batch_current (b->batch), b->seq++);
  g_ptr_array_add (b->doing, g_strdup ("starting the batch"));
  if (!mnl_nlmsg_batch_next (b->batch))
    b->overflow = TRUE;
  return b;
}

static struct nlmsghdr *
batch_msg (Batch *b, guint16 msg, guint16 flags, char *doing)
{
  struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr (mnl_nlmsg_batch_current (b->batch), msg, NFPROTO_INET,
                                                flags, b->seq++);
  g_ptr_array_add (b->doing, doing);
  return nlh;
}

static void
batch_next (Batch *b)
{
  if (!mnl_nlmsg_batch_next (b->batch))
    b->overflow = TRUE;
}

/* Sends the batch and collects the kernel's verdict. nfnetlink handles the
 * batch inside sendmsg(), so every error is queued when sendto() returns; a
 * batch without NLM_F_ACK that succeeds gets no reply at all. */
static gboolean
batch_send (FwMnlSocket *nl, Batch *b, const char *what, int *kernel_errno, GError **error)
{
  nftnl_batch_end (mnl_nlmsg_batch_current (b->batch), b->seq++);
  g_ptr_array_add (b->doing, g_strdup ("ending the batch"));
  batch_next (b);
  if (b->overflow) {
    g_set_error (error, CORDON_FIREWALL_ERROR, CORDON_FIREWALL_ERROR_FAILED,
                 "%s: the ruleset is larger than %u bytes", what, BATCH_SIZE - BATCH_HEADROOM);
    return FALSE;
  }

  int fd = mnl_socket_get_fd (nl);
  int size = (int) mnl_nlmsg_batch_size (b->batch) + 65536;
  if (setsockopt (fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size) < 0)
    setsockopt (fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);

  if (mnl_socket_sendto (nl, mnl_nlmsg_batch_head (b->batch), mnl_nlmsg_batch_size (b->batch)) < 0) {
    int e = errno;
    g_set_error (error, CORDON_FIREWALL_ERROR, CORDON_FIREWALL_ERROR_KERNEL,
                 "%s: sending the netlink batch: %s", what, g_strerror (e));
    return FALSE;
  }

  g_autofree char *rbuf = g_malloc (256 * 1024);
  int first_errno = 0;
  guint32 first_seq = 0;
  for (;;) {
    ssize_t n = recv (fd, rbuf, 256 * 1024, MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK && !first_errno)
        first_errno = errno;
      break;
    }
    if (n == 0)
      break;
    int len = (int) n;
    for (const struct nlmsghdr *nlh = (const struct nlmsghdr *) rbuf; mnl_nlmsg_ok (nlh, len);
         nlh = mnl_nlmsg_next (nlh, &len)) {
      if (nlh->nlmsg_type != NLMSG_ERROR || nlh->nlmsg_len < mnl_nlmsg_size (sizeof (struct nlmsgerr)))
        continue;
      const struct nlmsgerr *err = mnl_nlmsg_get_payload (nlh);
      if (err->error != 0 && !first_errno) {
        first_errno = -err->error;
        first_seq = err->msg.nlmsg_seq;
      }
    }
  }
  if (kernel_errno)
    *kernel_errno = first_errno;
  if (first_errno) {
    guint idx = first_seq - b->first_seq;
    const char *doing = first_seq && idx < b->doing->len ? g_ptr_array_index (b->doing, idx) : "processing the batch";
    g_set_error (error, CORDON_FIREWALL_ERROR, CORDON_FIREWALL_ERROR_KERNEL,
                 "%s: %s: %s (nothing was changed)", what, doing, g_strerror (first_errno));
    return FALSE;
  }
  return TRUE;
}

/* Expressions. */

static void
add_expr (struct nftnl_rule *r, struct nftnl_expr *e)
{
  nftnl_rule_add_expr (r, e);
}

static void
e_meta (struct nftnl_rule *r, guint32 key)
{
  struct nftnl_expr *e = nftnl_expr_alloc ("meta");
  nftnl_expr_set_u32 (e, NFTNL_EXPR_META_KEY, key);
  nftnl_expr_set_u32 (e, NFTNL_EXPR_META_DREG, NFT_REG_1);
  add_expr (r, e);
}

static void
e_cmp (struct nftnl_rule *r, gboolean negate, const void *data, guint32 len)
{
  struct nftnl_expr *e = nftnl_expr_alloc ("cmp");
  nftnl_expr_set_u32 (e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
  nftnl_expr_set_u32 (e, NFTNL_EXPR_CMP_OP, negate ? NFT_CMP_NEQ : NFT_CMP_EQ);
  nftnl_expr_set (e, NFTNL_EXPR_CMP_DATA, data, len);
  add_expr (r, e);
}

static void
e_payload (struct nftnl_rule *r, guint32 base, guint32 offset, guint32 len)
{
  struct nftnl_expr *e = nftnl_expr_alloc ("payload");
  nftnl_expr_set_u32 (e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
  nftnl_expr_set_u32 (e, NFTNL_EXPR_PAYLOAD_BASE, base);
  nftnl_expr_set_u32 (e, NFTNL_EXPR_PAYLOAD_OFFSET, offset);
  nftnl_expr_set_u32 (e, NFTNL_EXPR_PAYLOAD_LEN, len);
  add_expr (r, e);
}

static void
e_verdict (struct nftnl_rule *r, int verdict, const char *chain)
{
  struct nftnl_expr *e = nftnl_expr_alloc ("immediate");
  nftnl_expr_set_u32 (e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
  nftnl_expr_set_u32 (e, NFTNL_EXPR_IMM_VERDICT, (guint32) verdict);
  if (chain)
    nftnl_expr_set_str (e, NFTNL_EXPR_IMM_CHAIN, chain);
  add_expr (r, e);
}

/* A key of the connection's original direction (who opened it, to where). */
static void
e_ct_original (struct nftnl_rule *r, guint32 key)
{
  struct nftnl_expr *e = nftnl_expr_alloc ("ct");
  nftnl_expr_set_u32 (e, NFTNL_EXPR_CT_KEY, key);
  nftnl_expr_set_u8 (e, NFTNL_EXPR_CT_DIR, IP_CT_DIR_ORIGINAL);
  nftnl_expr_set_u32 (e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
  add_expr (r, e);
}

typedef struct {
  int nfproto;    /* dependency already in the rule: 0, NFPROTO_IPV4/IPV6 */
  int l4proto;    /* -1 when not yet matched */
  gboolean iiftype;
} Deps;

static void
need_nfproto (struct nftnl_rule *r, Deps *deps, int family)
{
  guint8 proto = family == 4 ? NFPROTO_IPV4 : NFPROTO_IPV6;
  if (deps->nfproto == proto)
    return;
  e_meta (r, NFT_META_NFPROTO);
  e_cmp (r, FALSE, &proto, 1);
  deps->nfproto = proto;
}

static void
need_l4proto (struct nftnl_rule *r, Deps *deps, guint8 proto)
{
  if (deps->l4proto == proto)
    return;
  e_meta (r, NFT_META_L4PROTO);
  e_cmp (r, FALSE, &proto, 1);
  deps->l4proto = proto;
}

static guint32
set_id_for (const FwRuleset *rs, const char *name)
{
  for (guint i = 0; i < rs->sets->len; i++)
    if (strcmp (((FwSet *) g_ptr_array_index (rs->sets, i))->name, name) == 0)
      return i + 1;
  return 0;
}

static void
build_item (struct nftnl_rule *r, Deps *deps, const FwRuleset *rs, const FwItem *it)
{
  struct nftnl_expr *e;

  switch (it->kind) {
  case FW_IIFNAME:
  case FW_OIFNAME: {
    char name[IFNAMSIZ] = { 0 };
    g_strlcpy (name, it->text, sizeof name);
    e_meta (r, it->kind == FW_IIFNAME ? NFT_META_IIFNAME : NFT_META_OIFNAME);
    e_cmp (r, it->negate, name, sizeof name);
    break;
  }
  case FW_SADDR:
  case FW_DADDR:
    need_nfproto (r, deps, it->family);
    if (it->family == 4)
      e_payload (r, NFT_PAYLOAD_NETWORK_HEADER, it->kind == FW_SADDR ? 12 : 16, 4);
    else
      e_payload (r, NFT_PAYLOAD_NETWORK_HEADER, it->kind == FW_SADDR ? 8 : 24, 16);
    e_cmp (r, it->negate, it->addr, it->family == 4 ? 4 : 16);
    break;
  case FW_SADDR_SET:
  case FW_DADDR_SET:
    need_nfproto (r, deps, it->family);
    if (it->family == 4)
      e_payload (r, NFT_PAYLOAD_NETWORK_HEADER, it->kind == FW_SADDR_SET ? 12 : 16, 4);
    else
      e_payload (r, NFT_PAYLOAD_NETWORK_HEADER, it->kind == FW_SADDR_SET ? 8 : 24, 16);
    e = nftnl_expr_alloc ("lookup");
    nftnl_expr_set_u32 (e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
    nftnl_expr_set_str (e, NFTNL_EXPR_LOOKUP_SET, it->text);
    nftnl_expr_set_u32 (e, NFTNL_EXPR_LOOKUP_SET_ID, set_id_for (rs, it->text));
    if (it->negate)
      nftnl_expr_set_u32 (e, NFTNL_EXPR_LOOKUP_FLAGS, NFT_LOOKUP_F_INV);
    add_expr (r, e);
    break;
  case FW_SKUID: {
    guint32 uid = it->value;
    e_meta (r, NFT_META_SKUID);
    e_cmp (r, FALSE, &uid, 4);
    break;
  }
  case FW_CT_ORIG_DADDR:
    need_nfproto (r, deps, it->family);
    e_ct_original (r, it->family == 4 ? NFT_CT_DST_IP : NFT_CT_DST_IP6);
    e_cmp (r, FALSE, it->addr, it->family == 4 ? 4 : 16);
    break;
  case FW_CT_ORIG_PROTO: {
    guint8 proto = (guint8) it->value;
    e_ct_original (r, NFT_CT_PROTOCOL);
    e_cmp (r, FALSE, &proto, 1);
    break;
  }
  case FW_CT_ORIG_DPORT: {
    guint16 port = htons ((guint16) it->value);
    e_ct_original (r, NFT_CT_PROTO_DST);
    e_cmp (r, FALSE, &port, 2);
    break;
  }
  case FW_L4PROTO:
    need_l4proto (r, deps, (guint8) it->value);
    break;
  case FW_PKTTYPE: {
    guint8 type = (guint8) it->value;
    e_meta (r, NFT_META_PKTTYPE);
    e_cmp (r, it->negate, &type, 1);
    break;
  }
  case FW_SPORT:
  case FW_DPORT: {
    guint16 port = htons ((guint16) it->value);
    need_l4proto (r, deps, it->proto);
    e_payload (r, NFT_PAYLOAD_TRANSPORT_HEADER, it->kind == FW_SPORT ? 0 : 2, 2);
    e_cmp (r, FALSE, &port, 2);
    break;
  }
  case FW_DPORT_MIN: {
    guint16 port = htons ((guint16) it->value);
    need_l4proto (r, deps, it->proto);
    e_payload (r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2);
    e = nftnl_expr_alloc ("cmp");
    nftnl_expr_set_u32 (e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
    nftnl_expr_set_u32 (e, NFTNL_EXPR_CMP_OP, NFT_CMP_GTE);
    nftnl_expr_set (e, NFTNL_EXPR_CMP_DATA, &port, 2);
    add_expr (r, e);
    break;
  }
  case FW_ICMPV6_TYPE: {
    guint8 type = (guint8) it->value;
    need_l4proto (r, deps, IPPROTO_ICMPV6);
    e_payload (r, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1);
    e_cmp (r, FALSE, &type, 1);
    break;
  }
  case FW_HOPLIMIT: {
    guint8 hl = (guint8) it->value;
    need_nfproto (r, deps, 6);
    e_payload (r, NFT_PAYLOAD_NETWORK_HEADER, 7, 1);
    e_cmp (r, FALSE, &hl, 1);
    break;
  }
  case FW_CT_STATE: {
    guint32 mask = it->value, zero = 0;
    e = nftnl_expr_alloc ("ct");
    nftnl_expr_set_u32 (e, NFTNL_EXPR_CT_KEY, NFT_CT_STATE);
    nftnl_expr_set_u32 (e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
    add_expr (r, e);
    e = nftnl_expr_alloc ("bitwise");
    nftnl_expr_set_u32 (e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
    nftnl_expr_set_u32 (e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
    nftnl_expr_set_u32 (e, NFTNL_EXPR_BITWISE_LEN, 4);
    nftnl_expr_set (e, NFTNL_EXPR_BITWISE_MASK, &mask, 4);
    nftnl_expr_set (e, NFTNL_EXPR_BITWISE_XOR, &zero, 4);
    add_expr (r, e);
    e_cmp (r, TRUE, &zero, 4);
    break;
  }
  case FW_ETHER_SADDR: {
    guint16 ether = ARPHRD_ETHER;
    if (!deps->iiftype) {
      e_meta (r, NFT_META_IIFTYPE);
      e_cmp (r, FALSE, &ether, 2);
      deps->iiftype = TRUE;
    }
    e_payload (r, NFT_PAYLOAD_LL_HEADER, 6, 6);
    e_cmp (r, it->negate, it->addr, 6);
    break;
  }
  case FW_COUNTER:
    add_expr (r, nftnl_expr_alloc ("counter"));
    break;
  case FW_COUNTER_REF:
    e = nftnl_expr_alloc ("objref");
    nftnl_expr_set_u32 (e, NFTNL_EXPR_OBJREF_IMM_TYPE, NFT_OBJECT_COUNTER);
    nftnl_expr_set_str (e, NFTNL_EXPR_OBJREF_IMM_NAME, it->text);
    add_expr (r, e);
    break;
  case FW_LIMIT:
    e = nftnl_expr_alloc ("limit");
    nftnl_expr_set_u64 (e, NFTNL_EXPR_LIMIT_RATE, it->value);
    nftnl_expr_set_u64 (e, NFTNL_EXPR_LIMIT_UNIT, 1);
    nftnl_expr_set_u32 (e, NFTNL_EXPR_LIMIT_BURST, FW_LOG_BURST);
    nftnl_expr_set_u32 (e, NFTNL_EXPR_LIMIT_TYPE, NFT_LIMIT_PKTS);
    nftnl_expr_set_u32 (e, NFTNL_EXPR_LIMIT_FLAGS, 0);
    add_expr (r, e);
    break;
  case FW_LOG:
    e = nftnl_expr_alloc ("log");
    nftnl_expr_set_u16 (e, NFTNL_EXPR_LOG_GROUP, (guint16) it->value);
    add_expr (r, e);
    break;
  case FW_ACCEPT:
    e_verdict (r, NF_ACCEPT, NULL);
    break;
  case FW_DROP:
    e_verdict (r, NF_DROP, NULL);
    break;
  case FW_RETURN:
    e_verdict (r, NFT_RETURN, NULL);
    break;
  case FW_JUMP:
    e_verdict (r, NFT_JUMP, it->text);
    break;
  }
}

static gboolean
find_chain (const FwRuleset *rs, const char *name, FwHook *hook)
{
  for (guint i = 0; i < rs->chains->len; i++) {
    const FwChain *c = g_ptr_array_index (rs->chains, i);
    if (strcmp (c->name, name) == 0) {
      *hook = c->hook;
      return TRUE;
    }
  }
  return FALSE;
}

/* Whether an existing chain can be kept (and updated in place): same hook
 * and priority, or both regular. */
static gboolean
chain_compatible (struct nftnl_chain *old, FwHook hook)
{
  gboolean old_base = nftnl_chain_is_set (old, NFTNL_CHAIN_HOOKNUM);
  if (hook == FW_HOOK_NONE)
    return !old_base;
  return old_base && nftnl_chain_get_u32 (old, NFTNL_CHAIN_HOOKNUM) == (guint32) hook
         && (gint32) nftnl_chain_get_u32 (old, NFTNL_CHAIN_PRIO) == FW_PRIORITY
         && g_strcmp0 (nftnl_chain_get_str (old, NFTNL_CHAIN_TYPE), "filter") == 0;
}

static void
add_elements (Batch *b, const FwSet *set, guint32 id)
{
  guint keylen = set->family == 4 ? 4 : 16;
  g_autoptr (GArray) keys = g_array_new (FALSE, TRUE, sizeof (FwElement));  /* prefix = end flag */

  for (guint i = 0; i < set->elements->len; i++) {
    const FwElement *e = &g_array_index (set->elements, FwElement, i);
    if (!set->interval) {
      FwElement k = *e;
      k.prefix = 0;
      g_array_append_val (keys, k);
      continue;
    }
    /* As nft sends intervals: a start key, and an end key (flagged) at the
     * first address after the prefix; a leading end marker at zero unless the
     * first interval starts there; no end when the prefix runs to the top. */
    if (i == 0) {
      static const guint8 zero[16];
      if (memcmp (e->addr, zero, keylen) != 0) {
        FwElement k = { .prefix = 1 };
        g_array_append_val (keys, k);
      }
    }
    FwElement start = { .prefix = 0 };
    memcpy (start.addr, e->addr, keylen);
    g_array_append_val (keys, start);

    FwElement end = { .prefix = 1 };
    memcpy (end.addr, e->addr, keylen);
    gboolean carry = TRUE;
    if (e->prefix > 0) {
      /* Add 1 at bit e->prefix - 1 (counting from the most significant). */
      int byte = (e->prefix - 1) / 8;
      guint add = 1u << (7 - (e->prefix - 1) % 8);
      for (; byte >= 0 && carry; byte--) {
        guint v = end.addr[byte] + add;
        end.addr[byte] = (guint8) v;
        carry = v > 0xff;
        add = 1;
      }
    }
    if (!carry)
      g_array_append_val (keys, end);
  }

  for (guint start = 0; start < keys->len; start += ELEMENTS_PER_MESSAGE) {
    g_autoptr (FwNftSet) s = nftnl_set_alloc ();
    nftnl_set_set_str (s, NFTNL_SET_TABLE, CORDON_FIREWALL_TABLE);
    nftnl_set_set_str (s, NFTNL_SET_NAME, set->name);
    nftnl_set_set_u32 (s, NFTNL_SET_ID, id);
    for (guint i = start; i < keys->len && i < start + ELEMENTS_PER_MESSAGE; i++) {
      const FwElement *k = &g_array_index (keys, FwElement, i);
      struct nftnl_set_elem *el = nftnl_set_elem_alloc ();
      nftnl_set_elem_set (el, NFTNL_SET_ELEM_KEY, k->addr, keylen);
      if (k->prefix)
        nftnl_set_elem_set_u32 (el, NFTNL_SET_ELEM_FLAGS, NFT_SET_ELEM_INTERVAL_END);
      nftnl_set_elem_add (s, el);
    }
    struct nlmsghdr *nlh = batch_msg (b, NFT_MSG_NEWSETELEM, NLM_F_CREATE,
                                      g_strdup_printf ("adding the elements of set %s", set->name));
    nftnl_set_elems_nlmsg_build_payload (nlh, s);
    batch_next (b);
  }
}

static void
add_set (Batch *b, const FwSet *set, guint32 id)
{
  g_autoptr (FwNftSet) s = nftnl_set_alloc ();
  g_autoptr (FwUdataBuf) ud = nftnl_udata_buf_alloc (64);

  nftnl_set_set_str (s, NFTNL_SET_TABLE, CORDON_FIREWALL_TABLE);
  nftnl_set_set_str (s, NFTNL_SET_NAME, set->name);
  nftnl_set_set_u32 (s, NFTNL_SET_FAMILY, NFPROTO_INET);
  nftnl_set_set_u32 (s, NFTNL_SET_ID, id);
  nftnl_set_set_u32 (s, NFTNL_SET_KEY_TYPE, set->family == 4 ? TYPE_IPADDR : TYPE_IP6ADDR);
  nftnl_set_set_u32 (s, NFTNL_SET_KEY_LEN, set->family == 4 ? 4 : 16);
  nftnl_set_set_u32 (s, NFTNL_SET_FLAGS, set->interval ? NFT_SET_INTERVAL : 0);
  nftnl_udata_put_u32 (ud, NFTNL_UDATA_SET_KEYBYTEORDER, NFT_BYTEORDER_BIG_ENDIAN);
  nftnl_set_set_data (s, NFTNL_SET_USERDATA, nftnl_udata_buf_data (ud), nftnl_udata_buf_len (ud));

  struct nlmsghdr *nlh = batch_msg (b, NFT_MSG_NEWSET, NLM_F_CREATE | NLM_F_EXCL,
                                    g_strdup_printf ("adding set %s", set->name));
  nftnl_set_nlmsg_build_payload (nlh, s);
  batch_next (b);
  if (set->elements->len)
    add_elements (b, set, id);
}

static void
add_rule (Batch *b, const FwRuleset *rs, const FwRule *rule, guint position)
{
  g_autoptr (FwNftRule) r = nftnl_rule_alloc ();
  Deps deps = { 0, -1, FALSE };

  nftnl_rule_set_str (r, NFTNL_RULE_TABLE, CORDON_FIREWALL_TABLE);
  nftnl_rule_set_str (r, NFTNL_RULE_CHAIN, rule->chain);
  nftnl_rule_set_u32 (r, NFTNL_RULE_FAMILY, NFPROTO_INET);
  for (guint i = 0; i < rule->items->len; i++)
    build_item (r, &deps, rs, &g_array_index (rule->items, FwItem, i));
  if (rule->comment) {
    g_autoptr (FwUdataBuf) ud = nftnl_udata_buf_alloc (NFT_USERDATA_MAXLEN);
    nftnl_udata_put_strz (ud, NFTNL_UDATA_RULE_COMMENT, rule->comment);
    nftnl_rule_set_data (r, NFTNL_RULE_USERDATA, nftnl_udata_buf_data (ud), nftnl_udata_buf_len (ud));
  }
  struct nlmsghdr *nlh = batch_msg (b, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND,
                                    g_strdup_printf ("adding rule %u of chain %s%s%s%s", position, rule->chain,
                                                     rule->comment ? " (" : "", rule->comment ? rule->comment : "",
                                                     rule->comment ? ")" : ""));
  nftnl_rule_nlmsg_build_payload (nlh, r);
  batch_next (b);
}

static void
put_named (Batch *b, guint16 msg, guint16 flags, const char *name, char *doing)
{
  struct nlmsghdr *nlh = batch_msg (b, msg, flags, doing);
  if (msg == NFT_MSG_NEWTABLE || msg == NFT_MSG_DELTABLE) {
    g_autoptr (FwNftTable) t = nftnl_table_alloc ();
    nftnl_table_set_str (t, NFTNL_TABLE_NAME, CORDON_FIREWALL_TABLE);
    nftnl_table_set_u32 (t, NFTNL_TABLE_FAMILY, NFPROTO_INET);
    /* Never NFT_TABLE_F_OWNER: an owned table vanishes with cordon's socket,
     * and the cameras would be free again (fail open). */
    if (msg == NFT_MSG_NEWTABLE)
      nftnl_table_set_u32 (t, NFTNL_TABLE_FLAGS, 0);
    nftnl_table_nlmsg_build_payload (nlh, t);
  } else if (msg == NFT_MSG_DELRULE) {
    g_autoptr (FwNftRule) r = nftnl_rule_alloc ();
    nftnl_rule_set_str (r, NFTNL_RULE_TABLE, CORDON_FIREWALL_TABLE);
    nftnl_rule_set_u32 (r, NFTNL_RULE_FAMILY, NFPROTO_INET);
    nftnl_rule_nlmsg_build_payload (nlh, r);
  } else if (msg == NFT_MSG_DELCHAIN) {
    g_autoptr (FwNftChain) c = nftnl_chain_alloc ();
    nftnl_chain_set_str (c, NFTNL_CHAIN_TABLE, CORDON_FIREWALL_TABLE);
    nftnl_chain_set_str (c, NFTNL_CHAIN_NAME, name);
    nftnl_chain_nlmsg_build_payload (nlh, c);
  } else if (msg == NFT_MSG_DELSET) {
    g_autoptr (FwNftSet) s = nftnl_set_alloc ();
    nftnl_set_set_str (s, NFTNL_SET_TABLE, CORDON_FIREWALL_TABLE);
    nftnl_set_set_str (s, NFTNL_SET_NAME, name);
    nftnl_set_nlmsg_build_payload (nlh, s);
  } else if (msg == NFT_MSG_NEWOBJ || msg == NFT_MSG_DELOBJ) {
    g_autoptr (FwNftObj) o = nftnl_obj_alloc ();
    nftnl_obj_set_str (o, NFTNL_OBJ_TABLE, CORDON_FIREWALL_TABLE);
    nftnl_obj_set_str (o, NFTNL_OBJ_NAME, name);
    nftnl_obj_set_u32 (o, NFTNL_OBJ_TYPE, NFT_OBJECT_COUNTER);
    nftnl_obj_nlmsg_build_payload (nlh, o);
  }
  batch_next (b);
}

gboolean
fw_netlink_apply (const FwRuleset *rs, GError **error)
{
  const char *what = "cannot apply table inet " CORDON_FIREWALL_TABLE;
  g_autoptr (FwMnlSocket) nl = open_socket (what, error);
  if (!nl)
    return FALSE;

  g_autoptr (GPtrArray) old_chains = dump (nl, NFT_MSG_GETCHAIN, "listing the chains of table inet cordon", error);
  if (!old_chains)
    return FALSE;
  g_autoptr (GPtrArray) old_sets = dump (nl, NFT_MSG_GETSET, "listing the sets of table inet cordon", error);
  if (!old_sets)
    return FALSE;
  g_autoptr (GPtrArray) old_objs = dump (nl, NFT_MSG_GETOBJ, "listing the counters of table inet cordon", error);
  if (!old_objs)
    return FALSE;

  g_autoptr (Batch) b = batch_new ();
  g_autoptr (GHashTable) kept_chains = g_hash_table_new (g_str_hash, g_str_equal);

  /* Create the table if missing (no EXCL), then clear it in place: all rules
   * go, so no set, chain or counter is in use any more within the batch. */
  put_named (b, NFT_MSG_NEWTABLE, NLM_F_CREATE, NULL, g_strdup ("adding table inet cordon"));
  put_named (b, NFT_MSG_DELRULE, 0, NULL, g_strdup ("flushing the rules of table inet cordon"));
  for (guint i = 0; i < old_sets->len; i++) {
    const char *name = nftnl_set_get_str (g_ptr_array_index (old_sets, i), NFTNL_SET_NAME);
    put_named (b, NFT_MSG_DELSET, 0, name, g_strdup_printf ("replacing set %s", name));
  }
  for (guint i = 0; i < old_chains->len; i++) {
    struct nftnl_chain *c = g_ptr_array_index (old_chains, i);
    const char *name = nftnl_chain_get_str (c, NFTNL_CHAIN_NAME);
    FwHook hook;
    if (find_chain (rs, name, &hook) && chain_compatible (c, hook))
      g_hash_table_add (kept_chains, (gpointer) name);
    else
      put_named (b, NFT_MSG_DELCHAIN, 0, name, g_strdup_printf ("deleting chain %s", name));
  }
  /* Counters of cameras still configured stay, with their values. */
  for (guint i = 0; i < old_objs->len; i++) {
    const char *name = nftnl_obj_get_str (g_ptr_array_index (old_objs, i), NFTNL_OBJ_NAME);
    gboolean wanted = FALSE;
    for (guint j = 0; j < rs->counters->len && !wanted; j++)
      wanted = strcmp (((FwCounter *) g_ptr_array_index (rs->counters, j))->name, name) == 0;
    if (!wanted)
      put_named (b, NFT_MSG_DELOBJ, 0, name, g_strdup_printf ("deleting counter %s", name));
  }

  for (guint i = 0; i < rs->chains->len; i++) {
    const FwChain *chain = g_ptr_array_index (rs->chains, i);
    g_autoptr (FwNftChain) c = nftnl_chain_alloc ();
    nftnl_chain_set_str (c, NFTNL_CHAIN_TABLE, CORDON_FIREWALL_TABLE);
    nftnl_chain_set_str (c, NFTNL_CHAIN_NAME, chain->name);
    nftnl_chain_set_u32 (c, NFTNL_CHAIN_FAMILY, NFPROTO_INET);
    if (chain->hook != FW_HOOK_NONE) {
      nftnl_chain_set_u32 (c, NFTNL_CHAIN_HOOKNUM, (guint32) chain->hook);
      nftnl_chain_set_s32 (c, NFTNL_CHAIN_PRIO, FW_PRIORITY);
      nftnl_chain_set_str (c, NFTNL_CHAIN_TYPE, "filter");
      nftnl_chain_set_u32 (c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
    }
    gboolean kept = g_hash_table_contains (kept_chains, chain->name);
    struct nlmsghdr *nlh = batch_msg (b, NFT_MSG_NEWCHAIN, NLM_F_CREATE,
                                      g_strdup_printf ("%s chain %s", kept ? "updating" : "adding", chain->name));
    nftnl_chain_nlmsg_build_payload (nlh, c);
    batch_next (b);
  }

  for (guint i = 0; i < rs->sets->len; i++)
    add_set (b, g_ptr_array_index (rs->sets, i), i + 1);

  for (guint i = 0; i < rs->counters->len; i++) {
    const FwCounter *counter = g_ptr_array_index (rs->counters, i);
    put_named (b, NFT_MSG_NEWOBJ, NLM_F_CREATE, counter->name, g_strdup_printf ("adding counter %s", counter->name));
  }

  g_autoptr (GHashTable) positions = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint i = 0; i < rs->rules->len; i++) {
    const FwRule *rule = g_ptr_array_index (rs->rules, i);
    guint pos = GPOINTER_TO_UINT (g_hash_table_lookup (positions, rule->chain)) + 1;
    g_hash_table_insert (positions, rule->chain, GUINT_TO_POINTER (pos));
    add_rule (b, rs, rule, pos);
  }

  return batch_send (nl, b, what, NULL, error);
}

gboolean
fw_netlink_remove (GError **error)
{
  const char *what = "cannot remove table inet " CORDON_FIREWALL_TABLE;
  g_autoptr (FwMnlSocket) nl = open_socket (what, error);
  g_autoptr (GError) local = NULL;
  int kernel_errno = 0;
  if (!nl)
    return FALSE;

  g_autoptr (Batch) b = batch_new ();
  put_named (b, NFT_MSG_DELTABLE, 0, NULL, g_strdup ("deleting table inet cordon"));
  if (batch_send (nl, b, what, &kernel_errno, &local))
    return TRUE;
  /* Already gone is what was asked for. */
  if (kernel_errno == ENOENT)
    return TRUE;
  g_propagate_error (error, g_steal_pointer (&local));
  return FALSE;
}

GHashTable *
fw_netlink_read_counters (GError **error)
{
  g_autoptr (FwMnlSocket) nl = open_socket ("cannot read the counters of table inet cordon", error);
  if (!nl)
    return NULL;
  g_autoptr (GPtrArray) objs = dump (nl, NFT_MSG_GETOBJ, "reading the counters of table inet cordon", error);
  if (!objs)
    return NULL;
  GHashTable *out = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  for (guint i = 0; i < objs->len; i++) {
    struct nftnl_obj *o = g_ptr_array_index (objs, i);
    guint64 *packets = g_new (guint64, 1);
    *packets = nftnl_obj_get_u64 (o, NFTNL_OBJ_CTR_PKTS);
    g_hash_table_insert (out, g_strdup (nftnl_obj_get_str (o, NFTNL_OBJ_NAME)), packets);
  }
  return out;
}

gboolean
fw_netlink_table_present (GError **error)
{
  g_autoptr (FwMnlSocket) nl = open_socket ("cannot look for table inet cordon", error);
  if (!nl)
    return FALSE;
  g_autofree char *buf = g_malloc (MNL_SOCKET_BUFFER_SIZE);
  guint32 seq = (guint32) g_get_monotonic_time ();
  struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr (buf, NFT_MSG_GETTABLE, NFPROTO_INET, NLM_F_ACK, seq);
  g_autoptr (FwNftTable) t = nftnl_table_alloc ();
  nftnl_table_set_str (t, NFTNL_TABLE_NAME, CORDON_FIREWALL_TABLE);
  nftnl_table_nlmsg_build_payload (nlh, t);
  if (mnl_socket_sendto (nl, nlh, nlh->nlmsg_len) < 0) {
    int e = errno;
    g_set_error (error, CORDON_FIREWALL_ERROR, CORDON_FIREWALL_ERROR_KERNEL, "looking for table inet cordon: %s",
                 g_strerror (e));
    return FALSE;
  }
  int ret;
  while ((ret = mnl_socket_recvfrom (nl, buf, MNL_SOCKET_BUFFER_SIZE)) > 0) {
    ret = mnl_cb_run (buf, ret, seq, mnl_socket_get_portid (nl), NULL, NULL);
    if (ret <= MNL_CB_STOP)
      break;
  }
  if (ret < 0) {
    int e = errno;
    if (e != ENOENT)
      g_set_error (error, CORDON_FIREWALL_ERROR, CORDON_FIREWALL_ERROR_KERNEL, "looking for table inet cordon: %s",
                   g_strerror (e));
    return FALSE;
  }
  return TRUE;
}
