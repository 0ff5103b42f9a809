/* cordon — rule description → `nft -f` text (cordon firewall plan). */
#define G_LOG_DOMAIN "cordon-firewall"

#include "firewall-private.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

static const char *
hook_name (FwHook hook)
{
  switch (hook) {
  case FW_HOOK_PREROUTING: return "prerouting";
  case FW_HOOK_INPUT: return "input";
  case FW_HOOK_FORWARD: return "forward";
  case FW_HOOK_OUTPUT: return "output";
  case FW_HOOK_NONE: break;
  }
  return NULL;
}

static void
append_addr (GString *out, int family, const guint8 *addr)
{
  char text[INET6_ADDRSTRLEN];
  inet_ntop (family == 4 ? AF_INET : AF_INET6, addr, text, sizeof text);
  g_string_append (out, text);
}

static void
append_ct_state (GString *out, guint32 mask)
{
  static const struct { guint32 bit; const char *name; } names[] = {
    { FW_CT_INVALID, "invalid" }, { FW_CT_ESTABLISHED, "established" },
    { FW_CT_RELATED, "related" }, { FW_CT_NEW, "new" },
  };
  gboolean first = TRUE;
  for (guint i = 0; i < G_N_ELEMENTS (names); i++) {
    if (!(mask & names[i].bit))
      continue;
    g_string_append_printf (out, "%s%s", first ? "" : ",", names[i].name);
    first = FALSE;
  }
}

static void
append_item (GString *out, const FwItem *it)
{
  const char *ne = it->negate ? "!= " : "";
  const char *ip = it->family == 4 ? "ip" : "ip6";

  switch (it->kind) {
  case FW_IIFNAME:
    g_string_append_printf (out, "iifname %s\"%s\"", ne, it->text);
    break;
  case FW_OIFNAME:
    g_string_append_printf (out, "oifname %s\"%s\"", ne, it->text);
    break;
  case FW_SADDR:
  case FW_DADDR:
    g_string_append_printf (out, "%s %s %s", ip, it->kind == FW_SADDR ? "saddr" : "daddr", ne);
    append_addr (out, it->family, it->addr);
    break;
  case FW_SADDR_SET:
  case FW_DADDR_SET:
    g_string_append_printf (out, "%s %s %s@%s", ip, it->kind == FW_SADDR_SET ? "saddr" : "daddr", ne, it->text);
    break;
  case FW_SKUID:
    g_string_append_printf (out, "meta skuid %u", it->value);
    break;
  case FW_CT_ORIG_DADDR:
    g_string_append_printf (out, "ct original %s daddr ", ip);
    append_addr (out, it->family, it->addr);
    break;
  case FW_CT_ORIG_PROTO:
    g_string_append_printf (out, "ct original protocol %s", fw_proto_name (it->value));
    break;
  case FW_CT_ORIG_DPORT:
    g_string_append_printf (out, "ct original proto-dst %u", it->value);
    break;
  case FW_L4PROTO:
    g_string_append_printf (out, "meta l4proto %s",
                            it->value == IPPROTO_ICMPV6 ? "ipv6-icmp" : fw_proto_name (it->value));
    break;
  case FW_SPORT:
  case FW_DPORT:
    g_string_append_printf (out, "%s %s %u", fw_proto_name (it->proto),
                            it->kind == FW_SPORT ? "sport" : "dport", it->value);
    break;
  case FW_DPORT_MIN:
    g_string_append_printf (out, "%s dport >= %u", fw_proto_name (it->proto), it->value);
    break;
  case FW_ICMPV6_TYPE:
    g_string_append_printf (out, "icmpv6 type %s",
                            it->value == 135 ? "nd-neighbor-solicit"
                            : it->value == 136 ? "nd-neighbor-advert" : "");
    break;
  case FW_HOPLIMIT:
    g_string_append_printf (out, "ip6 hoplimit %u", it->value);
    break;
  case FW_PKTTYPE:
    g_string_append_printf (out, "meta pkttype %s%s", ne,
                            it->value == 0 ? "host" : it->value == 1 ? "broadcast" : it->value == 2 ? "multicast" : "other");
    break;
  case FW_CT_STATE:
    g_string_append (out, "ct state ");
    append_ct_state (out, it->value);
    break;
  case FW_ETHER_SADDR:
    g_string_append_printf (out, "ether saddr %s%02x:%02x:%02x:%02x:%02x:%02x", ne,
                            it->addr[0], it->addr[1], it->addr[2], it->addr[3], it->addr[4], it->addr[5]);
    break;
  case FW_COUNTER:
    g_string_append (out, "counter");
    break;
  case FW_COUNTER_REF:
    g_string_append_printf (out, "counter name \"%s\"", it->text);
    break;
  case FW_LIMIT:
    g_string_append_printf (out, "limit rate %u/second", it->value);
    break;
  case FW_LOG:
    g_string_append_printf (out, "log group %u", it->value);
    break;
  case FW_ACCEPT:
    g_string_append (out, "accept");
    break;
  case FW_DROP:
    g_string_append (out, "drop");
    break;
  case FW_RETURN:
    g_string_append (out, "return");
    break;
  case FW_JUMP:
    g_string_append_printf (out, "jump %s", it->text);
    break;
  }
}

static void
append_rule (GString *out, const FwRule *rule)
{
  g_string_append (out, "\t\t");
  for (guint i = 0; i < rule->items->len; i++) {
    if (i)
      g_string_append_c (out, ' ');
    append_item (out, &g_array_index (rule->items, FwItem, i));
  }
  if (rule->comment)
    g_string_append_printf (out, " comment \"%s\"", rule->comment);
  g_string_append_c (out, '\n');
}

char *
fw_render (const FwRuleset *rs)
{
  g_autoptr (GString) out = g_string_new (NULL);

  g_string_append_printf (out, "# cordon firewall plan: %s\n", rs->summary);
  for (guint i = 0; rs->notes && i < rs->notes->len; i++)
    g_string_append_printf (out, "# note: %s\n", (const char *) g_ptr_array_index (rs->notes, i));
  if (rs->mode == CORDON_FIREWALL_MODE_OFF)
    return g_string_free (g_steal_pointer (&out), FALSE);
  g_string_append (out, "# cordon applies this as one atomic netlink batch; named counters survive re-apply.\n");

  g_string_append (out, "table inet " CORDON_FIREWALL_TABLE " {\n");

  for (guint i = 0; i < rs->sets->len; i++) {
    const FwSet *set = g_ptr_array_index (rs->sets, i);
    g_string_append_printf (out, "\t# %s\n\tset %s {\n\t\ttype %s\n", set->comment, set->name,
                            set->family == 4 ? "ipv4_addr" : "ipv6_addr");
    if (set->interval)
      g_string_append (out, "\t\tflags interval\n");
    if (set->elements->len) {
      g_string_append (out, "\t\telements = { ");
      for (guint j = 0; j < set->elements->len; j++) {
        const FwElement *e = &g_array_index (set->elements, FwElement, j);
        if (j)
          g_string_append (out, ", ");
        append_addr (out, set->family, e->addr);
        if (e->prefix != (set->family == 4 ? 32u : 128u))
          g_string_append_printf (out, "/%u", e->prefix);
      }
      g_string_append (out, " }\n");
    }
    g_string_append (out, "\t}\n\n");
  }

  for (guint i = 0; i < rs->counters->len; i++) {
    const FwCounter *counter = g_ptr_array_index (rs->counters, i);
    g_string_append_printf (out, "\t# %s\n\tcounter %s {\n\t}\n\n", counter->comment, counter->name);
  }

  for (guint i = 0; i < rs->chains->len; i++) {
    const FwChain *chain = g_ptr_array_index (rs->chains, i);
    g_string_append_printf (out, "\t# %s\n\tchain %s {\n", chain->comment, chain->name);
    if (chain->hook != FW_HOOK_NONE)
      g_string_append_printf (out, "\t\ttype filter hook %s priority %d; policy accept;\n",
                              hook_name (chain->hook), FW_PRIORITY);
    for (guint j = 0; j < rs->rules->len; j++) {
      const FwRule *rule = g_ptr_array_index (rs->rules, j);
      if (strcmp (rule->chain, chain->name) == 0)
        append_rule (out, rule);
    }
    g_string_append (out, i + 1 < rs->chains->len ? "\t}\n\n" : "\t}\n");
  }
  g_string_append (out, "}\n");
  return g_string_free (g_steal_pointer (&out), FALSE);
}
