/* cordon — MAC pinning in the neighbour table (rtnetlink over libmnl).
 *
 * For a camera with `mac =`, the firewall refuses its address from any other
 * MAC; this is the other direction: a permanent neighbour entry on the camera
 * interface, so that no ARP reply or neighbour advertisement (another camera
 * claiming the address) can steer cordon's connection for one camera to
 * another device. Entries carry cordon's protocol tag, so that those of
 * cameras no longer pinned are removed, and nobody else's are touched.
 */
#define G_LOG_DOMAIN "cordon-firewall"

#include "firewall-private.h"

#include <errno.h>
#include <string.h>
#include <stdio.h>
#include <net/if.h>
#include <sys/socket.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>

#include <libmnl/libmnl.h>

/* NDA_PROTOCOL value marking cordon's entries (kernel 5.2 and later keep it;
 * a free value between the kernel's and routing daemons' numbers). */
#define FW_NEIGH_PROTOCOL 197

typedef struct mnl_socket FwRtSocket;
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FwRtSocket, mnl_socket_close)

typedef struct {
  int family;
  int ifindex;
  guint8 addr[16];
} NeighKey;

static gboolean
talk (FwRtSocket *nl, struct nlmsghdr *nlh, mnl_cb_t cb, gpointer data, GError **error, const char *doing)
{
  g_autofree char *buf = g_malloc (MNL_SOCKET_BUFFER_SIZE);
  guint32 seq = nlh->nlmsg_seq, portid = mnl_socket_get_portid (nl);
  int ret;

  if (mnl_socket_sendto (nl, nlh, nlh->nlmsg_len) < 0) {
    int e = errno;
    g_set_error (error, CORDON_FIREWALL_ERROR, CORDON_FIREWALL_ERROR_KERNEL, "%s: %s", doing, g_strerror (e));
    return FALSE;
  }
  while ((ret = mnl_socket_recvfrom (nl, buf, MNL_SOCKET_BUFFER_SIZE)) > 0) {
    ret = mnl_cb_run (buf, ret, seq, portid, cb, data);
    if (ret <= MNL_CB_STOP)
      break;
  }
  if (ret < 0) {
    int e = errno;
    g_set_error (error, CORDON_FIREWALL_ERROR, CORDON_FIREWALL_ERROR_KERNEL, "%s: %s", doing, g_strerror (e));
    return FALSE;
  }
  return TRUE;
}

typedef struct {
  int ifindex;   /* 0: every interface */
  GArray *ours;  /* NeighKey: cordon-tagged permanent entries on the interface */
} DumpData;

static int
dump_attr_cb (const struct nlattr *attr, void *data)
{
  const struct nlattr **tb = data;
  guint16 type = mnl_attr_get_type (attr);
  if (type <= NDA_MAX)
    tb[type] = attr;
  return MNL_CB_OK;
}

static int
dump_cb (const struct nlmsghdr *nlh, void *data)
{
  DumpData *d = data;
  const struct ndmsg *nd = mnl_nlmsg_get_payload (nlh);
  const struct nlattr *tb[NDA_MAX + 1] = { NULL };

  if (nlh->nlmsg_len < mnl_nlmsg_size (sizeof *nd) || (d->ifindex && nd->ndm_ifindex != d->ifindex)
      || !(nd->ndm_state & NUD_PERMANENT))
    return MNL_CB_OK;
  mnl_attr_parse (nlh, sizeof *nd, dump_attr_cb, tb);
  if (!tb[NDA_DST] || !tb[NDA_PROTOCOL] || mnl_attr_get_payload_len (tb[NDA_PROTOCOL]) != 1
      || mnl_attr_get_u8 (tb[NDA_PROTOCOL]) != FW_NEIGH_PROTOCOL)
    return MNL_CB_OK;
  NeighKey k = { .family = nd->ndm_family == AF_INET ? 4 : 6, .ifindex = nd->ndm_ifindex };
  guint len = mnl_attr_get_payload_len (tb[NDA_DST]);
  if (len != (k.family == 4 ? 4u : 16u))
    return MNL_CB_OK;
  memcpy (k.addr, mnl_attr_get_payload (tb[NDA_DST]), len);
  g_array_append_val (d->ours, k);
  return MNL_CB_OK;
}

static struct nlmsghdr *
neigh_msg (char *buf, guint16 type, guint16 flags, int family, int ifindex, guint8 state)
{
  struct nlmsghdr *nlh = mnl_nlmsg_put_header (buf);
  nlh->nlmsg_type = type;
  nlh->nlmsg_flags = NLM_F_REQUEST | flags;
  nlh->nlmsg_seq = (guint32) g_get_monotonic_time ();
  struct ndmsg *nd = mnl_nlmsg_put_extra_header (nlh, sizeof *nd);
  nd->ndm_family = family;
  nd->ndm_ifindex = ifindex;
  nd->ndm_state = state;
  return nlh;
}

static gboolean
wanted (const CordonConfig *c, const NeighKey *k)
{
  for (guint i = 0; i < c->cameras->len; i++) {
    const CordonCamera *cam = g_ptr_array_index (c->cameras, i);
    gsize size = g_inet_address_get_native_size (cam->address);
    if (cam->mac && size == (k->family == 4 ? 4u : 16u)
        && memcmp (g_inet_address_to_bytes (cam->address), k->addr, size) == 0)
      return TRUE;
  }
  return FALSE;
}

static FwRtSocket *
open_rtnl (GError **error)
{
  g_autoptr (FwRtSocket) nl = mnl_socket_open (NETLINK_ROUTE);
  if (!nl || mnl_socket_bind (nl, 0, MNL_SOCKET_AUTOPID) < 0) {
    int e = errno;
    g_set_error (error, CORDON_FIREWALL_ERROR, CORDON_FIREWALL_ERROR_KERNEL,
                 "MAC pinning: cannot open the rtnetlink socket: %s", g_strerror (e));
    return NULL;
  }
  return g_steal_pointer (&nl);
}

/* Deletes cordon's entries on IFINDEX (0: everywhere) that C does not pin
 * (C NULL: all of them). */
static gboolean
unpin_others (FwRtSocket *nl, int ifindex, const CordonConfig *c, GError **error)
{
  char buf[MNL_SOCKET_BUFFER_SIZE];
  g_autoptr (GArray) ours = g_array_new (FALSE, TRUE, sizeof (NeighKey));
  DumpData d = { ifindex, ours };
  struct nlmsghdr *nlh = neigh_msg (buf, RTM_GETNEIGH, NLM_F_DUMP, AF_UNSPEC, 0, 0);
  if (!talk (nl, nlh, dump_cb, &d, error, "MAC pinning: listing neighbours"))
    return FALSE;
  for (guint i = 0; i < ours->len; i++) {
    const NeighKey *k = &g_array_index (ours, NeighKey, i);
    if (c && wanted (c, k))
      continue;
    nlh = neigh_msg (buf, RTM_DELNEIGH, NLM_F_ACK, k->family == 4 ? AF_INET : AF_INET6, k->ifindex, 0);
    mnl_attr_put (nlh, NDA_DST, k->family == 4 ? 4 : 16, k->addr);
    g_autoptr (GError) local = NULL;
    if (!talk (nl, nlh, NULL, NULL, &local, "MAC pinning: removing an entry"))
      g_warning ("%s", local->message);
  }
  return TRUE;
}

gboolean
fw_neigh_unpin_all (GError **error)
{
  g_autoptr (FwRtSocket) nl = open_rtnl (error);
  return nl && unpin_others (nl, 0, NULL, error);
}

gboolean
fw_neigh_pin (const CordonConfig *c, guint *pinned, GError **error)
{
  char buf[MNL_SOCKET_BUFFER_SIZE];
  *pinned = 0;
  if (c->mode == CORDON_FIREWALL_MODE_OFF || !c->camera_interface)
    return TRUE;
  int ifindex = (int) if_nametoindex (c->camera_interface);
  if (ifindex == 0)
    return TRUE;  /* reported as a missing camera interface */

  g_autoptr (FwRtSocket) nl = open_rtnl (error);
  if (!nl)
    return FALSE;
  /* Entries of cameras no longer pinned (or pinned elsewhere) go first. */
  if (!unpin_others (nl, ifindex, c, error))
    return FALSE;

  struct nlmsghdr *nlh;
  for (guint i = 0; i < c->cameras->len; i++) {
    const CordonCamera *cam = g_ptr_array_index (c->cameras, i);
    guint b[6];
    guint8 mac[6];
    if (!cam->mac || sscanf (cam->mac, "%2x:%2x:%2x:%2x:%2x:%2x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6)
      continue;
    for (guint j = 0; j < 6; j++)
      mac[j] = (guint8) b[j];
    gsize size = g_inet_address_get_native_size (cam->address);
    nlh = neigh_msg (buf, RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE | NLM_F_ACK, size == 4 ? AF_INET : AF_INET6,
                     ifindex, NUD_PERMANENT);
    mnl_attr_put (nlh, NDA_DST, size, g_inet_address_to_bytes (cam->address));
    mnl_attr_put (nlh, NDA_LLADDR, 6, mac);
    mnl_attr_put_u8 (nlh, NDA_PROTOCOL, FW_NEIGH_PROTOCOL);
    g_autofree char *doing = g_strdup_printf ("%s: MAC pinning: adding the permanent neighbour entry %s → %s on %s",
                                              cam->name, cam->host, cam->mac, c->camera_interface);
    if (!talk (nl, nlh, NULL, NULL, error, doing))
      return FALSE;
    (*pinned)++;
  }
  return TRUE;
}
