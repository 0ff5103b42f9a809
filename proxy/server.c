/* cordon — RTSP egress built on gst-rtsp-server. */
#define G_LOG_DOMAIN "cordon-proxy"

#include "proxy/server.h"

#include <string.h>

#include "proxy/auth.h"
#include "proxy/client.h"
#include "proxy/guard.h"
#include "proxy/listener.h"
#include "proxy/media-factory.h"
#include "proxy/mounts.h"

typedef struct {
  GstRTSPServer *rtsp;
  GstRTSPMountPoints *mounts;
  CordonAuth *auth;
  GSocket *socket;
  GSource *source;
} Listener;

struct _CordonServer {
  GHashTable *factories;  /* camera name → GPtrArray of CordonMediaFactory* */
  Listener plain;
  Listener tls;           /* rtsp == NULL when RTSPS is off */
  GSource *sweep;         /* closes idle connections */
  CordonGuard *guard;     /* resets clients that send too much */
  GMutex sent_lock;
  GHashTable *sent;       /* recorder name → guint64* bytes of closed connections */
};

static GSocket *
bind_socket (const char *host, guint16 port, GError **error)
{
  g_autoptr (GInetAddress) addr = g_inet_address_new_from_string (host);
  g_autoptr (GSocketAddress) sa = g_inet_socket_address_new (addr, port);
  g_autoptr (GSocket) sock = g_socket_new (g_inet_address_get_family (addr), G_SOCKET_TYPE_STREAM,
                                           G_SOCKET_PROTOCOL_TCP, error);
  if (!sock)
    return NULL;
  g_socket_set_keepalive (sock, TRUE);
  g_socket_set_blocking (sock, FALSE);
  if (!g_socket_bind (sock, sa, TRUE, error)) {
    g_prefix_error (error, "cannot listen on %s port %u: ", host, port);
    return NULL;
  }
  g_socket_set_listen_backlog (sock, 64);
  if (!g_socket_listen (sock, error)) {
    g_prefix_error (error, "cannot listen on %s port %u: ", host, port);
    return NULL;
  }
  return g_steal_pointer (&sock);
}

/* Wake the send threads of the streams a recorder has just joined.
 *
 * gst-rtsp-server (1.22) sends to TCP recorders from one thread per stream,
 * which sleeps while every recorder of the stream still has a packet in
 * flight, and wakes on a new packet or when a recorder's packet has gone out.
 * Its packet queue holds one packet, so while it sleeps the media stops, and
 * no new packet comes. If the last recorders then vanish with their packets
 * unsent (a recorder that stopped reading, then was unplugged), nothing wakes
 * the thread again: a recorder that had already set up the same shared media
 * got its PLAY answered and then no packet, and so did every later one for as
 * long as any of them kept the media up. Adding a recorder does not wake the
 * thread; telling the stream that a packet to the new recorder has gone out
 * does, and with nothing queued for it that is all it does. */
static void
wake_senders (GstRTSPSessionMedia *sessmedia)
{
  g_autoptr (GPtrArray) transports = gst_rtsp_session_media_get_transports (sessmedia);
  for (guint i = 0; transports && i < transports->len; i++) {
    GstRTSPStreamTransport *t = transports->pdata[i];
    if (t)
      gst_rtsp_stream_transport_message_sent (t);
  }
}

/* A recorder joining a media that is already streaming would wait up to a
 * keyframe interval for its first IDR; ask the camera's encoder for one. */
static void
on_play_request (GstRTSPClient *client, GstRTSPContext *ctx, CordonServer *server)
{
  if (ctx->sessmedia)
    wake_senders (ctx->sessmedia);
  GstRTSPMedia *media = ctx->media;
  if (!media && ctx->sessmedia)
    media = gst_rtsp_session_media_get_media (ctx->sessmedia);
  const char *name = media ? cordon_media_factory_media_camera (media) : NULL;
  GPtrArray *list = name ? g_hash_table_lookup (server->factories, name) : NULL;
  if (!list || list->len == 0)
    return;
  CordonMediaFactory *f = list->pdata[0];
  cordon_media_factory_request_keyframe (f);

  if (CORDON_IS_CLIENT (client))
    cordon_client_watch (CORDON_CLIENT (client), G_OBJECT (f), cordon_media_factory_bytes (f));
}

static void
on_client_closed_count (GstRTSPClient *client, CordonServer *server)
{
  const char *who = cordon_auth_client_recorder (client);
  if (!who)
    return;
  guint64 bytes = cordon_client_bytes_sent (CORDON_CLIENT (client));
  g_mutex_lock (&server->sent_lock);
  guint64 *total = g_hash_table_lookup (server->sent, who);
  if (!total) {
    total = g_new0 (guint64, 1);
    g_hash_table_insert (server->sent, g_strdup (who), total);
  }
  *total += bytes;
  g_mutex_unlock (&server->sent_lock);
}

#define IDLE_LIMIT_US (20 * G_USEC_PER_SEC)

static void
note_activity (GstRTSPClient *client, GstRTSPContext *ctx, CordonServer *server)
{
  cordon_client_note_request (CORDON_CLIENT (client));
  cordon_guard_note (server->guard, client, TRUE, cordon_client_session_count (CORDON_CLIENT (client)));
}

static void
on_client_closed_guard (GstRTSPClient *client, CordonServer *server)
{
  cordon_guard_remove (server->guard, client);
}

static void
on_client_connected (GstRTSPServer *rtsp, GstRTSPClient *client, CordonServer *server)
{
  GstRTSPConnection *conn = gst_rtsp_client_get_connection (client);

  /* Fixes the peer address and, unless tunnelling is on, turns off RTSP
   * over HTTP on the connection (see cordon_client_new). */
  cordon_client_get_ip (CORDON_CLIENT (client));
  g_signal_connect (client, "play-request", G_CALLBACK (on_play_request), server);
  g_signal_connect (client, "closed", G_CALLBACK (on_client_closed_count), server);
  g_signal_connect (client, "closed", G_CALLBACK (on_client_closed_guard), server);
  cordon_guard_add (server->guard, client, conn);
  static const char *const requests[] = { "options-request", "describe-request", "setup-request", "play-request",
                                          "pause-request", "teardown-request", "get-parameter-request",
                                          "set-parameter-request" };
  for (guint i = 0; i < G_N_ELEMENTS (requests); i++)
    g_signal_connect (client, requests[i], G_CALLBACK (note_activity), server);
}

/* A connection that holds no session and has sent no complete request for a
 * while (a half-sent request, an idle socket) is closed: slowloris-style
 * clients cannot pile up. Streaming recorders hold a session and are left to
 * the session timeout. */
static GstRTSPFilterResult
close_idle (GstRTSPServer *rtsp, GstRTSPClient *client, gpointer data)
{
  CordonClient *c = CORDON_CLIENT (client);
  guint sessions = cordon_client_session_count (c);
  cordon_guard_note (((CordonServer *) data)->guard, client, FALSE, sessions);
  if (sessions == 0 && cordon_client_idle_us (c) > IDLE_LIMIT_US) {
    const char *ip = cordon_client_get_ip (c);
    g_message ("closing idle connection from %s", ip ? ip : "?");
    return GST_RTSP_FILTER_REMOVE;
  }
  return GST_RTSP_FILTER_KEEP;
}

static gboolean
sweep_idle (gpointer data)
{
  CordonServer *server = data;
  gst_rtsp_server_client_filter (server->plain.rtsp, close_idle, server);
  if (server->tls.rtsp)
    gst_rtsp_server_client_filter (server->tls.rtsp, close_idle, server);
  return G_SOURCE_CONTINUE;
}

static gboolean
listener_init (Listener *l, CordonServer *server, const CordonConfig *config, gboolean tls, GError **error)
{
  const char *host = tls ? config->tls_listen_host : config->listen_host;
  guint16 port = tls ? config->tls_listen_port : config->listen_port;

  l->rtsp = GST_RTSP_SERVER (cordon_listener_new (config->tunnel));
  l->auth = cordon_auth_new (config, tls);
  if (tls) {
    /* From the text the configuration read (once, checked): the key file
     * is not opened again. */
    g_autoptr (GTlsCertificate) cert = g_tls_certificate_new_from_pem (config->tls_pem ? config->tls_pem : "", -1,
                                                                       error);
    if (!cert) {
      g_prefix_error (error, "[proxy] tls-certificate/tls-key: ");
      return FALSE;
    }
    gst_rtsp_auth_set_tls_certificate (GST_RTSP_AUTH (l->auth), cert);
  }
  gst_rtsp_server_set_auth (l->rtsp, GST_RTSP_AUTH (l->auth));
  g_signal_connect (l->rtsp, "client-connected", G_CALLBACK (on_client_connected), server);
  l->mounts = GST_RTSP_MOUNT_POINTS (cordon_mounts_new (tls));
  cordon_mounts_set_config (CORDON_MOUNTS (l->mounts), config);
  gst_rtsp_server_set_mount_points (l->rtsp, l->mounts);
  /* Requests are small; a huge body is an attack, not a recorder. */
  gst_rtsp_server_set_content_length_limit (l->rtsp, 16 * 1024);
  l->socket = bind_socket (host, port, error);
  return l->socket != NULL;
}

CordonServer *
cordon_server_new (const CordonConfig *config, GError **error)
{
  g_autoptr (CordonServer) server = g_new0 (CordonServer, 1);

  server->factories = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_ptr_array_unref);
  g_mutex_init (&server->sent_lock);
  server->sent = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  if (!listener_init (&server->plain, server, config, FALSE, error))
    return NULL;
  if (config->tls_certificate && !listener_init (&server->tls, server, config, TRUE, error))
    return NULL;
  return g_steal_pointer (&server);
}

static gboolean
listener_start (Listener *l, GError **error)
{
  if (!l->rtsp)
    return TRUE;
  l->source = g_socket_create_source (l->socket, G_IO_IN | G_IO_ERR | G_IO_HUP | G_IO_NVAL, NULL);
  g_source_set_callback (l->source, (GSourceFunc) (void (*) (void)) gst_rtsp_server_io_func,
                         g_object_ref (l->rtsp), g_object_unref);
  g_source_attach (l->source, g_main_context_get_thread_default ());
  return TRUE;
}

gboolean
cordon_server_start (CordonServer *server, GError **error)
{
  if (!listener_start (&server->plain, error) || !listener_start (&server->tls, error))
    return FALSE;
  server->sweep = g_timeout_source_new_seconds (5);
  g_source_set_callback (server->sweep, sweep_idle, server, NULL);
  g_source_attach (server->sweep, g_main_context_get_thread_default ());
  server->guard = cordon_guard_new ();
  return TRUE;
}

static void
add_factory (GPtrArray *list, CordonPipeline *pipeline, const CordonConfig *config, Listener *l, const char *suffix,
             GstRTSPLowerTrans protocols, GstRTSPProfile profiles)
{
  const CordonCamera *cam = cordon_pipeline_get_camera (pipeline);
  gboolean sub = g_str_has_suffix (suffix, CORDON_SUB_PATH);
  g_autofree char *path = g_strconcat ("/", cam->name, suffix, NULL);
  CordonMediaFactory *f = cordon_media_factory_new (pipeline, l->mounts, path, protocols, profiles);

  if (sub)
    cordon_media_factory_serve_sub (f);
  cordon_media_factory_set_permissions (f, config);
  g_ptr_array_add (list, f);
  gst_rtsp_mount_points_add_factory (l->mounts, path, g_object_ref (GST_RTSP_MEDIA_FACTORY (f)));
  /* The sub stream is mounted beside each main one: /NAME/sub, /NAME~srtp/sub. */
  if (!sub && cordon_pipeline_has_sub (pipeline)) {
    g_autofree char *sub_suffix = g_strconcat (suffix, CORDON_SUB_PATH, NULL);
    add_factory (list, pipeline, config, l, sub_suffix, protocols, profiles);
  }
}

void
cordon_server_add_camera (CordonServer *server, CordonPipeline *pipeline, const CordonConfig *config)
{
  GPtrArray *list = g_ptr_array_new_with_free_func (g_object_unref);

  /* RTP interleaved in the RTSP connection unless [proxy] udp = true: UDP
   * would open a flow per recorder and port pair on the way back. */
  GstRTSPLowerTrans udp = config->udp ? GST_RTSP_LOWER_TRANS_UDP : 0;
  add_factory (list, pipeline, config, &server->plain, "", GST_RTSP_LOWER_TRANS_TCP | udp, GST_RTSP_PROFILE_AVP);
  if (server->tls.rtsp) {
    /* Over RTSPS, plain RTP only inside the TLS connection: UDP would leave
     * it in clear on the wire. SRTP may use UDP as well. */
    add_factory (list, pipeline, config, &server->tls, "", GST_RTSP_LOWER_TRANS_TCP, GST_RTSP_PROFILE_AVP);
    add_factory (list, pipeline, config, &server->tls, CORDON_SRTP_SUFFIX,
                 GST_RTSP_LOWER_TRANS_TCP | udp, GST_RTSP_PROFILE_SAVP);
  }
  g_hash_table_replace (server->factories, g_strdup (cordon_pipeline_get_camera (pipeline)->name), list);
}

typedef struct {
  const char *camera;
  gboolean hit;
} CameraSearch;

static GstRTSPFilterResult
media_of_camera (GstRTSPSession *session, GstRTSPSessionMedia *sm, gpointer data)
{
  CameraSearch *search = data;
  GstRTSPMedia *media = gst_rtsp_session_media_get_media (sm);
  if (g_strcmp0 (cordon_media_factory_media_camera (media), search->camera) == 0)
    search->hit = TRUE;
  return GST_RTSP_FILTER_KEEP;
}

static GstRTSPFilterResult
session_of_camera (GstRTSPClient *client, GstRTSPSession *session, gpointer data)
{
  gst_rtsp_session_filter (session, media_of_camera, data);
  return GST_RTSP_FILTER_KEEP;
}

static GstRTSPFilterResult
client_of_camera (GstRTSPServer *rtsp, GstRTSPClient *client, gpointer name)
{
  CameraSearch search = { name, FALSE };
  gst_rtsp_client_session_filter (client, session_of_camera, &search);
  /* REMOVE closes the recorder's connection: it was watching a camera that is
   * no longer served, and a reconnect now gets 404. */
  return search.hit ? GST_RTSP_FILTER_REMOVE : GST_RTSP_FILTER_KEEP;
}

void
cordon_server_remove_camera (CordonServer *server, const char *name)
{
  GPtrArray *list = g_hash_table_lookup (server->factories, name);
  if (!list)
    return;
  for (guint i = 0; i < list->len; i++) {
    CordonMediaFactory *f = list->pdata[i];
    gst_rtsp_mount_points_remove_factory (cordon_media_factory_get_mounts (f), cordon_media_factory_get_path (f));
    cordon_media_factory_detach_all (f);
  }
  gst_rtsp_server_client_filter (server->plain.rtsp, client_of_camera, (gpointer) name);
  if (server->tls.rtsp)
    gst_rtsp_server_client_filter (server->tls.rtsp, client_of_camera, (gpointer) name);
  g_hash_table_remove (server->factories, name);
}

void
cordon_server_set_config (CordonServer *server, const CordonConfig *config)
{
  GHashTableIter it;
  gpointer v;
  cordon_auth_set_config (server->plain.auth, config);
  cordon_mounts_set_config (CORDON_MOUNTS (server->plain.mounts), config);
  if (server->tls.auth) {
    cordon_auth_set_config (server->tls.auth, config);
    cordon_mounts_set_config (CORDON_MOUNTS (server->tls.mounts), config);
  }
  g_hash_table_iter_init (&it, server->factories);
  while (g_hash_table_iter_next (&it, NULL, &v)) {
    GPtrArray *list = v;
    for (guint i = 0; i < list->len; i++)
      cordon_media_factory_set_permissions (list->pdata[i], config);
  }
}

guint
cordon_server_media_count (CordonServer *server, const char *name)
{
  GPtrArray *list = g_hash_table_lookup (server->factories, name);
  guint n = 0;
  for (guint i = 0; list && i < list->len; i++) {
    n += cordon_media_factory_media_count (list->pdata[i]);
  }
  return n;
}

typedef struct {
  GHashTable *counts;  /* recorder → connections */
  GHashTable *bytes;   /* recorder → guint64* bytes of open connections */
} Tally;

static GstRTSPFilterResult
count_client (GstRTSPServer *rtsp, GstRTSPClient *client, gpointer data)
{
  Tally *t = data;
  const char *who = cordon_auth_client_recorder (client);
  if (!who)
    return GST_RTSP_FILTER_KEEP;
  g_hash_table_insert (t->counts, (gpointer) who,
                       GUINT_TO_POINTER (GPOINTER_TO_UINT (g_hash_table_lookup (t->counts, who)) + 1));
  guint64 *b = g_hash_table_lookup (t->bytes, who);
  if (!b) {
    b = g_new0 (guint64, 1);
    g_hash_table_insert (t->bytes, (gpointer) who, b);
  }
  *b += cordon_client_bytes_sent (CORDON_CLIENT (client));
  return GST_RTSP_FILTER_KEEP;
}

/* Of the addresses either listener's brake blocks, those within R's allowed
 * prefixes, once each. */
static GStrv
recorder_blocked (const CordonRecorder *r, GStrv plain, GStrv tls)
{
  g_autoptr (GStrvBuilder) out = g_strv_builder_new ();
  GStrv lists[2] = { plain, tls };
  for (guint l = 0; l < G_N_ELEMENTS (lists); l++)
    for (guint i = 0; lists[l] && lists[l][i]; i++) {
      g_autoptr (GInetAddress) addr = g_inet_address_new_from_string (lists[l][i]);
      if (!addr || !cordon_recorder_allows_address (r, addr))
        continue;
      if (l == 1 && plain && g_strv_contains ((const char *const *) plain, lists[l][i]))
        continue;
      g_strv_builder_add (out, lists[l][i]);
    }
  return g_strv_builder_end (out);
}

GPtrArray *
cordon_server_recorder_stats (CordonServer *server, const CordonConfig *config)
{
  GPtrArray *out = g_ptr_array_new ();
  g_autoptr (GHashTable) counts = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GHashTable) bytes = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);
  Tally tally = { counts, bytes };
  g_autoptr (GHashTable) fails = cordon_auth_get_failures (server->plain.auth);
  g_autoptr (GHashTable) tls_fails = server->tls.auth ? cordon_auth_get_failures (server->tls.auth) : NULL;
  gint64 now = g_get_monotonic_time ();
  g_auto (GStrv) blocked = cordon_auth_blocked_addresses (server->plain.auth, now);
  g_auto (GStrv) tls_blocked = server->tls.auth ? cordon_auth_blocked_addresses (server->tls.auth, now) : NULL;

  /* client_filter holds the server lock only while listing; the names it
   * returns stay valid while the clients do, which outlive this call. */
  g_autoptr (GList) plain = gst_rtsp_server_client_filter (server->plain.rtsp, count_client, &tally);
  g_autoptr (GList) tls = server->tls.rtsp ? gst_rtsp_server_client_filter (server->tls.rtsp, count_client, &tally)
                                           : NULL;
  for (guint i = 0; i < config->recorders->len; i++) {
    const CordonRecorder *r = config->recorders->pdata[i];
    CordonRecorderStats *s = g_new0 (CordonRecorderStats, 1);
    s->name = g_strdup (r->name);
    s->sessions = GPOINTER_TO_UINT (g_hash_table_lookup (counts, r->name));
    guint64 *f = g_hash_table_lookup (fails, r->name);
    s->auth_failures = f ? *f : 0;
    if (tls_fails && (f = g_hash_table_lookup (tls_fails, r->name)))
      s->auth_failures += *f;
    guint64 *open = g_hash_table_lookup (bytes, r->name);
    s->bytes_sent = open ? *open : 0;
    g_mutex_lock (&server->sent_lock);
    guint64 *closed = g_hash_table_lookup (server->sent, r->name);
    s->bytes_sent += closed ? *closed : 0;
    g_mutex_unlock (&server->sent_lock);
    s->blocked_addresses = recorder_blocked (r, blocked, tls_blocked);
    g_ptr_array_add (out, s);
  }
  return out;
}

guint64
cordon_server_refused_connections (CordonServer *server)
{
  CordonAuthStats a = { 0 }, b = { 0 };
  cordon_auth_get_stats (server->plain.auth, &a);
  if (server->tls.auth)
    cordon_auth_get_stats (server->tls.auth, &b);
  return a.refused_connections + b.refused_connections;
}

guint16
cordon_server_get_port (CordonServer *server)
{
  g_autoptr (GSocketAddress) sa = g_socket_get_local_address (server->plain.socket, NULL);
  return sa ? g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (sa)) : 0;
}

static GstRTSPFilterResult
close_client (GstRTSPServer *rtsp, GstRTSPClient *client, gpointer data)
{
  return GST_RTSP_FILTER_REMOVE;
}

static void
listener_clear (Listener *l)
{
  if (l->source) {
    g_source_destroy (l->source);
    g_clear_pointer (&l->source, g_source_unref);
  }
  if (l->rtsp)
    gst_rtsp_server_client_filter (l->rtsp, close_client, NULL);
  g_clear_object (&l->socket);
  g_clear_object (&l->auth);
  g_clear_object (&l->mounts);
  g_clear_object (&l->rtsp);
}

void
cordon_server_free (CordonServer *server)
{
  if (!server)
    return;
  if (server->sweep) {
    g_source_destroy (server->sweep);
    g_clear_pointer (&server->sweep, g_source_unref);
  }
  g_clear_pointer (&server->guard, cordon_guard_free);
  GHashTableIter it;
  gpointer v;
  if (server->factories) {
    g_hash_table_iter_init (&it, server->factories);
    while (g_hash_table_iter_next (&it, NULL, &v)) {
      GPtrArray *list = v;
      for (guint i = 0; i < list->len; i++)
        cordon_media_factory_detach_all (list->pdata[i]);
    }
  }
  listener_clear (&server->plain);
  listener_clear (&server->tls);
  g_clear_pointer (&server->factories, g_hash_table_unref);
  g_clear_pointer (&server->sent, g_hash_table_unref);
  g_mutex_clear (&server->sent_lock);
  g_free (server);
}
