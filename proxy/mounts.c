/* cordon — mount points. On the RTSPS listener which factory a request
 * reaches depends on the recorder's srtp policy, read from the user name it
 * authenticates with: a recorder with srtp set can never get a plain RTP
 * media. */
#define G_LOG_DOMAIN "cordon-proxy"

#include "proxy/mounts.h"

#include <string.h>

#include "proxy/auth.h"
#include "proxy/path.h"

/* On the RTSPS listener each camera has two factories: /NAME (RTP inside the
 * TLS connection only) and /NAME~srtp (SAVP only: SRTP, keys by MIKEY inside
 * TLS). Which one a request reaches depends on the recorder's srtp policy,
 * read from the user name it authenticates with; '~' cannot occur in a camera
 * name. A recorder with srtp set can therefore never get a plain RTP media. */
struct _CordonMounts {
  GstRTSPMountPoints parent;
  gboolean srtp;
  GMutex lock;
  GHashTable *srtp_users;   /* user names of recorders with srtp != off */
};

G_DEFINE_TYPE (CordonMounts, cordon_mounts, GST_TYPE_RTSP_MOUNT_POINTS)

char *
cordon_mounts_route_srtp (const char *path)
{
  if (path[0] != '/')
    return g_strdup (path);
  const char *slash = strchr (path + 1, '/');
  g_autofree char *name = slash ? g_strndup (path, slash - path) : g_strdup (path);
  return g_strconcat (name, CORDON_SRTP_SUFFIX, slash ? slash : "", NULL);
}

static char *
cordon_mounts_make_path (GstRTSPMountPoints *mounts, const GstRTSPUrl *url)
{
  CordonMounts *self = CORDON_MOUNTS (mounts);
  g_autofree char *raw = GST_RTSP_MOUNT_POINTS_CLASS (cordon_mounts_parent_class)->make_path (mounts, url);
  /* NULL answers 404: a path that is not one camera's reaches none. */
  char *path = raw ? cordon_path_normalise (raw) : NULL;
  GstRTSPContext *ctx = gst_rtsp_context_get_current ();
  if (!path || !self->srtp || !ctx || !ctx->request)
    return path;
  g_autofree char *user = cordon_auth_request_username (ctx->request);
  g_mutex_lock (&self->lock);
  gboolean srtp = user && g_hash_table_contains (self->srtp_users, user);
  g_mutex_unlock (&self->lock);
  if (!srtp)
    return path;
  char *routed = cordon_mounts_route_srtp (path);
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

void
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

CordonMounts *
cordon_mounts_new (gboolean srtp)
{
  CordonMounts *self = g_object_new (CORDON_TYPE_MOUNTS, NULL);
  self->srtp = srtp;
  return self;
}
