"""Serve the built web app (web/dist) beside the API, with strict security headers, as `make run` does locally.

Static files come from web/dist with an SPA fallback to index.html; `/v1/*` and `/openapi.json` are proxied
to API_URL so the app calls the API with relative URLs from the same origin (the CSP allows nothing else).
Environment: WEB_PORT (default 8080), API_URL (default http://127.0.0.1:8000), WEB_DIST (default web/dist),
DOCS_ORIGIN (the S3 endpoint origin that presigned document links point at; added to connect-src), LIVE_ORIGIN
(the live room's WebSocket origin; added to connect-src), WEB_CONFIG (a JSON file served as /config.json: the OIDC
settings; its issuer is added to connect-src).
Standard library only; binds 127.0.0.1 only.
"""

from __future__ import annotations

import http.client
import mimetypes
import os
import sys
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DIST = Path(os.environ.get("WEB_DIST", ROOT / "web" / "dist")).resolve()
API_URL = urllib.parse.urlsplit(os.environ.get("API_URL", "http://127.0.0.1:8000"))
PORT = int(os.environ.get("WEB_PORT", "8080"))
PROXY_TIMEOUT_S = 60

# Request headers passed to the API; everything else (cookies included) stays behind.
FORWARD_REQUEST_HEADERS = (
    "Authorization",
    "Idempotency-Key",
    "If-None-Match",
    "If-Match",
    "Content-Type",
    "Accept",
    "Accept-Language",
)
# Hop-by-hop headers never copied from the API's response (RFC 9110 section 7.6.1).
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "content-length",
    "server",
    "date",
}

mimetypes.add_type("text/javascript", ".js")
mimetypes.add_type("text/javascript", ".mjs")
mimetypes.add_type("text/css", ".css")
mimetypes.add_type("image/svg+xml", ".svg")
mimetypes.add_type("application/manifest+json", ".webmanifest")


def _web_config() -> bytes | None:
    """WEB_CONFIG: a JSON file served as /config.json (the OIDC settings a deployment writes there); unset = no
    /config.json, and the app signs in with development tokens."""
    raw = os.environ.get("WEB_CONFIG", "").strip()
    return Path(raw).read_bytes() if raw else None


def _oidc_origins(config: bytes | None) -> list[str]:
    """The origins the app calls to sign in (the issuer's discovery, token and revocation endpoints)."""
    import json

    if not config:
        return []
    oidc = json.loads(config).get("oidc") or {}
    urls = [oidc.get(k) for k in ("issuer", "token_endpoint", "revocation_endpoint")]
    return sorted({f"{p.scheme}://{p.netloc}" for p in map(urllib.parse.urlsplit, filter(None, urls))})


WEB_CONFIG = _web_config()


def content_security_policy(docs_origin: str | None, extra: list[str] = ()) -> str:
    connect = " ".join(["'self'", *([docs_origin] if docs_origin else []), *extra])
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
        f"connect-src {connect}; frame-ancestors 'none'; object-src 'none'; base-uri 'none'; "
        "form-action 'self'"
    )


def _origin(variable: str, schemes: tuple[str, ...], example: str) -> str | None:
    """The origin an environment variable names (scheme://host:port), or None when it is unset."""
    raw = os.environ.get(variable, "").strip()
    if not raw:
        return None
    parts = urllib.parse.urlsplit(raw)
    if parts.scheme not in schemes or not parts.netloc:
        raise SystemExit(f"{variable} must be an origin such as {example}, not {raw!r}")
    return f"{parts.scheme}://{parts.netloc}"


def _docs_origin() -> str | None:
    return _origin("DOCS_ORIGIN", ("http", "https"), "https://bucket.s3.amazonaws.com")


def _live_origin() -> str | None:
    """The live room's WebSocket origin (LIVE_ORIGIN, ws://127.0.0.1:port locally), allowed in connect-src."""
    return _origin("LIVE_ORIGIN", ("ws", "wss"), "ws://127.0.0.1:8001")


SECURITY_HEADERS = {
    "Content-Security-Policy": content_security_policy(
        _docs_origin(), [*_oidc_origins(WEB_CONFIG), *filter(None, [_live_origin()])]),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": (
        "camera=(), microphone=(), geolocation=(), payment=(), usb=(), serial=(), "
        "magnetometer=(), gyroscope=(), accelerometer=(), interest-cohort=()"
    ),
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}


class Handler(BaseHTTPRequestHandler):
    server_version = "ecabinet-web"

    def version_string(self) -> str:
        return self.server_version
    protocol_version = "HTTP/1.1"

    # --- dispatch -------------------------------------------------------------------------------------------
    def _dispatch(self) -> None:
        path = urllib.parse.urlsplit(self.path).path
        if path.startswith("/v1/") or path == "/v1" or path == "/openapi.json":
            self._proxy()
        elif self.command in ("GET", "HEAD"):
            self._static(path)
        else:
            self._plain(405, "Method Not Allowed", {"Allow": "GET, HEAD"})

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _dispatch

    # --- responses ------------------------------------------------------------------------------------------
    def _send_security_headers(self) -> None:
        for name, value in SECURITY_HEADERS.items():
            self.send_header(name, value)

    def _plain(self, status: int, text: str, extra: dict[str, str] | None = None) -> None:
        body = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self._send_security_headers()
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _problem(self, status: int, detail: str) -> None:
        import json

        body = json.dumps(
            {"type": "about:blank", "title": "Bad Gateway", "status": status, "detail": detail, "code": "bad_gateway"},
            ensure_ascii=False,
        ).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/problem+json")
        self.send_header("Content-Length", str(len(body)))
        self._send_security_headers()
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    # --- static files with SPA fallback ---------------------------------------------------------------------
    def _static(self, path: str) -> None:
        if path == "/config.json" and WEB_CONFIG is not None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(WEB_CONFIG)))
            self.send_header("Cache-Control", "no-cache")
            self._send_security_headers()
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(WEB_CONFIG)
            return
        rel = urllib.parse.unquote(path).lstrip("/")
        target = (DIST / rel).resolve() if rel else DIST / "index.html"
        if not target.is_relative_to(DIST):
            return self._plain(404, "Not Found")
        if target.is_dir():
            target = target / "index.html"
        if not target.is_file():
            # Unknown asset files are 404; any other path is a client route served by index.html.
            if rel.startswith("assets/") or Path(rel).suffix:
                return self._plain(404, "Not Found")
            target = DIST / "index.html"
        if not target.is_file():
            return self._plain(503, "web/dist is missing: run `cd web && npm ci && npm run build`.")
        data = target.read_bytes()
        ctype = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if ctype.startswith("text/") or ctype in ("application/json", "image/svg+xml"):
            ctype += "; charset=utf-8"
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        # Hashed assets never change; index.html must always be revalidated to pick up new builds.
        immutable = target.parent == DIST / "assets"
        self.send_header("Cache-Control", "public, max-age=31536000, immutable" if immutable else "no-cache")
        self._send_security_headers()
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    # --- API proxy ------------------------------------------------------------------------------------------
    def _proxy(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {name: self.headers[name] for name in FORWARD_REQUEST_HEADERS if self.headers.get(name)}
        headers["X-Forwarded-For"] = self.client_address[0]
        headers["X-Forwarded-Proto"] = "http"
        if self.headers.get("Host"):
            headers["X-Forwarded-Host"] = self.headers["Host"]
        conn_cls = http.client.HTTPSConnection if API_URL.scheme == "https" else http.client.HTTPConnection
        conn = conn_cls(API_URL.hostname, API_URL.port, timeout=PROXY_TIMEOUT_S)
        base = API_URL.path.rstrip("/")
        try:
            conn.request(self.command, base + self.path, body=body, headers=headers)
            res = conn.getresponse()
            data = res.read()
        except OSError as exc:
            conn.close()
            self.log_error("proxy to %s failed: %s", API_URL.geturl(), exc)
            return self._problem(502, "Không kết nối được máy chủ nghiệp vụ. Vui lòng thử lại sau.")
        conn.close()
        self.send_response(res.status, res.reason)
        for name, value in res.getheaders():
            if name.lower() not in HOP_BY_HOP and name.lower() not in (h.lower() for h in SECURITY_HEADERS):
                self.send_header(name, value)
        if res.status not in (204, 304):
            self.send_header("Content-Length", str(len(data)))
        if not res.getheader("Cache-Control"):
            self.send_header("Cache-Control", "no-store")
        self._send_security_headers()
        self.end_headers()
        if self.command != "HEAD" and res.status not in (204, 304):
            self.wfile.write(data)

    def log_message(self, fmt: str, *args) -> None:  # one line per request on stderr
        sys.stderr.write("web %s %s\n" % (self.address_string(), fmt % args))


def main() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
    server.daemon_threads = True
    print(f"web: serving {DIST} on http://127.0.0.1:{PORT} (API {API_URL.geturl()})", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
