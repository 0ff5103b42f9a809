/* Unit tests of the ONVIF SOAP request reader (proxy/onvif-soap.c) on the
 * fixture requests beside this file and on hostile inputs built here. */
#include <string.h>

#include "proxy/onvif-soap.h"

static const char *fixtures;

static CordonSoapRequest *
parse_fixture (const char *name, GError **error)
{
  g_autofree char *path = g_build_filename (fixtures, name, NULL);
  g_autofree char *text = NULL;
  gsize len;
  g_assert_true (g_file_get_contents (path, &text, &len, NULL));
  return cordon_soap_parse (text, len, error);
}

static void
test_username_token_and_action (void)
{
  g_autoptr (GError) err = NULL;
  g_autoptr (CordonSoapRequest) r = parse_fixture ("get-profiles.xml", &err);
  g_assert_no_error (err);
  g_assert_cmpstr (r->action, ==, "GetProfiles");
  g_assert_cmpstr (r->action_ns, ==, "http://www.onvif.org/ver10/media/wsdl");
  g_assert_false (r->soap11);
  g_assert_cmpstr (r->username, ==, "nvr1");
  g_assert_cmpstr (r->password, ==, "q2A1Y0I4m0kYk3vJ1Q2s0dYp2nE=");
  g_assert_false (r->password_text);
  g_assert_cmpstr (r->created, ==, "2026-12-01T22:00:00.000Z");
  g_assert_cmpuint (g_bytes_get_size (r->nonce), ==, 16);
  g_assert_cmpint (((const guint8 *) g_bytes_get_data (r->nonce, NULL))[15], ==, 15);
}

static void
test_parameters_found_below_action (void)
{
  g_autoptr (GError) err = NULL;
  g_autoptr (CordonSoapRequest) r = parse_fixture ("get-stream-uri.xml", &err);
  g_assert_no_error (err);
  g_assert_cmpstr (r->action, ==, "GetStreamUri");
  g_assert_cmpstr (r->profile_token, ==, "prof_lobby");
  g_assert_cmpstr (r->protocol, ==, "RTSP");
  g_assert_null (r->username);
}

static void
test_probe_has_message_id_and_types (void)
{
  g_autoptr (GError) err = NULL;
  g_autoptr (CordonSoapRequest) r = parse_fixture ("probe.xml", &err);
  g_assert_no_error (err);
  g_assert_cmpstr (r->action, ==, "Probe");
  g_assert_cmpstr (r->message_id, ==, "urn:uuid:0d6c9a4e-4e5b-4bb4-9f57-1f1f2b9d3a10");
  g_assert_cmpstr (r->types, ==, "dn:NetworkVideoTransmitter");
}

static void
test_soap11_and_password_text (void)
{
  g_autoptr (GError) err = NULL;
  g_autoptr (CordonSoapRequest) r = parse_fixture ("soap11-text-password.xml", &err);
  g_assert_no_error (err);
  g_assert_true (r->soap11);
  g_assert_true (r->password_text);
  g_assert_null (r->nonce);
}

static void
test_doctype_refused (void)
{
  g_autoptr (GError) err = NULL;
  g_autoptr (CordonSoapRequest) r = parse_fixture ("xxe.xml", &err);
  g_assert_null (r);
  g_assert_error (err, CORDON_SOAP_ERROR, CORDON_SOAP_ERROR_MALFORMED);
  g_assert_nonnull (strstr (err->message, "DOCTYPE"));
}

static void
expect_malformed (const char *text, gsize len, const char *why)
{
  g_autoptr (GError) err = NULL;
  g_autoptr (CordonSoapRequest) r = cordon_soap_parse (text, len, &err);
  g_assert_null (r);
  g_assert_error (err, CORDON_SOAP_ERROR, CORDON_SOAP_ERROR_MALFORMED);
  if (!strstr (err->message, why))
    g_error ("expected \"%s\" in \"%s\"", why, err->message);
}

static void
test_garbage_refused (void)
{
  expect_malformed ("", 0, "not UTF-8");
  expect_malformed ("\x01\x02garbage", 9, "not well-formed");
  expect_malformed ("<a><b></a>", 10, "not well-formed");
  expect_malformed ("<x/>", 4, "not a SOAP envelope");
  /* UTF-16 would hide a DOCTYPE from the byte check: NUL bytes are refused. */
  expect_malformed ("<\0?\0x\0", 6, "not UTF-8");
  const char *empty = "<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\"><s:Body/></s:Envelope>";
  expect_malformed (empty, strlen (empty), "holds no request");
  /* An encoding declaration cannot switch the parser to another encoding. */
  const char *latin = "<?xml version=\"1.0\" encoding=\"UTF-16\"?><s:Envelope "
                      "xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\"><s:Body><A/></s:Body></s:Envelope>";
  g_autoptr (GError) err = NULL;
  g_autoptr (CordonSoapRequest) r = cordon_soap_parse (latin, strlen (latin), &err);
  g_assert_no_error (err);
  g_assert_cmpstr (r->action, ==, "A");
}

static void
test_size_and_depth_bounds (void)
{
  g_autoptr (GString) big = g_string_new ("<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\"><s:Body><A>");
  while (big->len <= CORDON_SOAP_MAX_REQUEST)
    g_string_append (big, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
  g_string_append (big, "</A></s:Body></s:Envelope>");
  g_autoptr (GError) err = NULL;
  g_autoptr (CordonSoapRequest) r = cordon_soap_parse (big->str, big->len, &err);
  g_assert_null (r);
  g_assert_error (err, CORDON_SOAP_ERROR, CORDON_SOAP_ERROR_TOO_BIG);

  g_autoptr (GString) deep = g_string_new ("<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\"><s:Body><A>");
  for (int i = 0; i < 40; i++)
    g_string_append (deep, "<d>");
  for (int i = 0; i < 40; i++)
    g_string_append (deep, "</d>");
  g_string_append (deep, "</A></s:Body></s:Envelope>");
  expect_malformed (deep->str, deep->len, "nested deeper");

  g_autoptr (GString) longtoken = g_string_new ("<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\">"
                                                "<s:Body><A><ProfileToken>");
  for (int i = 0; i < CORDON_SOAP_MAX_TEXT + 1; i++)
    g_string_append_c (longtoken, 'p');
  g_string_append (longtoken, "</ProfileToken></A></s:Body></s:Envelope>");
  expect_malformed (longtoken->str, longtoken->len, "ProfileToken holds");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  fixtures = g_getenv ("CORDON_ONVIF_FIXTURES");
  g_assert_nonnull (fixtures);
  g_test_add_func ("/onvif-soap/username-token-and-action", test_username_token_and_action);
  g_test_add_func ("/onvif-soap/parameters-found-below-action", test_parameters_found_below_action);
  g_test_add_func ("/onvif-soap/probe-has-message-id-and-types", test_probe_has_message_id_and_types);
  g_test_add_func ("/onvif-soap/soap11-and-password-text", test_soap11_and_password_text);
  g_test_add_func ("/onvif-soap/doctype-refused", test_doctype_refused);
  g_test_add_func ("/onvif-soap/garbage-refused", test_garbage_refused);
  g_test_add_func ("/onvif-soap/size-and-depth-bounds", test_size_and_depth_bounds);
  return g_test_run ();
}
