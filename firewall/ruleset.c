/* cordon — configuration → rule description (see firewall-private.h). */
#define G_LOG_DOMAIN "cordon-firewall"

#include "firewall-private.h"

#include <netinet/in.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>

G_DEFINE_QUARK (cordon-firewall-error-quark, cordon_firewall_error)

static void
item_clear (gpointer data)
{
  FwItem *item = data;
  g_clear_pointer (&item->text, g_free);
}

static void
rule_free (gpointer data)
{
  FwRule *rule = data;
  g_free (rule->chain);
  g_array_unref (rule->items);
  g_free (rule->comment);
  g_free (rule);
}

static void
chain_free (gpointer data)
{
  FwChain *chain = data;
  g_free (chain->name);
  g_free (chain->comment);
  g_free (chain);
}

static void
set_free (gpointer data)
{
  FwSet *set = data;
  g_free (set->name);
  g_array_unref (set->elements);
  g_free (set->comment);
  g_free (set);
}

static void
counter_free (gpointer data)
{
  FwCounter *counter = data;
  g_free (counter->name);
  g_free (counter->camera);
  g_free (counter->comment);
  g_free (counter);
}

static void
destination_clear (gpointer data)
{
  FwDestination *d = data;
  g_clear_pointer (&d->set, g_free);
  g_clear_pointer (&d->comment, g_free);
}

static void
egress_free (gpointer data)
{
  FwEgress *e = data;
  g_free (e->name);
  g_free (e->who);
  g_array_unref (e->destinations);
  g_free (e);
}

void
fw_ruleset_free (FwRuleset *rs)
{
  if (!rs)
    return;
  g_free (rs->summary);
  g_clear_pointer (&rs->egress, g_ptr_array_unref);
  g_clear_pointer (&rs->notes, g_ptr_array_unref);
  g_ptr_array_unref (rs->chains);
  g_ptr_array_unref (rs->sets);
  g_ptr_array_unref (rs->counters);
  g_ptr_array_unref (rs->rules);
  g_free (rs);
}

char *
fw_camera_counter_name (const char *camera)
{
  return g_strconcat (FW_CAMERA_COUNTER_PREFIX, camera, NULL);
}

const char *
fw_proto_name (guint8 proto)
{
  switch (proto) {
  case IPPROTO_TCP: return "tcp";
  case IPPROTO_UDP: return "udp";
  case IPPROTO_ICMP: return "icmp";
  case IPPROTO_ICMPV6: return "icmpv6";
  default: return NULL;
  }
}

/* Building blocks. */

static void
add_chain (FwRuleset *rs, const char *name, FwHook hook, const char *comment)
{
  FwChain *chain = g_new0 (FwChain, 1);
  chain->name = g_strdup (name);
  chain->hook = hook;
  chain->comment = g_strdup (comment);
  g_ptr_array_add (rs->chains, chain);
}

static FwRule *
add_rule (FwRuleset *rs, const char *chain, const char *comment)
{
  FwRule *rule = g_new0 (FwRule, 1);
  rule->chain = g_strdup (chain);
  rule->items = g_array_new (FALSE, TRUE, sizeof (FwItem));
  g_array_set_clear_func (rule->items, item_clear);
  rule->comment = g_strdup (comment);
  g_ptr_array_add (rs->rules, rule);
  return rule;
}

static FwItem *
push (FwRule *rule, FwKind kind)
{
  FwItem item = { .kind = kind };
  g_array_append_val (rule->items, item);
  return &g_array_index (rule->items, FwItem, rule->items->len - 1);
}

static void
m_iif (FwRule *rule, const char *name, gboolean negate)
{
  FwItem *it = push (rule, FW_IIFNAME);
  it->text = g_strdup (name);
  it->negate = negate;
}

static void
m_oif (FwRule *rule, const char *name, gboolean negate)
{
  FwItem *it = push (rule, FW_OIFNAME);
  it->text = g_strdup (name);
  it->negate = negate;
}

static void
m_addr (FwRule *rule, FwKind kind, GInetAddress *address, gboolean negate)
{
  FwItem *it = push (rule, kind);
  gsize size = g_inet_address_get_native_size (address);
  it->family = size == 4 ? 4 : 6;
  memcpy (it->addr, g_inet_address_to_bytes (address), size);
  it->negate = negate;
}

static void
m_addr_zero4 (FwRule *rule, FwKind kind)
{
  FwItem *it = push (rule, kind);
  it->family = 4;
}

static void
m_set_kind (FwRule *rule, FwKind kind, int family, const char *set, gboolean negate)
{
  FwItem *it = push (rule, kind);
  it->family = family;
  it->text = g_strdup (set);
  it->negate = negate;
}

static void
m_set (FwRule *rule, int family, const char *set, gboolean negate)
{
  m_set_kind (rule, FW_SADDR_SET, family, set, negate);
}

static void
m_dset (FwRule *rule, int family, const char *set, gboolean negate)
{
  m_set_kind (rule, FW_DADDR_SET, family, set, negate);
}

static void
m_port (FwRule *rule, FwKind kind, guint8 proto, guint16 port)
{
  FwItem *it = push (rule, kind);
  it->proto = proto;
  it->value = port;
}

static void
m_value (FwRule *rule, FwKind kind, guint32 value)
{
  push (rule, kind)->value = value;
}

static void
m_mac (FwRule *rule, const char *mac, gboolean negate)
{
  FwItem *it = push (rule, FW_ETHER_SADDR);
  guint b[6];
  if (sscanf (mac, "%2x:%2x:%2x:%2x:%2x:%2x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) == 6)
    for (guint i = 0; i < 6; i++)
      it->addr[i] = b[i];
  it->negate = negate;
}

static void
s_text (FwRule *rule, FwKind kind, const char *text)
{
  push (rule, kind)->text = g_strdup (text);
}

static void
s_plain (FwRule *rule, FwKind kind)
{
  push (rule, kind);
}

/* Interface names go into nft text between quotes and are matched exactly
 * (no wildcard), so only plain names are accepted. */
static gboolean
check_interface (const char *what, const char *name, GError **error)
{
  if (!name || !*name) {
    g_set_error (error, CORDON_FIREWALL_ERROR, CORDON_FIREWALL_ERROR_FAILED,
                 "[firewall] %s: missing", what);
    return FALSE;
  }
  for (const char *p = name; *p; p++) {
    if (!g_ascii_isalnum (*p) && !strchr ("-_.@", *p)) {
      g_set_error (error, CORDON_FIREWALL_ERROR, CORDON_FIREWALL_ERROR_FAILED,
                   "[firewall] %s: \"%s\": only letters, digits and - _ . @ are supported", what, name);
      return FALSE;
    }
  }
  if (strlen (name) >= 16) {
    g_set_error (error, CORDON_FIREWALL_ERROR, CORDON_FIREWALL_ERROR_FAILED,
                 "[firewall] %s: \"%s\" is longer than 15 characters", what, name);
    return FALSE;
  }
  return TRUE;
}

static int
element_cmp (gconstpointer a, gconstpointer b)
{
  const FwElement *x = a, *y = b;
  int c = memcmp (x->addr, y->addr, 16);
  if (c)
    return c;
  return (int) x->prefix - (int) y->prefix;
}

static gboolean
prefix_contains (const FwElement *outer, const FwElement *inner)
{
  if (inner->prefix < outer->prefix)
    return FALSE;
  guint full = outer->prefix / 8, rest = outer->prefix % 8;
  if (memcmp (outer->addr, inner->addr, full) != 0)
    return FALSE;
  if (rest) {
    guint8 mask = (guint8) (0xff << (8 - rest));
    if ((outer->addr[full] & mask) != (inner->addr[full] & mask))
      return FALSE;
  }
  return TRUE;
}

/* Sorted, and without elements that lie inside another one: the kernel
 * refuses overlapping intervals, and two recorders may share a prefix. */
static void
normalise_elements (FwSet *set)
{
  g_array_sort (set->elements, element_cmp);
  g_autoptr (GArray) kept = g_array_new (FALSE, TRUE, sizeof (FwElement));
  for (guint i = 0; i < set->elements->len; i++) {
    const FwElement *e = &g_array_index (set->elements, FwElement, i);
    if (kept->len > 0 && prefix_contains (&g_array_index (kept, FwElement, kept->len - 1), e))
      continue;
    g_array_append_val (kept, *e);
  }
  g_array_unref (set->elements);
  set->elements = g_steal_pointer (&kept);
}

static FwSet *
add_set (FwRuleset *rs, const char *name, int family, gboolean interval, const char *comment)
{
  FwSet *set = g_new0 (FwSet, 1);
  set->name = g_strdup (name);
  set->family = family;
  set->interval = interval;
  set->elements = g_array_new (FALSE, TRUE, sizeof (FwElement));
  set->comment = g_strdup (comment);
  g_ptr_array_add (rs->sets, set);
  return set;
}

static void
set_add (FwSet *set, GInetAddress *address, guint prefix)
{
  FwElement e = { .prefix = prefix };
  memcpy (e.addr, g_inet_address_to_bytes (address), g_inet_address_get_native_size (address));
  g_array_append_val (set->elements, e);
}

static int
camera_family (const CordonCamera *cam)
{
  return g_inet_address_get_family (cam->address) == G_SOCKET_FAMILY_IPV4 ? 4 : 6;
}

char *
fw_camera_refuse_chain (const char *camera)
{
  return g_strconcat (FW_CAMERA_REFUSE_PREFIX, camera, NULL);
}

/* Every camera's own counter, then refuse. MAC pinning first: a packet that
 * carries a camera's address from another MAC is a spoofer, not the camera.
 * Each camera refuses through a chain of its own, with its own log budget, so
 * that a chatty camera cannot use up what another's attempts need. */
static void
add_attribution (FwRuleset *rs, const CordonConfig *c, const char *chain, gboolean allow)
{
  FwRule *r;

  r = add_rule (rs, chain, "IPv4 source is no configured camera (spoofed or unknown device)");
  m_set (r, 4, "cameras4", TRUE);
  s_text (r, FW_COUNTER_REF, FW_UNKNOWN_COUNTER);
  s_text (r, FW_JUMP, FW_REFUSE_CHAIN);

  r = add_rule (rs, chain, "IPv6 source is no configured camera (spoofed or unknown device)");
  m_set (r, 6, "cameras6", TRUE);
  s_text (r, FW_COUNTER_REF, FW_UNKNOWN_COUNTER);
  s_text (r, FW_JUMP, FW_REFUSE_CHAIN);

  for (guint i = 0; i < c->cameras->len; i++) {
    const CordonCamera *cam = g_ptr_array_index (c->cameras, i);
    g_autofree char *counter = fw_camera_counter_name (cam->name);
    g_autofree char *refuse = fw_camera_refuse_chain (cam->name);
    g_autofree char *what = NULL;
    int family = camera_family (cam);

    if (cam->mac) {
      what = g_strdup_printf ("%s: address used from another MAC", cam->name);
      r = add_rule (rs, chain, what);
      m_addr (r, FW_SADDR, cam->address, FALSE);
      m_mac (r, cam->mac, TRUE);
      s_text (r, FW_COUNTER_REF, FW_UNKNOWN_COUNTER);
      s_text (r, FW_JUMP, FW_REFUSE_CHAIN);
      g_clear_pointer (&what, g_free);
    }

    if (allow) {
      /* RTSP over TCP only: cordon opens the connection, the camera may only
       * answer it, so no new flow ever starts on the camera side. */
      what = g_strdup_printf ("%s: replies on the RTSP connection cordon opened", cam->name);
      r = add_rule (rs, chain, what);
      m_addr (r, FW_SADDR, cam->address, FALSE);
      m_port (r, FW_SPORT, IPPROTO_TCP, cam->port);
      m_value (r, FW_CT_STATE, FW_CT_ESTABLISHED);
      s_plain (r, FW_ACCEPT);
      g_clear_pointer (&what, g_free);

      /* An ICMP error is related to the connection it quotes: only errors
       * about cordon's own connection to this camera, never about another
       * camera's or any other flow of the host. */
      what = g_strdup_printf ("%s: ICMP errors about cordon's connection to it", cam->name);
      r = add_rule (rs, chain, what);
      m_addr (r, FW_SADDR, cam->address, FALSE);
      m_value (r, FW_L4PROTO, family == 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6);
      m_value (r, FW_CT_STATE, FW_CT_RELATED);
      m_addr (r, FW_CT_ORIG_DADDR, cam->address, FALSE);
      m_value (r, FW_CT_ORIG_PROTO, IPPROTO_TCP);
      m_value (r, FW_CT_ORIG_DPORT, cam->port);
      s_plain (r, FW_ACCEPT);
      g_clear_pointer (&what, g_free);

      if (c->serve_ntp) {
        what = g_strdup_printf ("%s: NTP served by this host", cam->name);
        r = add_rule (rs, chain, what);
        m_addr (r, FW_SADDR, cam->address, FALSE);
        m_port (r, FW_DPORT, IPPROTO_UDP, 123);
        s_plain (r, FW_ACCEPT);
        g_clear_pointer (&what, g_free);
      }
      if (c->serve_dhcp && family == 4) {
        what = g_strdup_printf ("%s: DHCP served by this host", cam->name);
        r = add_rule (rs, chain, what);
        m_addr (r, FW_SADDR, cam->address, FALSE);
        m_port (r, FW_DPORT, IPPROTO_UDP, 67);
        s_plain (r, FW_ACCEPT);
        g_clear_pointer (&what, g_free);
      }
    }

    what = g_strdup_printf ("%s: anything else", cam->name);
    r = add_rule (rs, chain, what);
    m_addr (r, FW_SADDR, cam->address, FALSE);
    s_text (r, FW_COUNTER_REF, counter);
    s_text (r, FW_JUMP, refuse);
  }

  r = add_rule (rs, chain, "anything else");
  s_text (r, FW_COUNTER_REF, FW_UNKNOWN_COUNTER);
  s_text (r, FW_JUMP, FW_REFUSE_CHAIN);
}

/* IPv6 neighbour discovery must pass both ways on the camera link, or the
 * host cannot reach an IPv6 camera at all. Hop limit 255 proves on-link. */
static void
add_neighbour_discovery (FwRuleset *rs, const char *chain)
{
  static const guint8 types[] = { 135, 136 };  /* neighbour solicit, advert */
  for (guint i = 0; i < G_N_ELEMENTS (types); i++) {
    FwRule *r = add_rule (rs, chain, types[i] == 135 ? "IPv6 neighbour solicitation" : "IPv6 neighbour advertisement");
    m_value (r, FW_HOPLIMIT, 255);
    m_value (r, FW_ICMPV6_TYPE, types[i]);
    s_plain (r, FW_ACCEPT);
  }
}

static FwRuleset *
ruleset_alloc (CordonFirewallMode mode)
{
  FwRuleset *rs = g_new0 (FwRuleset, 1);
  rs->mode = mode;
  rs->chains = g_ptr_array_new_with_free_func (chain_free);
  rs->sets = g_ptr_array_new_with_free_func (set_free);
  rs->counters = g_ptr_array_new_with_free_func (counter_free);
  rs->rules = g_ptr_array_new_with_free_func (rule_free);
  rs->egress = g_ptr_array_new_with_free_func (egress_free);
  rs->notes = g_ptr_array_new_with_free_func (g_free);
  return rs;
}

static void
add_counter (FwRuleset *rs, char *name, const char *camera, char *comment)
{
  FwCounter *counter = g_new0 (FwCounter, 1);
  counter->name = name;
  counter->camera = g_strdup (camera);
  counter->comment = comment;
  g_ptr_array_add (rs->counters, counter);
}

/* A refuse chain: log for the phone-home report within its own budget, then
 * drop. */
static void
add_refuse_chain (FwRuleset *rs, const char *name, const char *comment, guint nflog_group)
{
  add_chain (rs, name, FW_HOOK_NONE, comment);
  FwRule *r = add_rule (rs, name, NULL);
  m_value (r, FW_LIMIT, FW_LOG_RATE);
  m_value (r, FW_LOG, nflog_group);
  r = add_rule (rs, name, NULL);
  s_plain (r, FW_DROP);
}

static void
destination_add (FwEgress *e, guint8 proto, GInetAddress *address, const char *set, int set_family,
                 guint16 port, guint16 port_min, char *comment)
{
  FwDestination d = { .proto = proto, .port = port, .port_min = port_min, .comment = comment };
  if (address) {
    gsize size = g_inet_address_get_native_size (address);
    d.family = size == 4 ? 4 : 6;
    memcpy (d.addr, g_inet_address_to_bytes (address), size);
  } else {
    d.family = set_family;
    d.set = g_strdup (set);
  }
  g_array_append_val (e->destinations, d);
}

static FwEgress *
egress_new (const char *name, guint32 uid, char *who)
{
  FwEgress *e = g_new0 (FwEgress, 1);
  e->name = g_strdup (name);
  e->uid = uid;
  e->who = who;
  e->destinations = g_array_new (FALSE, TRUE, sizeof (FwDestination));
  g_array_set_clear_func (e->destinations, destination_clear);
  return e;
}

GPtrArray *
fw_egress_for_config (const CordonConfig *c, GPtrArray *notes)
{
  GPtrArray *list = g_ptr_array_new_with_free_func (egress_free);
  struct passwd *pw = c->user ? getpwnam (c->user) : NULL;

  /* Each camera's ingest worker, its own uid: that camera's RTSP port and
   * nothing else. */
  for (guint i = 0; i < c->cameras->len; i++) {
    const CordonCamera *cam = g_ptr_array_index (c->cameras, i);
    g_autofree char *name = g_strdup_printf ("worker%u", i);
    FwEgress *w = egress_new (name, cam->worker_uid, g_strdup_printf ("%s's ingest worker", cam->name));
    destination_add (w, IPPROTO_TCP, cam->address, NULL, 0, cam->port, 0, g_strdup_printf ("%s: RTSP", cam->name));
    g_ptr_array_add (list, w);
  }
  if (!pw || pw->pw_uid == 0) {
    /* The daemon cannot drop to a user that does not exist and refuses to
     * start: there is no process to confine. */
    if (notes)
      g_ptr_array_add (notes, g_strdup_printf ("[proxy] user \"%s\" does not exist here: no egress rule for it",
                                               c->user ? c->user : ""));
    return list;
  }
  /* The daemon connects to no camera (each camera's ingest worker does):
   * its sockets may only send RTP/RTCP over UDP to recorder addresses,
   * never to a well-known port there (a resolver or NTP server on a recorder
   * host would be a way out). */
  FwEgress *e = egress_new ("daemon", (guint32) pw->pw_uid, g_strdup_printf ("[proxy] user %s", c->user));
  if (c->status_host) {
    /* `cordon status` run as the same user: cordon's own status port. */
    FwDestination d = { .proto = IPPROTO_TCP, .local = TRUE, .port = c->status_port,
                        .comment = g_strdup ("its own status endpoint, on this host") };
    g_array_append_val (e->destinations, d);
  }
  destination_add (e, IPPROTO_UDP, NULL, "recorders4", 4, 0, 1024, g_strdup ("RTP/RTCP to recorders (IPv4)"));
  destination_add (e, IPPROTO_UDP, NULL, "recorders6", 6, 0, 1024, g_strdup ("RTP/RTCP to recorders (IPv6)"));
  g_ptr_array_add (list, e);
  return list;
}

static void
add_egress (FwRuleset *rs, const FwEgress *e)
{
  g_autofree char *chain = g_strconcat (FW_EGRESS_PREFIX, e->name, NULL);
  g_autofree char *comment = g_strdup_printf ("connections the sockets of %s (uid %u) may open", e->who, e->uid);
  FwRule *r;

  add_chain (rs, chain, FW_HOOK_NONE, comment);
  add_counter (rs, g_strdup (chain), NULL, g_strdup_printf ("refused connections of %s", e->who));

  r = add_rule (rs, "output", NULL);
  m_value (r, FW_SKUID, e->uid);
  s_text (r, FW_JUMP, chain);

  /* Replies on flows others opened to it, and on flows it was allowed to
   * open: what to return to is still checked by camera_out. */
  r = add_rule (rs, chain, NULL);
  m_value (r, FW_CT_STATE, FW_CT_ESTABLISHED | FW_CT_RELATED);
  s_plain (r, FW_RETURN);
  for (guint i = 0; i < e->destinations->len; i++) {
    const FwDestination *d = &g_array_index (e->destinations, FwDestination, i);
    r = add_rule (rs, chain, d->comment);
    if (d->local)
      m_oif (r, "lo", FALSE);
    else if (d->set)
      m_dset (r, d->family, d->set, FALSE);
    else {
      FwItem *it = push (r, FW_DADDR);
      it->family = d->family;
      memcpy (it->addr, d->addr, 16);
    }
    if (d->port)
      m_port (r, FW_DPORT, d->proto, d->port);
    else if (d->port_min)
      m_port (r, FW_DPORT_MIN, d->proto, d->port_min);
    else
      m_value (r, FW_L4PROTO, d->proto);
    s_plain (r, FW_RETURN);
  }
  r = add_rule (rs, chain, "nothing else: no DNS, no core, no internet");
  s_text (r, FW_COUNTER_REF, chain);
  s_plain (r, FW_DROP);
}

/* Camera addresses are matched whatever interface they use, so that a
 * renamed NIC, another VLAN name or a second path does not let them out. */
static void
jump_by_address (FwRuleset *rs, const char *chain, FwKind kind, const char *target, gboolean not_host)
{
  for (int family = 4; family <= 6; family += 2) {
    FwRule *r = add_rule (rs, chain, NULL);
    m_set_kind (r, kind, family, family == 4 ? "cameras4" : "cameras6", FALSE);
    if (not_host)
      push (r, FW_PKTTYPE)->negate = TRUE; /* value 0: PACKET_HOST */
    s_text (r, FW_JUMP, target);
  }
}

static void
drop_by_address (FwRuleset *rs, const char *chain, FwKind kind, const char *comment)
{
  for (int family = 4; family <= 6; family += 2) {
    FwRule *r = add_rule (rs, chain, comment);
    m_set_kind (r, kind, family, family == 4 ? "cameras4" : "cameras6", FALSE);
    s_plain (r, FW_COUNTER);
    s_plain (r, FW_DROP);
  }
}

FwRuleset *
fw_ruleset_new (const CordonConfig *c, GError **error)
{
  g_autoptr (FwRuleset) rs = ruleset_alloc (c->mode);
  const char *cam_if = c->camera_interface;
  FwRule *r;

  if (c->mode == CORDON_FIREWALL_MODE_OFF) {
    rs->summary = g_strdup ("mode = off: no table; apply removes table inet " CORDON_FIREWALL_TABLE);
    return g_steal_pointer (&rs);
  }
  if (!check_interface ("camera-interface", cam_if, error))
    return NULL;

  rs->summary = g_strdup_printf ("mode = %s, camera interface %s, %u camera(s), %u recorder(s), nflog group %u",
                                 cordon_firewall_mode_to_string (c->mode), cam_if,
                                 c->cameras->len, c->recorders->len, c->nflog_group);

  /* Sets. */
  FwSet *cam4 = add_set (rs, "cameras4", 4, FALSE, "camera addresses (IPv4)");
  FwSet *cam6 = add_set (rs, "cameras6", 6, FALSE, "camera addresses (IPv6)");
  FwSet *rec4 = add_set (rs, "recorders4", 4, TRUE, "where recorders may connect from (IPv4)");
  FwSet *rec6 = add_set (rs, "recorders6", 6, TRUE, "where recorders may connect from (IPv6)");
  for (guint i = 0; i < c->cameras->len; i++) {
    const CordonCamera *cam = g_ptr_array_index (c->cameras, i);
    set_add (camera_family (cam) == 4 ? cam4 : cam6, cam->address, camera_family (cam) == 4 ? 32 : 128);
  }
  for (guint i = 0; i < c->recorders->len; i++) {
    const CordonRecorder *rec = g_ptr_array_index (c->recorders, i);
    for (guint j = 0; j < rec->addresses->len; j++) {
      GInetAddressMask *mask = g_ptr_array_index (rec->addresses, j);
      GInetAddress *addr = g_inet_address_mask_get_address (mask);
      gboolean v4 = g_inet_address_get_family (addr) == G_SOCKET_FAMILY_IPV4;
      set_add (v4 ? rec4 : rec6, addr, g_inet_address_mask_get_length (mask));
    }
  }
  for (guint i = 0; i < rs->sets->len; i++)
    normalise_elements (g_ptr_array_index (rs->sets, i));

  /* Counters: one per camera, one for everything else. */
  for (guint i = 0; i < c->cameras->len; i++) {
    const CordonCamera *cam = g_ptr_array_index (c->cameras, i);
    add_counter (rs, fw_camera_counter_name (cam->name), cam->name,
                 g_strdup_printf ("refused packets from camera %s (%s)", cam->name, cam->host));
  }
  add_counter (rs, g_strdup (FW_UNKNOWN_COUNTER), NULL,
               g_strdup ("refused packets on the camera interface from no configured camera"));

  /* Chains: the base chains only dispatch; policy accept, so nothing but
   * cordon's explicit drops changes the host's behaviour. A forward chain in
   * every mode: host mode must not become a router for the cameras when
   * something (Docker, libvirt, an admin) turns forwarding on. */
  add_chain (rs, "prerouting", FW_HOOK_PREROUTING, "broadcast and multicast from cameras");
  add_chain (rs, "input", FW_HOOK_INPUT, "traffic to this host");
  add_chain (rs, "forward", FW_HOOK_FORWARD, "routed traffic: never from or to the cameras");
  add_chain (rs, "output", FW_HOOK_OUTPUT, "traffic from this host");
  add_chain (rs, "camera_in", FW_HOOK_NONE, "from the cameras to this host");
  add_chain (rs, "camera_forward", FW_HOOK_NONE, "from the cameras, routed: never");
  add_chain (rs, "camera_out", FW_HOOK_NONE, "from this host to the cameras");
  add_chain (rs, "recorder_port", FW_HOOK_NONE, "RTSP/RTSPS/ONVIF ports: recorders only");

  /* prerouting: discovery and cloud-pairing protocols (Hikvision SADP, Dahua,
   * WS-Discovery, SSDP) use broadcast and multicast, which the kernel would
   * drop unseen before input or forward. They go through camera_in here so
   * that they are counted and reported like any other phone-home attempt
   * (neighbour discovery, NTP and DHCP stay allowed there). */
  r = add_rule (rs, "prerouting", NULL);
  m_iif (r, cam_if, FALSE);
  push (r, FW_PKTTYPE)->negate = TRUE; /* value 0: PACKET_HOST */
  s_text (r, FW_JUMP, "camera_in");
  jump_by_address (rs, "prerouting", FW_SADDR_SET, "camera_in", TRUE);

  /* input */
  r = add_rule (rs, "input", NULL);
  m_iif (r, cam_if, FALSE);
  s_text (r, FW_JUMP, "camera_in");
  jump_by_address (rs, "input", FW_SADDR_SET, "camera_in", FALSE);
  /* ONVIF answers a few calls without credentials (clients expect that):
   * like RTSP, only recorder addresses reach it. */
  guint16 ports[3] = { c->listen_port, c->tls_certificate ? c->tls_listen_port : 0,
                       c->onvif_host ? c->onvif_port : 0 };
  for (guint i = 0; i < G_N_ELEMENTS (ports); i++) {
    gboolean seen = FALSE;
    for (guint j = 0; j < i; j++)
      seen |= ports[j] == ports[i];
    if (!ports[i] || seen)
      continue;
    r = add_rule (rs, "input", NULL);
    m_iif (r, "lo", TRUE);
    m_port (r, FW_DPORT, IPPROTO_TCP, ports[i]);
    s_text (r, FW_JUMP, "recorder_port");
  }

  /* forward */
  r = add_rule (rs, "forward", NULL);
  m_iif (r, cam_if, FALSE);
  s_text (r, FW_JUMP, "camera_forward");
  jump_by_address (rs, "forward", FW_SADDR_SET, "camera_forward", FALSE);
  r = add_rule (rs, "forward", "nothing is routed to the cameras");
  m_oif (r, cam_if, FALSE);
  s_plain (r, FW_COUNTER);
  s_plain (r, FW_DROP);
  drop_by_address (rs, "forward", FW_DADDR_SET, "nothing is routed to the cameras");

  /* output: cordon's own processes first, then what may go to cameras. */
  g_autoptr (GPtrArray) egress = fw_egress_for_config (c, rs->notes);
  for (guint i = 0; i < egress->len; i++)
    add_egress (rs, g_ptr_array_index (egress, i));
  g_ptr_array_extend_and_steal (rs->egress, g_steal_pointer (&egress));
  r = add_rule (rs, "output", NULL);
  m_oif (r, cam_if, FALSE);
  s_text (r, FW_JUMP, "camera_out");
  jump_by_address (rs, "output", FW_DADDR_SET, "camera_out", FALSE);

  /* camera_in */
  add_neighbour_discovery (rs, "camera_in");
  if (c->serve_dhcp) {
    r = add_rule (rs, "camera_in", "DHCP from cameras without an address yet");
    m_addr_zero4 (r, FW_SADDR);
    m_port (r, FW_DPORT, IPPROTO_UDP, 67);
    s_plain (r, FW_ACCEPT);
  }
  add_attribution (rs, c, "camera_in", TRUE);

  /* camera_forward */
  add_attribution (rs, c, "camera_forward", FALSE);

  /* camera_out */
  add_neighbour_discovery (rs, "camera_out");
  for (guint i = 0; i < c->cameras->len; i++) {
    const CordonCamera *cam = g_ptr_array_index (c->cameras, i);
    /* Which process may open it is the egress chains' business: only the
     * camera's own ingest worker (fw_egress_for_config). */
    g_autofree char *what = g_strdup_printf ("%s: its ingest worker's RTSP connection", cam->name);
    r = add_rule (rs, "camera_out", what);
    m_addr (r, FW_DADDR, cam->address, FALSE);
    m_port (r, FW_DPORT, IPPROTO_TCP, cam->port);
    m_value (r, FW_CT_STATE, FW_CT_NEW | FW_CT_ESTABLISHED);
    s_plain (r, FW_ACCEPT);
  }
  if (c->serve_ntp) {
    r = add_rule (rs, "camera_out", "NTP replies");
    m_port (r, FW_SPORT, IPPROTO_UDP, 123);
    m_value (r, FW_CT_STATE, FW_CT_ESTABLISHED);
    s_plain (r, FW_ACCEPT);
  }
  if (c->serve_dhcp) {
    /* Replies go to broadcast or the offered address: conntrack cannot tie
     * them to the request. */
    r = add_rule (rs, "camera_out", "DHCP replies");
    m_port (r, FW_SPORT, IPPROTO_UDP, 67);
    m_port (r, FW_DPORT, IPPROTO_UDP, 68);
    s_plain (r, FW_ACCEPT);
  }
  r = add_rule (rs, "camera_out", "nothing else goes to the cameras");
  s_plain (r, FW_COUNTER);
  s_plain (r, FW_DROP);

  /* recorder_port */
  r = add_rule (rs, "recorder_port", NULL);
  m_set (r, 4, "recorders4", FALSE);
  s_plain (r, FW_RETURN);
  r = add_rule (rs, "recorder_port", NULL);
  m_set (r, 6, "recorders6", FALSE);
  s_plain (r, FW_RETURN);
  r = add_rule (rs, "recorder_port", "not a recorder address");
  s_plain (r, FW_COUNTER);
  s_plain (r, FW_DROP);

  /* refuse: one log budget for unknown sources, one per camera. */
  add_refuse_chain (rs, FW_REFUSE_CHAIN, "unknown sources: log for the phone-home report (rate-limited), then drop",
                    c->nflog_group);
  for (guint i = 0; i < c->cameras->len; i++) {
    const CordonCamera *cam = g_ptr_array_index (c->cameras, i);
    g_autofree char *name = fw_camera_refuse_chain (cam->name);
    g_autofree char *what = g_strdup_printf ("camera %s: log within its own budget, then drop", cam->name);
    add_refuse_chain (rs, name, what, c->nflog_group);
  }

  return g_steal_pointer (&rs);
}

FwRuleset *
fw_ruleset_new_lockdown (const char *cam_if, guint nflog_group, GError **error)
{
  g_autoptr (FwRuleset) rs = ruleset_alloc (CORDON_FIREWALL_MODE_GATEWAY);
  FwRule *r;

  rs->lockdown = TRUE;
  if (cam_if && !check_interface ("camera-interface", cam_if, error))
    return NULL;
  add_counter (rs, g_strdup ("lockdown"), NULL, g_strdup ("packets refused by the lock-down table"));
  add_chain (rs, "prerouting", FW_HOOK_PREROUTING, "everything from the camera interface");
  add_chain (rs, "input", FW_HOOK_INPUT, "everything from the camera interface");
  add_chain (rs, "forward", FW_HOOK_FORWARD, cam_if ? "nothing routed from or to the camera interface"
                                                    : "nothing routed at all");
  add_chain (rs, "output", FW_HOOK_OUTPUT, "nothing to the camera interface");
  add_refuse_chain (rs, FW_REFUSE_CHAIN, "log for the phone-home report (rate-limited), then drop", nflog_group);

  if (!cam_if) {
    /* Not even the camera interface is known: the host's own traffic stays,
     * but this host routes nothing, so no camera gets past it. */
    rs->summary = g_strdup ("LOCK-DOWN: configuration unreadable, camera interface unknown: nothing is forwarded");
    r = add_rule (rs, "forward", "lock-down: nothing is routed");
    s_text (r, FW_COUNTER_REF, "lockdown");
    s_text (r, FW_JUMP, FW_REFUSE_CHAIN);
    return g_steal_pointer (&rs);
  }
  rs->summary = g_strdup_printf ("LOCK-DOWN: configuration invalid; everything on camera interface %s refused",
                                 cam_if);
  const char *chains[] = { "prerouting", "input", "forward" };
  for (guint i = 0; i < G_N_ELEMENTS (chains); i++) {
    r = add_rule (rs, chains[i], "lock-down: the configuration is invalid");
    m_iif (r, cam_if, FALSE);
    s_text (r, FW_COUNTER_REF, "lockdown");
    s_text (r, FW_JUMP, FW_REFUSE_CHAIN);
  }
  r = add_rule (rs, "forward", "lock-down: nothing is routed to the cameras");
  m_oif (r, cam_if, FALSE);
  s_text (r, FW_COUNTER_REF, "lockdown");
  s_plain (r, FW_DROP);
  r = add_rule (rs, "output", "lock-down: nothing goes to the cameras");
  m_oif (r, cam_if, FALSE);
  s_text (r, FW_COUNTER_REF, "lockdown");
  s_plain (r, FW_DROP);
  return g_steal_pointer (&rs);
}
