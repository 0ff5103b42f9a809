/* cordon — ONVIF device and media services and snapshots over HTTP (libsoup).
 *
 * /onvif/device_service and /onvif/media_service take SOAP POSTs (read by
 * onvif-soap.c); /onvif/snapshot/NAME serves a JPEG that the pipeline makes
 * from its own pixels. A recorder proves itself with its cordon credentials:
 * a WS-Security UsernameToken (PasswordDigest; Created within the window, nonce
 * used once) or HTTP digest (nonces issued here, each nc used once); its
 * address must be allowed too. It then sees exactly the cameras it is
 * granted. Unknown calls get a SOAP fault, never a bare HTTP error.
 */
#define G_LOG_DOMAIN "cordon-onvif"

#include "proxy/onvif.h"

#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netpacket/packet.h>
#include <string.h>
#include <libsoup/soup.h>

#include "cordon-build.h"
#include "proxy/brake.h"
#include "proxy/onvif-auth.h"
#include "proxy/onvif-gate.h"
#include "proxy/onvif-soap.h"
#include "pipeline/pipeline.h"

#define SNAPSHOT_BURST 4           /* snapshots a recorder may fetch at once … */
#define SNAPSHOT_PER_S 2           /* … and per second after that */

#define NS_DECL \
  "xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\" " \
  "xmlns:tt=\"http://www.onvif.org/ver10/schema\" " \
  "xmlns:tds=\"http://www.onvif.org/ver10/device/wsdl\" " \
  "xmlns:trt=\"http://www.onvif.org/ver10/media/wsdl\" " \
  "xmlns:ter=\"http://www.onvif.org/ver10/error\""
#define NS_DEVICE "http://www.onvif.org/ver10/device/wsdl"
#define NS_MEDIA "http://www.onvif.org/ver10/media/wsdl"

typedef struct {
  double tokens;
  gint64 at;                       /* monotonic */
} Bucket;

struct _CordonOnvif {
  const CordonConfig *config;
  GHashTable *pipelines;           /* borrowed from the daemon */
  GSocket *socket;
  SoupServer *server;
  CordonOnvifAuth *auth;
  CordonBrake *brake;              /* failed logins per address, as for RTSP */
  CordonOnvifGate *gate;           /* accepts for server */
  GHashTable *buckets;             /* recorder name → Bucket* */
  char *serial;
  char *endpoint;                  /* urn:uuid:… for WS-Discovery */
  CordonOnvifDiscovery *discovery;
  gint64 last_refusal_log;         /* monotonic: malformed or oversized requests */
  guint refusals_unlogged;
};

/* ---- the description of what one recorder sees ---- */

typedef struct {
  GPtrArray *cameras;              /* const CordonCamera*, granted, in config order */
  char *host;                      /* the address the client reached, URI form */
  guint16 port;                    /* our HTTP port */
  const CordonRecorder *recorder;  /* NULL before authentication */
} View;

static void
view_clear (View *v)
{
  g_clear_pointer (&v->cameras, g_ptr_array_unref);
  g_clear_pointer (&v->host, g_free);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (View, view_clear)

/* The address MSG reached us on; an IPv4 client on a dual-stack socket
 * counts as IPv4 (transfer full; NULL if unknown). */
static GInetAddress *
local_address (SoupServerMessage *msg)
{
  GSocketAddress *local = soup_server_message_get_local_address (msg);
  GInetAddress *addr = local ? g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (local)) : NULL;
  if (!addr)
    return NULL;
  if (g_inet_address_get_family (addr) == G_SOCKET_FAMILY_IPV6) {
    const guint8 *b = g_inet_address_to_bytes (addr);
    static const guint8 mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    if (memcmp (b, mapped, 12) == 0)
      return g_inet_address_new_from_bytes (b + 12, G_SOCKET_FAMILY_IPV4);
  }
  return g_object_ref (addr);
}

static void
view_init (View *v, CordonOnvif *o, SoupServerMessage *msg, const CordonRecorder *recorder)
{
  GSocketAddress *local = soup_server_message_get_local_address (msg);
  g_autoptr (GInetAddress) addr = local_address (msg);
  g_autofree char *text = addr ? g_inet_address_to_string (addr) : g_strdup (o->config->onvif_host);

  v->host = strchr (text, ':') ? g_strdup_printf ("[%s]", text) : g_strdup (text);
  v->port = local ? g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local)) : o->config->onvif_port;
  v->recorder = recorder;
  v->cameras = g_ptr_array_new ();
  for (guint i = 0; recorder && i < o->config->cameras->len; i++) {
    const CordonCamera *cam = o->config->cameras->pdata[i];
    if (cordon_recorder_allows_camera (recorder, cam->name))
      g_ptr_array_add (v->cameras, (gpointer) cam);
  }
}

/* Tokens are the camera name with a prefix; names are [A-Za-z0-9._-], so
 * they need no escaping anywhere. */
static const CordonCamera *
view_find (View *v, const char *token)
{
  if (!token)
    return v->cameras->len ? v->cameras->pdata[0] : NULL;
  for (const char *prefix = token; *prefix; prefix++)
    if (*prefix == '_') {
      token = prefix + 1;
      break;
    }
  for (guint i = 0; i < v->cameras->len; i++) {
    const CordonCamera *cam = v->cameras->pdata[i];
    if (strcmp (cam->name, token) == 0)
      return cam;
  }
  return NULL;
}

static const char *
h264_profile (const CordonCamera *cam)
{
  return strcmp (cam->profile, "baseline") == 0 ? "Baseline" : strcmp (cam->profile, "high") == 0 ? "High" : "Main";
}

/* ---- rendering ---- */

static void
source_config (GString *out, const char *element, const CordonCamera *cam)
{
  g_string_append_printf (out,
    "<%s token=\"vsc_%s\"><tt:Name>%s</tt:Name><tt:UseCount>1</tt:UseCount>"
    "<tt:SourceToken>src_%s</tt:SourceToken><tt:Bounds x=\"0\" y=\"0\" width=\"%u\" height=\"%u\"/></%s>",
    element, cam->name, cam->name, cam->name, cam->width, cam->height, element);
}

static void
encoder_config (GString *out, const char *element, const CordonCamera *cam)
{
  g_string_append_printf (out,
    "<%s token=\"enc_%s\"><tt:Name>%s</tt:Name><tt:UseCount>1</tt:UseCount><tt:Encoding>H264</tt:Encoding>"
    "<tt:Resolution><tt:Width>%u</tt:Width><tt:Height>%u</tt:Height></tt:Resolution><tt:Quality>5</tt:Quality>"
    "<tt:RateControl><tt:FrameRateLimit>%u</tt:FrameRateLimit><tt:EncodingInterval>1</tt:EncodingInterval>"
    "<tt:BitrateLimit>%u</tt:BitrateLimit></tt:RateControl>"
    "<tt:H264><tt:GovLength>%u</tt:GovLength><tt:H264Profile>%s</tt:H264Profile></tt:H264>"
    "<tt:Multicast><tt:Address><tt:Type>IPv4</tt:Type><tt:IPv4Address>0.0.0.0</tt:IPv4Address></tt:Address>"
    "<tt:Port>0</tt:Port><tt:TTL>0</tt:TTL><tt:AutoStart>false</tt:AutoStart></tt:Multicast>"
    "<tt:SessionTimeout>PT60S</tt:SessionTimeout></%s>",
    element, cam->name, cam->name, cam->width, cam->height, cam->framerate, cam->bitrate,
    cam->framerate * cam->keyframe_interval, h264_profile (cam), element);
}

static void
profile (GString *out, const char *element, const CordonCamera *cam)
{
  g_string_append_printf (out, "<%s token=\"prof_%s\" fixed=\"true\"><tt:Name>%s</tt:Name>", element, cam->name,
                          cam->name);
  source_config (out, "tt:VideoSourceConfiguration", cam);
  encoder_config (out, "tt:VideoEncoderConfiguration", cam);
  g_string_append_printf (out, "</%s>", element);
}

static void
encoder_options (GString *out, const CordonCamera *cam)
{
  guint gov = cam->framerate * cam->keyframe_interval;
  g_string_append_printf (out,
    "<trt:Options><tt:QualityRange><tt:Min>5</tt:Min><tt:Max>5</tt:Max></tt:QualityRange>"
    "<tt:H264><tt:ResolutionsAvailable><tt:Width>%u</tt:Width><tt:Height>%u</tt:Height></tt:ResolutionsAvailable>"
    "<tt:GovLengthRange><tt:Min>%u</tt:Min><tt:Max>%u</tt:Max></tt:GovLengthRange>"
    "<tt:FrameRateRange><tt:Min>%u</tt:Min><tt:Max>%u</tt:Max></tt:FrameRateRange>"
    "<tt:EncodingIntervalRange><tt:Min>1</tt:Min><tt:Max>1</tt:Max></tt:EncodingIntervalRange>"
    "<tt:H264ProfilesSupported>%s</tt:H264ProfilesSupported></tt:H264></trt:Options>",
    cam->width, cam->height, gov, gov, cam->framerate, cam->framerate, h264_profile (cam));
}

static void
media_capabilities (GString *out, const char *element)
{
  g_string_append_printf (out,
    "<%s SnapshotUri=\"true\" Rotation=\"false\" VideoSourceMode=\"false\" OSD=\"false\">"
    "<trt:ProfileCapabilities MaximumNumberOfProfiles=\"%d\"/>"
    "<trt:StreamingCapabilities RTPMulticast=\"false\" RTP_TCP=\"true\" RTP_RTSP_TCP=\"true\""
    " NonAggregateControl=\"false\" NoRTSPStreaming=\"false\"/></%s>", element, 64, element);
}

static void
device_capabilities (GString *out, const char *element)
{
  g_string_append_printf (out,
    "<%s><tds:Network IPFilter=\"false\" ZeroConfiguration=\"false\" IPVersion6=\"true\" DynDNS=\"false\"/>"
    "<tds:Security UsernameToken=\"true\" HttpDigest=\"true\"/>"
    "<tds:System DiscoveryResolve=\"false\" DiscoveryBye=\"false\" RemoteDiscovery=\"false\""
    " SystemBackup=\"false\" SystemLogging=\"false\" FirmwareUpgrade=\"false\"/></%s>", element, element);
}

static void
xaddr (GString *out, View *v, const char *service)
{
  g_string_append_printf (out, "http://%s:%u/onvif/%s", v->host, v->port, service);
}

static void
capabilities (GString *out, View *v)
{
  g_string_append (out, "<tds:GetCapabilitiesResponse><tds:Capabilities><tt:Device><tt:XAddr>");
  xaddr (out, v, "device_service");
  g_string_append (out, "</tt:XAddr><tt:Network><tt:IPFilter>false</tt:IPFilter>"
                   "<tt:ZeroConfiguration>false</tt:ZeroConfiguration><tt:IPVersion6>true</tt:IPVersion6>"
                   "<tt:DynDNS>false</tt:DynDNS></tt:Network><tt:System><tt:DiscoveryResolve>false"
                   "</tt:DiscoveryResolve><tt:DiscoveryBye>false</tt:DiscoveryBye><tt:RemoteDiscovery>false"
                   "</tt:RemoteDiscovery><tt:SystemBackup>false</tt:SystemBackup><tt:SystemLogging>false"
                   "</tt:SystemLogging><tt:FirmwareUpgrade>false</tt:FirmwareUpgrade><tt:SupportedVersions>"
                   "<tt:Major>2</tt:Major><tt:Minor>60</tt:Minor></tt:SupportedVersions></tt:System>"
                   "<tt:IO><tt:InputConnectors>0</tt:InputConnectors><tt:RelayOutputs>0</tt:RelayOutputs></tt:IO>"
                   "<tt:Security><tt:TLS1.1>false</tt:TLS1.1><tt:TLS1.2>false</tt:TLS1.2>"
                   "<tt:OnboardKeyGeneration>false</tt:OnboardKeyGeneration><tt:AccessPolicyConfig>false"
                   "</tt:AccessPolicyConfig><tt:X.509Token>false</tt:X.509Token><tt:SAMLToken>false"
                   "</tt:SAMLToken><tt:KerberosToken>false</tt:KerberosToken><tt:RELToken>false</tt:RELToken>"
                   "</tt:Security></tt:Device><tt:Media><tt:XAddr>");
  xaddr (out, v, "media_service");
  g_string_append (out, "</tt:XAddr><tt:StreamingCapabilities><tt:RTPMulticast>false</tt:RTPMulticast>"
                   "<tt:RTP_TCP>true</tt:RTP_TCP><tt:RTP_RTSP_TCP>true</tt:RTP_RTSP_TCP>"
                   "</tt:StreamingCapabilities></tt:Media></tds:Capabilities></tds:GetCapabilitiesResponse>");
}

static void
services (GString *out, View *v, gboolean with_capabilities)
{
  g_string_append (out, "<tds:GetServicesResponse><tds:Service><tds:Namespace>" NS_DEVICE "</tds:Namespace><tds:XAddr>");
  xaddr (out, v, "device_service");
  g_string_append (out, "</tds:XAddr>");
  if (with_capabilities) {
    g_string_append (out, "<tds:Capabilities>");
    device_capabilities (out, "tds:Capabilities");
    g_string_append (out, "</tds:Capabilities>");
  }
  g_string_append (out, "<tds:Version><tt:Major>2</tt:Major><tt:Minor>60</tt:Minor></tds:Version></tds:Service>"
                   "<tds:Service><tds:Namespace>" NS_MEDIA "</tds:Namespace><tds:XAddr>");
  xaddr (out, v, "media_service");
  g_string_append (out, "</tds:XAddr>");
  if (with_capabilities) {
    g_string_append (out, "<tds:Capabilities>");
    media_capabilities (out, "trt:Capabilities");
    g_string_append (out, "</tds:Capabilities>");
  }
  g_string_append (out, "<tds:Version><tt:Major>2</tt:Major><tt:Minor>60</tt:Minor></tds:Version></tds:Service>"
                   "</tds:GetServicesResponse>");
}

static void
date_and_time (GString *out)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_string_append_printf (out,
    "<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime><tt:DateTimeType>NTP</tt:DateTimeType>"
    "<tt:DaylightSavings>false</tt:DaylightSavings><tt:TimeZone><tt:TZ>UTC0</tt:TZ></tt:TimeZone>"
    "<tt:UTCDateTime><tt:Time><tt:Hour>%d</tt:Hour><tt:Minute>%d</tt:Minute><tt:Second>%d</tt:Second></tt:Time>"
    "<tt:Date><tt:Year>%d</tt:Year><tt:Month>%d</tt:Month><tt:Day>%d</tt:Day></tt:Date></tt:UTCDateTime>"
    "</tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>",
    g_date_time_get_hour (now), g_date_time_get_minute (now), g_date_time_get_second (now),
    g_date_time_get_year (now), g_date_time_get_month (now), g_date_time_get_day_of_month (now));
}

typedef struct {
  char name[IF_NAMESIZE];
  guint prefix;
  char mac[18];
} Iface;

/* The interface that holds ADDR. */
static gboolean
find_interface (GInetAddress *want, Iface *out)
{
  struct ifaddrs *list = NULL, *hit = NULL;

  memset (out, 0, sizeof *out);
  g_strlcpy (out->mac, "00:00:00:00:00:00", sizeof out->mac);
  if (!want || getifaddrs (&list) != 0)
    return FALSE;
  for (struct ifaddrs *i = list; i && !hit; i = i->ifa_next) {
    if (!i->ifa_addr || (i->ifa_addr->sa_family != AF_INET && i->ifa_addr->sa_family != AF_INET6))
      continue;
    g_autoptr (GSocketAddress) sa = g_socket_address_new_from_native (i->ifa_addr, sizeof (struct sockaddr_in6));
    if (!sa || !g_inet_address_equal (g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (sa)), want))
      continue;
    hit = i;
    g_autoptr (GSocketAddress) nm = i->ifa_netmask
      ? g_socket_address_new_from_native (i->ifa_netmask, sizeof (struct sockaddr_in6)) : NULL;
    if (nm) {
      GInetAddress *mask = g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (nm));
      const guint8 *b = g_inet_address_to_bytes (mask);
      for (gsize k = 0; k < g_inet_address_get_native_size (mask); k++)
        out->prefix += __builtin_popcount (b[k]);
    }
  }
  if (hit) {
    g_strlcpy (out->name, hit->ifa_name, sizeof out->name);
    for (struct ifaddrs *i = list; i; i = i->ifa_next)
      if (i->ifa_addr && i->ifa_addr->sa_family == AF_PACKET && strcmp (i->ifa_name, hit->ifa_name) == 0) {
        const struct sockaddr_ll *ll = (const struct sockaddr_ll *) i->ifa_addr;
        if (ll->sll_halen == 6)
          g_snprintf (out->mac, sizeof out->mac, "%02x:%02x:%02x:%02x:%02x:%02x", ll->sll_addr[0],
                      ll->sll_addr[1], ll->sll_addr[2], ll->sll_addr[3], ll->sll_addr[4], ll->sll_addr[5]);
      }
  }
  freeifaddrs (list);
  return hit != NULL;
}

/* The interface that holds the address the client reached. */
static void
network_interfaces (GString *out, SoupServerMessage *msg)
{
  g_autoptr (GInetAddress) want = local_address (msg);
  Iface nic;

  g_string_append (out, "<tds:GetNetworkInterfacesResponse>");
  if (find_interface (want, &nic)) {
    g_autofree char *name = g_markup_escape_text (nic.name, -1);
    g_autofree char *addr = g_inet_address_to_string (want);
    g_string_append_printf (out,
      "<tds:NetworkInterfaces token=\"%s\"><tt:Enabled>true</tt:Enabled><tt:Info><tt:Name>%s</tt:Name>"
      "<tt:HwAddress>%s</tt:HwAddress><tt:MTU>1500</tt:MTU></tt:Info>", name, name, nic.mac);
    if (g_inet_address_get_family (want) == G_SOCKET_FAMILY_IPV4)
      g_string_append_printf (out,
        "<tt:IPv4><tt:Enabled>true</tt:Enabled><tt:Config><tt:Manual><tt:Address>%s</tt:Address>"
        "<tt:PrefixLength>%u</tt:PrefixLength></tt:Manual><tt:DHCP>false</tt:DHCP></tt:Config></tt:IPv4>",
        addr, nic.prefix);
    g_string_append (out, "</tds:NetworkInterfaces>");
  }
  g_string_append (out, "</tds:GetNetworkInterfacesResponse>");
}

/* ---- faults and replies ---- */

static void
reply (SoupServerMessage *msg, guint status, const char *body_xml)
{
  g_autofree char *doc = g_strconcat ("<?xml version=\"1.0\" encoding=\"UTF-8\"?><s:Envelope " NS_DECL "><s:Body>",
                                      body_xml, "</s:Body></s:Envelope>", NULL);
  gsize len = strlen (doc);
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "application/soap+xml; charset=utf-8", SOUP_MEMORY_TAKE,
                                    g_steal_pointer (&doc), len);
}

/* SOAP 1.2 over HTTP: Sender faults are 400, Receiver faults 500 (ONVIF Core
 * 5.6.1); either way the body is a fault a client can read. */
static void
fault (SoupServerMessage *msg, gboolean sender, const char *subcode, const char *subsubcode, const char *reason)
{
  g_autoptr (GString) out = g_string_new (NULL);
  g_string_append_printf (out, "<s:Fault><s:Code><s:Value>%s</s:Value><s:Subcode><s:Value>%s</s:Value>",
                          sender ? "s:Sender" : "s:Receiver", subcode);
  if (subsubcode)
    g_string_append_printf (out, "<s:Subcode><s:Value>%s</s:Value></s:Subcode>", subsubcode);
  g_string_append_printf (out, "</s:Subcode></s:Code><s:Reason><s:Text xml:lang=\"en\">%s</s:Text></s:Reason>"
                          "</s:Fault>", reason);
  reply (msg, sender ? SOUP_STATUS_BAD_REQUEST : SOUP_STATUS_INTERNAL_SERVER_ERROR, out->str);
}

static void
not_supported (SoupServerMessage *msg)
{
  fault (msg, FALSE, "ter:ActionNotSupported", NULL, "Optional Action Not Implemented");
}

static void
not_authorized (SoupServerMessage *msg)
{
  fault (msg, TRUE, "ter:NotAuthorized", NULL, "Sender not Authorized");
}

static void
no_profile (SoupServerMessage *msg)
{
  fault (msg, TRUE, "ter:InvalidArgVal", "ter:NoProfile", "The requested profile token does not exist");
}

static void
no_config (SoupServerMessage *msg)
{
  fault (msg, TRUE, "ter:InvalidArgVal", "ter:NoConfig", "The requested configuration does not exist");
}

/* ---- authentication ---- */

/* Client text for a log line: printable ASCII only, at most MAX bytes. */
static char *
sanitize (const char *text, gsize max)
{
  g_autoptr (GString) out = g_string_new (NULL);
  for (const char *p = text ? text : ""; *p && out->len < max; p++)
    g_string_append_c (out, *p >= 0x20 && *p < 0x7f ? *p : '?');
  return g_string_free (g_steal_pointer (&out), FALSE);
}

static const char *
remote_ip (SoupServerMessage *msg, GInetAddress **addr)
{
  GSocketAddress *remote = soup_server_message_get_remote_address (msg);
  *addr = remote ? g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (remote)) : NULL;
  return soup_server_message_get_remote_host (msg);
}

/* A request refused before authentication: one log line every 10 s at most,
 * so that a flood of garbage cannot flood the journal. */
static void
log_refusal (CordonOnvif *o, SoupServerMessage *msg, const char *why)
{
  gint64 now = g_get_monotonic_time ();
  GInetAddress *addr;
  const char *ip = remote_ip (msg, &addr);

  if (o->last_refusal_log && now - o->last_refusal_log < 10 * G_USEC_PER_SEC) {
    o->refusals_unlogged++;
    return;
  }
  g_autofree char *text = sanitize (why, 200);
  g_message ("ONVIF request from %s refused: %s", ip ? ip : "?", text);
  if (o->refusals_unlogged)
    g_message ("ONVIF: %u more refused requests not logged", o->refusals_unlogged);
  o->last_refusal_log = now;
  o->refusals_unlogged = 0;
}

/* The recorder behind MSG (token first, then HTTP digest), allowed from where
 * it connects; NULL after logging why not (rate-limited per address). */
static const CordonRecorder *
authenticate (CordonOnvif *o, SoupServerMessage *msg, CordonSoapRequest *r, const char *what)
{
  const char *why = NULL;
  GInetAddress *addr;
  const char *ip = remote_ip (msg, &addr);

  if (cordon_brake_is_blocked (o->brake, ip, g_get_monotonic_time ()))
    return NULL;
  const CordonRecorder *rec = r && r->username
    ? cordon_onvif_auth_check_token (o->auth, r, g_get_real_time (), &why)
    : cordon_onvif_auth_check_digest (o->auth, msg, &why);
  if (rec && addr && cordon_recorder_allows_address (rec, addr))
    return rec;
  if (rec)
    why = "address not allowed for this recorder";
  else if (!(r && r->username) && !soup_message_headers_get_one (soup_server_message_get_request_headers (msg),
                                                                 "Authorization"))
    return NULL; /* no credentials at all: the first leg of HTTP digest */

  guint suppressed = 0;
  gboolean blocked = FALSE;
  if (cordon_brake_note_failure (o->brake, ip, g_get_monotonic_time (), &suppressed, &blocked)) {
    g_autofree char *user = sanitize (rec ? rec->name : r && r->username ? r->username : "", 64);
    g_autofree char *call = sanitize (what, 64);
    g_message ("%s: ONVIF %s refused from %s: %s%s", *user ? user : "(no user)", call, ip ? ip : "?", why,
               blocked ? "; address blocked for 60 s" : "");
    if (suppressed)
      g_message ("%s: %u more failed ONVIF logins not logged", ip ? ip : "?", suppressed);
  }
  return NULL;
}

/* ---- the SOAP services ---- */

/* Answered without authentication, as clients expect (they read our clock
 * before they can make a token). */
static gboolean
is_open (const char *action)
{
  static const char *const open[] = {
    "GetSystemDateAndTime", "GetCapabilities", "GetServices", "GetServiceCapabilities", NULL
  };
  return g_strv_contains (open, action);
}

static const char *const device_ops[] = {
  "GetDeviceInformation", "GetScopes", "GetNetworkInterfaces", "GetHostname", "GetNetworkProtocols",
  "GetDNS", "GetNTP", NULL
};
static const char *const media_ops[] = {
  "GetProfiles", "GetProfile", "GetVideoSources", "GetVideoSourceConfigurations", "GetVideoSourceConfiguration",
  "GetVideoEncoderConfigurations", "GetVideoEncoderConfiguration", "GetVideoEncoderConfigurationOptions",
  "GetCompatibleVideoEncoderConfigurations", "GetCompatibleVideoSourceConfigurations",
  "GetStreamUri", "GetSnapshotUri", "GetOSDs", "GetOSDOptions", "GetAudioSources", "GetAudioOutputs",
  "GetAudioSourceConfigurations", "GetAudioEncoderConfigurations", "GetAudioOutputConfigurations",
  "GetAudioDecoderConfigurations", "CreateProfile", NULL
};

static void
answer_open (CordonOnvif *o, SoupServerMessage *msg, CordonSoapRequest *r, gboolean media)
{
  g_auto (View) v = { 0 };
  g_autoptr (GString) out = g_string_new (NULL);
  view_init (&v, o, msg, NULL);

  if (strcmp (r->action, "GetSystemDateAndTime") == 0) {
    date_and_time (out);
  } else if (strcmp (r->action, "GetCapabilities") == 0) {
    capabilities (out, &v);
  } else if (strcmp (r->action, "GetServices") == 0) {
    services (out, &v, TRUE);
  } else if (media || g_strcmp0 (r->action_ns, NS_MEDIA) == 0) {
    g_string_append (out, "<trt:GetServiceCapabilitiesResponse>");
    media_capabilities (out, "trt:Capabilities");
    g_string_append (out, "</trt:GetServiceCapabilitiesResponse>");
  } else {
    g_string_append (out, "<tds:GetServiceCapabilitiesResponse>");
    device_capabilities (out, "tds:Capabilities");
    g_string_append (out, "</tds:GetServiceCapabilitiesResponse>");
  }
  reply (msg, SOUP_STATUS_OK, out->str);
}

static void
answer_device (CordonOnvif *o, SoupServerMessage *msg, CordonSoapRequest *r, View *v)
{
  g_autoptr (GString) out = g_string_new (NULL);
  const char *a = r->action;

  if (strcmp (a, "GetDeviceInformation") == 0) {
    g_string_append_printf (out,
      "<tds:GetDeviceInformationResponse><tds:Manufacturer>cordon</tds:Manufacturer><tds:Model>cordon</tds:Model>"
      "<tds:FirmwareVersion>%s</tds:FirmwareVersion><tds:SerialNumber>%s</tds:SerialNumber>"
      "<tds:HardwareId>cordon</tds:HardwareId></tds:GetDeviceInformationResponse>", CORDON_VERSION, o->serial);
  } else if (strcmp (a, "GetScopes") == 0) {
    static const char *const scopes[] = {
      "onvif://www.onvif.org/Profile/Streaming", "onvif://www.onvif.org/type/video_encoder",
      "onvif://www.onvif.org/name/cordon", "onvif://www.onvif.org/hardware/cordon", NULL
    };
    g_string_append (out, "<tds:GetScopesResponse>");
    for (guint i = 0; scopes[i]; i++)
      g_string_append_printf (out, "<tds:Scopes><tt:ScopeDef>Fixed</tt:ScopeDef><tt:ScopeItem>%s</tt:ScopeItem>"
                              "</tds:Scopes>", scopes[i]);
    g_string_append (out, "</tds:GetScopesResponse>");
  } else if (strcmp (a, "GetNetworkInterfaces") == 0) {
    network_interfaces (out, msg);
  } else if (strcmp (a, "GetHostname") == 0) {
    g_string_append (out, "<tds:GetHostnameResponse><tds:HostnameInformation><tt:FromDHCP>false</tt:FromDHCP>"
                     "<tt:Name>cordon</tt:Name></tds:HostnameInformation></tds:GetHostnameResponse>");
  } else if (strcmp (a, "GetDNS") == 0) {
    g_string_append (out, "<tds:GetDNSResponse><tds:DNSInformation><tt:FromDHCP>false</tt:FromDHCP>"
                     "</tds:DNSInformation></tds:GetDNSResponse>");
  } else if (strcmp (a, "GetNTP") == 0) {
    g_string_append (out, "<tds:GetNTPResponse><tds:NTPInformation><tt:FromDHCP>false</tt:FromDHCP>"
                     "</tds:NTPInformation></tds:GetNTPResponse>");
  } else { /* GetNetworkProtocols */
    g_string_append_printf (out, "<tds:GetNetworkProtocolsResponse><tds:NetworkProtocols><tt:Name>HTTP</tt:Name>"
                            "<tt:Enabled>true</tt:Enabled><tt:Port>%u</tt:Port></tds:NetworkProtocols>"
                            "<tds:NetworkProtocols><tt:Name>RTSP</tt:Name><tt:Enabled>true</tt:Enabled>"
                            "<tt:Port>%u</tt:Port></tds:NetworkProtocols></tds:GetNetworkProtocolsResponse>",
                            v->port, o->config->listen_port);
  }
  reply (msg, SOUP_STATUS_OK, out->str);
}

/* Each of the recorder's cameras, rendered by FUNC inside RESPONSE. */
static void
each (GString *out, View *v, const char *response, const char *element,
      void (*func) (GString *, const char *, const CordonCamera *))
{
  g_string_append_printf (out, "<trt:%s>", response);
  for (guint i = 0; i < v->cameras->len; i++)
    func (out, element, v->cameras->pdata[i]);
  g_string_append_printf (out, "</trt:%s>", response);
}

static void
video_source (GString *out, const char *element, const CordonCamera *cam)
{
  g_string_append_printf (out, "<%s token=\"src_%s\"><tt:Framerate>%u</tt:Framerate><tt:Resolution>"
                          "<tt:Width>%u</tt:Width><tt:Height>%u</tt:Height></tt:Resolution></%s>",
                          element, cam->name, cam->framerate, cam->width, cam->height, element);
}

static void
answer_media (CordonOnvif *o, SoupServerMessage *msg, CordonSoapRequest *r, View *v)
{
  g_autoptr (GString) out = g_string_new (NULL);
  const char *a = r->action;
  const char *token = r->profile_token ? r->profile_token : r->configuration_token;
  const CordonCamera *cam;

  if (strcmp (a, "GetProfiles") == 0) {
    each (out, v, "GetProfilesResponse", "trt:Profiles", profile);
  } else if (strcmp (a, "GetVideoSources") == 0) {
    each (out, v, "GetVideoSourcesResponse", "trt:VideoSources", video_source);
  } else if (strcmp (a, "GetVideoSourceConfigurations") == 0
             || strcmp (a, "GetCompatibleVideoSourceConfigurations") == 0) {
    g_autofree char *response = g_strconcat (a, "Response", NULL);
    if (a[3] == 'C' && !(cam = view_find (v, r->profile_token)))
      return no_profile (msg);
    each (out, v, response, "trt:Configurations", source_config);
  } else if (strcmp (a, "GetVideoEncoderConfigurations") == 0
             || strcmp (a, "GetCompatibleVideoEncoderConfigurations") == 0) {
    g_autofree char *response = g_strconcat (a, "Response", NULL);
    if (a[3] == 'C' && !(cam = view_find (v, r->profile_token)))
      return no_profile (msg);
    each (out, v, response, "trt:Configurations", encoder_config);
  } else if (strcmp (a, "GetProfile") == 0) {
    if (!r->profile_token || !(cam = view_find (v, r->profile_token)))
      return no_profile (msg);
    g_string_append (out, "<trt:GetProfileResponse>");
    profile (out, "trt:Profile", cam);
    g_string_append (out, "</trt:GetProfileResponse>");
  } else if (strcmp (a, "GetVideoSourceConfiguration") == 0) {
    if (!r->configuration_token || !(cam = view_find (v, r->configuration_token)))
      return no_config (msg);
    g_string_append (out, "<trt:GetVideoSourceConfigurationResponse>");
    source_config (out, "trt:Configuration", cam);
    g_string_append (out, "</trt:GetVideoSourceConfigurationResponse>");
  } else if (strcmp (a, "GetVideoEncoderConfiguration") == 0) {
    if (!r->configuration_token || !(cam = view_find (v, r->configuration_token)))
      return no_config (msg);
    g_string_append (out, "<trt:GetVideoEncoderConfigurationResponse>");
    encoder_config (out, "trt:Configuration", cam);
    g_string_append (out, "</trt:GetVideoEncoderConfigurationResponse>");
  } else if (strcmp (a, "GetVideoEncoderConfigurationOptions") == 0) {
    if (!(cam = view_find (v, token)))
      return token ? no_config (msg) : not_supported (msg);
    g_string_append (out, "<trt:GetVideoEncoderConfigurationOptionsResponse>");
    encoder_options (out, cam);
    g_string_append (out, "</trt:GetVideoEncoderConfigurationOptionsResponse>");
  } else if (strcmp (a, "GetStreamUri") == 0) {
    if (!r->profile_token || !(cam = view_find (v, r->profile_token)))
      return no_profile (msg);
    /* RTSPS when the recorder must use TLS; otherwise plain RTSP, where
     * cordon's RTSP digest still guards the stream. */
    gboolean tls = v->recorder->tls == CORDON_POLICY_REQUIRED && o->config->tls_certificate;
    g_string_append_printf (out, "<trt:GetStreamUriResponse><trt:MediaUri><tt:Uri>%s://%s:%u/%s</tt:Uri>"
                            "<tt:InvalidAfterConnect>false</tt:InvalidAfterConnect><tt:InvalidAfterReboot>false"
                            "</tt:InvalidAfterReboot><tt:Timeout>PT0S</tt:Timeout></trt:MediaUri>"
                            "</trt:GetStreamUriResponse>", tls ? "rtsps" : "rtsp", v->host,
                            tls ? o->config->tls_listen_port : o->config->listen_port, cam->name);
  } else if (strcmp (a, "GetSnapshotUri") == 0) {
    if (!r->profile_token || !(cam = view_find (v, r->profile_token)))
      return no_profile (msg);
    g_string_append_printf (out, "<trt:GetSnapshotUriResponse><trt:MediaUri><tt:Uri>http://%s:%u/onvif/snapshot/%s"
                            "</tt:Uri><tt:InvalidAfterConnect>false</tt:InvalidAfterConnect>"
                            "<tt:InvalidAfterReboot>false</tt:InvalidAfterReboot><tt:Timeout>PT0S</tt:Timeout>"
                            "</trt:MediaUri></trt:GetSnapshotUriResponse>", v->host, v->port, cam->name);
  } else if (strcmp (a, "GetOSDOptions") == 0) {
    g_string_append (out, "<trt:GetOSDOptionsResponse><trt:OSDOptions><tt:MaximumNumberOfOSDs Total=\"0\"/>"
                     "<tt:Type>Text</tt:Type><tt:PositionOption>UpperLeft</tt:PositionOption>"
                     "</trt:OSDOptions></trt:GetOSDOptionsResponse>");
  } else if (strcmp (a, "CreateProfile") == 0) {
    /* Profiles are fixed by cordon's configuration. */
    return fault (msg, FALSE, "ter:Action", "ter:MaxNVTProfiles", "Profiles are fixed; none can be created");
  } else {
    /* GetOSDs and the audio lists: cordon offers none of them to ONVIF. */
    g_string_append_printf (out, "<trt:%sResponse/>", a);
  }
  reply (msg, SOUP_STATUS_OK, out->str);
}

static void
handle_soap (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query, gpointer data)
{
  CordonOnvif *o = data;
  gboolean media = g_str_has_suffix (path, "/media_service");
  g_autoptr (GError) err = NULL;

  if (soup_server_message_get_method (msg) != SOUP_METHOD_POST) {
    soup_server_message_set_status (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, NULL);
    return;
  }
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  g_autoptr (GBytes) bytes = soup_message_body_flatten (body);
  gsize len;
  const char *data_ = g_bytes_get_data (bytes, &len);
  g_autoptr (CordonSoapRequest) r = cordon_soap_parse (data_, len, &err);
  if (!r) {
    log_refusal (o, msg, err->message);
    return fault (msg, TRUE, "ter:InvalidArgVal", NULL, "The request is not a well-formed SOAP envelope");
  }

  if (is_open (r->action))
    return answer_open (o, msg, r, media);
  gboolean device_op = g_strv_contains (device_ops, r->action);
  gboolean media_op = g_strv_contains (media_ops, r->action);
  if (!device_op && !media_op)
    return not_supported (msg);

  const CordonRecorder *rec = authenticate (o, msg, r, r->action);
  if (!rec) {
    not_authorized (msg);
    if (!r->username) {
      /* No credentials at all: offer HTTP digest too (keeps the fault body). */
      soup_server_message_set_status (msg, SOUP_STATUS_UNAUTHORIZED, NULL);
      cordon_onvif_auth_challenge (o->auth, msg);
    }
    return;
  }
  g_auto (View) v = { 0 };
  view_init (&v, o, msg, rec);
  if (device_op)
    answer_device (o, msg, r, &v);
  else
    answer_media (o, msg, r, &v);
}

/* ---- snapshots ---- */

static gboolean
take_token (CordonOnvif *o, const CordonRecorder *rec)
{
  gint64 now = g_get_monotonic_time ();
  Bucket *b = g_hash_table_lookup (o->buckets, rec->name);
  if (!b) {
    b = g_new0 (Bucket, 1);
    b->tokens = SNAPSHOT_BURST;
    b->at = now;
    g_hash_table_insert (o->buckets, g_strdup (rec->name), b);
  }
  b->tokens = MIN (SNAPSHOT_BURST, b->tokens + (now - b->at) * SNAPSHOT_PER_S / (double) G_USEC_PER_SEC);
  b->at = now;
  if (b->tokens < 1)
    return FALSE;
  b->tokens -= 1;
  return TRUE;
}

static void
handle_snapshot (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query, gpointer data)
{
  CordonOnvif *o = data;
  const char *name = path + strlen ("/onvif/snapshot/");
  g_autoptr (GError) err = NULL;

  if (!g_str_has_prefix (path, "/onvif/snapshot/")) {
    soup_server_message_set_status (msg, SOUP_STATUS_NOT_FOUND, NULL);
    return;
  }
  if (soup_server_message_get_method (msg) != SOUP_METHOD_GET) {
    soup_server_message_set_status (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, NULL);
    return;
  }
  const CordonRecorder *rec = authenticate (o, msg, NULL, "snapshot");
  if (!rec) {
    soup_server_message_set_status (msg, SOUP_STATUS_UNAUTHORIZED, NULL);
    cordon_onvif_auth_challenge (o->auth, msg);
    return;
  }
  CordonPipeline *p = cordon_recorder_allows_camera (rec, name) && o->pipelines
                    ? g_hash_table_lookup (o->pipelines, name) : NULL;
  if (!p) {
    /* The same answer for a camera that exists but is not granted. */
    soup_server_message_set_status (msg, SOUP_STATUS_NOT_FOUND, NULL);
    return;
  }
  if (!take_token (o, rec)) {
    soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Retry-After", "1");
    soup_server_message_set_status (msg, 429, NULL);
    return;
  }
  g_autoptr (GBytes) jpeg = cordon_pipeline_snapshot_jpeg (p, 0, &err);
  if (!jpeg) {
    g_message ("%s: snapshot for %s failed: %s", name, rec->name, err->message);
    soup_server_message_set_status (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, NULL);
    return;
  }
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Cache-Control", "no-store");
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  gsize size;
  const void *bytes = g_bytes_get_data (jpeg, &size);
  soup_server_message_set_response (msg, "image/jpeg", SOUP_MEMORY_COPY, bytes, size);
}

/* Before the body is read: a request from the camera side is dropped; one over
 * the bound (or of unknown length) is answered 413 and its connection closed,
 * so its body is never read at all. */
static void
early (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query, gpointer data)
{
  static const char refusal[] = "HTTP/1.1 413 Request Entity Too Large\r\nConnection: close\r\n"
                                "Content-Length: 0\r\n\r\n";
  CordonOnvif *o = data;
  SoupMessageHeaders *h = soup_server_message_get_request_headers (msg);
  SoupEncoding encoding = soup_message_headers_get_encoding (h);
  g_autoptr (GInetAddress) local = local_address (msg);
  Iface nic;

  /* One request per connection (see onvif-gate.h): say so. */
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Connection", "close");

  /* Core side only, whatever the listen address: a request that reached an
   * address of the camera interface gets no answer at all. */
  if (o->config->camera_interface && find_interface (local, &nic)
      && strcmp (nic.name, o->config->camera_interface) == 0) {
    log_refusal (o, msg, "arrived on the camera interface");
    g_autoptr (GIOStream) stream = soup_server_message_steal_connection (msg);
    if (stream)
      g_io_stream_close (stream, NULL, NULL);
    return;
  }
  if (encoding == SOUP_ENCODING_NONE
      || (encoding == SOUP_ENCODING_CONTENT_LENGTH
          && soup_message_headers_get_content_length (h) <= CORDON_SOAP_MAX_REQUEST))
    return;
  g_autofree char *why = g_strdup_printf ("body over %d bytes or of unknown length", CORDON_SOAP_MAX_REQUEST);
  log_refusal (o, msg, why);
  g_autoptr (GIOStream) stream = soup_server_message_steal_connection (msg);
  if (!stream)
    return;
  GOutputStream *out = g_io_stream_get_output_stream (stream);
  /* A few bytes into a fresh socket buffer: this does not block. */
  g_output_stream_write_all (out, refusal, sizeof refusal - 1, NULL, NULL, NULL);
  g_io_stream_close (stream, NULL, NULL);
}

static void
handle_other (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query, gpointer data)
{
  soup_server_message_set_status (msg, SOUP_STATUS_NOT_FOUND, NULL);
}

/* ---- life cycle ---- */

/* A serial that stays the same across restarts and differs between hosts:
 * from the machine id, hashed so the id itself is not disclosed. */
static char *
make_serial (const CordonConfig *config, char **endpoint)
{
  g_autofree char *machine = NULL;
  if (!g_file_get_contents ("/etc/machine-id", &machine, NULL, NULL))
    machine = g_strdup (g_get_host_name ());
  g_autofree char *seed = g_strconcat ("cordon-onvif\n", config->onvif_serial ? config->onvif_serial : g_strstrip (machine), NULL);
  g_autofree char *hex = g_compute_checksum_for_string (G_CHECKSUM_SHA256, seed, -1);
  *endpoint = g_strdup_printf ("urn:uuid:%.8s-%.4s-5%.3s-a%.3s-%.12s", hex, hex + 8, hex + 12, hex + 15, hex + 18);
  return config->onvif_serial ? g_strdup (config->onvif_serial) : g_ascii_strup (hex, 16);
}

CordonOnvif *
cordon_onvif_new (const CordonConfig *config, GError **error)
{
  if (!config->onvif_host)
    return NULL;
  g_autoptr (CordonOnvif) o = g_new0 (CordonOnvif, 1);
  o->config = config;
  o->auth = cordon_onvif_auth_new (config);
  o->brake = cordon_brake_new ();
  o->buckets = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  o->serial = make_serial (config, &o->endpoint);

  g_autoptr (GInetAddress) addr = g_inet_address_new_from_string (config->onvif_host);
  g_autoptr (GSocketAddress) sa = g_inet_socket_address_new (addr, config->onvif_port);
  o->socket = g_socket_new (g_inet_address_get_family (addr), G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, error);
  if (!o->socket || !g_socket_bind (o->socket, sa, TRUE, error) || !g_socket_listen (o->socket, error)) {
    g_prefix_error (error, "ONVIF: cannot listen on %s port %u: ", config->onvif_host, config->onvif_port);
    return NULL;
  }
  if (config->onvif_discovery) {
    o->discovery = cordon_onvif_discovery_new (config->core_interface, error);
    if (!o->discovery)
      return NULL;
  }
  return g_steal_pointer (&o);
}

gboolean
cordon_onvif_start (CordonOnvif *o, GHashTable *pipelines, GError **error)
{
  static const char *const paths[] = {
    NULL, "/onvif/device_service", "/onvif/media_service", "/onvif/snapshot"
  };
  o->pipelines = pipelines;
  o->server = soup_server_new ("server-header", "cordon", NULL);
  /* Early and normal handlers are matched together by path, so each path
   * has its own early handler. */
  for (guint i = 0; i < G_N_ELEMENTS (paths); i++)
    soup_server_add_early_handler (o->server, paths[i], early, o, NULL);
  soup_server_add_handler (o->server, "/onvif/device_service", handle_soap, o, NULL);
  soup_server_add_handler (o->server, "/onvif/media_service", handle_soap, o, NULL);
  soup_server_add_handler (o->server, "/onvif/snapshot", handle_snapshot, o, NULL);
  soup_server_add_handler (o->server, NULL, handle_other, o, NULL);
  o->gate = cordon_onvif_gate_new (o->server, o->socket, error);
  if (!o->gate) {
    g_prefix_error (error, "ONVIF: ");
    return FALSE;
  }
  g_message ("ONVIF: serving http://%s:%u/onvif/device_service", o->config->onvif_host, cordon_onvif_get_port (o));
  if (o->discovery)
    cordon_onvif_discovery_start (o->discovery, o->endpoint, o->config->onvif_host, cordon_onvif_get_port (o));
  return TRUE;
}

void
cordon_onvif_set_config (CordonOnvif *o, const CordonConfig *config)
{
  o->config = config;
  cordon_onvif_auth_set_config (o->auth, config);
  g_hash_table_remove_all (o->buckets);
}

guint16
cordon_onvif_get_port (CordonOnvif *o)
{
  g_autoptr (GSocketAddress) sa = g_socket_get_local_address (o->socket, NULL);
  return sa ? g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (sa)) : 0;
}

void
cordon_onvif_free (CordonOnvif *o)
{
  if (!o)
    return;
  g_clear_pointer (&o->gate, cordon_onvif_gate_free);
  if (o->server)
    soup_server_disconnect (o->server);
  g_clear_object (&o->server);
  g_clear_pointer (&o->auth, cordon_onvif_auth_free);
  g_clear_pointer (&o->brake, cordon_brake_free);
  g_clear_object (&o->socket);
  g_clear_pointer (&o->discovery, cordon_onvif_discovery_free);
  g_clear_pointer (&o->buckets, g_hash_table_unref);
  g_free (o->serial);
  g_free (o->endpoint);
  g_free (o);
}
