/* libFuzzer target: the nflog stream the phone-home report reads, as a hostile
 * camera (and the kernel framing around its packets) could shape it. The
 * input is fed both as a netlink message stream and as a bare IP packet. */
#include "firewall-private.h"

#include <string.h>

static void
touch (const FwPacketInfo *info, gpointer data)
{
  gsize *sum = data;
  *sum += info->dport + info->protocol + strlen (info->dns_name);
}

int LLVMFuzzerTestOneInput (const guint8 *data, gsize size);

int
LLVMFuzzerTestOneInput (const guint8 *data, gsize size)
{
  gsize sum = 0;
  FwPacketInfo info;
  char name[256];

  fw_parse_nflog_messages (data, size, touch, &sum);
  if (fw_parse_packet (data, size, &info))
    touch (&info, &sum);
  fw_parse_dns_qname (data, size, name, sizeof name);
  return 0;
}
