/* libFuzzer target: the ONVIF / WS-Discovery SOAP request reader on arbitrary
 * bytes, exactly as a client on the core network could send them. No input
 * may crash, hang, leak or yield a request without an action. */
#include <glib.h>
#include <stdint.h>

#include "proxy/onvif-soap.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CordonSoapRequest) r = cordon_soap_parse ((const char *) data, size, &error);
  g_assert (r || error);
  g_assert (!r || (r->action && *r->action));
  return 0;
}
