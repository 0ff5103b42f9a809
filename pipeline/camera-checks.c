/* cordon — checks on what a camera says, before cordon acts on it. */
#define G_LOG_DOMAIN "cordon-pipeline"

#include "camera-checks.h"
#include "pipeline-private.h"

#include <gst/rtsp/gstrtspurl.h>
#include <stdlib.h>
#include <string.h>

gboolean
cordon_camera_check_uri (const CordonCamera *camera, const char *uri, char **reason)
{
  g_autoptr (GstRTSPUrl) url = NULL;
  g_autofree char *shown = cordon_sanitize (uri ? uri : "");

  /* Another scheme would change the transport (rtsps, rtsph: TLS or an
   * HTTP tunnel) that cordon set up and the firewall allows. */
  if (!uri || g_ascii_strncasecmp (uri, "rtsp://", 7) != 0 || gst_rtsp_url_parse (uri, &url) != GST_RTSP_OK
      || !url->host) {
    *reason = g_strdup_printf ("\"%s\" is not an rtsp:// URL", shown);
    return FALSE;
  }
  g_autofree char *host = cordon_sanitize (url->host);
  guint16 port = 0;
  gst_rtsp_url_get_port (url, &port);
  g_autoptr (GInetAddress) address = g_inet_address_new_from_string (url->host);
  if (!address) {
    /* A name would have to be looked up: through the site's resolver, which
     * is itself a channel out. */
    *reason = g_strdup_printf ("it names the host \"%s\", not the camera's address %s", host, camera->host);
    return FALSE;
  }
  if (!g_inet_address_equal (address, camera->address) || port != camera->port) {
    *reason = g_strdup_printf ("it points to %s port %u, not the camera's address %s port %u",
                               host, port, camera->host, camera->port);
    return FALSE;
  }
  if (url->user || url->passwd) {
    *reason = g_strdup ("it carries credentials of its own");
    return FALSE;
  }
  return TRUE;
}

gboolean
cordon_camera_check_redirect (const CordonCamera *camera, const GstRTSPMessage *response, char **reason)
{
  char *location = NULL;
  g_autofree char *why = NULL;

  if (response->type != GST_RTSP_MESSAGE_RESPONSE || response->type_data.response.code < 300
      || response->type_data.response.code >= 400)
    return TRUE;
  /* rtspsrc follows the first Location header only; any that point
   * elsewhere refuse the redirect. */
  for (gint i = 0;
       gst_rtsp_message_get_header ((GstRTSPMessage *) response, GST_RTSP_HDR_LOCATION, &location, i) == GST_RTSP_OK;
       i++)
    if (!cordon_camera_check_uri (camera, location, &why)) {
      *reason = g_strdup_printf ("the camera redirects (RTSP %u) elsewhere: %s",
                                 response->type_data.response.code, why);
      return FALSE;
    }
  return TRUE;
}

/* Which schemes one WWW-Authenticate value offers. */
static void
challenge_schemes (const char *value, gboolean *basic, gboolean *digest)
{
  GstRTSPMessage *msg = NULL;
  GstRTSPAuthCredential **creds;

  *basic = *digest = FALSE;
  if (gst_rtsp_message_new_response (&msg, GST_RTSP_STS_UNAUTHORIZED, NULL, NULL) != GST_RTSP_OK)
    return;
  gst_rtsp_message_add_header (msg, GST_RTSP_HDR_WWW_AUTHENTICATE, value);
  creds = gst_rtsp_message_parse_auth_credentials (msg, GST_RTSP_HDR_WWW_AUTHENTICATE);
  for (GstRTSPAuthCredential **c = creds; c && *c; c++) {
    if ((*c)->scheme == GST_RTSP_AUTH_BASIC)
      *basic = TRUE;
    else if ((*c)->scheme == GST_RTSP_AUTH_DIGEST)
      *digest = TRUE;
  }
  if (creds)
    gst_rtsp_auth_credentials_free (creds);
  gst_rtsp_message_free (msg);
}

gboolean
cordon_camera_filter_auth (const CordonCamera *camera, GstRTSPMessage *response, char **reason)
{
  char *value = NULL;
  gboolean removed = FALSE, digest_left = FALSE;

  if (camera->allow_basic || response->type != GST_RTSP_MESSAGE_RESPONSE)
    return TRUE;
  /* rtspsrc answers the strongest scheme offered, Basic when that is all:
   * the password base64-encoded, in clear. A header that mixes Basic with
   * Digest goes too: fail closed rather than split the camera's text. */
  for (gint i = 0; gst_rtsp_message_get_header (response, GST_RTSP_HDR_WWW_AUTHENTICATE, &value, i) == GST_RTSP_OK;) {
    gboolean basic, digest;
    challenge_schemes (value, &basic, &digest);
    if (basic) {
      gst_rtsp_message_remove_header (response, GST_RTSP_HDR_WWW_AUTHENTICATE, i);
      removed = TRUE;
      continue;
    }
    digest_left |= digest;
    i++;
  }
  if (removed && !digest_left) {
    *reason = g_strdup_printf ("the camera asks for Basic authentication, which would send the password in clear;"
                               " cordon answers Digest only (set auth = basic in [camera:%s] to allow it)",
                               camera->name);
    return FALSE;
  }
  return TRUE;
}

gboolean
cordon_camera_check_bounds (const CordonCamera *camera, int width, int height, int fps_n, int fps_d, char **reason)
{
  if ((width > 0 && (guint) width > camera->max_input_width)
      || (height > 0 && (guint) height > camera->max_input_height)) {
    *reason = g_strdup_printf ("camera sends %dx%d, above max-input-size %ux%u", MAX (width, 0), MAX (height, 0),
                               camera->max_input_width, camera->max_input_height);
    return FALSE;
  }
  if (fps_n > 0 && fps_d > 0 && gst_util_fraction_compare (fps_n, fps_d, (int) camera->max_input_framerate, 1) > 0) {
    *reason = g_strdup_printf ("camera sends %.4g fps, above max-input-framerate %u", (double) fps_n / fps_d,
                               camera->max_input_framerate);
    return FALSE;
  }
  return TRUE;
}

guint
cordon_camera_decoder_threads (int width, int height, int fps_n, int fps_d, guint cost, guint ncpu)
{
  const double unit = 3840.0 * 2160 * 25; /* H.264 pixels a second one thread decodes with room to spare */
  double fps = fps_n > 0 && fps_d > 0 ? (double) fps_n / fps_d : 25;
  double load = (double) MAX (width, 0) * MAX (height, 0) * fps * MAX (cost, 1) / unit;
  guint threads = load >= 4 ? 4 : (guint) load + (load > (guint) load);
  return MAX (MIN (threads, ncpu), 1);
}

gboolean
cordon_camera_meter_rate (const CordonCamera *camera, CordonRateMeter *meter, gint64 now, char **reason)
{
  guint64 limit = 2 * (guint64) camera->max_input_framerate * CORDON_RATE_WINDOW_S;

  if (meter->frames == 0 || now < meter->window_start
      || now - meter->window_start >= (gint64) CORDON_RATE_WINDOW_S * G_USEC_PER_SEC) {
    meter->window_start = now;
    meter->frames = 0;
  }
  if (++meter->frames <= limit)
    return TRUE;
  double secs = MAX ((now - meter->window_start) / (double) G_USEC_PER_SEC, 0.001);
  *reason = g_strdup_printf ("camera sends %u pictures in %.1f s, above max-input-framerate %u",
                             meter->frames, secs, camera->max_input_framerate);
  return FALSE;
}

/* "W<sep>H" with both sides whole numbers from 1 to 65535. */
static gboolean
parse_pair (const char *text, char sep, int *w, int *h)
{
  guint64 a, b;
  const char *mid = text ? strchr (text, sep) : NULL;
  if (!mid || mid - text > 5)
    return FALSE;
  g_autofree char *first = g_strndup (text, mid - text);
  g_autofree char *second = g_strstrip (g_strdup (mid + 1));
  if (!g_ascii_string_to_unsigned (first, 10, 1, 65535, &a, NULL)
      || !g_ascii_string_to_unsigned (second, 10, 1, 65535, &b, NULL))
    return FALSE;
  *w = (int) a;
  *h = (int) b;
  return TRUE;
}

void
cordon_camera_sdp_bounds (const GstStructure *media, int *width, int *height, int *fps_n, int *fps_d)
{
  const char *v;

  *width = *height = *fps_n = 0;
  *fps_d = 1;
  /* a=framesize:PT W-H (3GPP) and a=x-dimensions:W,H (several cameras). */
  if ((v = gst_structure_get_string (media, "a-framesize"))) {
    const char *space = strchr (v, ' ');
    int w, h;
    if (space && parse_pair (space + 1, '-', &w, &h)) {
      *width = MAX (*width, w);
      *height = MAX (*height, h);
    }
  }
  for (guint i = 0; i < 2; i++)
    if ((v = gst_structure_get_string (media, i ? "a-x-dimensions" : "x-dimensions"))) {
      int w, h;
      if (parse_pair (v, ',', &w, &h)) {
        *width = MAX (*width, w);
        *height = MAX (*height, h);
      }
    }
  /* a=framerate:R, R a decimal (RFC 4566). */
  if ((v = gst_structure_get_string (media, "a-framerate")) && strlen (v) < 16) {
    char *end = NULL;
    double r = g_ascii_strtod (v, &end);
    if (end && end != v && *end == '\0' && r > 0 && r < 100000)
      gst_util_double_to_fraction (r, fps_n, fps_d);
  }
}
