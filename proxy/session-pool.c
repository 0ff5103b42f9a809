/* cordon — session pool with CSPRNG session ids. */
#define G_LOG_DOMAIN "cordon-proxy"

#include "proxy/session-pool.h"

#include "proxy/random.h"

struct _CordonSessionPool {
  GstRTSPSessionPool parent;
};

G_DEFINE_TYPE (CordonSessionPool, cordon_session_pool, GST_TYPE_RTSP_SESSION_POOL)

/* 16 characters from 66 (RFC 2326's session-id alphabet): over 96 bits. */
#define SESSION_ID_LEN 16
static const char session_id_charset[] =
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789$-_.";

char *
cordon_session_pool_make_id (void)
{
  return cordon_random_string (session_id_charset, SESSION_ID_LEN);
}

static char *
cordon_session_pool_create_session_id (GstRTSPSessionPool *pool)
{
  return cordon_session_pool_make_id ();
}

static void
cordon_session_pool_class_init (CordonSessionPoolClass *klass)
{
  GST_RTSP_SESSION_POOL_CLASS (klass)->create_session_id = cordon_session_pool_create_session_id;
}

static void
cordon_session_pool_init (CordonSessionPool *self)
{
}

CordonSessionPool *
cordon_session_pool_new (void)
{
  return g_object_new (CORDON_TYPE_SESSION_POOL, NULL);
}
