/* Unit tests of pipeline/camera-checks.c: what a camera says, before cordon
 * acts on it. */
#include "camera-checks.h"

#include <gst/rtsp/gstrtspmessage.h>

static CordonCamera *
camera (const char *host, guint16 port, gboolean allow_basic)
{
  CordonCamera *cam = g_new0 (CordonCamera, 1);
  cam->refcount = 1;
  cam->name = g_strdup ("lobby");
  cam->host = g_strdup (host);
  cam->address = g_inet_address_new_from_string (host);
  cam->port = port;
  cam->allow_basic = allow_basic;
  cam->max_input_width = 4096;
  cam->max_input_height = 2160;
  cam->max_input_framerate = 60;
  return cam;
}

static void
test_uri (void)
{
  g_autoptr (CordonCamera) cam = camera ("198.18.1.10", 554, FALSE);
  g_autoptr (CordonCamera) v6 = camera ("fd00:cafe::20", 8554, FALSE);
  static const struct { const char *uri; gboolean ok; const char *why; } cases[] = {
    { "rtsp://198.18.1.10/Streaming/Channels/101", TRUE, NULL },
    { "rtsp://198.18.1.10:554/a/trackID=1", TRUE, NULL },
    { "RTSP://198.18.1.10/x", TRUE, NULL },
    { "rtsp://198.18.1.10:8554/x", FALSE, "port 8554" },
    { "rtsp://198.18.2.5/x", FALSE, "points to 198.18.2.5 port 554" },
    { "rtsp://exfil.example.com/x", FALSE, "names the host \"exfil.example.com\"" },
    { "rtsps://198.18.1.10/x", FALSE, "not an rtsp:// URL" },
    { "rtsph://198.18.1.10/x", FALSE, "not an rtsp:// URL" },
    { "rtsp-sdp://v=0", FALSE, "not an rtsp:// URL" },
    { "http://198.18.1.10/x", FALSE, "not an rtsp:// URL" },
    { "rtsp://admin:pw@198.18.1.10/x", FALSE, "credentials" },
    { "trackID=1", FALSE, "not an rtsp:// URL" },
    { "", FALSE, "not an rtsp:// URL" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree char *why = NULL;
    gboolean ok = cordon_camera_check_uri (cam, cases[i].uri, &why);
    g_assert_cmpint (ok, ==, cases[i].ok);
    if (!ok)
      g_assert_nonnull (strstr (why, cases[i].why));
  }
  g_autofree char *why = NULL;
  g_assert_true (cordon_camera_check_uri (v6, "rtsp://[fd00:cafe:0::20]:8554/x", &why));
  g_assert_false (cordon_camera_check_uri (v6, "rtsp://[fd00:cafe::21]:8554/x", &why));
  g_autofree char *odd = NULL;
  g_assert_false (cordon_camera_check_uri (cam, "rtsp://198.18.2.5\x01\n/x", &odd));
  for (const char *c = odd; *c; c++)
    g_assert_true (g_ascii_isprint (*c));
}

static GstRTSPMessage *
response (GstRTSPStatusCode code, const char *field, const char *const *values)
{
  GstRTSPMessage *msg = NULL;
  g_assert_cmpint (gst_rtsp_message_new_response (&msg, code, NULL, NULL), ==, GST_RTSP_OK);
  for (guint i = 0; values && values[i]; i++)
    gst_rtsp_message_add_header_by_name (msg, field, values[i]);
  return msg;
}

static void
test_redirect (void)
{
  g_autoptr (CordonCamera) cam = camera ("198.18.1.10", 554, FALSE);
  static const char *const here[] = { "rtsp://198.18.1.10/other", NULL };
  static const char *const core[] = { "rtsp://198.18.2.5:554/x", NULL };
  static const char *const name[] = { "rtsp://a.b.example/x", NULL };
  static const char *const second[] = { "rtsp://198.18.1.10/ok", "rtsp://198.18.2.5/x", NULL };
  struct { GstRTSPStatusCode code; const char *const *loc; gboolean ok; } cases[] = {
    { GST_RTSP_STS_MOVE_TEMPORARILY, here, TRUE },
    { GST_RTSP_STS_MOVE_TEMPORARILY, core, FALSE },
    { GST_RTSP_STS_MOVED_PERMANENTLY, name, FALSE },
    { GST_RTSP_STS_USE_PROXY, core, FALSE },
    { GST_RTSP_STS_MOVE_TEMPORARILY, second, FALSE },
    { GST_RTSP_STS_MOVE_TEMPORARILY, NULL, TRUE },
    { GST_RTSP_STS_OK, core, TRUE },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    GstRTSPMessage *msg = response (cases[i].code, "Location", cases[i].loc);
    g_autofree char *why = NULL;
    g_assert_cmpint (cordon_camera_check_redirect (cam, msg, &why), ==, cases[i].ok);
    if (!cases[i].ok)
      g_assert_nonnull (strstr (why, "redirects"));
    gst_rtsp_message_free (msg);
  }
}

static guint
count_challenges (GstRTSPMessage *msg)
{
  char *v;
  guint n = 0;
  while (gst_rtsp_message_get_header (msg, GST_RTSP_HDR_WWW_AUTHENTICATE, &v, n) == GST_RTSP_OK)
    n++;
  return n;
}

static void
test_auth (void)
{
  g_autoptr (CordonCamera) digest_only = camera ("198.18.1.10", 554, FALSE);
  g_autoptr (CordonCamera) basic_ok = camera ("198.18.1.10", 554, TRUE);
  static const char *const basic[] = { "Basic realm=\"cam\"", NULL };
  static const char *const both[] = { "Basic realm=\"cam\"", "Digest realm=\"cam\", nonce=\"abc\"", NULL };
  static const char *const digest[] = { "Digest realm=\"cam\", nonce=\"abc\"", NULL };
  static const char *const mixed[] = { "Digest realm=\"cam\", nonce=\"abc\", Basic realm=\"cam\"", NULL };
  struct { const CordonCamera *cam; const char *const *hdr; gboolean ok; guint left; } cases[] = {
    { digest_only, basic, FALSE, 0 },
    { digest_only, both, TRUE, 1 },
    { digest_only, digest, TRUE, 1 },
    { digest_only, mixed, FALSE, 0 },
    { digest_only, NULL, TRUE, 0 },
    { basic_ok, basic, TRUE, 1 },
    { basic_ok, both, TRUE, 2 },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    GstRTSPMessage *msg = response (GST_RTSP_STS_UNAUTHORIZED, "WWW-Authenticate", cases[i].hdr);
    g_autofree char *why = NULL;
    g_assert_cmpint (cordon_camera_filter_auth (cases[i].cam, msg, &why), ==, cases[i].ok);
    g_assert_cmpuint (count_challenges (msg), ==, cases[i].left);
    if (!cases[i].ok)
      g_assert_nonnull (strstr (why, "auth = basic in [camera:lobby]"));
    /* What rtspsrc would answer: never Basic for a digest-only camera. */
    if (!cases[i].cam->allow_basic) {
      GstRTSPAuthCredential **creds = gst_rtsp_message_parse_auth_credentials (msg, GST_RTSP_HDR_WWW_AUTHENTICATE);
      for (GstRTSPAuthCredential **c = creds; c && *c; c++)
        g_assert_cmpint ((*c)->scheme, !=, GST_RTSP_AUTH_BASIC);
      if (creds)
        gst_rtsp_auth_credentials_free (creds);
    }
    gst_rtsp_message_free (msg);
  }
}

static void
test_bounds (void)
{
  g_autoptr (CordonCamera) cam = camera ("198.18.1.10", 554, FALSE);
  g_autofree char *a = NULL, *b = NULL, *c = NULL;

  g_assert_true (cordon_camera_check_bounds (cam, 4096, 2160, 60, 1, &a));
  g_assert_true (cordon_camera_check_bounds (cam, 0, 0, 0, 1, &a));
  g_assert_true (cordon_camera_check_bounds (cam, 1920, 1080, 60000, 1001, &a));
  g_assert_false (cordon_camera_check_bounds (cam, 7680, 4320, 25, 1, &a));
  g_assert_cmpstr (a, ==, "camera sends 7680x4320, above max-input-size 4096x2160");
  g_assert_false (cordon_camera_check_bounds (cam, 2160, 3840, 25, 1, &b));
  g_assert_false (cordon_camera_check_bounds (cam, 640, 360, 120, 1, &c));
  g_assert_cmpstr (c, ==, "camera sends 120 fps, above max-input-framerate 60");
}

static void
test_decoder_threads (void)
{
  /* H.264: one thread up to 4K25, whatever the CPUs. */
  g_assert_cmpuint (cordon_camera_decoder_threads (640, 360, 25, 1, 1, 16), ==, 1);
  g_assert_cmpuint (cordon_camera_decoder_threads (1920, 1080, 30, 1, 1, 16), ==, 1);
  g_assert_cmpuint (cordon_camera_decoder_threads (3840, 2160, 25, 1, 1, 16), ==, 1);
  g_assert_cmpuint (cordon_camera_decoder_threads (3840, 2160, 0, 1, 1, 16), ==, 1);   /* rate not announced: 25 */
  g_assert_cmpuint (cordon_camera_decoder_threads (3840, 2160, 30, 1, 1, 16), ==, 2);
  g_assert_cmpuint (cordon_camera_decoder_threads (4096, 2160, 25, 1, 1, 16), ==, 2);
  /* H.265 costs twice as much a pixel. */
  g_assert_cmpuint (cordon_camera_decoder_threads (1920, 1080, 25, 1, 2, 16), ==, 1);
  g_assert_cmpuint (cordon_camera_decoder_threads (2560, 1440, 25, 1, 2, 16), ==, 1);
  g_assert_cmpuint (cordon_camera_decoder_threads (2592, 1944, 25, 1, 2, 16), ==, 2);
  g_assert_cmpuint (cordon_camera_decoder_threads (3840, 2160, 25, 1, 2, 16), ==, 2);
  g_assert_cmpuint (cordon_camera_decoder_threads (3840, 2160, 60, 1, 2, 16), ==, 4);
  /* At most 4, at most the CPUs, at least one; nonsense or no size yet: one. */
  g_assert_cmpuint (cordon_camera_decoder_threads (4096, 2160, 60, 1, 2, 16), ==, 4);
  g_assert_cmpuint (cordon_camera_decoder_threads (3840, 2160, 60, 1, 2, 2), ==, 2);
  g_assert_cmpuint (cordon_camera_decoder_threads (3840, 2160, 60, 1, 2, 0), ==, 1);
  g_assert_cmpuint (cordon_camera_decoder_threads (0, 0, 25, 1, 2, 16), ==, 1);
  g_assert_cmpuint (cordon_camera_decoder_threads (-5, 1080, 25, 1, 1, 16), ==, 1);
  g_assert_cmpuint (cordon_camera_decoder_threads (1920, 1080, 25, 0, 1, 16), ==, 1);
}

static void
test_rate_meter (void)
{
  g_autoptr (CordonCamera) cam = camera ("198.18.1.10", 554, FALSE);
  CordonRateMeter meter = { 0 };
  g_autofree char *why = NULL;
  gint64 t = 5 * G_USEC_PER_SEC;

  /* 60 fps for 10 s, and a burst of a whole 2 s GOP at once: fine. */
  for (int i = 0; i < 120; i++)
    g_assert_true (cordon_camera_meter_rate (cam, &meter, t, &why));
  for (int i = 0; i < 600; i++)
    g_assert_true (cordon_camera_meter_rate (cam, &meter, t += G_USEC_PER_SEC / 60, &why));
  /* 200 pictures a second: refused within the first window. */
  CordonRateMeter fast = { 0 };
  int n = 0;
  while (cordon_camera_meter_rate (cam, &fast, t += G_USEC_PER_SEC / 200, &why))
    g_assert_cmpint (++n, <, 400);
  g_assert_cmpint (n, ==, 240);
  g_assert_nonnull (strstr (why, "camera sends 241 pictures in 1.2 s, above max-input-framerate 60"));
}

static void
test_sdp_bounds (void)
{
  static const struct { const char *caps; int w, h, fn, fd; } cases[] = {
    { "application/x-rtp, a-framesize=(string)\"96 7680-4320\"", 7680, 4320, 0, 1 },
    { "application/x-rtp, x-dimensions=(string)\"1920,1080\"", 1920, 1080, 0, 1 },
    { "application/x-rtp, a-framerate=(string)25", 0, 0, 25, 1 },
    { "application/x-rtp, a-framerate=(string)29.97", 0, 0, 2997, 100 },
    { "application/x-rtp, a-framerate=(string)120", 0, 0, 120, 1 },
    { "application/x-rtp, a-framerate=(string)nan", 0, 0, 0, 1 },
    { "application/x-rtp, a-framerate=(string)-5", 0, 0, 0, 1 },
    { "application/x-rtp, a-framesize=(string)\"96 99999999-1\"", 0, 0, 0, 1 },
    { "application/x-rtp, x-dimensions=(string)\"1920\"", 0, 0, 0, 1 },
    { "application/x-rtp", 0, 0, 0, 1 },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (GstCaps) caps = gst_caps_from_string (cases[i].caps);
    int w, h, fn, fd;
    g_assert_nonnull (caps);
    cordon_camera_sdp_bounds (gst_caps_get_structure (caps, 0), &w, &h, &fn, &fd);
    g_assert_cmpint (w, ==, cases[i].w);
    g_assert_cmpint (h, ==, cases[i].h);
    g_assert_cmpint (gst_util_fraction_compare (fn, fd, cases[i].fn, cases[i].fd), ==, 0);
  }
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/camera-checks/uri-only-the-camera-address-and-port", test_uri);
  g_test_add_func ("/camera-checks/redirect-elsewhere-refused", test_redirect);
  g_test_add_func ("/camera-checks/basic-challenge-removed-unless-allowed", test_auth);
  g_test_add_func ("/camera-checks/bounds-size-and-rate", test_bounds);
  g_test_add_func ("/camera-checks/sdp-bounds-parsed", test_sdp_bounds);
  g_test_add_func ("/camera-checks/rate-measured-on-arrival", test_rate_meter);
  g_test_add_func ("/camera-checks/decoder-threads-by-picture-size", test_decoder_threads);
  return g_test_run ();
}
