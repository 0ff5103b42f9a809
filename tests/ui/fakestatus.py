"""fakestatus.py PORT ASSETS STATUS.json SITE.json: serves the operator page's
assets (with the daemon's security headers) and fixed /status and site.json
documents, for testing how the page renders hostile text."""
import http.server
import os
import sys

port, assets, status, site = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
       "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
         ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml", ".json": "application/json"}


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        path = self.path.split("?")[0]
        if path == "/status":
            f = status
        elif path == "/ui/site.json":
            f = site
        elif path == "/ui/":
            f = os.path.join(assets, "index.html")
        elif path.startswith("/ui/") and "/" not in path[4:]:
            f = os.path.join(assets, path[4:])
        else:
            f = None
        if not f or not os.path.isfile(f):
            self.send_response(404)
            self.send_header("Content-Security-Policy", CSP)
            self.end_headers()
            return
        body = open(f, "rb").read()
        self.send_response(200)
        self.send_header("Content-Type", TYPES.get(os.path.splitext(f)[1], "application/octet-stream"))
        self.send_header("Content-Security-Policy", CSP)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


http.server.HTTPServer(("127.0.0.1", port), Handler).serve_forever()
