"""A local stand-in for WhatsApp/SMS gateways and webhook receivers (development and tests).

It accepts posts on any path (`/whatsapp`, `/sms`, `/webhook`, ...), keeps them in memory and
lists them: `GET /` is a page, `GET /messages` JSON. Like a real provider it honours the
idempotency key (header `Idempotency-Key`): a repeat of a key it already accepted is answered
200 again and marked `duplicate`, so "delivered" counts each key once while every raw post stays
visible. For tests it can fail and slow down: `POST /_control` with
`{"fail_next": 2, "fail_status": 500}`, `{"fail_always": true}` or `{"delay_ms": 100}`;
`DELETE /messages` clears the list.

    python -m devstack.sink --port 8026 [--webhook-secret S]
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import html
import json
import signal
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType
from typing import Any

MAX_KEPT = 2000
DEV_WEBHOOK_SECRET = "dev-webhook-secret-0123456789"  # the secret `make run` gives notify
KEY_HEADERS = ("Idempotency-Key", "X-Pengaduan-Delivery")
SIGNATURE_HEADER = "X-Pengaduan-Signature"
HIDDEN_HEADERS = ("Host", "Accept", "Accept-Encoding", "Connection", "User-Agent", "Content-Length")


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away (a sender killed mid-request) is no error worth a trace."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def serve_http(
    host: str, port: int, handler: type[BaseHTTPRequestHandler]
) -> tuple[ThreadingHTTPServer, threading.Thread]:
    """An HTTP server on a daemon thread (port 0: a free one)."""
    server = _Server((host, port), handler)
    thread = threading.Thread(target=server.serve_forever, name=f"http-{port}", daemon=True)
    thread.start()
    return server, thread


def page(title: str, body: str) -> bytes:
    """A plain HTML page that refreshes itself every few seconds."""
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta http-equiv='refresh' content='5'>"
        f"<title>{html.escape(title)}</title><style>"
        "body{font-family:system-ui,sans-serif;margin:1.5rem;color:#1f2933}"
        "table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;"
        "padding:.4rem;text-align:left;vertical-align:top}pre{white-space:pre-wrap;margin:0}"
        ".bad{color:#b00020}.dup{color:#8a6d00}</style></head><body>"
        f"<h1>{html.escape(title)}</h1>{body}</body></html>"
    ).encode()


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def signature_ok(header: str | None, secret: str, body: bytes) -> bool | None:
    """Check `t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">`; None when not checkable."""
    if not header or not secret:
        return None
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    expected = hmac.new(
        secret.encode(), f"{parts.get('t', '')}.".encode() + body, hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest(parts.get("v1", ""), expected)


@dataclass
class Received:
    id: int
    at: str
    path: str
    key: str | None
    headers: dict[str, str]
    body: Any
    status: int
    delivered: bool
    duplicate: bool = False
    signature_valid: bool | None = None


@dataclass
class Behaviour:
    fail_next: int = 0
    fail_status: int = 500
    fail_always: bool = False
    delay_ms: int = 0


@dataclass
class Sink:
    host: str = "127.0.0.1"
    port: int = 0
    webhook_secret: str = ""
    behaviour: Behaviour = field(default_factory=Behaviour)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._received: list[Received] = []
        self._accepted_keys: set[str] = set()
        self._server: ThreadingHTTPServer | None = None

    # -- life ----------------------------------------------------------------------------------
    def start(self) -> Sink:
        sink = self

        class Handler(_SinkHandler):
            owner = sink

        self._server, _ = serve_http(self.host, self.port, Handler)
        self.port = self._server.server_address[1]
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # -- state ---------------------------------------------------------------------------------
    def configure(self, **changes: Any) -> None:
        with self._lock:
            for name, value in changes.items():
                if not hasattr(self.behaviour, name):
                    raise ValueError(f"unknown setting {name}")
                setattr(self.behaviour, name, type(getattr(self.behaviour, name))(value))

    def clear(self) -> None:
        with self._lock:
            self._received.clear()
            self._accepted_keys.clear()

    def messages(self) -> list[dict[str, Any]]:
        with self._lock:
            return [asdict(r) for r in self._received]

    def receive(self, path: str, headers: dict[str, str], raw: bytes) -> Received:
        """Record one post and decide the answer (failing as configured)."""
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        key = next((headers[h] for h in KEY_HEADERS if h in headers), None)
        with self._lock:
            b = self.behaviour
            failing = b.fail_always or b.fail_next > 0
            if b.fail_next > 0:
                b.fail_next -= 1
            status = b.fail_status if failing else 200
            duplicate = not failing and key is not None and key in self._accepted_keys
            if not failing and key is not None:
                self._accepted_keys.add(key)
            received = Received(
                id=len(self._received) + 1,
                at=now_iso(),
                path=path,
                key=key,
                headers={k: v for k, v in headers.items() if k not in HIDDEN_HEADERS},
                body=body,
                status=status,
                delivered=not failing and not duplicate,
                duplicate=duplicate,
                signature_valid=signature_ok(
                    headers.get(SIGNATURE_HEADER), self.webhook_secret, raw
                ),
            )
            self._received.append(received)
            del self._received[:-MAX_KEPT]
        return received

    @property
    def delay_s(self) -> float:
        return self.behaviour.delay_ms / 1000

    def render_page(self) -> bytes:
        rows = []
        for r in reversed(self.messages()):
            css = "bad" if r["status"] >= 400 else "dup" if r["duplicate"] else ""
            state = "duplicate" if r["duplicate"] else "delivered" if r["delivered"] else "failed"
            signed = {True: "valid", False: "INVALID", None: ""}[r["signature_valid"]]
            rows.append(
                f"<tr class='{css}'><td>{r['id']}</td><td>{html.escape(r['at'])}</td>"
                f"<td>{html.escape(r['path'])}</td><td>{html.escape(str(r['key']))}</td>"
                f"<td>{r['status']} {state}</td><td>{signed}</td>"
                f"<td><pre>{html.escape(json.dumps(r['body'], ensure_ascii=False, indent=1))}"
                "</pre></td></tr>"
            )
        table = (
            "<p>Posts from notify to the WhatsApp/SMS gateways and webhooks (newest first; "
            "<a href='/messages'>JSON</a>).</p><table><tr><th>#</th><th>at</th><th>path</th>"
            "<th>delivery key</th><th>answer</th><th>signature</th><th>body</th></tr>"
            + "".join(rows)
            + "</table>"
        )
        return page("Gateway sink", table)


class _SinkHandler(BaseHTTPRequestHandler):
    owner: Sink
    server_version = "pengaduan-sink/1"

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the page lists what arrived."""

    def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, value: Any) -> None:
        self._send(status, json.dumps(value, ensure_ascii=False).encode())

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/healthz":
            self._json(200, {"status": "ok"})
        elif path == "/messages":
            self._json(200, {"items": self.owner.messages()})
        elif path == "/":
            self._send(200, self.owner.render_page(), "text/html; charset=utf-8")
        else:
            self._json(404, {"detail": "not found"})

    def do_DELETE(self) -> None:
        if self.path.split("?", 1)[0] == "/messages":
            self.owner.clear()
            self._json(200, {"status": "cleared"})
        else:
            self._json(404, {"detail": "not found"})

    def do_POST(self) -> None:
        raw = self._body()
        path = self.path.split("?", 1)[0]
        if path == "/_control":
            try:
                self.owner.configure(**json.loads(raw or b"{}"))
            except (ValueError, TypeError) as exc:
                self._json(422, {"detail": str(exc)})
                return
            self._json(200, asdict(self.owner.behaviour))
            return
        headers = {k.title(): v for k, v in self.headers.items()}
        received = self.owner.receive(path, headers, raw)
        if self.owner.delay_s:  # accepted, answered late: a sender may die before the answer
            time.sleep(self.owner.delay_s)
        if received.status >= 400:
            self._json(received.status, {"error": "sink configured to fail", "id": received.id})
        else:
            self._json(
                200, {"id": received.id, "status": "accepted", "duplicate": received.duplicate}
            )


def wait_for_stop() -> None:
    """Block until SIGTERM or SIGINT."""
    stop = threading.Event()

    def handle(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)
    stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m devstack.sink", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8026)
    parser.add_argument("--webhook-secret", default="", help="check webhook signatures with it")
    parser.add_argument("--fail-next", type=int, default=0)
    parser.add_argument("--fail-status", type=int, default=500)
    parser.add_argument("--delay-ms", type=int, default=0)
    ns = parser.parse_args()
    sink = Sink(
        ns.host,
        ns.port,
        ns.webhook_secret,
        Behaviour(fail_next=ns.fail_next, fail_status=ns.fail_status, delay_ms=ns.delay_ms),
    ).start()
    print(f"gateway sink listening on {sink.url}/ (posts to any path)", flush=True)
    try:
        wait_for_stop()
    finally:
        sink.stop()


if __name__ == "__main__":
    main()
