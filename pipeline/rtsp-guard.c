/* cordon — the RTSP guard: an rtspsrc extension and a resolver that says no.
 *
 * rtspsrc (1.22) follows a 301/302 by itself: it stores the Location as its
 * new URL and reconnects, looking the host up if it is a name, before any
 * request (and the before-send signal) for it exists. It answers a challenge
 * with the strongest scheme offered: Basic, the password in clear, when that
 * is all. Both happen inside gst_rtspsrc_send(). The one hook in between is
 * the GstRTSPExtension interface: rtspsrc calls every extension's after_send
 * with each response right after reading it, and before it looks at the
 * status code or the challenge. The guard is such an extension, registered
 * in-process before the first rtspsrc exists; it rewrites what must not be
 * acted on. Below it, GIO is made to look up no names and to use no proxy. */
#define G_LOG_DOMAIN "cordon-pipeline"

#include "rtsp-guard.h"
#include "camera-checks.h"
#include "pipeline-private.h"

#include <gst/rtsp/gstrtspextension.h>

typedef struct {
  const CordonCamera *camera;
  CordonRtspGuardFunc refused;
  gpointer data;
  gboolean claimed;
} GuardSetup;

typedef struct {
  GstElement parent;
  CordonCamera *camera;       /* (ref) NULL: made outside cordon_rtsp_guard_make_src() */
  CordonRtspGuardFunc refused;
  gpointer data;
} CordonRtspGuard;

typedef struct {
  GstElementClass parent;
} CordonRtspGuardClass;

static void guard_iface_init (GstRTSPExtensionInterface *iface);

G_DEFINE_TYPE_WITH_CODE (CordonRtspGuard, cordon_rtsp_guard, GST_TYPE_ELEMENT,
                         G_IMPLEMENT_INTERFACE (GST_TYPE_RTSP_EXTENSION, guard_iface_init))

/* Set while cordon_rtsp_guard_make_src() creates an rtspsrc on this thread:
 * rtspsrc creates its extensions inside its own instance init. */
static GPrivate creating;

static void
cordon_rtsp_guard_init (CordonRtspGuard *self)
{
  GuardSetup *setup = g_private_get (&creating);
  if (setup && !setup->claimed) {
    self->camera = cordon_camera_ref ((CordonCamera *) setup->camera);
    self->refused = setup->refused;
    self->data = setup->data;
    setup->claimed = TRUE;
  }
}

static void
cordon_rtsp_guard_finalize (GObject *object)
{
  CordonRtspGuard *self = (CordonRtspGuard *) object;
  g_clear_pointer (&self->camera, cordon_camera_unref);
  G_OBJECT_CLASS (cordon_rtsp_guard_parent_class)->finalize (object);
}

static void
cordon_rtsp_guard_class_init (CordonRtspGuardClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = cordon_rtsp_guard_finalize;
  gst_element_class_set_static_metadata (GST_ELEMENT_CLASS (klass), "cordon RTSP guard",
                                         "Network/Extension/Protocol",
                                         "Refuses camera redirects elsewhere and Basic challenges", "cordon");
}

static void
refuse (CordonRtspGuard *self, const char *reason)
{
  if (self->refused)
    self->refused (self->data, reason);
  else
    g_warning ("RTSP guard: %s", reason);
}

static GstRTSPResult
guard_after_send (GstRTSPExtension *ext, GstRTSPMessage *req, GstRTSPMessage *resp)
{
  CordonRtspGuard *self = (CordonRtspGuard *) ext;
  g_autofree char *why = NULL;

  if (!resp || resp->type != GST_RTSP_MESSAGE_RESPONSE)
    return GST_RTSP_OK;
  if (!self->camera) {
    /* An rtspsrc nobody configured: no redirect at all, and no Basic. */
    guint code = resp->type_data.response.code;
    if (code >= 300 && code < 400) {
      refuse (self, "an RTSP redirect was refused");
      gst_rtsp_message_init_response (resp, GST_RTSP_STS_FORBIDDEN, "Redirect refused by cordon", req);
    }
    gst_rtsp_message_remove_header (resp, GST_RTSP_HDR_WWW_AUTHENTICATE, -1);
    return GST_RTSP_OK;
  }
  if (!cordon_camera_check_redirect (self->camera, resp, &why)) {
    /* rtspsrc already noted the 3xx code, but follows a redirect only from
     * the message's own code and Location: a 403 with neither is an error
     * like any other, and the attempt fails. */
    refuse (self, why);
    gst_rtsp_message_init_response (resp, GST_RTSP_STS_FORBIDDEN, "Redirect refused by cordon", req);
    return GST_RTSP_OK;
  }
  if (!cordon_camera_filter_auth (self->camera, resp, &why))
    refuse (self, why);
  return GST_RTSP_OK;
}

static void
guard_iface_init (GstRTSPExtensionInterface *iface)
{
  iface->after_send = guard_after_send;
}

static gpointer
register_guard (gpointer unused)
{
  /* Rank marginal: rtspsrc takes extensions of at least that rank, from the
   * registry as it stands when its class is first initialised. */
  return GINT_TO_POINTER (gst_element_register (NULL, "cordonrtspguard", GST_RANK_MARGINAL,
                                                cordon_rtsp_guard_get_type ()));
}

gboolean
cordon_rtsp_guard_register (void)
{
  static GOnce once = G_ONCE_INIT;
  return GPOINTER_TO_INT (g_once (&once, register_guard, NULL));
}

GstElement *
cordon_rtsp_guard_make_src (const CordonCamera *camera, CordonRtspGuardFunc refused, gpointer data,
                            GError **error)
{
  GuardSetup setup = { camera, refused, data, FALSE };

  if (!cordon_rtsp_guard_direct_only ()) {
    g_set_error (error, CORDON_PIPELINE_ERROR, CORDON_PIPELINE_ERROR_FAILED,
                 "GIO chose a proxy resolver other than cordon's or GLib's dummy (GIO_USE_PROXY_RESOLVER?):"
                 " a camera connection could go through a proxy; refusing to connect");
    return NULL;
  }
  if (!cordon_rtsp_guard_register ()) {
    g_set_error (error, CORDON_PIPELINE_ERROR, CORDON_PIPELINE_ERROR_FAILED, "cannot register the RTSP guard");
    return NULL;
  }
  g_private_set (&creating, &setup);
  GstElement *src = cordon_make ("rtspsrc", error);
  g_private_set (&creating, NULL);
  if (src && !setup.claimed) {
    gst_object_unref (gst_object_ref_sink (src));
    g_set_error (error, CORDON_PIPELINE_ERROR, CORDON_PIPELINE_ERROR_FAILED,
                 "rtspsrc was loaded without cordon's RTSP guard: refusing to connect");
    return NULL;
  }
  return src;
}

/* ---- a resolver that resolves nothing ---- */

typedef struct {
  GResolver parent;
} CordonNoResolver;

typedef struct {
  GResolverClass parent;
} CordonNoResolverClass;

G_DEFINE_TYPE (CordonNoResolver, cordon_no_resolver, G_TYPE_RESOLVER)

static void
cordon_no_resolver_init (CordonNoResolver *self)
{
}

static void
set_refused (GError **error, const char *what)
{
  g_autofree char *shown = cordon_sanitize (what);
  g_set_error (error, G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND,
               "cordon looks up no names (\"%s\"): use IP addresses", shown);
}

static GList *
no_lookup_by_name (GResolver *r, const char *name, GCancellable *c, GError **error)
{
  set_refused (error, name);
  return NULL;
}

static GList *
no_lookup_by_name_with_flags (GResolver *r, const char *name, GResolverNameLookupFlags flags, GCancellable *c,
                              GError **error)
{
  set_refused (error, name);
  return NULL;
}

static char *
no_lookup_by_address (GResolver *r, GInetAddress *address, GCancellable *c, GError **error)
{
  set_refused (error, "reverse lookup");
  return NULL;
}

static GList *
no_lookup_records (GResolver *r, const char *rrname, GResolverRecordType type, GCancellable *c, GError **error)
{
  set_refused (error, rrname);
  return NULL;
}

static GList *
no_lookup_service (GResolver *r, const char *rrname, GCancellable *c, GError **error)
{
  set_refused (error, rrname);
  return NULL;
}

static void
report_async (GResolver *r, const char *what, GAsyncReadyCallback callback, gpointer data)
{
  GError *error = NULL;
  set_refused (&error, what);
  g_task_report_error (r, callback, data, NULL, error);
}

static void
no_lookup_by_name_async (GResolver *r, const char *name, GCancellable *c, GAsyncReadyCallback cb, gpointer data)
{
  report_async (r, name, cb, data);
}

static void
no_lookup_by_name_with_flags_async (GResolver *r, const char *name, GResolverNameLookupFlags flags,
                                    GCancellable *c, GAsyncReadyCallback cb, gpointer data)
{
  report_async (r, name, cb, data);
}

static void
no_lookup_by_address_async (GResolver *r, GInetAddress *address, GCancellable *c, GAsyncReadyCallback cb,
                            gpointer data)
{
  report_async (r, "reverse lookup", cb, data);
}

static void
no_lookup_records_async (GResolver *r, const char *rrname, GResolverRecordType type, GCancellable *c,
                         GAsyncReadyCallback cb, gpointer data)
{
  report_async (r, rrname, cb, data);
}

static void
no_lookup_service_async (GResolver *r, const char *rrname, GCancellable *c, GAsyncReadyCallback cb, gpointer data)
{
  report_async (r, rrname, cb, data);
}

static GList *
no_finish_list (GResolver *r, GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

static char *
no_finish_string (GResolver *r, GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
cordon_no_resolver_class_init (CordonNoResolverClass *klass)
{
  GResolverClass *rc = G_RESOLVER_CLASS (klass);
  rc->lookup_by_name = no_lookup_by_name;
  rc->lookup_by_name_async = no_lookup_by_name_async;
  rc->lookup_by_name_finish = no_finish_list;
  rc->lookup_by_name_with_flags = no_lookup_by_name_with_flags;
  rc->lookup_by_name_with_flags_async = no_lookup_by_name_with_flags_async;
  rc->lookup_by_name_with_flags_finish = no_finish_list;
  rc->lookup_by_address = no_lookup_by_address;
  rc->lookup_by_address_async = no_lookup_by_address_async;
  rc->lookup_by_address_finish = no_finish_string;
  rc->lookup_records = no_lookup_records;
  rc->lookup_records_async = no_lookup_records_async;
  rc->lookup_records_finish = no_finish_list;
  rc->lookup_service = no_lookup_service;
  rc->lookup_service_async = no_lookup_service_async;
  rc->lookup_service_finish = no_finish_list;
}

/* ---- a proxy resolver that says "direct" ----
 *
 * GSocketClient (inside GstRTSPConnection) asks GIO's default proxy resolver
 * where to connect; on Debian that is libproxy, which follows proxy settings
 * from the environment: a camera connection could go to a proxy host. GLib
 * has no setter for the default, so this one is registered at the highest
 * priority before the default is chosen (the daemon also forces GLib's
 * dummy; a worker process may not). */

typedef struct {
  GObject parent;
} CordonDirectResolver;

typedef struct {
  GObjectClass parent;
} CordonDirectResolverClass;

static void direct_iface_init (GProxyResolverInterface *iface);

G_DEFINE_TYPE_WITH_CODE (CordonDirectResolver, cordon_direct_resolver, G_TYPE_OBJECT,
                         G_IMPLEMENT_INTERFACE (G_TYPE_PROXY_RESOLVER, direct_iface_init))

static void
cordon_direct_resolver_init (CordonDirectResolver *self)
{
}

static void
cordon_direct_resolver_class_init (CordonDirectResolverClass *klass)
{
}

static gboolean
direct_is_supported (GProxyResolver *r)
{
  return TRUE;
}

static char **
direct_lookup (GProxyResolver *r, const char *uri, GCancellable *c, GError **error)
{
  char **out = g_new0 (char *, 2);
  out[0] = g_strdup ("direct://");
  return out;
}

static void
direct_lookup_async (GProxyResolver *r, const char *uri, GCancellable *c, GAsyncReadyCallback cb, gpointer data)
{
  g_autoptr (GTask) task = g_task_new (r, c, cb, data);
  g_task_return_pointer (task, direct_lookup (r, uri, c, NULL), (GDestroyNotify) g_strfreev);
}

static char **
direct_lookup_finish (GProxyResolver *r, GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
direct_iface_init (GProxyResolverInterface *iface)
{
  iface->is_supported = direct_is_supported;
  iface->lookup = direct_lookup;
  iface->lookup_async = direct_lookup_async;
  iface->lookup_finish = direct_lookup_finish;
}

static gsize names_done = 0;
static gboolean proxies_direct;

void
cordon_rtsp_guard_forbid_names (void)
{
  if (g_once_init_enter (&names_done)) {
    g_autoptr (GResolver) none = g_object_new (cordon_no_resolver_get_type (), NULL);
    g_resolver_set_default (none);
    /* Any default GIO picks registers the extension points first. */
    (void) g_vfs_get_default ();
    g_io_extension_point_implement (G_PROXY_RESOLVER_EXTENSION_POINT_NAME, cordon_direct_resolver_get_type (),
                                    "cordon-direct", 1000000);
    /* GLib's own dummy (GIO_USE_PROXY_RESOLVER=dummy, as the daemon sets)
     * is direct too. */
    GProxyResolver *chosen = g_proxy_resolver_get_default ();  /* (transfer none) */
    proxies_direct = G_TYPE_CHECK_INSTANCE_TYPE (chosen, cordon_direct_resolver_get_type ())
                     || g_strcmp0 (G_OBJECT_TYPE_NAME (chosen), "GDummyProxyResolver") == 0;
    g_once_init_leave (&names_done, 1);
  }
}

gboolean
cordon_rtsp_guard_direct_only (void)
{
  cordon_rtsp_guard_forbid_names ();
  return proxies_direct;
}
