/* cordon — a listener whose clients each get cordon's per-connection state
 * and a session pool of their own. */
#define G_LOG_DOMAIN "cordon-proxy"

#include "proxy/listener.h"

#include "proxy/auth.h"
#include "proxy/client.h"

struct _CordonListener {
  GstRTSPServer parent;
  gboolean tunnel;
};

G_DEFINE_TYPE (CordonListener, cordon_listener, GST_TYPE_RTSP_SERVER)

/* As gst-rtsp-server's own create_client, but with a CordonClient, which
 * brings its own session pool instead of the server-wide one. */
static GstRTSPClient *
cordon_listener_create_client (GstRTSPServer *server)
{
  CordonListener *self = CORDON_LISTENER (server);
  GstRTSPClient *client = GST_RTSP_CLIENT (cordon_client_new (self->tunnel));

  g_autoptr (GstRTSPMountPoints) mounts = gst_rtsp_server_get_mount_points (server);
  gst_rtsp_client_set_mount_points (client, mounts);
  gst_rtsp_client_set_content_length_limit (client, gst_rtsp_server_get_content_length_limit (server));
  g_autoptr (GstRTSPAuth) auth = gst_rtsp_server_get_auth (server);
  gst_rtsp_client_set_auth (client, auth);
  if (auth && CORDON_IS_AUTH (auth))
    cordon_auth_watch_client (CORDON_AUTH (auth), client);
  g_autoptr (GstRTSPThreadPool) threads = gst_rtsp_server_get_thread_pool (server);
  gst_rtsp_client_set_thread_pool (client, threads);
  return client;
}

static void
cordon_listener_class_init (CordonListenerClass *klass)
{
  GST_RTSP_SERVER_CLASS (klass)->create_client = cordon_listener_create_client;
}

static void
cordon_listener_init (CordonListener *self)
{
}

CordonListener *
cordon_listener_new (gboolean tunnel)
{
  CordonListener *self = g_object_new (CORDON_TYPE_LISTENER, NULL);
  self->tunnel = tunnel;
  return self;
}
