/* cordon — firewall public entry points. */
#define G_LOG_DOMAIN "cordon-firewall"

#include "firewall-private.h"

#include <net/if.h>
#include <string.h>

char *
cordon_firewall_plan (const CordonConfig *config, GError **error)
{
  g_autoptr (FwRuleset) rs = fw_ruleset_new (config, error);
  if (!rs)
    return NULL;
  return fw_render (rs);
}

char *
cordon_firewall_unit_addresses (const CordonConfig *c)
{
  GString *out = g_string_new (NULL);
  g_string_append (out,
                          "# cordon.service drop-in made by `cordon firewall unit-addresses`.\n"
                          "# IPAddressAllow= holds for both directions of every socket of the unit,\n"
                          "# the ingest workers' too: recorders may connect from these addresses only,\n"
                          "# and cordon reaches only them. Regenerate it when recorders or cameras change.\n"
                          "[Service]\nIPAddressDeny=any\nIPAddressAllow=localhost\n");
  for (guint i = 0; i < c->recorders->len; i++) {
    const CordonRecorder *r = c->recorders->pdata[i];
    g_string_append_printf (out, "# recorder %s\nIPAddressAllow=", r->name);
    for (guint j = 0; j < r->addresses->len; j++) {
      g_autofree char *mask = g_inet_address_mask_to_string (r->addresses->pdata[j]);
      g_string_append_printf (out, "%s%s", j ? " " : "", mask);
    }
    g_string_append_c (out, '\n');
  }
  for (guint i = 0; i < c->cameras->len; i++) {
    const CordonCamera *cam = c->cameras->pdata[i];
    g_string_append_printf (out, "# camera %s\nIPAddressAllow=%s\n", cam->name, cam->host);
  }
  g_autoptr (GInetAddress) status = c->status_host ? g_inet_address_new_from_string (c->status_host) : NULL;
  if (status && !g_inet_address_get_is_loopback (status))
    g_string_append_printf (out, "# [proxy] status is on %s: add the addresses your monitoring scrapes from\n"
                                 "# IPAddressAllow=\n",
                            c->status_host);
  return g_string_free (out, FALSE);
}

gboolean
cordon_firewall_apply (const CordonConfig *config, GError **error)
{
  g_autoptr (FwRuleset) rs = fw_ruleset_new (config, error);
  if (!rs)
    return FALSE;
  if (rs->mode == CORDON_FIREWALL_MODE_OFF)
    return fw_netlink_remove (error);
  if (!fw_netlink_apply (rs, error))
    return FALSE;
  g_message ("applied table inet %s: %s", CORDON_FIREWALL_TABLE, rs->summary);
  /* The table holds without the neighbour entries; a failure here is loud
   * but does not undo it. */
  g_autoptr (GError) neigh_error = NULL;
  guint pinned = 0;
  if (!fw_neigh_pin (config, &pinned, &neigh_error))
    g_warning ("%s", neigh_error->message);
  else if (pinned)
    g_message ("MAC pinning: %u permanent neighbour entr%s on %s", pinned, pinned == 1 ? "y" : "ies",
               config->camera_interface);
  g_auto (GStrv) warnings = cordon_firewall_host_warnings (config);
  for (guint i = 0; warnings[i]; i++)
    g_warning ("%s", warnings[i]);
  return TRUE;
}

gboolean
cordon_firewall_apply_lockdown (const char *camera_interface, guint nflog_group, GError **error)
{
  g_autoptr (FwRuleset) rs = fw_ruleset_new_lockdown (camera_interface, nflog_group, error);
  if (!rs || !fw_netlink_apply (rs, error))
    return FALSE;
  g_warning ("applied table inet %s: %s", CORDON_FIREWALL_TABLE, rs->summary);
  return TRUE;
}

gboolean
cordon_firewall_remove (GError **error)
{
  if (!fw_netlink_remove (error))
    return FALSE;
  /* Pinned neighbours go with the isolation they belong to. */
  g_autoptr (GError) local = NULL;
  if (!fw_neigh_unpin_all (&local))
    g_warning ("%s", local->message);
  return TRUE;
}

gboolean
cordon_firewall_camera_interface_present (const CordonConfig *config)
{
  if (config->mode == CORDON_FIREWALL_MODE_OFF || !config->camera_interface)
    return TRUE;
  return if_nametoindex (config->camera_interface) != 0;
}

static gboolean
sysctl_on (const char *path)
{
  g_autofree char *text = NULL;
  return g_file_get_contents (path, &text, NULL, NULL) && g_ascii_strtoll (text, NULL, 10) != 0;
}

static void
take (GStrvBuilder *builder, char *text)
{
  g_strv_builder_add (builder, text);
  g_free (text);
}

GStrv
cordon_firewall_host_warnings (const CordonConfig *config)
{
  g_autoptr (GStrvBuilder) out = g_strv_builder_new ();
  if (config->mode == CORDON_FIREWALL_MODE_OFF)
    return g_strv_builder_end (out);

  if (!cordon_firewall_camera_interface_present (config))
    take (out, g_strdup_printf ("[firewall] camera-interface \"%s\" is not present on this host: "
                                               "cameras are contained by their addresses only; unknown devices "
                                               "on a renamed camera link are not (rename it back or fix the "
                                               "configuration)", config->camera_interface));
  if (config->mode == CORDON_FIREWALL_MODE_HOST) {
    gboolean v4 = sysctl_on ("/proc/sys/net/ipv4/ip_forward");
    gboolean v6 = sysctl_on ("/proc/sys/net/ipv6/conf/all/forwarding");
    if (v4 || v6)
      take (out, g_strdup_printf ("mode = host but IP forwarding is on (%s%s%s): cordon refuses "
                                                 "forwarding from and to the cameras, but this host routes other "
                                                 "traffic; use mode = gateway if it is the cameras' router",
                                                 v4 ? "IPv4" : "", v4 && v6 ? ", " : "", v6 ? "IPv6" : ""));
  }
  g_autoptr (GPtrArray) notes = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) egress = fw_egress_for_config (config, notes);
  for (guint i = 0; i < notes->len; i++)
    g_strv_builder_add (out, g_ptr_array_index (notes, i));
  return g_strv_builder_end (out);
}

gboolean
cordon_firewall_table_present (GError **error)
{
  return fw_netlink_table_present (error);
}

GHashTable *
cordon_firewall_read_counters (const CordonConfig *config, GError **error)
{
  g_autoptr (GHashTable) raw = fw_netlink_read_counters (error);
  if (!raw)
    return NULL;
  GHashTable *out = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  for (guint i = 0; i < config->cameras->len; i++) {
    const CordonCamera *cam = g_ptr_array_index (config->cameras, i);
    g_autofree char *name = fw_camera_counter_name (cam->name);
    guint64 *packets = g_hash_table_lookup (raw, name);
    if (packets)
      g_hash_table_insert (out, g_strdup (cam->name), g_memdup2 (packets, sizeof *packets));
  }
  guint64 *unknown = g_hash_table_lookup (raw, FW_UNKNOWN_COUNTER);
  if (unknown)
    g_hash_table_insert (out, g_strdup (CORDON_FIREWALL_UNKNOWN_SOURCE), g_memdup2 (unknown, sizeof *unknown));

  GHashTableIter it;
  gpointer key, value;
  guint64 egress = 0;
  gboolean any = FALSE;
  g_hash_table_iter_init (&it, raw);
  while (g_hash_table_iter_next (&it, &key, &value)) {
    if (g_str_has_prefix (key, FW_EGRESS_PREFIX)) {
      egress += *(guint64 *) value;
      any = TRUE;
    }
  }
  if (any)
    g_hash_table_insert (out, g_strdup (CORDON_FIREWALL_EGRESS), g_memdup2 (&egress, sizeof egress));
  return out;
}
