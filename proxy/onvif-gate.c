/* cordon — connection limits for the ONVIF service (see onvif-gate.h). */
#define G_LOG_DOMAIN "cordon-onvif"

#include "proxy/onvif-gate.h"

#define SWEEP_MS 2000
#define LOG_INTERVAL_US (10 * G_USEC_PER_SEC)

typedef struct {
  GSocketConnection *conn;         /* (ref) */
  char *ip;
  gint64 since;                    /* monotonic: accepted */
} Conn;

struct _CordonOnvifGate {
  SoupServer *server;              /* (ref) */
  GSocketService *service;
  GPtrArray *conns;                /* Conn* */
  GHashTable *per_ip;              /* ip → open count */
  guint sweep;
  gint64 last_log;
  guint refused;                   /* since the last log line */
};

static void
conn_free (Conn *c)
{
  g_object_unref (c->conn);
  g_free (c->ip);
  g_free (c);
}

static void
release (CordonOnvifGate *g, guint index)
{
  Conn *c = g->conns->pdata[index];
  guint n = GPOINTER_TO_UINT (g_hash_table_lookup (g->per_ip, c->ip));
  if (n <= 1)
    g_hash_table_remove (g->per_ip, c->ip);
  else
    g_hash_table_insert (g->per_ip, g_strdup (c->ip), GUINT_TO_POINTER (n - 1));
  g_ptr_array_remove_index_fast (g->conns, index);
}

/* Closed by libsoup (after its one request, or the client left), or open too
 * long without completing a request. */
static gboolean
sweep (gpointer data)
{
  CordonOnvifGate *g = data;
  gint64 now = g_get_monotonic_time ();

  for (guint i = g->conns->len; i-- > 0;) {
    Conn *c = g->conns->pdata[i];
    GSocket *s = g_socket_connection_get_socket (c->conn);
    if (g_io_stream_is_closed (G_IO_STREAM (c->conn)) || g_socket_is_closed (s)) {
      release (g, i);
    } else if (now - c->since > CORDON_ONVIF_IDLE_S * G_USEC_PER_SEC) {
      /* A shutdown, not a close: libsoup reads the end of the stream and
       * cleans up as for a client that left; the next sweep releases it. */
      g_socket_shutdown (s, TRUE, TRUE, NULL);
      c->since = G_MAXINT64 / 2;
    }
  }
  return G_SOURCE_CONTINUE;
}

static gboolean
incoming (GSocketService *service, GSocketConnection *conn, GObject *source, gpointer data)
{
  CordonOnvifGate *g = data;
  g_autoptr (GSocketAddress) remote = g_socket_connection_get_remote_address (conn, NULL);
  g_autoptr (GSocketAddress) local = g_socket_connection_get_local_address (conn, NULL);
  g_autofree char *ip = remote && G_IS_INET_SOCKET_ADDRESS (remote)
    ? g_inet_address_to_string (g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (remote)))
    : g_strdup ("?");

  sweep (g);
  guint n = GPOINTER_TO_UINT (g_hash_table_lookup (g->per_ip, ip));
  if (n >= CORDON_ONVIF_PER_ADDRESS || g->conns->len >= CORDON_ONVIF_CONNECTIONS) {
    gint64 now = g_get_monotonic_time ();
    g->refused++;
    if (now - g->last_log >= LOG_INTERVAL_US) {
      g_message ("ONVIF: connection from %s refused: %s (%u refused since the last line)", ip,
                 n >= CORDON_ONVIF_PER_ADDRESS ? "too many from this address" : "too many in all", g->refused);
      g->last_log = now;
      g->refused = 0;
    }
    /* Not kept: the service closes it when this returns. */
    return TRUE;
  }
  g_autoptr (GError) err = NULL;
  if (!soup_server_accept_iostream (g->server, G_IO_STREAM (conn), local, remote, &err)) {
    g_message ("ONVIF: connection from %s not accepted: %s", ip, err->message);
    return TRUE;
  }
  Conn *c = g_new0 (Conn, 1);
  c->conn = g_object_ref (conn);
  c->ip = g_strdup (ip);
  c->since = g_get_monotonic_time ();
  g_ptr_array_add (g->conns, c);
  g_hash_table_insert (g->per_ip, g_steal_pointer (&ip), GUINT_TO_POINTER (n + 1));
  return TRUE;
}

CordonOnvifGate *
cordon_onvif_gate_new (SoupServer *server, GSocket *socket, GError **error)
{
  g_autoptr (CordonOnvifGate) g = g_new0 (CordonOnvifGate, 1);
  g->server = g_object_ref (server);
  g->conns = g_ptr_array_new_with_free_func ((GDestroyNotify) conn_free);
  g->per_ip = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g->service = g_socket_service_new ();
  if (!g_socket_listener_add_socket (G_SOCKET_LISTENER (g->service), socket, NULL, error))
    return NULL;
  g_signal_connect (g->service, "incoming", G_CALLBACK (incoming), g);
  g->sweep = g_timeout_add (SWEEP_MS, sweep, g);
  g_socket_service_start (g->service);
  return g_steal_pointer (&g);
}

void
cordon_onvif_gate_free (CordonOnvifGate *g)
{
  if (!g)
    return;
  if (g->sweep)
    g_source_remove (g->sweep);
  if (g->service) {
    g_socket_service_stop (g->service);
    g_socket_listener_close (G_SOCKET_LISTENER (g->service));
    g_object_unref (g->service);
  }
  g_clear_pointer (&g->conns, g_ptr_array_unref);
  g_clear_pointer (&g->per_ip, g_hash_table_unref);
  g_clear_object (&g->server);
  g_free (g);
}
