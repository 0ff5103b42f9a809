/* cordon — the media factory: one per camera and listener; its media is
 * shared (one encode, any number of recorders) and fed by the camera's
 * pipeline through an appsrc. */
#define G_LOG_DOMAIN "cordon-proxy"

#include "proxy/media-factory.h"

#include "proxy/auth.h"
#include "proxy/random.h"

struct _CordonMediaFactory {
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

G_DEFINE_TYPE (CordonMediaFactory, cordon_media_factory, GST_TYPE_RTSP_MEDIA_FACTORY)

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
cordon_media_factory_create_element (GstRTSPMediaFactory *factory, const GstRTSPUrl *url)
{
  CordonMediaFactory *self = CORDON_MEDIA_FACTORY (factory);
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

/* What cordon knows about a media it made: one typed record per media. The
 * sources are not refs (the factory's lists hold those). */
typedef struct {
  char *camera;
  GstAppSrc *src;
  GstAppSrc *asrc;
} MediaLink;

static void
media_link_free (MediaLink *link)
{
  g_free (link->camera);
  g_free (link);
}

static GQuark
media_link_quark (void)
{
  return g_quark_from_static_string ("cordon-media-link");
}

static MediaLink *
media_link (GstRTSPMedia *media)
{
  return g_object_get_qdata (G_OBJECT (media), media_link_quark ());
}

static void
media_unprepared (GstRTSPMedia *media, CordonMediaFactory *self)
{
  MediaLink *link = media_link (media);
  if (!link)
    return;
  g_mutex_lock (&self->lock);
  if (link->asrc && g_ptr_array_remove (self->audio_sources, link->asrc) && self->pipeline)
    cordon_pipeline_detach_audio (self->pipeline, link->asrc);
  if (link->src && g_ptr_array_remove (self->sources, link->src) && self->pipeline)
    cordon_pipeline_detach (self->pipeline, link->src);
  g_mutex_unlock (&self->lock);
  link->src = link->asrc = NULL;
}

static void
media_gone (gpointer data, GObject *where_the_object_was)
{
  CordonMediaFactory *self = data;
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

/* gst-rtsp-server asks srtpenc for a random master key, which srtpenc draws
 * from GLib's Mersenne Twister. The key is replaced here, as the encoder
 * joins the media's rtpbin and before it is started or its key is sent to a
 * recorder (MIKEY, at SETUP), with one from getrandom(). 30 bytes for the
 * AES-128 ciphers (key and salt), 46 for AES-256. */
static void
rekey_srtp (GstElement *element)
{
  gint cipher = 1;
  g_object_get (element, "rtp-cipher", &cipher, NULL);
  gsize len = cipher == 2 || cipher == 4 ? 46 : 30;
  guint8 *key = g_malloc (len);
  cordon_random_bytes (key, len);
  g_autoptr (GstBuffer) buf = gst_buffer_new_wrapped (key, len);
  g_object_set (element, "random-key", FALSE, "key", buf, NULL);
}

static void
on_element_added (GstBin *bin, GstBin *sub_bin, GstElement *element, gpointer data)
{
  GstElementFactory *factory = gst_element_get_factory (element);
  if (factory && g_strcmp0 (gst_plugin_feature_get_name (GST_PLUGIN_FEATURE (factory)), "srtpenc") == 0) {
    rekey_srtp (element);
    return;
  }
  if (!GST_IS_BASE_SINK (element))
    return;
  gst_base_sink_set_sync (GST_BASE_SINK (element), FALSE);
  g_signal_connect (element, "notify::sync", G_CALLBACK (keep_unsynced), NULL);
}

static void
cordon_media_factory_configure (GstRTSPMediaFactory *factory, GstRTSPMedia *media)
{
  CordonMediaFactory *self = CORDON_MEDIA_FACTORY (factory);
  GST_RTSP_MEDIA_FACTORY_CLASS (cordon_media_factory_parent_class)->configure (factory, media);
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
    g_signal_connect (top, "deep-element-added", G_CALLBACK (on_element_added), NULL);
  else
    g_warning ("%s: the media has no pipeline yet; its sinks will sync on time stamps", self->name);

  g_autoptr (GstElement) src = gst_bin_get_by_name (GST_BIN (element), "src");
  g_autoptr (GstElement) asrc = gst_bin_get_by_name (GST_BIN (element), "asrc");
  MediaLink *link = g_new0 (MediaLink, 1);
  link->camera = g_strdup (self->name);
  g_object_set_qdata_full (G_OBJECT (media), media_link_quark (), link, (GDestroyNotify) media_link_free);
  g_object_weak_ref (G_OBJECT (media), media_gone, g_object_ref (self));
  g_signal_connect_object (media, "unprepared", G_CALLBACK (media_unprepared), self, 0);

  g_mutex_lock (&self->lock);
  self->media_count++;
  if (src && self->pipeline) {
    link->src = GST_APP_SRC (src);
    g_ptr_array_add (self->sources, gst_object_ref (src));
    cordon_pipeline_attach (self->pipeline, GST_APP_SRC (src));
  }
  if (asrc && self->pipeline) {
    link->asrc = GST_APP_SRC (asrc);
    g_ptr_array_add (self->audio_sources, gst_object_ref (asrc));
    cordon_pipeline_attach_audio (self->pipeline, GST_APP_SRC (asrc));
  }
  g_mutex_unlock (&self->lock);
}

void
cordon_media_factory_detach_all (CordonMediaFactory *self)
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
cordon_media_factory_finalize (GObject *object)
{
  CordonMediaFactory *self = CORDON_MEDIA_FACTORY (object);
  g_ptr_array_unref (self->sources);
  g_ptr_array_unref (self->audio_sources);
  g_free (self->name);
  g_free (self->path);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (cordon_media_factory_parent_class)->finalize (object);
}

static void
cordon_media_factory_class_init (CordonMediaFactoryClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = cordon_media_factory_finalize;
  GST_RTSP_MEDIA_FACTORY_CLASS (klass)->create_element = cordon_media_factory_create_element;
  GST_RTSP_MEDIA_FACTORY_CLASS (klass)->configure = cordon_media_factory_configure;
}

static void
cordon_media_factory_init (CordonMediaFactory *self)
{
  g_mutex_init (&self->lock);
  self->sources = g_ptr_array_new_with_free_func (gst_object_unref);
  self->audio_sources = g_ptr_array_new_with_free_func (gst_object_unref);
}

void
cordon_media_factory_set_permissions (CordonMediaFactory *f, const CordonConfig *config)
{
  g_autoptr (GstRTSPPermissions) perms = cordon_auth_permissions (config, f->name);
  gst_rtsp_media_factory_set_permissions (GST_RTSP_MEDIA_FACTORY (f), perms);
}

CordonMediaFactory *
cordon_media_factory_new (CordonPipeline *pipeline, GstRTSPMountPoints *mounts, const char *path,
                          GstRTSPLowerTrans protocols, GstRTSPProfile profiles)
{
  CordonMediaFactory *f = g_object_new (CORDON_TYPE_MEDIA_FACTORY, NULL);

  f->pipeline = pipeline;
  f->name = g_strdup (cordon_pipeline_get_camera (pipeline)->name);
  f->mounts = mounts;
  f->path = g_strdup (path);
  /* Shared: one media per factory however many recorders; the encode itself
   * happens once, upstream, in the camera's pipeline. */
  gst_rtsp_media_factory_set_shared (GST_RTSP_MEDIA_FACTORY (f), TRUE);
  gst_rtsp_media_factory_set_suspend_mode (GST_RTSP_MEDIA_FACTORY (f), GST_RTSP_SUSPEND_MODE_NONE);
  gst_rtsp_media_factory_set_protocols (GST_RTSP_MEDIA_FACTORY (f), protocols);
  gst_rtsp_media_factory_set_profiles (GST_RTSP_MEDIA_FACTORY (f), profiles);
  return f;
}

const char *
cordon_media_factory_get_camera (CordonMediaFactory *f)
{
  return f->name;
}

const char *
cordon_media_factory_get_path (CordonMediaFactory *f)
{
  return f->path;
}

GstRTSPMountPoints *
cordon_media_factory_get_mounts (CordonMediaFactory *f)
{
  return f->mounts;
}

guint
cordon_media_factory_media_count (CordonMediaFactory *f)
{
  g_mutex_lock (&f->lock);
  guint n = f->media_count;
  g_mutex_unlock (&f->lock);
  return n;
}

guint64
cordon_media_factory_bytes (CordonMediaFactory *f)
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

void
cordon_media_factory_request_keyframe (CordonMediaFactory *f)
{
  g_mutex_lock (&f->lock);
  if (f->pipeline)
    cordon_pipeline_request_keyframe (f->pipeline);
  g_mutex_unlock (&f->lock);
}

const char *
cordon_media_factory_media_camera (GstRTSPMedia *media)
{
  MediaLink *link = media_link (media);
  return link ? link->camera : NULL;
}
