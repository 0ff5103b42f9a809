/* libFuzzer target: pipeline/camera-checks.c on what a camera says.
 *
 * The input is split at newlines into the texts a camera controls: a request
 * URL (a control URL or Content-Base of its SDP), a Location header, one or
 * more WWW-Authenticate headers, and the SDP attribute values rtspsrc hands
 * over as caps fields. Nothing may crash, hang or leak; the checks' answers
 * must hold their promises (a refused text has a printable reason, a kept
 * digest-only challenge offers no Basic). */
#include <gst/gst.h>
#include <gst/rtsp/rtsp.h>
#include <stdint.h>
#include <string.h>

#include "camera-checks.h"

#define MAX_CAMERA_TEXT (16 * 1024)

static CordonCamera cam;

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  gst_init (NULL, NULL);
  cam.name = (char *) "fuzz";
  cam.host = (char *) "198.18.1.10";
  cam.address = g_inet_address_new_from_string (cam.host);
  cam.port = 554;
  cam.max_input_width = 4096;
  cam.max_input_height = 2160;
  cam.max_input_framerate = 60;
  return 0;
}

static void
printable (const char *reason)
{
  g_assert (reason);
  for (const char *c = reason; *c; c++)
    g_assert (g_ascii_isprint (*c));
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  if (size > MAX_CAMERA_TEXT)
    return 0;
  g_autofree char *text = g_strndup ((const char *) data, size);
  g_auto (GStrv) parts = g_strsplit (text, "\n", 6);
  guint n = g_strv_length (parts);
  const char *uri = n > 0 ? parts[0] : "";
  g_autofree char *why = NULL;

  if (!cordon_camera_check_uri (&cam, uri, &why))
    printable (why);
  g_clear_pointer (&why, g_free);

  GstRTSPMessage *msg = NULL;
  gst_rtsp_message_new_response (&msg, GST_RTSP_STS_MOVE_TEMPORARILY, NULL, NULL);
  if (n > 1)
    gst_rtsp_message_add_header (msg, GST_RTSP_HDR_LOCATION, parts[1]);
  for (guint i = 2; i < MIN (n, 4); i++)
    gst_rtsp_message_add_header (msg, GST_RTSP_HDR_WWW_AUTHENTICATE, parts[i]);
  if (!cordon_camera_check_redirect (&cam, msg, &why))
    printable (why);
  g_clear_pointer (&why, g_free);
  cam.allow_basic = FALSE;
  if (!cordon_camera_filter_auth (&cam, msg, &why))
    printable (why);
  GstRTSPAuthCredential **creds = gst_rtsp_message_parse_auth_credentials (msg, GST_RTSP_HDR_WWW_AUTHENTICATE);
  for (GstRTSPAuthCredential **c = creds; c && *c; c++)
    g_assert ((*c)->scheme != GST_RTSP_AUTH_BASIC);
  if (creds)
    gst_rtsp_auth_credentials_free (creds);
  gst_rtsp_message_free (msg);

  if (n > 4) {
    GstStructure *s = gst_structure_new ("application/x-rtp", "a-framesize", G_TYPE_STRING, parts[4],
                                         "x-dimensions", G_TYPE_STRING, parts[4], "a-framerate", G_TYPE_STRING,
                                         n > 5 ? parts[5] : parts[4], NULL);
    int w, h, fn, fd;
    g_clear_pointer (&why, g_free);
    cordon_camera_sdp_bounds (s, &w, &h, &fn, &fd);
    g_assert (w >= 0 && h >= 0 && fn >= 0 && fd > 0);
    if (!cordon_camera_check_bounds (&cam, w, h, fn, fd, &why))
      printable (why);
    gst_structure_free (s);
  }
  return 0;
}
