/* Unit tests of the firewall module: plan rendering against fixture dumps,
 * and the phone-home parser on hand-built (and hostile) packets. */
#include "firewall-private.h"

#include <glib/gstdio.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter.h>
#include <libmnl/libmnl.h>

static void
test_plan_fixture (gconstpointer data)
{
  const char *name = data;
  g_autofree char *conf = g_strdup_printf ("%s/%s.conf", FIXTURE_DIR, name);
  g_autofree char *nft = g_strdup_printf ("%s/%s.nft", FIXTURE_DIR, name);
  g_autoptr (GError) error = NULL;
  g_autofree char *expected = NULL;

  g_autoptr (CordonConfig) config = cordon_config_load (conf, &error);
  g_assert_no_error (error);
  g_autofree char *plan = cordon_firewall_plan (config, &error);
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (nft, &expected, NULL, &error));
  g_assert_no_error (error);
  if (g_strcmp0 (plan, expected) != 0) {
    g_printerr ("plan for %s differs from %s; got:\n%s", conf, nft, plan);
    g_test_fail ();
  }
}

/* The systemd drop-in lists what the configuration lets in and out. */
static void
test_unit_addresses (void)
{
  g_autofree char *conf = g_strdup_printf ("%s/gateway.conf", FIXTURE_DIR);
  g_autofree char *want_path = g_strdup_printf ("%s/gateway.unit-addresses", FIXTURE_DIR);
  g_autoptr (GError) error = NULL;
  g_autofree char *want = NULL;

  g_autoptr (CordonConfig) config = cordon_config_load (conf, &error);
  g_assert_no_error (error);
  g_autofree char *got = cordon_firewall_unit_addresses (config);
  g_assert_true (g_file_get_contents (want_path, &want, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (got, ==, want);
}

static void
test_plan_same_description_twice (void)
{
  g_autofree char *conf = g_strdup_printf ("%s/gateway.conf", FIXTURE_DIR);
  g_autoptr (GError) error = NULL;
  g_autoptr (CordonConfig) config = cordon_config_load (conf, &error);
  g_assert_no_error (error);
  g_autofree char *a = cordon_firewall_plan (config, &error);
  g_autofree char *b = cordon_firewall_plan (config, &error);
  g_assert_cmpstr (a, ==, b);
  /* Never an owner-bound table, never a flag the admin did not see. */
  g_assert_null (strstr (a, "owner"));
  g_assert_nonnull (strstr (a, "table inet cordon {"));
}

/* Packet builders. */

static gsize
dns_query (guint8 *out, const char *name)
{
  static const guint8 header[12] = { 0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0 };
  gsize n = 0;
  memcpy (out, header, 12);
  n = 12;
  g_auto (GStrv) labels = g_strsplit (name, ".", -1);
  for (guint i = 0; labels[i]; i++) {
    out[n++] = (guint8) strlen (labels[i]);
    memcpy (out + n, labels[i], strlen (labels[i]));
    n += strlen (labels[i]);
  }
  out[n++] = 0;
  out[n++] = 0; out[n++] = 1; out[n++] = 0; out[n++] = 1;
  return n;
}

static gsize
ipv4_udp (guint8 *out, const char *src, const char *dst, guint16 dport, const guint8 *payload, gsize plen)
{
  memset (out, 0, 28);
  out[0] = 0x45;
  out[2] = (guint8) ((28 + plen) >> 8);
  out[3] = (guint8) (28 + plen);
  out[8] = 64;
  out[9] = IPPROTO_UDP;
  inet_pton (AF_INET, src, out + 12);
  inet_pton (AF_INET, dst, out + 16);
  out[20] = 0xc3; out[21] = 0x50;
  out[22] = (guint8) (dport >> 8); out[23] = (guint8) dport;
  out[24] = (guint8) ((8 + plen) >> 8); out[25] = (guint8) (8 + plen);
  memcpy (out + 28, payload, plen);
  return 28 + plen;
}

static void
test_parse_ipv4_dns (void)
{
  guint8 dns[300], pkt[400];
  FwPacketInfo info;
  gsize dlen = dns_query (dns, "Vendor.Example");
  gsize len = ipv4_udp (pkt, "198.18.1.10", "198.18.3.100", 53, dns, dlen);

  g_assert_true (fw_parse_packet (pkt, len, &info));
  g_assert_cmpint (info.family, ==, 4);
  g_assert_cmpuint (info.protocol, ==, IPPROTO_UDP);
  g_assert_cmpuint (info.dport, ==, 53);
  g_assert_cmpstr (info.dns_name, ==, "vendor.example");
  guint8 want[4];
  inet_pton (AF_INET, "198.18.3.100", want);
  g_assert_cmpmem (info.dst, 4, want, 4);

  /* Every truncation parses safely; the name only when it is complete. */
  for (gsize cut = 0; cut < len; cut++) {
    g_assert_true (fw_parse_packet (pkt, cut, &info) == (cut >= 20));
    if (cut < len - 4)
      g_assert_cmpstr (info.dns_name, ==, "");
  }
}

static void
test_parse_ipv6_tcp_syn (void)
{
  guint8 pkt[60] = { 0 };
  FwPacketInfo info;
  pkt[0] = 0x60;
  pkt[5] = 20;
  pkt[6] = IPPROTO_TCP;
  pkt[7] = 64;
  inet_pton (AF_INET6, "fd00:1::10", pkt + 8);
  inet_pton (AF_INET6, "fd00:3::100", pkt + 24);
  pkt[40] = 0xc3; pkt[41] = 0x50; pkt[42] = 0x01; pkt[43] = 0xbb;  /* → 443 */
  pkt[53] = 0x02;  /* SYN */
  pkt[52] = 0x50;

  g_assert_true (fw_parse_packet (pkt, sizeof pkt, &info));
  g_assert_cmpint (info.family, ==, 6);
  g_assert_cmpuint (info.protocol, ==, IPPROTO_TCP);
  g_assert_cmpuint (info.dport, ==, 443);
  g_assert_cmpstr (info.dns_name, ==, "");

  /* Cut inside the IPv6 header: not a packet. Cut in TCP: no port. */
  g_assert_false (fw_parse_packet (pkt, 39, &info));
  g_assert_true (fw_parse_packet (pkt, 42, &info));
  g_assert_cmpuint (info.dport, ==, 0);
  g_assert_false (fw_parse_packet (NULL, 0, &info));
  guint8 junk[] = { 0x70, 1, 2, 3 };
  g_assert_false (fw_parse_packet (junk, sizeof junk, &info));
}

static void
test_dns_hostile (void)
{
  char name[256];
  guint8 msg[600];
  gsize n;

  /* Pointer to itself. */
  static const guint8 self_loop[] = { 0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12 };
  g_assert_false (fw_parse_dns_qname (self_loop, sizeof self_loop, name, sizeof name));
  /* Two pointers to each other (the second one forward). */
  static const guint8 pair[] = { 0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 'a', 0xc0, 16, 0xc0, 12 };
  g_assert_false (fw_parse_dns_qname (pair, sizeof pair, name, sizeof name));
  /* A backward pointer is fine. */
  static const guint8 back[] = { 0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 'a', 0, 1, 'b', 0xc0, 12 };
  g_assert_true (fw_parse_dns_qname (back, 14 + 1, name, sizeof name));
  g_assert_cmpstr (name, ==, "a");
  /* Label length with the reserved 0x40 bits. */
  static const guint8 reserved[] = { 0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x41, 'a', 0 };
  g_assert_false (fw_parse_dns_qname (reserved, sizeof reserved, name, sizeof name));
  /* Label running past the end. */
  static const guint8 past[] = { 0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 63, 'a', 'b' };
  g_assert_false (fw_parse_dns_qname (past, sizeof past, name, sizeof name));
  /* A name longer than 253 characters. */
  memset (msg, 0, sizeof msg);
  msg[5] = 1;
  n = 12;
  for (guint i = 0; i < 6; i++) {
    msg[n++] = 63;
    memset (msg + n, 'x', 63);
    n += 63;
  }
  msg[n++] = 0;
  g_assert_false (fw_parse_dns_qname (msg, n, name, sizeof name));
  /* Odd bytes come out as '?', never raw. */
  static const guint8 odd[] = { 0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 3, 'a', '"', '\n', 0 };
  g_assert_true (fw_parse_dns_qname (odd, sizeof odd, name, sizeof name));
  g_assert_cmpstr (name, ==, "a??");
  /* A response is not a query. */
  static const guint8 resp[] = { 0, 1, 0x81, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 'a', 0 };
  g_assert_false (fw_parse_dns_qname (resp, sizeof resp, name, sizeof name));
}

static void
count_packet (const FwPacketInfo *info, gpointer data)
{
  guint *n = data;
  (*n)++;
  g_assert_cmpuint (info->dport, ==, 53);
}

/* A copy of data that ends where a page ends, the next page unmapped: a read
 * one byte past the end faults, so the test fails without a sanitizer. */
typedef struct {
  guint8 *map;
  gsize map_size;
} Guarded;

static guint8 *
guarded_copy (Guarded *g, const guint8 *data, gsize len)
{
  gsize page = (gsize) sysconf (_SC_PAGESIZE);
  gsize room = (len + page - 1) / page * page;
  if (room == 0)
    room = page;
  g->map_size = room + page;
  g->map = mmap (NULL, g->map_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  g_assert_true (g->map != MAP_FAILED);
  g_assert_cmpint (mprotect (g->map + room, page, PROT_NONE), ==, 0);
  guint8 *p = g->map + room - len;
  if (len)
    memcpy (p, data, len);
  return p;
}

static void
guarded_free (Guarded *g)
{
  munmap (g->map, g->map_size);
}

/* A seed from corpus/ (inputs fuzz-nflog found), copied before a guard page. */
static const guint8 *
guarded_seed (Guarded *g, const char *name, gsize *len)
{
  g_autofree char *path = g_strdup_printf ("%s/corpus/%s", FIXTURE_DIR, name);
  g_autofree char *data = NULL;
  g_assert_true (g_file_get_contents (path, &data, len, NULL));
  return guarded_copy (g, (const guint8 *) data, *len);
}

static void
test_nflog_messages (void)
{
  guint8 dns[300], pkt[400], buf[2048] = { 0 };
  gsize plen = ipv4_udp (pkt, "198.18.1.10", "198.18.3.100", 53, dns, dns_query (dns, "a.example"));
  struct nlmsghdr *nlh = (struct nlmsghdr *) buf;
  struct nfgenmsg *nfg = (struct nfgenmsg *) (buf + NLMSG_HDRLEN);
  struct nlattr *attr = (struct nlattr *) (buf + NLMSG_HDRLEN + NLMSG_ALIGN (sizeof *nfg));
  guint count = 0;

  nfg->nfgen_family = AF_INET;
  attr->nla_type = NFULA_PAYLOAD;
  attr->nla_len = (guint16) (NLA_HDRLEN + plen);
  memcpy ((guint8 *) attr + NLA_HDRLEN, pkt, plen);
  nlh->nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET;
  nlh->nlmsg_len = NLMSG_HDRLEN + NLMSG_ALIGN (sizeof *nfg) + NLA_ALIGN (attr->nla_len);

  fw_parse_nflog_messages (buf, nlh->nlmsg_len, count_packet, &count);
  g_assert_cmpuint (count, ==, 1);
  /* Attribute claiming more than the message holds: skipped, no read past. */
  attr->nla_len = 1500;
  fw_parse_nflog_messages (buf, nlh->nlmsg_len, count_packet, &count);
  g_assert_cmpuint (count, ==, 1);
  /* Every truncation of the stream is safe: each cut ends at a guard page. */
  attr->nla_len = (guint16) (NLA_HDRLEN + plen);
  for (gsize cut = 0; cut < nlh->nlmsg_len; cut++) {
    Guarded g;
    fw_parse_nflog_messages (guarded_copy (&g, buf, cut), cut, NULL, NULL);
    guarded_free (&g);
  }
}

/* The last message's length is not a multiple of 4 and its payload attribute
 * runs 2 bytes past it, into the padding libmnl allows up to the aligned end,
 * which here is past the buffer (found by fuzz-nflog; the seed is in corpus/). */
static void
test_nflog_unaligned_last_message (void)
{
  gsize len = 0;
  guint count = 0;
  Guarded g;
  const guint8 *data = guarded_seed (&g, "nflog-attribute-past-unaligned-end", &len);

  g_assert_cmpuint (len % 4, !=, 0);
  fw_parse_nflog_messages (data, len, count_packet, &count);
  guarded_free (&g);
  g_assert_cmpuint (count, ==, 0);
}

static gboolean
not_fatal (const char *domain, GLogLevelFlags level, const char *message, gpointer data)
{
  return FALSE;
}

static void
count_full (const char *domain, GLogLevelFlags level, const char *message, gpointer data)
{
  if (strstr (message, "lobby: phone-home report full"))
    (*(guint *) data)++;
}

/* A camera trying thousands of destinations fills its own share of the
 * report; another camera's single attempt is still listed. */
static void
test_report_cap_per_camera (void)
{
  g_autofree char *conf = g_strdup_printf ("%s/gateway.conf", FIXTURE_DIR);
  g_autoptr (GError) error = NULL;
  g_autoptr (CordonConfig) config = cordon_config_load (conf, &error);
  g_assert_no_error (error);
  g_autoptr (CordonPhoneHome) report = fw_phonehome_new_detached (config);
  FwPacketInfo info = { .family = 4, .protocol = IPPROTO_UDP };

  guint full_warnings = 0;
  g_test_log_set_fatal_handler (not_fatal, NULL);
  guint handler = g_log_set_handler ("cordon-firewall", G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_WARNING | G_LOG_FLAG_FATAL, count_full,
                                     &full_warnings);
  inet_pton (AF_INET, "198.18.1.10", info.src);
  inet_pton (AF_INET, "198.18.3.100", info.dst);
  for (guint i = 0; i < 5000; i++) {
    info.dport = (guint16) (1 + i);
    fw_phonehome_record (&info, report);
  }
  g_log_remove_handler ("cordon-firewall", handler);
  g_assert_cmpuint (full_warnings, ==, 1);
  info.family = 6;
  inet_pton (AF_INET6, "fd00:1::20", info.src);
  inet_pton (AF_INET6, "fd00:3::100", info.dst);
  info.dport = 4444;
  fw_phonehome_record (&info, report);

  g_autoptr (GPtrArray) list = cordon_phonehome_list (report);
  guint lobby = 0, yard = 0;
  for (guint i = 0; i < list->len; i++) {
    const CordonBlockedAttempt *a = g_ptr_array_index (list, i);
    lobby += g_strcmp0 (a->camera, "lobby") == 0;
    yard += g_strcmp0 (a->camera, "yard") == 0 && a->port == 4444;
  }
  g_assert_cmpuint (lobby, >, 0);
  g_assert_cmpuint (lobby, <, 5000);
  g_assert_cmpuint (yard, ==, 1);
}

/* The lock-down table refuses and logs everything on the camera interface;
 * without one, it routes nothing. */
static void
test_lockdown_plan (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (FwRuleset) rs = fw_ruleset_new_lockdown ("cam0", 77, &error);
  g_assert_no_error (error);
  g_autofree char *text = fw_render (rs);
  g_assert_nonnull (strstr (text, "iifname \"cam0\" counter name \"lockdown\" jump refuse"));
  g_assert_nonnull (strstr (text, "oifname \"cam0\" counter name \"lockdown\" drop"));
  g_assert_nonnull (strstr (text, "log group 77"));
  g_autoptr (FwRuleset) blind = fw_ruleset_new_lockdown (NULL, 77, &error);
  g_assert_no_error (error);
  g_autofree char *blind_text = fw_render (blind);
  g_assert_nonnull (strstr (blind_text, "counter name \"lockdown\" jump refuse comment \"lock-down: nothing is routed\""));
  g_assert_null (strstr (blind_text, "iifname"));
}

/* The firewall's view of the configuration opens no secret file: a broken
 * one does not stop it. */
static void
test_load_without_secrets (void)
{
  g_autofree char *dir = g_dir_make_tmp ("cordon-fw-XXXXXX", NULL);
  g_autofree char *conf = g_build_filename (dir, "c.conf", NULL);
  g_autofree char *secret = g_build_filename (dir, "bad.secret", NULL);
  g_autoptr (GError) error = NULL;
  g_assert_true (g_file_set_contents (secret, "pw\n", -1, NULL));
  g_chmod (secret, 0644);  /* world-readable: refused by the full loader */
  g_autofree char *text = g_strdup_printf ("[proxy]\nuser = nobody\n[firewall]\nmode = host\ncamera-interface = cam0\n"
                                           "[camera:a]\nurl = rtsp://198.18.1.10/x\nusername = u\npassword-file = %s\n",
                                           secret);
  g_assert_true (g_file_set_contents (conf, text, -1, NULL));
  g_autoptr (CordonConfig) full = cordon_config_load (conf, &error);
  g_assert_null (full);
  g_assert_nonnull (strstr (error->message, "world-readable"));
  g_clear_error (&error);
  g_autoptr (CordonConfig) fw = cordon_config_load_flags (conf, CORDON_CONFIG_LOAD_NO_SECRETS, &error);
  g_assert_no_error (error);
  g_autofree char *plan = cordon_firewall_plan (fw, &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (plan, "198.18.1.10"));
  g_unlink (secret);
  g_unlink (conf);
  g_rmdir (dir);
}

/* nftables event batches: a table deletion by nft is one report with the
 * author's pid and name; a replace (rules deleted and added) is none. */
static gsize
nft_event (guint8 *buf, guint16 msg, guint8 family, const char *table, guint32 pid, const char *name)
{
  struct nlmsghdr *nlh = mnl_nlmsg_put_header (buf);
  nlh->nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | msg;
  struct nfgenmsg *nfg = mnl_nlmsg_put_extra_header (nlh, sizeof *nfg);
  nfg->nfgen_family = family;
  if (table)
    mnl_attr_put_strz (nlh, 1, table);
  if (msg == NFT_MSG_NEWGEN) {
    mnl_attr_put_u32 (nlh, NFTA_GEN_ID, htonl (7));
    mnl_attr_put_u32 (nlh, NFTA_GEN_PROC_PID, htonl (pid));
    mnl_attr_put_strz (nlh, NFTA_GEN_PROC_NAME, name);
  }
  return nlh->nlmsg_len;
}

typedef struct {
  guint calls;
  gboolean deleted;
  int pid;
  char *process;
} WatchSeen;

static void
watch_seen (gboolean deleted, int pid, const char *process, gpointer data)
{
  WatchSeen *w = data;
  w->calls++;
  w->deleted = deleted;
  w->pid = pid;
  g_free (w->process);
  w->process = g_strdup (process);
}

/* A message whose length field says 4 GB in a 64-byte read: libmnl's own
 * check casts the length to int and would walk off the buffer (found by
 * fuzz-nflog; the seed is in corpus/). */
static void
test_watch_length_past_buffer (void)
{
  gsize len = 0;
  WatchSeen seen = { 0 };
  Guarded g;
  const guint8 *data = guarded_seed (&g, "watch-length-past-2gib", &len);
  g_assert_cmpuint (len, >=, 16);
  FwWatchState state = { 0 };
  fw_watch_parse (data, len, &state, watch_seen, &seen);
  guarded_free (&g);
  g_assert_cmpuint (seen.calls, ==, 0);
  g_assert_false (state.deleted || state.removed || state.added);
}

static void
test_watch_batches (void)
{
  guint8 buf[4096];
  gsize n = 0;
  FwWatchState state = { 0 };
  WatchSeen seen = { 0 };

  /* flush ruleset: other tables and ours deleted, then the generation. */
  n += nft_event (buf + n, NFT_MSG_DELTABLE, NFPROTO_INET, "filter", 0, NULL);
  n += nft_event (buf + n, NFT_MSG_DELTABLE, NFPROTO_INET, "cordon", 0, NULL);
  n += nft_event (buf + n, NFT_MSG_NEWGEN, NFPROTO_UNSPEC, NULL, 4242, "nft");
  fw_watch_parse (buf, n, &state, watch_seen, &seen);
  g_assert_cmpuint (seen.calls, ==, 1);
  g_assert_true (seen.deleted);
  g_assert_cmpint (seen.pid, ==, 4242);
  g_assert_cmpstr (seen.process, ==, "nft");

  /* A replace of our table (cordon firewall apply): not a removal. */
  n = 0;
  n += nft_event (buf + n, NFT_MSG_DELRULE, NFPROTO_INET, "cordon", 0, NULL);
  n += nft_event (buf + n, NFT_MSG_NEWRULE, NFPROTO_INET, "cordon", 0, NULL);
  n += nft_event (buf + n, NFT_MSG_NEWGEN, NFPROTO_UNSPEC, NULL, 99, "cordon");
  fw_watch_parse (buf, n, &state, watch_seen, &seen);
  g_assert_cmpuint (seen.calls, ==, 1);

  /* Same name in another family, or someone else's table: not ours. */
  n = 0;
  n += nft_event (buf + n, NFT_MSG_DELTABLE, NFPROTO_IPV4, "cordon", 0, NULL);
  n += nft_event (buf + n, NFT_MSG_DELRULE, NFPROTO_INET, "filter", 0, NULL);
  n += nft_event (buf + n, NFT_MSG_NEWGEN, NFPROTO_UNSPEC, NULL, 5, "nft");
  fw_watch_parse (buf, n, &state, watch_seen, &seen);
  g_assert_cmpuint (seen.calls, ==, 1);

  /* flush table inet cordon: rules gone, none added, split over two reads. */
  n = 0;
  n += nft_event (buf + n, NFT_MSG_DELRULE, NFPROTO_INET, "cordon", 0, NULL);
  fw_watch_parse (buf, n, &state, watch_seen, &seen);
  n = nft_event (buf, NFT_MSG_NEWGEN, NFPROTO_UNSPEC, NULL, 6, "nft");
  fw_watch_parse (buf, n, &state, watch_seen, &seen);
  g_assert_cmpuint (seen.calls, ==, 2);
  g_assert_false (seen.deleted);

  /* Every truncation is safe: each cut ends at a guard page. */
  n = 0;
  n += nft_event (buf + n, NFT_MSG_DELTABLE, NFPROTO_INET, "cordon", 0, NULL);
  n += nft_event (buf + n, NFT_MSG_NEWGEN, NFPROTO_UNSPEC, NULL, 6, "nft");
  for (gsize cut = 0; cut < n; cut++) {
    FwWatchState s2 = { 0 };
    Guarded g;
    fw_watch_parse (guarded_copy (&g, buf, cut), cut, &s2, NULL, NULL);
    guarded_free (&g);
  }
  g_free (seen.process);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  /* git keeps no file modes; the loader refuses readable secrets. */
  g_autofree char *secret = g_strdup_printf ("%s/secrets/recorder", FIXTURE_DIR);
  g_chmod (secret, 0600);

  g_test_add_data_func ("/firewall/plan/gateway-two-cameras", "gateway", test_plan_fixture);
  g_test_add_data_func ("/firewall/plan/host-dhcp-ntp", "host", test_plan_fixture);
  g_test_add_data_func ("/firewall/plan/off-has-no-table", "off", test_plan_fixture);
  g_test_add_func ("/firewall/plan/deterministic-never-owner", test_plan_same_description_twice);
  g_test_add_func ("/firewall/plan/systemd-unit-addresses", test_unit_addresses);
  g_test_add_func ("/firewall/plan/lockdown", test_lockdown_plan);
  g_test_add_func ("/firewall/config/load-without-secrets", test_load_without_secrets);
  g_test_add_func ("/firewall/report/cap-per-camera", test_report_cap_per_camera);
  g_test_add_func ("/firewall/watch/batches", test_watch_batches);
  g_test_add_func ("/firewall/watch/length-past-buffer", test_watch_length_past_buffer);
  g_test_add_func ("/firewall/parse/ipv4-udp-dns-query", test_parse_ipv4_dns);
  g_test_add_func ("/firewall/parse/ipv6-tcp-syn", test_parse_ipv6_tcp_syn);
  g_test_add_func ("/firewall/parse/dns-loops-and-long-labels", test_dns_hostile);
  g_test_add_func ("/firewall/parse/nflog-message-bounds", test_nflog_messages);
  g_test_add_func ("/firewall/parse/nflog-unaligned-last-message", test_nflog_unaligned_last_message);
  return g_test_run ();
}
