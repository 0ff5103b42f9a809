/* cordon — SOAP request reader (hostile input: see onvif-soap.h). */
#define G_LOG_DOMAIN "cordon-onvif"

#include "proxy/onvif-soap.h"

#include <string.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

G_DEFINE_QUARK (cordon-soap-error-quark, cordon_soap_error)

#define NS_SOAP12 "http://www.w3.org/2003/05/soap-envelope"
#define NS_SOAP11 "http://schemas.xmlsoap.org/soap/envelope/"
#define PASSWORD_TEXT_SUFFIX "#PasswordText"
#define MAX_DEPTH 12
#define MAX_NODES 4096

G_DEFINE_AUTOPTR_CLEANUP_FUNC (xmlDoc, xmlFreeDoc)

static gboolean
is (xmlNode *node, const char *name)
{
  return node && node->type == XML_ELEMENT_NODE && strcmp ((const char *) node->name, name) == 0;
}

static gboolean
in_ns (xmlNode *node, const char *ns)
{
  return node->ns && node->ns->href && strcmp ((const char *) node->ns->href, ns) == 0;
}

static xmlNode *
first_element (xmlNode *node)
{
  for (xmlNode *c = node ? node->children : NULL; c; c = c->next)
    if (c->type == XML_ELEMENT_NODE)
      return c;
  return NULL;
}

/* The element's text, trimmed; FALSE (and an error) when it is too long. */
static gboolean
text_of (xmlNode *node, char **out, GError **error)
{
  xmlChar *raw = xmlNodeGetContent (node);
  if (!raw)
    return TRUE;
  gsize len = strlen ((const char *) raw);
  if (len > CORDON_SOAP_MAX_TEXT) {
    xmlFree (raw);
    g_set_error (error, CORDON_SOAP_ERROR, CORDON_SOAP_ERROR_MALFORMED,
                 "element %.64s holds %" G_GSIZE_FORMAT " bytes (at most %d)", (const char *) node->name, len,
                 CORDON_SOAP_MAX_TEXT);
    return FALSE;
  }
  g_free (*out);
  *out = g_strstrip (g_strdup ((const char *) raw));
  xmlFree (raw);
  return TRUE;
}

static gboolean
read_token (CordonSoapRequest *r, xmlNode *token, GError **error)
{
  g_autofree char *nonce = NULL;

  for (xmlNode *c = token->children; c; c = c->next) {
    if (is (c, "Username")) {
      if (!text_of (c, &r->username, error))
        return FALSE;
    } else if (is (c, "Password")) {
      if (!text_of (c, &r->password, error))
        return FALSE;
      xmlChar *type = xmlGetProp (c, (const xmlChar *) "Type");
      r->password_text = !type || g_str_has_suffix ((const char *) type, PASSWORD_TEXT_SUFFIX);
      xmlFree (type);
    } else if (is (c, "Nonce")) {
      if (!text_of (c, &nonce, error))
        return FALSE;
    } else if (is (c, "Created")) {
      if (!text_of (c, &r->created, error))
        return FALSE;
    }
  }
  if (nonce && *nonce) {
    gsize n = 0;
    guchar *raw = g_base64_decode (nonce, &n);
    r->nonce = g_bytes_new_take (raw, n);
  }
  return TRUE;
}

static gboolean
read_header (CordonSoapRequest *r, xmlNode *header, GError **error)
{
  for (xmlNode *c = header->children; c; c = c->next) {
    if (is (c, "MessageID")) {
      if (!text_of (c, &r->message_id, error))
        return FALSE;
    } else if (is (c, "Security")) {
      for (xmlNode *t = c->children; t; t = t->next)
        if (is (t, "UsernameToken"))
          return read_token (r, t, error);
    }
  }
  return TRUE;
}

typedef struct {
  const char *name;
  gsize offset;
} Param;

static const Param params[] = {
  { "ProfileToken", G_STRUCT_OFFSET (CordonSoapRequest, profile_token) },
  { "ConfigurationToken", G_STRUCT_OFFSET (CordonSoapRequest, configuration_token) },
  { "Protocol", G_STRUCT_OFFSET (CordonSoapRequest, protocol) },
  { "Types", G_STRUCT_OFFSET (CordonSoapRequest, types) },
};

/* The first occurrence of each parameter, depth-first, with bounded depth and
 * node count so that a deep or wide document costs little. */
static gboolean
read_params (CordonSoapRequest *r, xmlNode *node, guint depth, guint *nodes, GError **error)
{
  if (depth > MAX_DEPTH) {
    g_set_error (error, CORDON_SOAP_ERROR, CORDON_SOAP_ERROR_MALFORMED,
                 "the request is nested deeper than %d elements", MAX_DEPTH);
    return FALSE;
  }
  for (xmlNode *c = node->children; c; c = c->next) {
    if (c->type != XML_ELEMENT_NODE)
      continue;
    if (++*nodes > MAX_NODES) {
      g_set_error (error, CORDON_SOAP_ERROR, CORDON_SOAP_ERROR_MALFORMED,
                   "the request has more than %d elements", MAX_NODES);
      return FALSE;
    }
    for (guint i = 0; i < G_N_ELEMENTS (params); i++) {
      char **slot = G_STRUCT_MEMBER_P (r, params[i].offset);
      if (!*slot && is (c, params[i].name) && !text_of (c, slot, error))
        return FALSE;
    }
    if (!read_params (r, c, depth + 1, nodes, error))
      return FALSE;
  }
  return TRUE;
}

CordonSoapRequest *
cordon_soap_parse (const char *data, gsize len, GError **error)
{
  if (len > CORDON_SOAP_MAX_REQUEST) {
    g_set_error (error, CORDON_SOAP_ERROR, CORDON_SOAP_ERROR_TOO_BIG,
                 "request of %" G_GSIZE_FORMAT " bytes (at most %d)", len, CORDON_SOAP_MAX_REQUEST);
    return NULL;
  }
  /* UTF-8 only, and the encoding declaration is ignored: then no NUL byte and
   * no "<!DOCTYPE" in the raw bytes means there is no DTD to read at all (no
   * external entity, no entity expansion). The tree is checked again below. */
  if (len == 0 || memchr (data, '\0', len)) {
    g_set_error (error, CORDON_SOAP_ERROR, CORDON_SOAP_ERROR_MALFORMED, "not UTF-8 XML text");
    return NULL;
  }
  if (g_strstr_len (data, len, "<!DOCTYPE") || g_strstr_len (data, len, "<!ENTITY")) {
    g_set_error (error, CORDON_SOAP_ERROR, CORDON_SOAP_ERROR_MALFORMED, "a DOCTYPE is not allowed");
    return NULL;
  }
  if (len > G_MAXINT)
    return NULL;

  int options = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOBLANKS
                | XML_PARSE_IGNORE_ENC;
  g_autoptr (xmlDoc) doc = xmlReadMemory (data, (int) len, "request.xml", "UTF-8", options);
  if (!doc) {
    const xmlError *e = xmlGetLastError ();
    g_autofree char *why = e && e->message ? g_strstrip (g_strndup (e->message, 120)) : g_strdup ("?");
    g_set_error (error, CORDON_SOAP_ERROR, CORDON_SOAP_ERROR_MALFORMED, "not well-formed XML (%s, line %d)",
                 why, e ? e->line : 0);
    xmlResetLastError ();
    return NULL;
  }
  if (doc->intSubset || doc->extSubset) {
    g_set_error (error, CORDON_SOAP_ERROR, CORDON_SOAP_ERROR_MALFORMED, "a DOCTYPE is not allowed");
    return NULL;
  }

  xmlNode *env = xmlDocGetRootElement (doc);
  g_autoptr (CordonSoapRequest) r = g_new0 (CordonSoapRequest, 1);
  if (!is (env, "Envelope") || !(in_ns (env, NS_SOAP12) || in_ns (env, NS_SOAP11))) {
    g_set_error (error, CORDON_SOAP_ERROR, CORDON_SOAP_ERROR_MALFORMED, "not a SOAP envelope");
    return NULL;
  }
  r->soap11 = in_ns (env, NS_SOAP11);
  xmlNode *body = NULL;
  for (xmlNode *c = env->children; c; c = c->next) {
    if (is (c, "Header") && !read_header (r, c, error))
      return NULL;
    if (is (c, "Body") && !body)
      body = c;
  }
  xmlNode *action = first_element (body);
  if (!action) {
    g_set_error (error, CORDON_SOAP_ERROR, CORDON_SOAP_ERROR_MALFORMED, "the SOAP body holds no request");
    return NULL;
  }
  if (strlen ((const char *) action->name) > 128) {
    g_set_error (error, CORDON_SOAP_ERROR, CORDON_SOAP_ERROR_MALFORMED, "the request's name is too long");
    return NULL;
  }
  r->action = g_strdup ((const char *) action->name);
  r->action_ns = action->ns && action->ns->href ? g_strndup ((const char *) action->ns->href, 256) : NULL;
  guint nodes = 0;
  if (!read_params (r, action, 0, &nodes, error))
    return NULL;
  return g_steal_pointer (&r);
}

void
cordon_soap_request_free (CordonSoapRequest *r)
{
  if (!r)
    return;
  g_free (r->action);
  g_free (r->action_ns);
  g_free (r->message_id);
  g_free (r->username);
  if (r->password)
    memset (r->password, 0, strlen (r->password));
  g_free (r->password);
  g_clear_pointer (&r->nonce, g_bytes_unref);
  g_free (r->created);
  g_free (r->profile_token);
  g_free (r->configuration_token);
  g_free (r->protocol);
  g_free (r->types);
  g_free (r);
}
