/* Unit tests of pipeline/rtsp-guard.c: the guard is attached to every rtspsrc
 * cordon makes, or none is made; no name is looked up. Each case runs in a
 * subprocess: rtspsrc takes its extensions once per process. */
#include "rtsp-guard.h"
#include "pipeline.h"

#include <gst/rtsp/gstrtspextension.h>
#include <gst/rtsp/gstrtspmessage.h>

static CordonCamera *
camera (void)
{
  CordonCamera *cam = g_new0 (CordonCamera, 1);
  cam->refcount = 1;
  cam->name = g_strdup ("lobby");
  cam->host = g_strdup ("198.18.1.10");
  cam->address = g_inet_address_new_from_string (cam->host);
  cam->port = 554;
  cam->max_input_width = 4096;
  cam->max_input_height = 2160;
  cam->max_input_framerate = 60;
  return cam;
}

static void
refused (gpointer data, const char *reason)
{
}

static void
test_guarded (void)
{
  if (g_test_subprocess ()) {
    g_autoptr (CordonCamera) cam = camera ();
    g_autoptr (GError) error = NULL;
    GstElement *src = cordon_rtsp_guard_make_src (cam, refused, NULL, &error);
    g_assert_no_error (error);
    g_assert_nonnull (src);
    gst_object_unref (gst_object_ref_sink (src));
    return;
  }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

/* rtspsrc loaded before the guard was registered: cordon refuses to make one. */
static void
test_unguarded_refused (void)
{
  if (g_test_subprocess ()) {
    g_autoptr (CordonCamera) cam = camera ();
    g_autoptr (GError) error = NULL;
    GstElement *early = gst_element_factory_make ("rtspsrc", NULL);
    g_assert_nonnull (early);
    gst_object_unref (gst_object_ref_sink (early));
    GstElement *src = cordon_rtsp_guard_make_src (cam, refused, NULL, &error);
    g_assert_null (src);
    g_assert_error (error, CORDON_PIPELINE_ERROR, CORDON_PIPELINE_ERROR_FAILED);
    g_assert_nonnull (strstr (error->message, "without cordon's RTSP guard"));
    return;
  }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

/* A guard nobody configured (not made through cordon_rtsp_guard_make_src)
 * refuses every redirect and every challenge. */
static void
test_unconfigured_guard (void)
{
  if (g_test_subprocess ()) {
    g_autoptr (CordonCamera) cam = camera ();
    GstElement *src = cordon_rtsp_guard_make_src (cam, refused, NULL, NULL);
    g_assert_nonnull (src);
    gst_object_unref (gst_object_ref_sink (src));
    GstElement *guard = gst_element_factory_make ("cordonrtspguard", NULL);
    g_assert_nonnull (guard);
    GstRTSPMessage *req = NULL, *resp = NULL;
    gst_rtsp_message_new_request (&req, GST_RTSP_DESCRIBE, "rtsp://198.18.1.10/x");
    gst_rtsp_message_add_header (req, GST_RTSP_HDR_CSEQ, "3");
    gst_rtsp_message_new_response (&resp, GST_RTSP_STS_MOVE_TEMPORARILY, NULL, req);
    gst_rtsp_message_add_header (resp, GST_RTSP_HDR_LOCATION, "rtsp://198.18.1.10/same-host");
    g_test_expect_message ("cordon-pipeline", G_LOG_LEVEL_WARNING, "RTSP guard: an RTSP redirect was refused");
    gst_rtsp_extension_after_send (GST_RTSP_EXTENSION (guard), req, resp);
    g_test_assert_expected_messages ();
    char *v = NULL;
    g_assert_cmpint (resp->type_data.response.code, ==, GST_RTSP_STS_FORBIDDEN);
    g_assert_cmpint (gst_rtsp_message_get_header (resp, GST_RTSP_HDR_LOCATION, &v, 0), !=, GST_RTSP_OK);
    g_assert_cmpint (gst_rtsp_message_get_header (resp, GST_RTSP_HDR_CSEQ, &v, 0), ==, GST_RTSP_OK);
    g_assert_cmpstr (v, ==, "3");
    gst_rtsp_message_free (resp);
    gst_rtsp_message_new_response (&resp, GST_RTSP_STS_UNAUTHORIZED, NULL, req);
    gst_rtsp_message_add_header (resp, GST_RTSP_HDR_WWW_AUTHENTICATE, "Basic realm=\"x\"");
    gst_rtsp_extension_after_send (GST_RTSP_EXTENSION (guard), req, resp);
    g_assert_cmpint (gst_rtsp_message_get_header (resp, GST_RTSP_HDR_WWW_AUTHENTICATE, &v, 0), !=, GST_RTSP_OK);
    gst_rtsp_message_free (resp);
    gst_rtsp_message_free (req);
    gst_object_unref (gst_object_ref_sink (guard));
    return;
  }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

static void
test_no_names (void)
{
  cordon_rtsp_guard_forbid_names ();
  GResolver *r = g_resolver_get_default ();
  g_autoptr (GError) error = NULL;
  GList *found = g_resolver_lookup_by_name (r, "cordon-exfil.example.net", NULL, &error);
  g_assert_null (found);
  g_assert_error (error, G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND);
  g_clear_error (&error);
  /* IP literals need no lookup and still work. */
  found = g_resolver_lookup_by_name (r, "198.18.1.10", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_length (found), ==, 1);
  g_resolver_free_addresses (found);
  g_autoptr (GInetAddress) a = g_inet_address_new_from_string ("198.18.1.10");
  g_autofree char *name = g_resolver_lookup_by_address (r, a, NULL, &error);
  g_assert_null (name);
  g_assert_error (error, G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_autoptr (GSocketConnectable) host = g_network_address_new ("cordon-exfil.example.net", 554);
  g_autoptr (GSocketAddressEnumerator) e = g_socket_connectable_enumerate (host);
  g_autoptr (GSocketAddress) sa = g_socket_address_enumerator_next (e, NULL, &error);
  g_assert_null (sa);
  g_assert_nonnull (error);
  g_object_unref (r);
}

/* Proxy settings in the environment do not route a camera connection. */
static void
test_no_proxy (void)
{
  if (g_test_subprocess ()) {
    g_assert_true (cordon_rtsp_guard_direct_only ());
    GProxyResolver *p = g_proxy_resolver_get_default ();
    g_auto (GStrv) proxies = g_proxy_resolver_lookup (p, "rtsp://198.18.1.10:554/x", NULL, NULL);
    g_assert_nonnull (proxies);
    g_assert_cmpstr (proxies[0], ==, "direct://");
    g_assert_null (proxies[1]);
    return;
  }
  g_setenv ("all_proxy", "http://198.18.2.5:3128", TRUE);
  g_setenv ("ALL_PROXY", "http://198.18.2.5:3128", TRUE);
  g_setenv ("http_proxy", "http://198.18.2.5:3128", TRUE);
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
}

/* A proxy resolver forced on GIO before cordon's: no rtspsrc is made. */
static void
test_forced_proxy_refused (void)
{
  if (g_test_subprocess ()) {
    g_autoptr (CordonCamera) cam = camera ();
    g_autoptr (GError) error = NULL;
    (void) g_vfs_get_default ();
    GIOExtensionPoint *ep = g_io_extension_point_lookup (G_PROXY_RESOLVER_EXTENSION_POINT_NAME);
    if (!ep || !g_io_extension_point_get_extension_by_name (ep, "libproxy")) {
      g_test_skip ("no libproxy GIO module (glib-networking)");
      return;
    }
    g_assert_false (cordon_rtsp_guard_direct_only ());
    g_assert_null (cordon_rtsp_guard_make_src (cam, refused, NULL, &error));
    g_assert_nonnull (strstr (error->message, "proxy"));
    return;
  }
  g_setenv ("GIO_USE_PROXY_RESOLVER", "libproxy", TRUE);
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_unsetenv ("GIO_USE_PROXY_RESOLVER");
  g_test_trap_assert_passed ();
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/rtsp-guard/attached-to-every-rtspsrc", test_guarded);
  g_test_add_func ("/rtsp-guard/rtspsrc-without-guard-refused", test_unguarded_refused);
  g_test_add_func ("/rtsp-guard/unconfigured-refuses-redirects-and-challenges", test_unconfigured_guard);
  g_test_add_func ("/rtsp-guard/no-name-lookups", test_no_names);
  g_test_add_func ("/rtsp-guard/no-proxy-from-the-environment", test_no_proxy);
  g_test_add_func ("/rtsp-guard/forced-proxy-resolver-refused", test_forced_proxy_refused);
  return g_test_run ();
}
