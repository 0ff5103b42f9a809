/* cordon — the SOAP request reader for ONVIF and WS-Discovery.
 *
 * Reads what a client on the core network sends (hostile until proven
 * otherwise) into a small typed request: the action, the WS-Security
 * UsernameToken and the few parameters cordon's answers depend on. No DTD, no
 * entity, no network access, bounded size; all text is length-capped UTF-8.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define CORDON_SOAP_MAX_REQUEST (64 * 1024) /* bytes; larger requests are refused unread */
#define CORDON_SOAP_MAX_TEXT 1024           /* bytes of any one value */

#define CORDON_SOAP_ERROR (cordon_soap_error_quark ())
GQuark cordon_soap_error_quark (void);

typedef enum {
  CORDON_SOAP_ERROR_TOO_BIG,
  CORDON_SOAP_ERROR_MALFORMED, /* not XML, a DTD, not a SOAP envelope, no body element */
} CordonSoapError;

typedef struct {
  gboolean soap11;         /* SOAP 1.1 envelope (else 1.2) */
  char *action;            /* local name of the Body's first element */
  char *action_ns;         /* its namespace, or NULL */
  char *message_id;        /* WS-Addressing MessageID, or NULL */
  /* WS-Security UsernameToken, all NULL when absent */
  char *username;
  char *password;          /* as sent: base64 digest, or text */
  gboolean password_text;  /* Type is PasswordText (or none given) */
  GBytes *nonce;           /* decoded */
  char *created;           /* as sent (xsd:dateTime) */
  /* parameters, by local name anywhere below the action; NULL when absent */
  char *profile_token;
  char *configuration_token;
  char *protocol;          /* StreamSetup/Transport/Protocol */
  char *types;             /* WS-Discovery Probe Types */
} CordonSoapRequest;

/* Parses DATA (LEN bytes). Fails with CORDON_SOAP_ERROR and a message that
 * names what is wrong. */
CordonSoapRequest *cordon_soap_parse (const char *data, gsize len, GError **error);
void cordon_soap_request_free (CordonSoapRequest *request);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CordonSoapRequest, cordon_soap_request_free)

G_END_DECLS
