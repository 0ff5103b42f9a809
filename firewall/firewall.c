/* cordon — firewall public entry points. */
#define G_LOG_DOMAIN "cordon-firewall"

#include "firewall-private.h"

char *
cordon_firewall_plan (const CordonConfig *config, GError **error)
{
  g_autoptr (FwRuleset) rs = fw_ruleset_new (config, error);
  if (!rs)
    return NULL;
  return fw_render (rs);
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
  return TRUE;
}

gboolean
cordon_firewall_remove (GError **error)
{
  return fw_netlink_remove (error);
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
  return out;
}
