/* cordon — a recorder connection and its state. */
#define G_LOG_DOMAIN "cordon-proxy"

#include "proxy/client.h"

#include "proxy/media-factory.h"
#include "proxy/random.h"
#include "proxy/session-pool.h"

/* What one client watches: bytes it was sent are the camera's encoded bytes
 * since its PLAY (the media is shared, so every viewer gets the same). */
typedef struct {
  CordonMediaFactory *factory;
  guint64 start;
} Watch;

struct _CordonClient {
  GstRTSPClient parent;
  gboolean tunnel;
  char *ip;
  char *recorder;
  char *nonce;
  guint failures;
  gboolean shut;
  gint64 last_request;  /* monotonic */
  GPtrArray *watches;   /* Watch* */
};

G_DEFINE_TYPE (CordonClient, cordon_client, GST_TYPE_RTSP_CLIENT)

static void
watch_free (Watch *w)
{
  g_object_unref (w->factory);
  g_free (w);
}

static void
cordon_client_finalize (GObject *object)
{
  CordonClient *self = CORDON_CLIENT (object);
  g_free (self->ip);
  g_free (self->recorder);
  g_free (self->nonce);
  g_ptr_array_unref (self->watches);
  G_OBJECT_CLASS (cordon_client_parent_class)->finalize (object);
}

static void
cordon_client_class_init (CordonClientClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = cordon_client_finalize;
}

static void
cordon_client_init (CordonClient *self)
{
  self->watches = g_ptr_array_new_with_free_func ((GDestroyNotify) watch_free);
  self->last_request = g_get_monotonic_time ();
}

CordonClient *
cordon_client_new (gboolean tunnel)
{
  CordonClient *self = g_object_new (CORDON_TYPE_CLIENT, NULL);
  g_autoptr (CordonSessionPool) pool = cordon_session_pool_new ();
  self->tunnel = tunnel;
  gst_rtsp_client_set_session_pool (GST_RTSP_CLIENT (self), GST_RTSP_SESSION_POOL (pool));
  return self;
}

static void
ensure_ip (CordonClient *self)
{
  if (self->ip)
    return;
  GstRTSPConnection *conn = gst_rtsp_client_get_connection (GST_RTSP_CLIENT (self));
  if (!conn)
    return;
  self->ip = g_strdup (gst_rtsp_connection_get_ip (conn));
  /* In HTTP mode the connection hands HTTP requests to the client as they
   * are, and the client ignores them: a tunnel GET or POST never becomes a
   * tunnel, and the idle sweep closes the connection. */
  if (!self->tunnel)
    gst_rtsp_connection_set_http_mode (conn, TRUE);
}

const char *
cordon_client_get_ip (CordonClient *self)
{
  ensure_ip (self);
  return self->ip;
}

const char *
cordon_client_get_recorder (CordonClient *self)
{
  return self->recorder;
}

void
cordon_client_set_recorder (CordonClient *self, const char *recorder)
{
  if (!self->recorder)
    self->recorder = g_strdup (recorder);
}

const char *
cordon_client_get_nonce (CordonClient *self)
{
  if (!self->nonce)
    self->nonce = cordon_random_hex (16);
  return self->nonce;
}

guint
cordon_client_add_failure (CordonClient *self)
{
  return ++self->failures;
}

static gboolean
close_later (gpointer data)
{
  gst_rtsp_client_close (data);
  return G_SOURCE_REMOVE;
}

void
cordon_client_shut (CordonClient *self)
{
  if (self->shut)
    return;
  self->shut = TRUE;
  /* Not from inside the request being handled: closing destroys the watch
   * that is dispatching it. */
  g_autoptr (GSource) idle = g_idle_source_new ();
  g_source_set_callback (idle, close_later, g_object_ref (self), g_object_unref);
  g_source_attach (idle, g_main_context_get_thread_default ());
}

gboolean
cordon_client_is_shut (CordonClient *self)
{
  return self->shut;
}

void
cordon_client_note_request (CordonClient *self)
{
  self->last_request = g_get_monotonic_time ();
}

gint64
cordon_client_idle_us (CordonClient *self)
{
  return g_get_monotonic_time () - self->last_request;
}

static GstRTSPFilterResult
count_session (GstRTSPClient *client, GstRTSPSession *session, gpointer data)
{
  (*(guint *) data)++;
  return GST_RTSP_FILTER_KEEP;
}

guint
cordon_client_session_count (CordonClient *self)
{
  guint n = 0;
  gst_rtsp_client_session_filter (GST_RTSP_CLIENT (self), count_session, &n);
  return n;
}

void
cordon_client_watch (CordonClient *self, GObject *factory, guint64 start)
{
  for (guint i = 0; i < self->watches->len; i++)
    if ((GObject *) ((Watch *) self->watches->pdata[i])->factory == factory)
      return;
  Watch *w = g_new0 (Watch, 1);
  w->factory = CORDON_MEDIA_FACTORY (g_object_ref (factory));
  w->start = start;
  g_ptr_array_add (self->watches, w);
}

guint64
cordon_client_bytes_sent (CordonClient *self)
{
  guint64 sum = 0;
  for (guint i = 0; i < self->watches->len; i++) {
    Watch *w = self->watches->pdata[i];
    guint64 now = cordon_media_factory_bytes (w->factory);
    sum += now > w->start ? now - w->start : 0;
  }
  return sum;
}
