/* Stand-in for the firewall module while it is not built yet: lets the
 * helper's protocol be tested. Applies nothing; counters are 0 per camera.
 * Used only when firewall/meson.build builds no library. */
#include "firewall.h"

G_DEFINE_QUARK (cordon-firewall-error-quark, cordon_firewall_error)

gboolean
cordon_firewall_apply (const CordonConfig *config, GError **error)
{
  return TRUE;
}

GHashTable *
cordon_firewall_read_counters (const CordonConfig *config, GError **error)
{
  GHashTable *counters = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  for (guint i = 0; i < config->cameras->len; i++) {
    const CordonCamera *cam = config->cameras->pdata[i];
    guint64 zero = 0;
    g_hash_table_replace (counters, g_strdup (cam->name), g_memdup2 (&zero, sizeof zero));
  }
  return counters;
}
