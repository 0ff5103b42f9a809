#!/usr/bin/python3
"""Sends one hand-made SOAP request to cordon's ONVIF service and prints
"STATUS SUBCODE-OR-ELEMENT" (the fault subcode, or the first body element).

  soap.py URL ACTION [--user U --password P] [--created-offset S] [--nonce B64]
          [--raw FILE | --pad BYTES] [--inner XML] [--save FILE]
"""
import argparse, base64, datetime, hashlib, http.client, os, re, sys, urllib.parse
import xml.etree.ElementTree as ET

ap = argparse.ArgumentParser()
ap.add_argument("url"); ap.add_argument("action")
ap.add_argument("--ns", default="http://www.onvif.org/ver10/device/wsdl")
ap.add_argument("--user"); ap.add_argument("--password")
ap.add_argument("--created-offset", type=int, default=0)
ap.add_argument("--nonce")
ap.add_argument("--raw"); ap.add_argument("--pad", type=int, default=0)
ap.add_argument("--inner", default="")
ap.add_argument("--save", help="write the response body here")
a = ap.parse_args()

def token():
    if not a.user:
        return ""
    nonce = base64.b64decode(a.nonce) if a.nonce else os.urandom(16)
    created = (datetime.datetime.now(datetime.timezone.utc)
               + datetime.timedelta(seconds=a.created_offset)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    digest = base64.b64encode(hashlib.sha1(nonce + created.encode() + a.password.encode()).digest()).decode()
    return ('<Security xmlns="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd">'
            f'<UsernameToken><Username>{a.user}</Username><Password Type="http://docs.oasis-open.org/wss/2004/01/'
            f'oasis-200401-wss-username-token-profile-1.0#PasswordDigest">{digest}</Password>'
            f'<Nonce>{base64.b64encode(nonce).decode()}</Nonce><Created>{created}</Created></UsernameToken></Security>')

if a.raw:
    body = open(a.raw, "rb").read()
else:
    body = ('<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Header>' + token() + '</s:Header>'
            f'<s:Body><{a.action} xmlns="{a.ns}">{a.inner}<!--{"x" * a.pad}--></{a.action}></s:Body></s:Envelope>'
            ).encode()
u = urllib.parse.urlparse(a.url)
c = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
try:
    c.request("POST", u.path, body=body, headers={"Content-Type": "application/soap+xml"})
    r = c.getresponse()
    text = r.read().decode(errors="replace")
except (ConnectionError, http.client.HTTPException) as e:
    print("closed", type(e).__name__); sys.exit(0)
if text:
    try:
        ET.fromstring(text)  # every SOAP answer must be well-formed XML
    except ET.ParseError as e:
        print(r.status, "BADXML", e); sys.exit(0)
if a.save:
    open(a.save, "w").write(text)
sub = re.findall(r"<s:Value>(?:ter:)?([A-Za-z]+)</s:Value>", text)
first = re.search(r"<s:Body><(?:\w+:)?(\w+)", text)
print(r.status, sub[-1] if sub else (first.group(1) if first else "-"))
