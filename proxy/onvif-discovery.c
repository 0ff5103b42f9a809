/* cordon — WS-Discovery responder (UDP 3702, 239.255.255.250), core side only.
 *
 * The socket joins the multicast group on the core interface alone, and each
 * datagram's arrival interface (IP_PKTINFO) is checked, so a probe from the
 * camera network — multicast or unicast to any of our addresses — is never
 * answered. Replies go out of the core interface, rate-limited, so that a
 * spoofed probe cannot turn cordon into a reflector.
 */
#define G_LOG_DOMAIN "cordon-onvif"

#include "proxy/onvif.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>
#include <gio/gio.h>

#include "proxy/onvif-soap.h"

#define WSD_PORT 3702
#define WSD_GROUP "239.255.255.250"
#define NS_DISCOVERY "http://schemas.xmlsoap.org/ws/2005/04/discovery"
#define REPLIES_PER_S 20

struct _CordonOnvifDiscovery {
  int fd;
  unsigned ifindex;
  char *interface;
  GSource *source;
  char *endpoint;
  char *host;                  /* NULL: the address the probe reached */
  guint16 port;
  gint64 window;               /* monotonic second of the reply count */
  guint replies;
  guint64 ignored;             /* probes from elsewhere than the core interface */
};

CordonOnvifDiscovery *
cordon_onvif_discovery_new (const char *interface, GError **error)
{
  unsigned ifindex = interface ? if_nametoindex (interface) : 0;
  if (!ifindex) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "WS-Discovery: no interface \"%s\" (core-interface)",
                 interface ? interface : "");
    return NULL;
  }
  int fd = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  int on = 1;
  struct sockaddr_in any = { .sin_family = AF_INET, .sin_port = htons (WSD_PORT), .sin_addr.s_addr = INADDR_ANY };
  struct ip_mreqn mreq = { .imr_ifindex = (int) ifindex };
  inet_pton (AF_INET, WSD_GROUP, &mreq.imr_multiaddr);
  int off = 0;
  if (fd < 0 || setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) < 0
      || setsockopt (fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof on) < 0
      || setsockopt (fd, IPPROTO_IP, IP_MULTICAST_LOOP, &off, sizeof off) < 0
      || bind (fd, (struct sockaddr *) &any, sizeof any) < 0
      || setsockopt (fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq, sizeof mreq) < 0) {
    int e = errno;
    if (fd >= 0)
      close (fd);
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "WS-Discovery on %s: %s", interface, g_strerror (e));
    return NULL;
  }
  CordonOnvifDiscovery *d = g_new0 (CordonOnvifDiscovery, 1);
  d->fd = fd;
  d->ifindex = ifindex;
  d->interface = g_strdup (interface);
  return d;
}

static char *
message_uuid (void)
{
  guint8 b[16];
  if (getrandom (b, sizeof b, 0) != sizeof b)
    memset (b, 0, sizeof b);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  return g_strdup_printf ("urn:uuid:%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
                          b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
                          b[14], b[15]);
}

/* A Probe for any type, or for ONVIF's NetworkVideoTransmitter or Device. */
static gboolean
wants_us (const CordonSoapRequest *r)
{
  if (strcmp (r->action, "Probe") != 0 || g_strcmp0 (r->action_ns, NS_DISCOVERY) != 0)
    return FALSE;
  if (!r->types || !*r->types)
    return TRUE;
  return strstr (r->types, "NetworkVideoTransmitter") || strstr (r->types, "Device");
}

static void
answer (CordonOnvifDiscovery *d, const CordonSoapRequest *r, const struct sockaddr_in *to, struct in_addr local)
{
  char addr[INET_ADDRSTRLEN];
  inet_ntop (AF_INET, &local, addr, sizeof addr);
  g_autofree char *relates = g_markup_escape_text (r->message_id ? r->message_id : "", 256);
  g_autofree char *id = message_uuid ();
  g_autofree char *text = g_strdup_printf (
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
    "<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\""
    " xmlns:a=\"http://schemas.xmlsoap.org/ws/2004/08/addressing\" xmlns:d=\"" NS_DISCOVERY "\""
    " xmlns:dn=\"http://www.onvif.org/ver10/network/wsdl\"><s:Header><a:MessageID>%s</a:MessageID>"
    "<a:RelatesTo>%s</a:RelatesTo><a:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:To>"
    "<a:Action>http://schemas.xmlsoap.org/ws/2005/04/discovery/ProbeMatches</a:Action></s:Header>"
    "<s:Body><d:ProbeMatches><d:ProbeMatch><a:EndpointReference><a:Address>%s</a:Address></a:EndpointReference>"
    "<d:Types>dn:NetworkVideoTransmitter</d:Types><d:Scopes>onvif://www.onvif.org/Profile/Streaming"
    " onvif://www.onvif.org/type/video_encoder onvif://www.onvif.org/name/cordon"
    " onvif://www.onvif.org/hardware/cordon</d:Scopes><d:XAddrs>http://%s:%u/onvif/device_service</d:XAddrs>"
    "<d:MetadataVersion>1</d:MetadataVersion></d:ProbeMatch></d:ProbeMatches></s:Body></s:Envelope>",
    id, relates, d->endpoint, d->host ? d->host : addr, d->port);

  /* Out of the core interface, from the address the probe reached. */
  union {
    struct cmsghdr h;
    char buf[CMSG_SPACE (sizeof (struct in_pktinfo))];
  } control = { 0 };
  struct iovec iov = { .iov_base = text, .iov_len = strlen (text) };
  struct msghdr m = { .msg_name = (void *) to, .msg_namelen = sizeof *to, .msg_iov = &iov, .msg_iovlen = 1,
                      .msg_control = control.buf, .msg_controllen = sizeof control.buf };
  struct cmsghdr *c = CMSG_FIRSTHDR (&m);
  c->cmsg_level = IPPROTO_IP;
  c->cmsg_type = IP_PKTINFO;
  c->cmsg_len = CMSG_LEN (sizeof (struct in_pktinfo));
  struct in_pktinfo pi = { .ipi_ifindex = (int) d->ifindex, .ipi_spec_dst = local };
  memcpy (CMSG_DATA (c), &pi, sizeof pi);
  if (sendmsg (d->fd, &m, 0) < 0)
    g_debug ("WS-Discovery: reply to %s not sent: %s", inet_ntoa (to->sin_addr), g_strerror (errno));
}

static gboolean
readable (GSocket *socket, GIOCondition condition, gpointer data)
{
  CordonOnvifDiscovery *d = data;

  for (guint i = 0; i < 32; i++) {
    static char buf[CORDON_SOAP_MAX_REQUEST + 1];
    struct sockaddr_in from;
    union {
      struct cmsghdr h;
      char buf[CMSG_SPACE (sizeof (struct in_pktinfo))];
    } control;
    struct iovec iov = { .iov_base = buf, .iov_len = sizeof buf };
    struct msghdr m = { .msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &iov, .msg_iovlen = 1,
                        .msg_control = control.buf, .msg_controllen = sizeof control.buf };
    ssize_t n = recvmsg (d->fd, &m, MSG_DONTWAIT);
    if (n < 0)
      break;

    struct in_pktinfo *pi = NULL;
    for (struct cmsghdr *c = CMSG_FIRSTHDR (&m); c; c = CMSG_NXTHDR (&m, c))
      if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO)
        pi = (struct in_pktinfo *) CMSG_DATA (c);
    if (!pi || (unsigned) pi->ipi_ifindex != d->ifindex) {
      /* Never an answer toward the camera network (or anywhere else). */
      d->ignored++;
      continue;
    }
    if ((m.msg_flags & MSG_TRUNC) || n == 0)
      continue;
    g_autoptr (GError) err = NULL;
    g_autoptr (CordonSoapRequest) r = cordon_soap_parse (buf, (gsize) n, &err);
    if (!r || !wants_us (r))
      continue;
    gint64 second = g_get_monotonic_time () / G_USEC_PER_SEC;
    if (second != d->window) {
      d->window = second;
      d->replies = 0;
    }
    if (++d->replies > REPLIES_PER_S)
      continue;
    answer (d, r, &from, pi->ipi_spec_dst);
  }
  return G_SOURCE_CONTINUE;
}

void
cordon_onvif_discovery_start (CordonOnvifDiscovery *d, const char *endpoint, const char *host, guint16 port)
{
  g_free (d->endpoint);
  d->endpoint = g_strdup (endpoint);
  g_free (d->host);
  /* A wildcard listen address answers with the address each probe reached. */
  d->host = host && strcmp (host, "0.0.0.0") != 0 && strcmp (host, "::") != 0 && !strchr (host, ':')
          ? g_strdup (host) : NULL;
  d->port = port;
  g_autoptr (GSocket) socket = g_socket_new_from_fd (dup (d->fd), NULL);
  if (!socket)
    return;
  d->source = g_socket_create_source (socket, G_IO_IN, NULL);
  g_source_set_callback (d->source, (GSourceFunc) (void (*) (void)) readable, d, NULL);
  g_source_attach (d->source, NULL);
  g_message ("ONVIF: WS-Discovery answering on %s only", d->interface);
}

void
cordon_onvif_discovery_free (CordonOnvifDiscovery *d)
{
  if (!d)
    return;
  if (d->source) {
    g_source_destroy (d->source);
    g_source_unref (d->source);
  }
  if (d->fd >= 0)
    close (d->fd);
  g_free (d->interface);
  g_free (d->endpoint);
  g_free (d->host);
  g_free (d);
}
