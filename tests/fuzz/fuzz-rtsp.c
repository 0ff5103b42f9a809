/* libFuzzer target: what cordon does with a recorder's RTSP request bytes.
 *
 * The bytes arrive on a socket and are read with GstRTSPConnection under the
 * same request-size limit the server sets, exactly as gst-rtsp-server reads a
 * recorder. Every message parsed is then handed to cordon's own code: the
 * user name taken from the Authorization header (which picks the recorder's
 * SRTP routing and is logged on failures), the URL → mount routing for SRTP
 * recorders, the request path normalisation, and the sanitiser every camera- or client-supplied text passes
 * through before it reaches the log. Nothing may crash, hang or leak. */
#include <gio/gio.h>
#include <gst/gst.h>
#include <gst/rtsp/rtsp.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pipeline/pipeline-private.h"
#include "proxy/auth.h"
#include "proxy/mounts.h"
#include "proxy/path.h"

/* Matches gst_rtsp_server_set_content_length_limit() in proxy/server.c. */
#define CONTENT_LIMIT (16 * 1024)
#define MAX_INPUT (64 * 1024)

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  gst_init (NULL, NULL);
  return 0;
}

static void
exercise (GstRTSPMessage *msg)
{
  g_autofree char *user = cordon_auth_request_username (msg);
  if (user) {
    g_autofree char *clean = cordon_sanitize (user);
    g_assert (clean);
  }
  if (gst_rtsp_message_get_type (msg) != GST_RTSP_MESSAGE_REQUEST)
    return;
  GstRTSPMethod method;
  const char *uri = NULL;
  GstRTSPVersion version;
  if (gst_rtsp_message_parse_request (msg, &method, &uri, &version) != GST_RTSP_OK || !uri)
    return;
  GstRTSPUrl *url = NULL;
  if (gst_rtsp_url_parse (uri, &url) == GST_RTSP_OK && url) {
    if (url->abspath) {
      g_autofree char *routed = cordon_mounts_route_srtp (url->abspath);
      g_assert (routed);
      g_autofree char *canon = cordon_path_normalise (url->abspath);
      /* What passes is canonical: normalising it again changes nothing. */
      if (canon) {
        g_autofree char *again = cordon_path_normalise (canon);
        g_assert (again && strcmp (again, canon) == 0);
      }
    }
    gst_rtsp_url_free (url);
  }
  g_autofree char *clean_uri = cordon_sanitize (uri);
  g_assert (clean_uri);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  int fds[2];
  if (size > MAX_INPUT || socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0)
    return 0;
  int sndbuf = MAX_INPUT * 4;
  setsockopt (fds[1], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
  size_t done = 0;
  while (done < size) {
    ssize_t n = write (fds[1], data + done, size - done);
    if (n <= 0)
      break;
    done += (size_t) n;
  }
  close (fds[1]);

  GSocket *socket = g_socket_new_from_fd (fds[0], NULL);
  if (!socket) {
    close (fds[0]);
    return 0;
  }
  GstRTSPConnection *conn = NULL;
  if (gst_rtsp_connection_create_from_socket (socket, "127.0.0.1", 554, NULL, &conn) == GST_RTSP_OK) {
    gst_rtsp_connection_set_content_length_limit (conn, CONTENT_LIMIT);
    /* A stream socket holds any number of requests back to back. */
    for (guint i = 0; i < 64; i++) {
      GstRTSPMessage msg = { 0 };
      if (gst_rtsp_connection_receive_usec (conn, &msg, G_USEC_PER_SEC) != GST_RTSP_OK) {
        gst_rtsp_message_unset (&msg);
        break;
      }
      exercise (&msg);
      gst_rtsp_message_unset (&msg);
    }
    gst_rtsp_connection_free (conn);
  }
  g_object_unref (socket);
  return 0;
}
