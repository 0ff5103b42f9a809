/* cordon — phone-home report: what the cameras tried, from the nflog group
 * that the refuse chain logs to. Every byte here comes from a hostile camera:
 * every length is checked against the buffer before it is used. */
#define G_LOG_DOMAIN "cordon-firewall"

#include "firewall-private.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>

#include <glib-unix.h>
#include <libmnl/libmnl.h>

/* Distinct attempts kept per source (each camera, and unknown sources
 * together): a camera that tries thousands of destinations fills only its own
 * share, never another camera's. */
#define MAX_ENTRIES_PER_SOURCE 512
#define COPY_RANGE 512
#define RECV_SIZE (256 * 1024)
#define MAX_EXT_HEADERS 8
#define MAX_DNS_JUMPS 16

/* Parsing. */

static guint16
be16 (const guint8 *p)
{
  return (guint16) ((p[0] << 8) | p[1]);
}

/* Keeps names printable and safe in logs and JSON. */
static char
name_char (guint8 c)
{
  if (g_ascii_isalnum (c) || c == '-' || c == '_' || c == '*')
    return g_ascii_tolower ((char) c);
  return '?';
}

static gboolean
read_qname (const guint8 *buf, gsize len, char *name, gsize name_size)
{
  gsize pos = 12, out = 0;
  guint jumps = 0;

  if (!name || name_size == 0)
    return FALSE;
  name[0] = '\0';
  if (!buf || len < 12 || be16 (buf + 4) == 0)   /* no question */
    return FALSE;
  /* Only queries: a response's name is the camera answering, not asking. */
  if (buf[2] & 0x80)
    return FALSE;

  for (;;) {
    if (pos >= len)
      return FALSE;
    guint8 l = buf[pos];
    if (l == 0)
      break;
    if ((l & 0xc0) == 0xc0) {
      if (pos + 1 >= len || ++jumps > MAX_DNS_JUMPS)
        return FALSE;
      gsize target = ((gsize) (l & 0x3f) << 8) | buf[pos + 1];
      /* Only backwards: a pointer can never make the walk loop. */
      if (target >= pos || target < 12)
        return FALSE;
      pos = target;
      continue;
    }
    if (l & 0xc0)       /* 0x40 and 0x80 label types are not names */
      return FALSE;
    if (pos + 1 + l > len)
      return FALSE;
    /* 253 characters at most, the limit of a presentation-form name. */
    if (out + (out ? 1 : 0) + l > 253 || out + (out ? 1 : 0) + l + 1 > name_size)
      return FALSE;
    if (out)
      name[out++] = '.';
    for (guint i = 0; i < l; i++)
      name[out++] = name_char (buf[pos + 1 + i]);
    pos += 1 + l;
  }
  name[out] = '\0';
  return out > 0;
}

gboolean
fw_parse_dns_qname (const guint8 *buf, gsize len, char *name, gsize name_size)
{
  if (read_qname (buf, len, name, name_size))
    return TRUE;
  /* Never half a name. */
  if (name && name_size)
    name[0] = '\0';
  return FALSE;
}

static void
parse_l4 (const guint8 *l4, gsize len, FwPacketInfo *info)
{
  if ((info->protocol == IPPROTO_TCP || info->protocol == IPPROTO_UDP) && len >= 4)
    info->dport = be16 (l4 + 2);
  if (info->protocol == IPPROTO_UDP && info->dport == 53 && len > 8)
    fw_parse_dns_qname (l4 + 8, len - 8, info->dns_name, sizeof info->dns_name);
}

gboolean
fw_parse_packet (const guint8 *buf, gsize len, FwPacketInfo *info)
{
  memset (info, 0, sizeof *info);
  if (!buf || len < 1)
    return FALSE;

  if (buf[0] >> 4 == 4) {
    if (len < 20)
      return FALSE;
    gsize ihl = (gsize) (buf[0] & 0x0f) * 4;
    gsize total = be16 (buf + 2);
    if (ihl < 20 || ihl > len)
      return FALSE;
    if (total >= ihl && total < len)
      len = total;
    info->family = 4;
    info->protocol = buf[9];
    memcpy (info->src, buf + 12, 4);
    memcpy (info->dst, buf + 16, 4);
    /* A later fragment has no transport header. */
    if ((be16 (buf + 6) & 0x1fff) == 0)
      parse_l4 (buf + ihl, len - ihl, info);
    return TRUE;
  }

  if (buf[0] >> 4 == 6) {
    if (len < 40)
      return FALSE;
    gsize payload = be16 (buf + 4);
    if (40 + payload < len)
      len = 40 + payload;
    info->family = 6;
    memcpy (info->src, buf + 8, 16);
    memcpy (info->dst, buf + 24, 16);
    guint8 next = buf[6];
    gsize pos = 40;
    for (guint n = 0; n < MAX_EXT_HEADERS; n++) {
      if (next == 0 || next == 43 || next == 60) {   /* hop-by-hop, routing, destination */
        if (pos + 2 > len)
          break;
        gsize hlen = ((gsize) buf[pos + 1] + 1) * 8;
        next = buf[pos];
        pos += hlen;
      } else if (next == 44) {                       /* fragment */
        if (pos + 8 > len)
          break;
        gboolean later = (be16 (buf + pos + 2) & 0xfff8) != 0;
        next = buf[pos];
        pos += 8;
        if (later) {
          info->protocol = next;
          return TRUE;
        }
      } else {
        break;
      }
    }
    info->protocol = next;
    if (pos <= len && next != 0 && next != 43 && next != 60 && next != 44)
      parse_l4 (buf + pos, len - pos, info);
    return TRUE;
  }
  return FALSE;
}

static int
attr_cb (const struct nlattr *attr, void *data)
{
  const struct nlattr **tb = data;
  int type = mnl_attr_get_type (attr);
  if (mnl_attr_type_valid (attr, NFULA_MAX) < 0)
    return MNL_CB_OK;   /* newer kernel attribute: ignore */
  tb[type] = attr;
  return MNL_CB_OK;
}

void
fw_nlmsg_walk (const guint8 *buf, gsize len, FwNlmsgFunc func, gpointer user_data)
{
  /* Walked by hand: libmnl's mnl_nlmsg_ok() casts nlmsg_len to int, so a
   * length above 2 GiB would pass its check and send the walk off the buffer.
   * The aligned length must fit too: libmnl bounds a message's attributes by
   * its aligned end, so an unaligned last message would let an attribute run
   * up to 3 bytes past the buffer. The kernel always pads its messages. */
  gsize pos = 0;
  while (buf && pos < len && len - pos >= sizeof (struct nlmsghdr)) {
    struct nlmsghdr hdr;
    memcpy (&hdr, buf + pos, sizeof hdr);
    gsize step = MNL_ALIGN ((gsize) hdr.nlmsg_len);
    if (hdr.nlmsg_len < sizeof (struct nlmsghdr) || step > len - pos)
      return;
    const struct nlmsghdr *nlh = (const struct nlmsghdr *) (buf + pos);
    pos += step;
    func (nlh, user_data);
  }
}

typedef struct {
  FwPacketFunc func;
  gpointer user_data;
} NflogWalk;

static void
nflog_message (const struct nlmsghdr *nlh, gpointer data)
{
  NflogWalk *w = data;

  if (nlh->nlmsg_type != ((NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET))
    return;
  if (nlh->nlmsg_len < MNL_NLMSG_HDRLEN + MNL_ALIGN (sizeof (struct nfgenmsg)))
    return;
  const struct nlattr *tb[NFULA_MAX + 1] = { NULL };
  if (mnl_attr_parse (nlh, sizeof (struct nfgenmsg), attr_cb, tb) < 0)
    return;
  if (!tb[NFULA_PAYLOAD])
    return;
  FwPacketInfo info;
  if (fw_parse_packet (mnl_attr_get_payload (tb[NFULA_PAYLOAD]), mnl_attr_get_payload_len (tb[NFULA_PAYLOAD]), &info)
      && w->func)
    w->func (&info, w->user_data);
}

void
fw_parse_nflog_messages (const guint8 *buf, gsize len, FwPacketFunc func, gpointer user_data)
{
  NflogWalk w = { func, user_data };
  fw_nlmsg_walk (buf, len, nflog_message, &w);
}

/* The report. */

struct _CordonPhoneHome {
  struct mnl_socket *nl;
  GSource *source;
  GHashTable *cameras;   /* address text → camera name */
  GHashTable *entries;   /* key → CordonBlockedAttempt* */
  GHashTable *per_source; /* camera name, "" for unknown → distinct entries kept */
  GHashTable *warned_full; /* sources already told their share is full */
  guint64 not_kept;
  gboolean warned_overrun;
  guint8 *buf;
};

void
cordon_blocked_attempt_free (CordonBlockedAttempt *a)
{
  if (!a)
    return;
  g_free (a->camera);
  g_free (a->protocol);
  g_free (a->destination);
  g_free (a->dns_name);
  g_free (a);
}

static char *
address_text (int family, const guint8 *addr)
{
  char text[INET6_ADDRSTRLEN];
  inet_ntop (family == 4 ? AF_INET : AF_INET6, addr, text, sizeof text);
  return g_strdup (text);
}

void
fw_phonehome_record (const FwPacketInfo *info, gpointer user_data)
{
  CordonPhoneHome *report = user_data;
  g_autofree char *src = address_text (info->family, info->src);
  g_autofree char *dst = address_text (info->family, info->dst);
  const char *camera = g_hash_table_lookup (report->cameras, src);
  const char *pname = fw_proto_name (info->protocol);
  g_autofree char *proto = pname ? g_strdup (pname) : g_strdup_printf ("%u", info->protocol);
  const char *dns = info->dns_name[0] ? info->dns_name : NULL;
  g_autofree char *key = g_strdup_printf ("%s|%s|%s|%u|%s", camera ? camera : "", proto, dst, info->dport,
                                          dns ? dns : "");
  gint64 now = g_get_real_time ();

  CordonBlockedAttempt *a = g_hash_table_lookup (report->entries, key);
  if (a) {
    a->count++;
    a->last_seen = now;
    return;
  }
  const char *source = camera ? camera : "";
  guint kept = GPOINTER_TO_UINT (g_hash_table_lookup (report->per_source, source));
  if (kept >= MAX_ENTRIES_PER_SOURCE) {
    report->not_kept++;
    if (!g_hash_table_contains (report->warned_full, source)) {
      if (camera)
        g_warning ("%s: phone-home report full for this camera (%u distinct attempts); its further new "
                   "destinations are counted only", camera, MAX_ENTRIES_PER_SOURCE);
      else
        g_warning ("phone-home report full for unknown sources (%u distinct attempts); further new "
                   "destinations are counted only", MAX_ENTRIES_PER_SOURCE);
      g_hash_table_add (report->warned_full, g_strdup (source));
    }
    return;
  }
  g_hash_table_insert (report->per_source, g_strdup (source), GUINT_TO_POINTER (kept + 1));
  a = g_new0 (CordonBlockedAttempt, 1);
  a->camera = g_strdup (camera);
  a->protocol = g_steal_pointer (&proto);
  a->destination = g_strdup (dst);
  a->port = info->dport;
  a->dns_name = g_strdup (dns);
  a->count = 1;
  a->first_seen = a->last_seen = now;
  g_hash_table_insert (report->entries, g_steal_pointer (&key), a);

  g_autofree char *where = info->dport
    ? g_strdup_printf (info->family == 6 ? "[%s]:%u" : "%s:%u", dst, info->dport)
    : g_strdup (dst);
  g_autofree char *dns_note = dns ? g_strdup_printf (" (dns: %s)", dns) : g_strdup ("");
  if (camera)
    g_message ("%s: blocked %s to %s%s", camera, a->protocol, where, dns_note);
  else
    g_message ("unknown source %s: blocked %s to %s%s", src, a->protocol, where, dns_note);
}

static gboolean
readable_cb (int fd, GIOCondition condition, gpointer user_data)
{
  CordonPhoneHome *report = user_data;

  /* Bounded per wakeup so a flood cannot starve the main loop. */
  for (guint n = 0; n < 64; n++) {
    ssize_t got = recv (fd, report->buf, RECV_SIZE, MSG_DONTWAIT);
    if (got < 0) {
      if (errno == EINTR)
        continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK)
        break;
      if (errno == ENOBUFS) {
        if (!report->warned_overrun)
          g_warning ("phone-home report: the kernel dropped log messages (socket overrun)");
        report->warned_overrun = TRUE;
        continue;
      }
      g_warning ("phone-home report: reading the nflog socket: %s", g_strerror (errno));
      report->source = NULL;
      return G_SOURCE_REMOVE;
    }
    if (got == 0)
      break;
    fw_parse_nflog_messages (report->buf, (gsize) got, fw_phonehome_record, report);
  }
  return G_SOURCE_CONTINUE;
}

static gboolean
send_config (struct mnl_socket *nl, guint16 group, guint16 attr, const void *data, gsize size,
             const char *doing, GError **error)
{
  char buf[MNL_SOCKET_BUFFER_SIZE];
  struct nlmsghdr *nlh = mnl_nlmsg_put_header (buf);
  guint32 seq = (guint32) g_get_monotonic_time ();
  nlh->nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  nlh->nlmsg_seq = seq;
  struct nfgenmsg *nfg = mnl_nlmsg_put_extra_header (nlh, sizeof *nfg);
  nfg->nfgen_family = AF_UNSPEC;
  nfg->version = NFNETLINK_V0;
  nfg->res_id = htons (group);
  mnl_attr_put (nlh, attr, size, data);

  if (mnl_socket_sendto (nl, nlh, nlh->nlmsg_len) < 0) {
    int e = errno;
    g_set_error (error, CORDON_FIREWALL_ERROR, CORDON_FIREWALL_ERROR_KERNEL, "%s: %s", doing, g_strerror (e));
    return FALSE;
  }
  int ret = (int) mnl_socket_recvfrom (nl, buf, sizeof buf);
  if (ret > 0)
    ret = mnl_cb_run (buf, ret, seq, mnl_socket_get_portid (nl), NULL, NULL);
  if (ret < 0) {
    int e = errno;
    g_set_error (error, CORDON_FIREWALL_ERROR, CORDON_FIREWALL_ERROR_KERNEL, "%s: %s", doing, g_strerror (e));
    return FALSE;
  }
  return TRUE;
}

void
cordon_phonehome_set_config (CordonPhoneHome *report, const CordonConfig *config)
{
  g_hash_table_remove_all (report->cameras);
  for (guint i = 0; config && i < config->cameras->len; i++) {
    const CordonCamera *cam = g_ptr_array_index (config->cameras, i);
    g_hash_table_insert (report->cameras, g_inet_address_to_string (cam->address), g_strdup (cam->name));
  }
}

CordonPhoneHome *
fw_phonehome_new_detached (const CordonConfig *config)
{
  CordonPhoneHome *report = g_new0 (CordonPhoneHome, 1);
  report->cameras = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  report->entries = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                           (GDestroyNotify) cordon_blocked_attempt_free);
  report->per_source = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  report->warned_full = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  report->buf = g_malloc (RECV_SIZE);
  cordon_phonehome_set_config (report, config);
  return report;
}

CordonPhoneHome *
cordon_phonehome_new (const CordonConfig *config, GError **error)
{
  g_autoptr (CordonPhoneHome) report = fw_phonehome_new_detached (config);
  guint16 group = (guint16) config->nflog_group;
  g_autofree char *doing = g_strdup_printf ("cannot listen to nflog group %u", group);

  report->nl = mnl_socket_open (NETLINK_NETFILTER);
  if (!report->nl || mnl_socket_bind (report->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
    int e = errno;
    g_set_error (error, CORDON_FIREWALL_ERROR, CORDON_FIREWALL_ERROR_KERNEL,
                 "%s: opening the netlink socket: %s", doing, g_strerror (e));
    return NULL;
  }
  int size = 1 << 20;
  if (setsockopt (mnl_socket_get_fd (report->nl), SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) < 0)
    setsockopt (mnl_socket_get_fd (report->nl), SOL_SOCKET, SO_RCVBUF, &size, sizeof size);

  struct nfulnl_msg_config_cmd cmd = { .command = NFULNL_CFG_CMD_BIND };
  g_autofree char *bind_doing = g_strdup_printf ("%s: binding (another listener on the group?)", doing);
  if (!send_config (report->nl, group, NFULA_CFG_CMD, &cmd, sizeof cmd, bind_doing, error))
    return NULL;
  struct nfulnl_msg_config_mode mode = { .copy_range = htonl (COPY_RANGE), .copy_mode = NFULNL_COPY_PACKET };
  if (!send_config (report->nl, group, NFULA_CFG_MODE, &mode, sizeof mode, doing, error))
    return NULL;
  /* Deliver each packet at once rather than batching for a second. */
  guint32 qthresh = htonl (1);
  if (!send_config (report->nl, group, NFULA_CFG_QTHRESH, &qthresh, sizeof qthresh, doing, error))
    return NULL;

  report->source = g_unix_fd_source_new (mnl_socket_get_fd (report->nl), G_IO_IN);
  g_source_set_callback (report->source, G_SOURCE_FUNC (readable_cb), report, NULL);
  g_source_set_name (report->source, "cordon phone-home");
  g_source_attach (report->source, g_main_context_get_thread_default ());
  g_source_unref (report->source);
  return g_steal_pointer (&report);
}

static int
attempt_cmp (gconstpointer a, gconstpointer b)
{
  const CordonBlockedAttempt *x = *(CordonBlockedAttempt **) a, *y = *(CordonBlockedAttempt **) b;
  if (x->first_seen != y->first_seen)
    return x->first_seen < y->first_seen ? -1 : 1;
  return g_strcmp0 (x->destination, y->destination);
}

GPtrArray *
cordon_phonehome_list (CordonPhoneHome *report)
{
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) cordon_blocked_attempt_free);
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, report->entries);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    const CordonBlockedAttempt *a = value;
    CordonBlockedAttempt *copy = g_new0 (CordonBlockedAttempt, 1);
    *copy = *a;
    copy->camera = g_strdup (a->camera);
    copy->protocol = g_strdup (a->protocol);
    copy->destination = g_strdup (a->destination);
    copy->dns_name = g_strdup (a->dns_name);
    g_ptr_array_add (out, copy);
  }
  g_ptr_array_sort (out, attempt_cmp);
  return out;
}

void
cordon_phonehome_free (CordonPhoneHome *report)
{
  if (!report)
    return;
  if (report->source)
    g_source_destroy (report->source);
  if (report->nl)
    mnl_socket_close (report->nl);
  g_clear_pointer (&report->cameras, g_hash_table_unref);
  g_clear_pointer (&report->entries, g_hash_table_unref);
  g_clear_pointer (&report->per_source, g_hash_table_unref);
  g_clear_pointer (&report->warned_full, g_hash_table_unref);
  g_free (report->buf);
  g_free (report);
}
