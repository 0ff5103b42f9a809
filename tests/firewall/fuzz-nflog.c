/* libFuzzer target: the nflog stream the phone-home report reads, as a hostile
 * camera (and the kernel framing around its packets) could shape it. The
 * input is fed both as a netlink message stream and as a bare IP packet, and
 * to the nftables event parser of the table watch. */
#include "firewall-private.h"

#include <string.h>

static void
touch (const FwPacketInfo *info, gpointer data)
{
  gsize *sum = data;
  *sum += info->dport + info->protocol + strlen (info->dns_name);
}

static void
seen (gboolean deleted, int pid, const char *process, gpointer data)
{
  gsize *sum = data;
  *sum += (gsize) deleted + (gsize) pid + (process ? strlen (process) : 0);
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
  FwWatchState state = { 0 };
  fw_watch_parse (data, size, &state, seen, &sum);
  return 0;
}
