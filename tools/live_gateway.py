"""What API Gateway's WebSocket API does, done locally (stage local, tests and the bench): a WebSocket server on
127.0.0.1 that calls the app's own $connect, $default and $disconnect handlers with API Gateway-shaped events,
and, on a second loopback port, the Management API's `POST /@connections/{id}` (410 GoneException when the
connection is not open), which the app's apigatewaymanagementapi client reaches through LIVE_MANAGEMENT_URL."""
from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import threading
import time
import uuid
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

log = logging.getLogger("ecabinet.gateway")


class _Context:
    def __init__(self, name: str):
        self.function_name = name
        self.aws_request_id = str(uuid.uuid4())
        self.memory_limit_in_mb = 512

    def get_remaining_time_in_millis(self) -> int:
        return 29_000


class Gateway:
    """Serve `ws://127.0.0.1:{ws_port}` and the management API on `http://127.0.0.1:{http_port}`."""

    def __init__(self, app, ws_port: int = 0, http_port: int = 0, stage: str = "local"):
        self.app = app
        self.stage = stage
        self.ws_port, self.http_port = ws_port, http_port
        self.open: dict[str, object] = {}  # connection id -> websockets connection
        self.loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._http: ThreadingHTTPServer | None = None
        self.posted = 0

    # ---- lifecycle ----

    def start(self) -> "Gateway":
        self._http = ThreadingHTTPServer(("127.0.0.1", self.http_port), self._http_handler())
        self._http.daemon_threads = True
        self.http_port = self._http.server_address[1]
        threading.Thread(target=self._http.serve_forever, daemon=True, name="gateway-http").start()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._serve()), daemon=True, name="gateway-ws")
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the local WebSocket gateway did not start")
        return self

    def stop(self) -> None:
        if self.loop and self._stop:
            self.loop.call_soon_threadsafe(self._stop.set)
        if self._http:
            self._http.shutdown()
            self._http.server_close()
        if self._thread:
            self._thread.join(10)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.ws_port}"

    @property
    def management_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    # ---- the WebSocket side ----

    async def _serve(self) -> None:
        from websockets.asyncio.server import serve

        self.loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with serve(self._session, "127.0.0.1", self.ws_port, process_request=self._handshake,
                         ping_interval=20, max_size=128 * 1024) as server:
            self.ws_port = server.sockets[0].getsockname()[1]
            self._ready.set()
            await self._stop.wait()

    def _event(self, route: str, connection_id: str, **extra) -> dict:
        kind = {"$connect": "CONNECT", "$disconnect": "DISCONNECT"}.get(route, "MESSAGE")
        return {"requestContext": {"routeKey": route, "eventType": kind, "connectionId": connection_id,
                                   "domainName": f"127.0.0.1:{self.ws_port}", "stage": self.stage,
                                   "apiId": "local", "requestId": str(uuid.uuid4()),
                                   "connectedAt": int(time.time() * 1000)},
                "isBase64Encoded": False, **extra}

    def _call(self, route: str, event: dict) -> dict:
        config = self.app.websocket_handlers.get(route)
        if config is None:
            return {"statusCode": 200}
        try:
            return self.app.handler_map[config.name](event, _Context(config.name)) or {"statusCode": 200}
        except Exception:  # as API Gateway: a failing handler is a 500 to the client, not a dead gateway
            log.exception("websocket handler %s failed", route)
            return {"statusCode": 500}

    async def _handshake(self, connection, request):
        connection_id = base64.b64encode(os.urandom(10)).decode()
        query = {k: v[-1] for k, v in parse_qs(urlsplit(request.path).query).items()}
        event = self._event("$connect", connection_id, headers=dict(request.headers.raw_items()),
                            queryStringParameters=query or None,
                            multiValueQueryStringParameters={k: [v] for k, v in query.items()} or None)
        answer = await asyncio.to_thread(self._call, "$connect", event)
        status = int(answer.get("statusCode", 200))
        if not 200 <= status < 300:
            return connection.respond(HTTPStatus(status if status in HTTPStatus._value2member_map_ else 403),
                                      "Forbidden\n")
        connection.live_id = connection_id
        self.open[connection_id] = connection  # open from now: a push racing the handshake's end is delivered
        return None

    async def _session(self, connection) -> None:
        connection_id = connection.live_id
        try:
            async for message in connection:
                text = message if isinstance(message, str) else message.decode("utf-8", "replace")
                await asyncio.to_thread(self._call, "$default", self._event("$default", connection_id, body=text))
        except Exception:  # a dropped connection ends like a closed one
            pass
        finally:
            self.open.pop(connection_id, None)
            await asyncio.to_thread(self._call, "$disconnect", self._event("$disconnect", connection_id))

    async def _send(self, connection_id: str, data: str) -> bool:
        connection = self.open.get(connection_id)
        if connection is None:
            return False
        for _ in range(200):  # the handshake's response may still be on its way
            if connection.state.name == "OPEN":
                break
            if connection.state.name in ("CLOSING", "CLOSED"):
                return False
            await asyncio.sleep(0.01)
        try:
            await connection.send(data)
            return True
        except Exception:
            return False

    def post(self, connection_id: str, data: bytes) -> bool:
        """What `post_to_connection` does: deliver, or False when the connection is not open."""
        if self.loop is None:
            return False
        future = asyncio.run_coroutine_threadsafe(self._send(connection_id, data.decode("utf-8")), self.loop)
        delivered = future.result(10)
        self.posted += delivered
        return delivered

    # ---- the management API side ----

    def _http_handler(self):
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two sends: with Nagle's algorithm the body would wait for the client's
            # delayed ACK (about 40 ms a post), an artefact API Gateway does not have.
            disable_nagle_algorithm = True

            def log_message(self, *args):  # the API's log is enough
                pass

            def _connection_id(self) -> str | None:
                path = unquote(urlsplit(self.path).path)
                marker = "/@connections/"
                return path.split(marker, 1)[1] if marker in path else None

            def _answer(self, status: int, body: dict | None = None, error: str | None = None) -> None:
                raw = json.dumps(body or {}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                if error:
                    self.send_header("x-amzn-ErrorType", error)
                self.end_headers()
                self.wfile.write(raw)

            def _gone(self) -> None:
                self._answer(410, {"message": "Gone"}, "GoneException")

            def do_POST(self):
                connection_id = self._connection_id()
                data = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if connection_id is None:
                    return self._answer(404, {"message": "Not Found"}, "NotFoundException")
                if gateway.post(connection_id, data):
                    return self._answer(200)
                return self._gone()

            def do_GET(self):
                connection_id = self._connection_id()
                if connection_id is None or connection_id not in gateway.open:
                    return self._gone()
                return self._answer(200, {"ConnectedAt": "", "Identity": {"SourceIp": "127.0.0.1"}})

            def do_DELETE(self):
                connection_id = self._connection_id()
                connection = gateway.open.get(connection_id or "")
                if connection is None:
                    return self._gone()
                asyncio.run_coroutine_threadsafe(connection.close(), gateway.loop)
                return self._answer(200)

        return Handler
