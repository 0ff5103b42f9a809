/* cordon — RTSP egress built on gst-rtsp-server. */
#define G_LOG_DOMAIN "cordon-proxy"

#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/tcp.h>

#include "auth.h"

/* ---- media factory: one per camera, shared media fed by the pipeline ---- */

#define CORDON_TYPE_FACTORY (cordon_factory_get_type ())
G_DECLARE_FINAL_TYPE (CordonFactory, cordon_factory, CORDON, FACTORY, GstRTSPMediaFactory)

struct _CordonFactory {
  GstRTSPMediaFactory parent;
  GMutex lock;
  CordonPipeline *pipeline; /* NULL once the camera is removed */
  char *name;               /* camera name */
  GstRTSPMountPoints *mounts; /* where it is mounted (not a ref) */
  char *path;               /* its mount path */
  GPtrArray *sources;       /* GstAppSrc* currently attached (refs) */
  GPtrArray *audio_sources; /* the same for audio */
  guint media_count;
};

G_DEFINE_TYPE (CordonFactory, cordon_factory, GST_TYPE_RTSP_MEDIA_FACTORY)

typedef struct {
  gint fps_n, fps_d;
  gint64 last;    /* frame index of the previous buffer, -1 before the first */
  gint64 born_us; /* monotonic time the media's element was made */
} Cadence;

/* Buffers are stamped on arrival (do-timestamp), which jitters with
 * scheduling; recorders want a steady, strictly increasing clock. Each time
 * stamp is moved to the nearest frame slot of the fixed output rate, and
 * never to a slot already used.
 *
 * A stamp is a running time of the media's pipeline, which cannot exceed the
 * time since the pipeline was made. Now and then a media's first buffer was
 * stamped with the clock's absolute time instead (3 h 47 min into a pipeline
 * 1 s old, seen in the sanitizer soak); as a slot is never used twice, every
 * later buffer followed it, hours ahead of the clock. Such a stamp is taken
 * as the time since the pipeline was made. */
static GstPadProbeReturn
regular_cadence (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  Cadence *c = data;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  if (!GST_BUFFER_PTS_IS_VALID (buf))
    return GST_PAD_PROBE_OK;
  GstClockTime pts = GST_BUFFER_PTS (buf);
  GstClockTime age = (GstClockTime) (g_get_monotonic_time () - c->born_us) * GST_USECOND;
  if (pts > age + GST_SECOND)
    pts = age;
  gint64 frame = gst_util_uint64_scale_round (pts, c->fps_n, (guint64) GST_SECOND * c->fps_d);
  if (frame <= c->last)
    frame = c->last + 1;
  c->last = frame;
  buf = gst_buffer_make_writable (buf);
  GST_BUFFER_PTS (buf) = GST_BUFFER_DTS (buf) = gst_util_uint64_scale (frame, (guint64) GST_SECOND * c->fps_d, c->fps_n);
  GST_BUFFER_DURATION (buf) = gst_util_uint64_scale (1, (guint64) GST_SECOND * c->fps_d, c->fps_n);
  GST_PAD_PROBE_INFO_DATA (info) = buf;
  return GST_PAD_PROBE_OK;
}

static GstElement *
cordon_factory_create_element (GstRTSPMediaFactory *factory, const GstRTSPUrl *url)
{
  CordonFactory *self = CORDON_FACTORY (factory);
  g_autoptr (GstCaps) caps = NULL;
  g_autoptr (GstCaps) audio_caps = NULL;

  g_mutex_lock (&self->lock);
  if (self->pipeline) {
    caps = cordon_pipeline_get_caps (self->pipeline);
    audio_caps = cordon_pipeline_get_audio_caps (self->pipeline);
  }
  g_mutex_unlock (&self->lock);
  if (!caps)
    return NULL;

  GstElement *bin = gst_bin_new (NULL);
  GstElement *src = gst_element_factory_make ("appsrc", "src");
  GstElement *pay = gst_element_factory_make ("rtph264pay", "pay0");
  if (!src || !pay) {
    g_warning ("%s: appsrc or rtph264pay is missing", self->name);
    gst_clear_object (&src);
    gst_clear_object (&pay);
    gst_object_unref (bin);
    return NULL;
  }
  /* Live source stamped on arrival; bounded so a stalled media cannot hold
   * frames without limit (old ones are dropped first). */
  g_object_set (src, "caps", caps, "is-live", TRUE, "format", GST_FORMAT_TIME, "do-timestamp", TRUE,
                "max-buffers", (guint64) 50, "leaky-type", 2 /* downstream: drop oldest */, NULL);
  /* SPS/PPS already precede every IDR (h264parse in the pipeline); the
   * payloader adding its own copies would give recorders duplicate time
   * stamps. */
  g_object_set (pay, "pt", 96, "config-interval", 0, NULL);
  Cadence *cadence = g_new0 (Cadence, 1);
  cadence->last = -1;
  cadence->born_us = g_get_monotonic_time ();
  if (!gst_structure_get_fraction (gst_caps_get_structure (caps, 0), "framerate", &cadence->fps_n, &cadence->fps_d)
      || cadence->fps_n <= 0 || cadence->fps_d <= 0) {
    cadence->fps_n = 25;
    cadence->fps_d = 1;
  }
  g_autoptr (GstPad) srcpad = gst_element_get_static_pad (src, "src");
  gst_pad_add_probe (srcpad, GST_PAD_PROBE_TYPE_BUFFER, regular_cadence, cadence, g_free);
  gst_bin_add_many (GST_BIN (bin), src, pay, NULL);
  gst_element_link (src, pay);

  /* Audio only where the camera has audio = true: G.711 A-law re-encoded by
   * the pipeline, payloaded as a second stream. */
  if (audio_caps) {
    GstElement *asrc = gst_element_factory_make ("appsrc", "asrc");
    GstElement *apay = gst_element_factory_make ("rtppcmapay", "pay1");
    if (asrc && apay) {
      g_object_set (asrc, "caps", audio_caps, "is-live", TRUE, "format", GST_FORMAT_TIME, "do-timestamp", TRUE,
                    "max-buffers", (guint64) 100, "leaky-type", 2, NULL);
      g_object_set (apay, "pt", 8, NULL);
      gst_bin_add_many (GST_BIN (bin), asrc, apay, NULL);
      gst_element_link (asrc, apay);
    } else {
      g_warning ("%s: appsrc or rtppcmapay is missing; serving video only", self->name);
      gst_clear_object (&asrc);
      gst_clear_object (&apay);
    }
  }
  return bin;
}

static void
media_unprepared (GstRTSPMedia *media, CordonFactory *self)
{
  GstAppSrc *asrc = g_object_get_data (G_OBJECT (media), "cordon-asrc");
  if (asrc) {
    g_mutex_lock (&self->lock);
    if (g_ptr_array_remove (self->audio_sources, asrc) && self->pipeline)
      cordon_pipeline_detach_audio (self->pipeline, asrc);
    g_mutex_unlock (&self->lock);
    g_object_set_data (G_OBJECT (media), "cordon-asrc", NULL);
  }
  GstAppSrc *src = g_object_get_data (G_OBJECT (media), "cordon-src");
  if (!src)
    return;
  g_mutex_lock (&self->lock);
  if (g_ptr_array_remove (self->sources, src) && self->pipeline)
    cordon_pipeline_detach (self->pipeline, src);
  g_mutex_unlock (&self->lock);
  g_object_set_data (G_OBJECT (media), "cordon-src", NULL);
}

static void
media_gone (gpointer data, GObject *where_the_object_was)
{
  CordonFactory *self = data;
  g_mutex_lock (&self->lock);
  self->media_count--;
  g_mutex_unlock (&self->lock);
  g_object_unref (self);
}

static void
keep_unsynced (GstBaseSink *sink, GParamSpec *pspec, gpointer data)
{
  if (gst_base_sink_get_sync (sink))
    gst_base_sink_set_sync (sink, FALSE);
}

static void
unsync_sink (GstBin *bin, GstBin *sub_bin, GstElement *element, gpointer data)
{
  if (!GST_IS_BASE_SINK (element))
    return;
  gst_base_sink_set_sync (GST_BASE_SINK (element), FALSE);
  g_signal_connect (element, "notify::sync", G_CALLBACK (keep_unsynced), NULL);
}

static void
cordon_factory_configure (GstRTSPMediaFactory *factory, GstRTSPMedia *media)
{
  CordonFactory *self = CORDON_FACTORY (factory);
  GST_RTSP_MEDIA_FACTORY_CLASS (cordon_factory_parent_class)->configure (factory, media);
  g_autoptr (GstElement) element = gst_rtsp_media_get_element (media);
  /* Send each packet when it is made: the frames already arrive in real
   * time, and syncing on the time stamps only adds a way to stall (a sink
   * waiting for a time stamp ahead of the clock sends nothing meanwhile).
   * gst_rtsp_media_set_rate_control() does not reach the sinks of 1.22: they
   * are made at SETUP and set to sync after they join the pipeline, so each
   * is unsynced as it joins and kept so. */
  gst_rtsp_media_set_rate_control (media, FALSE);
  g_autoptr (GstObject) top = gst_object_get_parent (GST_OBJECT (element));
  if (GST_IS_BIN (top))
    g_signal_connect (top, "deep-element-added", G_CALLBACK (unsync_sink), NULL);
  else
    g_warning ("%s: the media has no pipeline yet; its sinks will sync on time stamps", self->name);

  g_autoptr (GstElement) src = gst_bin_get_by_name (GST_BIN (element), "src");
  g_autoptr (GstElement) asrc = gst_bin_get_by_name (GST_BIN (element), "asrc");
  g_object_set_data_full (G_OBJECT (media), "cordon-camera", g_strdup (self->name), g_free);
  g_object_weak_ref (G_OBJECT (media), media_gone, g_object_ref (self));
  g_signal_connect_object (media, "unprepared", G_CALLBACK (media_unprepared), self, 0);

  g_mutex_lock (&self->lock);
  self->media_count++;
  if (src && self->pipeline) {
    g_object_set_data (G_OBJECT (media), "cordon-src", src);
    g_ptr_array_add (self->sources, gst_object_ref (src));
    cordon_pipeline_attach (self->pipeline, GST_APP_SRC (src));
  }
  if (asrc && self->pipeline) {
    g_object_set_data (G_OBJECT (media), "cordon-asrc", asrc);
    g_ptr_array_add (self->audio_sources, gst_object_ref (asrc));
    cordon_pipeline_attach_audio (self->pipeline, GST_APP_SRC (asrc));
  }
  g_mutex_unlock (&self->lock);
}

static void
cordon_factory_detach_all (CordonFactory *self)
{
  g_mutex_lock (&self->lock);
  for (guint i = 0; i < self->sources->len; i++) {
    GstAppSrc *src = self->sources->pdata[i];
    if (self->pipeline)
      cordon_pipeline_detach (self->pipeline, src);
    gst_app_src_end_of_stream (src);
  }
  g_ptr_array_set_size (self->sources, 0);
  for (guint i = 0; i < self->audio_sources->len; i++) {
    GstAppSrc *src = self->audio_sources->pdata[i];
    if (self->pipeline)
      cordon_pipeline_detach_audio (self->pipeline, src);
    gst_app_src_end_of_stream (src);
  }
  g_ptr_array_set_size (self->audio_sources, 0);
  self->pipeline = NULL;
  g_mutex_unlock (&self->lock);
}

static void
cordon_factory_finalize (GObject *object)
{
  CordonFactory *self = CORDON_FACTORY (object);
  g_ptr_array_unref (self->sources);
  g_ptr_array_unref (self->audio_sources);
  g_free (self->name);
  g_free (self->path);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (cordon_factory_parent_class)->finalize (object);
}

static void
cordon_factory_class_init (CordonFactoryClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = cordon_factory_finalize;
  GST_RTSP_MEDIA_FACTORY_CLASS (klass)->create_element = cordon_factory_create_element;
  GST_RTSP_MEDIA_FACTORY_CLASS (klass)->configure = cordon_factory_configure;
}

static void
cordon_factory_init (CordonFactory *self)
{
  g_mutex_init (&self->lock);
  self->sources = g_ptr_array_new_with_free_func (gst_object_unref);
  self->audio_sources = g_ptr_array_new_with_free_func (gst_object_unref);
}

static void
factory_set_permissions (CordonFactory *f, const CordonConfig *config)
{
  g_autoptr (GstRTSPPermissions) perms = gst_rtsp_permissions_new ();
  for (guint i = 0; i < config->recorders->len; i++) {
    const CordonRecorder *r = config->recorders->pdata[i];
    if (cordon_recorder_allows_camera (r, f->name))
      gst_rtsp_permissions_add_role (perms, r->name, GST_RTSP_PERM_MEDIA_FACTORY_ACCESS, G_TYPE_BOOLEAN, TRUE,
                                     GST_RTSP_PERM_MEDIA_FACTORY_CONSTRUCT, G_TYPE_BOOLEAN, TRUE, NULL);
  }
  gst_rtsp_media_factory_set_permissions (GST_RTSP_MEDIA_FACTORY (f), perms);
}

/* ---- RTSPS mount points: SRTP recorders are routed to SAVP media ---- */

/* On the RTSPS listener each camera has two factories: /NAME (RTP inside the
 * TLS connection only) and /NAME~srtp (SAVP only: SRTP, keys by MIKEY inside
 * TLS). Which one a request reaches depends on the recorder's srtp policy,
 * read from the user name it authenticates with; '~' cannot occur in a camera
 * name. A recorder with srtp set can therefore never get a plain RTP media. */
#define SRTP_SUFFIX "~srtp"

#define CORDON_TYPE_MOUNTS (cordon_mounts_get_type ())
G_DECLARE_FINAL_TYPE (CordonMounts, cordon_mounts, CORDON, MOUNTS, GstRTSPMountPoints)

struct _CordonMounts {
  GstRTSPMountPoints parent;
  GMutex lock;
  GHashTable *srtp_users;   /* user names of recorders with srtp != off */
};

G_DEFINE_TYPE (CordonMounts, cordon_mounts, GST_TYPE_RTSP_MOUNT_POINTS)

char *
cordon_server_route_srtp (const char *path)
{
  if (path[0] != '/')
    return g_strdup (path);
  const char *slash = strchr (path + 1, '/');
  g_autofree char *name = slash ? g_strndup (path, slash - path) : g_strdup (path);
  return g_strconcat (name, SRTP_SUFFIX, slash ? slash : "", NULL);
}

static char *
cordon_mounts_make_path (GstRTSPMountPoints *mounts, const GstRTSPUrl *url)
{
  CordonMounts *self = CORDON_MOUNTS (mounts);
  char *path = GST_RTSP_MOUNT_POINTS_CLASS (cordon_mounts_parent_class)->make_path (mounts, url);
  GstRTSPContext *ctx = gst_rtsp_context_get_current ();
  if (!path || !ctx || !ctx->request)
    return path;
  g_autofree char *user = cordon_auth_request_username (ctx->request);
  g_mutex_lock (&self->lock);
  gboolean srtp = user && g_hash_table_contains (self->srtp_users, user);
  g_mutex_unlock (&self->lock);
  if (!srtp)
    return path;
  char *routed = cordon_server_route_srtp (path);
  g_free (path);
  return routed;
}

static void
cordon_mounts_finalize (GObject *object)
{
  CordonMounts *self = CORDON_MOUNTS (object);
  g_hash_table_unref (self->srtp_users);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (cordon_mounts_parent_class)->finalize (object);
}

static void
cordon_mounts_class_init (CordonMountsClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = cordon_mounts_finalize;
  GST_RTSP_MOUNT_POINTS_CLASS (klass)->make_path = cordon_mounts_make_path;
}

static void
cordon_mounts_init (CordonMounts *self)
{
  g_mutex_init (&self->lock);
  self->srtp_users = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}

static void
cordon_mounts_set_config (CordonMounts *self, const CordonConfig *config)
{
  g_mutex_lock (&self->lock);
  g_hash_table_remove_all (self->srtp_users);
  for (guint i = 0; i < config->recorders->len; i++) {
    const CordonRecorder *r = config->recorders->pdata[i];
    if (r->srtp != CORDON_POLICY_OFF)
      g_hash_table_add (self->srtp_users, g_strdup (r->username));
  }
  g_mutex_unlock (&self->lock);
}

/* ---- server ---- */

typedef struct {
  GstRTSPServer *rtsp;
  GstRTSPMountPoints *mounts;
  CordonAuth *auth;
  GSocket *socket;
  GSource *source;
} Listener;

struct _CordonServer {
  GHashTable *factories;  /* camera name → GPtrArray of CordonFactory* */
  Listener plain;
  Listener tls;           /* rtsp == NULL when RTSPS is off */
  GSource *sweep;         /* closes idle connections */
  GMutex guard_lock;
  GCond guard_cond;
  GHashTable *guarded;    /* GstRTSPClient* → Guarded*: what each client sent */
  GThread *guard;         /* resets clients that send too much; see below */
  gboolean guard_stop;
  GMutex sent_lock;
  GHashTable *sent;       /* recorder name → guint64* bytes of closed connections */
};

/* What one client watches: bytes it was sent are the camera's encoded bytes
 * since its PLAY (the media is shared, so every viewer gets the same). */
typedef struct {
  CordonFactory *factory;
  guint64 start;
} Watch;

static void
watch_free (Watch *w)
{
  g_object_unref (w->factory);
  g_free (w);
}

static guint64
factory_bytes (CordonFactory *f)
{
  guint64 bytes = 0;
  g_mutex_lock (&f->lock);
  if (f->pipeline) {
    CordonPipelineStats st;
    cordon_pipeline_get_stats (f->pipeline, &st);
    bytes = st.bytes_out;
    cordon_pipeline_stats_clear (&st);
  }
  g_mutex_unlock (&f->lock);
  return bytes;
}

static guint64
client_bytes_sent (GstRTSPClient *client)
{
  GPtrArray *watches = g_object_get_data (G_OBJECT (client), "cordon-watches");
  guint64 sum = 0;
  for (guint i = 0; watches && i < watches->len; i++) {
    Watch *w = watches->pdata[i];
    guint64 now = factory_bytes (w->factory);
    sum += now > w->start ? now - w->start : 0;
  }
  return sum;
}

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
  const char *name = media ? g_object_get_data (G_OBJECT (media), "cordon-camera") : NULL;
  GPtrArray *list = name ? g_hash_table_lookup (server->factories, name) : NULL;
  if (!list || list->len == 0)
    return;
  CordonFactory *f = list->pdata[0];
  g_mutex_lock (&f->lock);
  if (f->pipeline)
    cordon_pipeline_request_keyframe (f->pipeline);
  g_mutex_unlock (&f->lock);

  GPtrArray *watches = g_object_get_data (G_OBJECT (client), "cordon-watches");
  if (!watches) {
    watches = g_ptr_array_new_with_free_func ((GDestroyNotify) watch_free);
    g_object_set_data_full (G_OBJECT (client), "cordon-watches", watches, (GDestroyNotify) g_ptr_array_unref);
  }
  for (guint i = 0; i < watches->len; i++)
    if (((Watch *) watches->pdata[i])->factory == f)
      return;
  Watch *w = g_new0 (Watch, 1);
  w->factory = g_object_ref (f);
  w->start = factory_bytes (f);
  g_ptr_array_add (watches, w);
}

static void
on_client_closed_count (GstRTSPClient *client, CordonServer *server)
{
  const char *who = cordon_auth_client_recorder (client);
  if (!who)
    return;
  guint64 bytes = client_bytes_sent (client);
  g_mutex_lock (&server->sent_lock);
  guint64 *total = g_hash_table_lookup (server->sent, who);
  if (!total) {
    total = g_new0 (guint64, 1);
    g_hash_table_insert (server->sent, g_strdup (who), total);
  }
  *total += bytes;
  g_mutex_unlock (&server->sent_lock);
}

/* ---- request guard ---- */

/* gst-rtsp-server reads a request on the main loop until it is complete and
 * keeps every header line: a client sending an endless header block holds the
 * loop (no other recorder is answered, /status and the watchdog stall) and
 * grows memory for as long as it sends. No GStreamer setting bounds this, so a
 * thread of ours reads how many bytes each connection has sent since its last
 * complete request (TCP_INFO) and resets connections that exceed
 * REQUEST_MAX_BYTES: in total when they hold no session, and within one guard
 * interval when they do (their RTCP counts too, a trickle). The reset is a
 * connect (AF_UNSPEC) on our own duplicate of the socket: the main loop's next
 * read fails and the client is closed where it is served, and no descriptor
 * is closed under anyone's feet. */
#define REQUEST_MAX_BYTES (64 * 1024)
#define GUARD_INTERVAL_US (G_USEC_PER_SEC / 2)

typedef struct {
  int fd;            /* our duplicate of the client's socket */
  char *ip;
  guint64 mark;      /* bytes received up to its last complete request */
  guint64 tick;      /* bytes received at the previous guard pass */
  gboolean session;  /* held a session at its last request or sweep */
  gboolean reset;
} Guarded;

static void
guarded_free (Guarded *g)
{
  close (g->fd);
  g_free (g->ip);
  g_free (g);
}

static gboolean
bytes_received (int fd, guint64 *bytes)
{
  struct tcp_info ti;
  socklen_t len = sizeof ti;
  if (getsockopt (fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0
      || len < G_STRUCT_OFFSET (struct tcp_info, tcpi_bytes_received) + sizeof ti.tcpi_bytes_received)
    return FALSE;
  *bytes = ti.tcpi_bytes_received;
  return TRUE;
}

static gpointer
guard_thread (gpointer data)
{
  CordonServer *server = data;
  GHashTableIter it;
  gpointer v;

  g_mutex_lock (&server->guard_lock);
  while (!server->guard_stop) {
    g_cond_wait_until (&server->guard_cond, &server->guard_lock, g_get_monotonic_time () + GUARD_INTERVAL_US);
    g_hash_table_iter_init (&it, server->guarded);
    while (g_hash_table_iter_next (&it, NULL, &v)) {
      Guarded *g = v;
      guint64 now;
      if (g->reset || !bytes_received (g->fd, &now))
        continue;
      guint64 since_request = now - g->mark, since_tick = now - g->tick;
      g->tick = now;
      if (since_request <= REQUEST_MAX_BYTES || (g->session && since_tick <= REQUEST_MAX_BYTES))
        continue;
      struct sockaddr unspec = { .sa_family = AF_UNSPEC };
      if (connect (g->fd, &unspec, sizeof unspec) < 0)
        g_warning ("cannot reset the connection from %s: %s", g->ip, g_strerror (errno));
      g->reset = TRUE;
      g_message ("reset connection from %s: %" G_GUINT64_FORMAT " bytes without a complete request (limit %u)",
                 g->ip, since_request, REQUEST_MAX_BYTES);
    }
  }
  g_mutex_unlock (&server->guard_lock);
  return NULL;
}

/* REQUEST: the client just completed a request, so all it sent so far
 * counts as requests. SESSIONS: how many sessions it holds now. */
static void
guard_note (CordonServer *server, GstRTSPClient *client, gboolean request, guint sessions)
{
  g_mutex_lock (&server->guard_lock);
  Guarded *g = g_hash_table_lookup (server->guarded, client);
  if (g && request)
    bytes_received (g->fd, &g->mark);
  if (g)
    g->session = sessions > 0;
  g_mutex_unlock (&server->guard_lock);
}

static void
guard_add (CordonServer *server, GstRTSPClient *client, GstRTSPConnection *conn)
{
  GSocket *sock = conn ? gst_rtsp_connection_get_read_socket (conn) : NULL;
  int fd = sock ? fcntl (g_socket_get_fd (sock), F_DUPFD_CLOEXEC, 3) : -1;
  if (fd < 0) {
    g_warning ("connection from %s: cannot watch its request size: %s", conn ? gst_rtsp_connection_get_ip (conn) : "?",
               g_strerror (errno));
    return;
  }
  Guarded *g = g_new0 (Guarded, 1);
  g->fd = fd;
  g->ip = g_strdup (gst_rtsp_connection_get_ip (conn));
  bytes_received (fd, &g->mark);
  g->tick = g->mark;
  g_mutex_lock (&server->guard_lock);
  g_hash_table_replace (server->guarded, client, g);
  g_mutex_unlock (&server->guard_lock);
}

static void
guard_remove (GstRTSPClient *client, CordonServer *server)
{
  g_mutex_lock (&server->guard_lock);
  g_hash_table_remove (server->guarded, client);
  g_mutex_unlock (&server->guard_lock);
}

#define IDLE_LIMIT_US (20 * G_USEC_PER_SEC)

static GstRTSPFilterResult
count_session (GstRTSPClient *client, GstRTSPSession *session, gpointer data)
{
  (*(guint *) data)++;
  return GST_RTSP_FILTER_KEEP;
}

static void
note_activity (GstRTSPClient *client, GstRTSPContext *ctx, CordonServer *server)
{
  gint64 *last = g_object_get_data (G_OBJECT (client), "cordon-last-request");
  guint sessions = 0;
  if (last)
    *last = g_get_monotonic_time ();
  gst_rtsp_client_session_filter (client, count_session, &sessions);
  guard_note (server, client, TRUE, sessions);
}

static void
on_client_closed (GstRTSPClient *client, CordonAuth *auth)
{
  const char *ip = g_object_get_data (G_OBJECT (client), "cordon-ip");
  if (ip)
    cordon_auth_connection_closed (auth, ip);
}

static void
on_client_connected (GstRTSPServer *rtsp, GstRTSPClient *client, CordonServer *server)
{
  GstRTSPConnection *conn = gst_rtsp_client_get_connection (client);
  CordonAuth *auth = CORDON_AUTH (gst_rtsp_server_get_auth (rtsp));
  gint64 *last = g_new (gint64, 1);

  *last = g_get_monotonic_time ();
  g_object_set_data_full (G_OBJECT (client), "cordon-last-request", last, g_free);
  g_object_set_data_full (G_OBJECT (client), "cordon-ip", g_strdup (conn ? gst_rtsp_connection_get_ip (conn) : NULL),
                          g_free);
  /* The auth object outlives its clients (the server holds it until they are
   * closed), so a plain pointer is safe here. */
  g_signal_connect (client, "closed", G_CALLBACK (on_client_closed), auth);
  g_object_unref (auth);
  g_signal_connect (client, "play-request", G_CALLBACK (on_play_request), server);
  g_signal_connect (client, "closed", G_CALLBACK (on_client_closed_count), server);
  g_signal_connect (client, "closed", G_CALLBACK (guard_remove), server);
  guard_add (server, client, conn);
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
  gint64 *last = g_object_get_data (G_OBJECT (client), "cordon-last-request");
  guint sessions = 0;
  gst_rtsp_client_session_filter (client, count_session, &sessions);
  guard_note (data, client, FALSE, sessions);
  if (sessions == 0 && last && g_get_monotonic_time () - *last > IDLE_LIMIT_US) {
    const char *ip = g_object_get_data (G_OBJECT (client), "cordon-ip");
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

  l->rtsp = gst_rtsp_server_new ();
  l->auth = cordon_auth_new (config, tls);
  if (tls) {
    g_autoptr (GTlsCertificate) cert = g_tls_certificate_new_from_files (config->tls_certificate, config->tls_key,
                                                                         error);
    if (!cert) {
      g_prefix_error (error, "[proxy] tls-certificate/tls-key: ");
      return FALSE;
    }
    gst_rtsp_auth_set_tls_certificate (GST_RTSP_AUTH (l->auth), cert);
  }
  gst_rtsp_server_set_auth (l->rtsp, GST_RTSP_AUTH (l->auth));
  g_signal_connect (l->rtsp, "client-connected", G_CALLBACK (on_client_connected), server);
  l->mounts = tls ? g_object_new (CORDON_TYPE_MOUNTS, NULL) : gst_rtsp_mount_points_new ();
  if (tls)
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
  g_mutex_init (&server->guard_lock);
  g_cond_init (&server->guard_cond);
  server->guarded = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) guarded_free);
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
  server->guard = g_thread_new ("cordon-guard", guard_thread, server);
  return TRUE;
}

static void
add_factory (GPtrArray *list, CordonPipeline *pipeline, const CordonConfig *config, Listener *l, const char *suffix,
             GstRTSPLowerTrans protocols, GstRTSPProfile profiles)
{
  const CordonCamera *cam = cordon_pipeline_get_camera (pipeline);
  CordonFactory *f = g_object_new (CORDON_TYPE_FACTORY, NULL);

  f->pipeline = pipeline;
  f->name = g_strdup (cam->name);
  f->mounts = l->mounts;
  f->path = g_strconcat ("/", cam->name, suffix, NULL);
  /* Shared: one media per factory however many recorders; the encode itself
   * happens once, upstream, in the camera's pipeline. */
  gst_rtsp_media_factory_set_shared (GST_RTSP_MEDIA_FACTORY (f), TRUE);
  gst_rtsp_media_factory_set_suspend_mode (GST_RTSP_MEDIA_FACTORY (f), GST_RTSP_SUSPEND_MODE_NONE);
  gst_rtsp_media_factory_set_protocols (GST_RTSP_MEDIA_FACTORY (f), protocols);
  gst_rtsp_media_factory_set_profiles (GST_RTSP_MEDIA_FACTORY (f), profiles);
  factory_set_permissions (f, config);
  g_ptr_array_add (list, g_object_ref (f));
  gst_rtsp_mount_points_add_factory (l->mounts, f->path, GST_RTSP_MEDIA_FACTORY (f));
}

void
cordon_server_add_camera (CordonServer *server, CordonPipeline *pipeline, const CordonConfig *config)
{
  GPtrArray *list = g_ptr_array_new_with_free_func (g_object_unref);

  add_factory (list, pipeline, config, &server->plain, "", GST_RTSP_LOWER_TRANS_TCP | GST_RTSP_LOWER_TRANS_UDP,
               GST_RTSP_PROFILE_AVP);
  if (server->tls.rtsp) {
    /* Over RTSPS, plain RTP only inside the TLS connection: UDP would leave
     * it in clear on the wire. SRTP may use UDP as well. */
    add_factory (list, pipeline, config, &server->tls, "", GST_RTSP_LOWER_TRANS_TCP, GST_RTSP_PROFILE_AVP);
    add_factory (list, pipeline, config, &server->tls, SRTP_SUFFIX,
                 GST_RTSP_LOWER_TRANS_TCP | GST_RTSP_LOWER_TRANS_UDP, GST_RTSP_PROFILE_SAVP);
  }
  g_hash_table_replace (server->factories, g_strdup (cordon_pipeline_get_camera (pipeline)->name), list);
}

static GstRTSPFilterResult
media_of_camera (GstRTSPSession *session, GstRTSPSessionMedia *sm, gpointer name)
{
  GstRTSPMedia *media = gst_rtsp_session_media_get_media (sm);
  if (g_strcmp0 (g_object_get_data (G_OBJECT (media), "cordon-camera"), name) == 0)
    *(gboolean *) g_object_get_data (G_OBJECT (session), "cordon-hit") = TRUE;
  return GST_RTSP_FILTER_KEEP;
}

static GstRTSPFilterResult
session_of_camera (GstRTSPClient *client, GstRTSPSession *session, gpointer name)
{
  gboolean *hit = g_object_get_data (G_OBJECT (client), "cordon-hit");
  g_object_set_data (G_OBJECT (session), "cordon-hit", hit);
  gst_rtsp_session_filter (session, media_of_camera, name);
  g_object_set_data (G_OBJECT (session), "cordon-hit", NULL);
  return GST_RTSP_FILTER_KEEP;
}

static GstRTSPFilterResult
client_of_camera (GstRTSPServer *rtsp, GstRTSPClient *client, gpointer name)
{
  gboolean hit = FALSE;
  g_object_set_data (G_OBJECT (client), "cordon-hit", &hit);
  gst_rtsp_client_session_filter (client, session_of_camera, name);
  g_object_set_data (G_OBJECT (client), "cordon-hit", NULL);
  /* REMOVE closes the recorder's connection: it was watching a camera that is
   * no longer served, and a reconnect now gets 404. */
  return hit ? GST_RTSP_FILTER_REMOVE : GST_RTSP_FILTER_KEEP;
}

void
cordon_server_remove_camera (CordonServer *server, const char *name)
{
  GPtrArray *list = g_hash_table_lookup (server->factories, name);
  if (!list)
    return;
  for (guint i = 0; i < list->len; i++) {
    CordonFactory *f = list->pdata[i];
    gst_rtsp_mount_points_remove_factory (f->mounts, f->path);
    cordon_factory_detach_all (f);
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
  if (server->tls.auth) {
    cordon_auth_set_config (server->tls.auth, config);
    cordon_mounts_set_config (CORDON_MOUNTS (server->tls.mounts), config);
  }
  g_hash_table_iter_init (&it, server->factories);
  while (g_hash_table_iter_next (&it, NULL, &v)) {
    GPtrArray *list = v;
    for (guint i = 0; i < list->len; i++)
      factory_set_permissions (list->pdata[i], config);
  }
}

guint
cordon_server_media_count (CordonServer *server, const char *name)
{
  GPtrArray *list = g_hash_table_lookup (server->factories, name);
  guint n = 0;
  for (guint i = 0; list && i < list->len; i++) {
    CordonFactory *f = list->pdata[i];
    g_mutex_lock (&f->lock);
    n += f->media_count;
    g_mutex_unlock (&f->lock);
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
  *b += client_bytes_sent (client);
  return GST_RTSP_FILTER_KEEP;
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
  if (server->guard) {
    g_mutex_lock (&server->guard_lock);
    server->guard_stop = TRUE;
    g_cond_signal (&server->guard_cond);
    g_mutex_unlock (&server->guard_lock);
    g_clear_pointer (&server->guard, g_thread_join);
  }
  GHashTableIter it;
  gpointer v;
  if (server->factories) {
    g_hash_table_iter_init (&it, server->factories);
    while (g_hash_table_iter_next (&it, NULL, &v)) {
      GPtrArray *list = v;
      for (guint i = 0; i < list->len; i++)
        cordon_factory_detach_all (list->pdata[i]);
    }
  }
  listener_clear (&server->plain);
  listener_clear (&server->tls);
  g_clear_pointer (&server->factories, g_hash_table_unref);
  g_clear_pointer (&server->sent, g_hash_table_unref);
  g_mutex_clear (&server->sent_lock);
  g_clear_pointer (&server->guarded, g_hash_table_unref);
  g_mutex_clear (&server->guard_lock);
  g_cond_clear (&server->guard_cond);
  g_free (server);
}
