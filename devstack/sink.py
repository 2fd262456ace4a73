"""A local stand-in for WhatsApp/SMS gateways and webhook receivers (development and tests).

It accepts posts on any path (`/whatsapp`, `/sms`, `/webhook`, ...), keeps them in memory and
lists them: `GET /` is a page, `GET /messages` JSON. Like a real provider it honours the
idempotency key (header `Idempotency-Key`): a repeat of a key it already accepted is answered
200 again and marked `duplicate`, so "delivered" counts each key once while every raw post stays
visible. For tests it can fail and slow down: `POST /_control` with
`{"fail_next": 2, "fail_status": 500}`, `{"fail_always": true}` or `{"delay_ms": 100}`;
`DELETE /messages` clears the list.

It also plays the WhatsApp Cloud API's Graph endpoints (docs/whatsapp.md): sends to
`/whatsapp/<version>/<phone number id>/messages` answer with a `wamid`; photos uploaded with
`POST /_media` (the image as the body) are served as `GET /whatsapp/<version>/<media id>` (their
URL) and `GET /_media/<media id>` (the bytes). `GET /percakapan` shows each number's
conversation, and its form plays a citizen's phone: it posts a signed Cloud-API webhook to
intake (with `--intake-url` and `--whatsapp-app-secret`) and shows it in the thread.

    python -m devstack.sink --port 8026 [--webhook-secret S] [--intake-url U]
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import html
import json
import re
import signal
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType
from typing import Any, Protocol

MAX_KEPT = 2000
MAX_MEDIA = 50
GRAPH_PATH = re.compile(r"^/whatsapp/v[0-9.]+/([A-Za-z0-9._-]+)$")
SEND_PATH = re.compile(r"^/whatsapp/v[0-9.]+/[A-Za-z0-9._-]+/messages$")
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


def stop_http(server: ThreadingHTTPServer | None) -> None:
    """Stop a `serve_http` server (None: nothing to stop) and free its port."""
    if server is not None:
        server.shutdown()
        server.server_close()


class Inbox(Protocol):
    """What a dev server keeps: the messages it received, as JSON and as a page."""

    def messages(self) -> list[dict[str, Any]]: ...

    def clear(self) -> None: ...

    def render_page(self) -> bytes: ...


class QuietHandler(BaseHTTPRequestHandler):
    """A request handler that logs nothing and answers JSON or any body, and the routes every
    dev server's inbox has (`/healthz`, `GET /`, `GET` and `DELETE /messages`)."""

    owner: Inbox

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the page lists what arrived."""

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str = "application/json",
        *extra: tuple[str, str],
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in extra:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, value: Any) -> None:
        self._send(status, json.dumps(value, ensure_ascii=False).encode())

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _inbox_get(self, path: str) -> bool:
        """Answer `GET path` if it is one of the inbox's routes; False when it is not."""
        if path == "/healthz":
            self._json(200, {"status": "ok"})
        elif path == "/messages":
            self._json(200, {"items": self.owner.messages()})
        elif path == "/":
            self._send(200, self.owner.render_page(), "text/html; charset=utf-8")
        else:
            return False
        return True

    def do_DELETE(self) -> None:
        if self.path.split("?", 1)[0] == "/messages":
            self.owner.clear()
            self._json(200, {"status": "cleared"})
        else:
            self._json(404, {"detail": "not found"})


def page(title: str, body: str, *, refresh: bool = True) -> bytes:
    """A plain HTML page that refreshes itself every few seconds (unless it has a form)."""
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        + ("<meta http-equiv='refresh' content='5'>" if refresh else "")
        + f"<title>{html.escape(title)}</title><style>"
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


@dataclass(frozen=True)
class Said:
    """A message the simulator sent as a citizen's phone, and intake's answer."""

    at: str
    number: str
    text: str
    status: int


@dataclass
class Sink:
    host: str = "127.0.0.1"
    port: int = 0
    webhook_secret: str = ""
    behaviour: Behaviour = field(default_factory=Behaviour)
    intake_url: str = ""
    whatsapp_app_secret: str = ""

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._received: list[Received] = []
        self._accepted_keys: set[str] = set()
        self._server: ThreadingHTTPServer | None = None
        self._media: dict[str, tuple[bytes, str]] = {}
        self._said: list[Said] = []

    # -- life ----------------------------------------------------------------------------------
    def start(self) -> Sink:
        sink = self

        class Handler(_SinkHandler):
            owner = sink

        self._server, _ = serve_http(self.host, self.port, Handler)
        self.port = self._server.server_address[1]
        return self

    def stop(self) -> None:
        stop_http(self._server)
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

    # -- the WhatsApp Cloud API's media, and a citizen's phone ------------------------------
    def add_media(self, data: bytes, content_type: str) -> str:
        """Keep a photo as the platform would after a citizen sent it; returns its media id."""
        media_id = f"media-{uuid.uuid4().hex[:12]}"
        with self._lock:
            self._media[media_id] = (data, content_type or "image/jpeg")
            while len(self._media) > MAX_MEDIA:
                self._media.pop(next(iter(self._media)))
        return media_id

    def media(self, media_id: str) -> tuple[bytes, str] | None:
        with self._lock:
            return self._media.get(media_id)

    def simulate(self, number: str, text: str) -> int:
        """Post a signed Cloud-API webhook with one text message from `number` to intake."""
        message = {
            "from": number,
            "id": f"wamid.sink-{uuid.uuid4().hex}",
            "timestamp": str(int(time.time())),
            "type": "text",
            "text": {"body": text},
        }
        body = json.dumps(whatsapp_webhook(number, message)).encode()
        signature = hmac.new(self.whatsapp_app_secret.encode(), body, hashlib.sha256).hexdigest()
        request = urllib.request.Request(  # noqa: S310 (the configured intake)
            f"{self.intake_url.rstrip('/')}/api/v1/channels/whatsapp/webhook",
            data=body,
            headers={
                "Content-Type": "application/json",
                "X-Hub-Signature-256": f"sha256={signature}",
            },
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                status = int(response.status)
        except urllib.error.HTTPError as exc:
            status = exc.code
        except (urllib.error.URLError, OSError):
            status = 0
        with self._lock:
            self._said.append(Said(now_iso(), number, text, status))
            del self._said[:-MAX_KEPT]
        return status

    def conversations(self) -> dict[str, list[dict[str, Any]]]:
        """Per number, what was said to it over WhatsApp and what the simulator said, in order."""
        threads: dict[str, list[dict[str, Any]]] = {}
        for r in self.messages():
            body = r["body"] if isinstance(r["body"], dict) else {}
            if not SEND_PATH.match(r["path"]) or not body.get("to"):
                continue
            threads.setdefault(str(body["to"]), []).append(
                {"at": r["at"], "from": "layanan", "text": message_text(body), "state": r}
            )
        with self._lock:
            said = list(self._said)
        for s in said:
            threads.setdefault(s.number, []).append(
                {"at": s.at, "from": "warga", "text": s.text, "state": {"status": s.status}}
            )
        for thread in threads.values():
            thread.sort(key=lambda m: m["at"])
        return threads

    def render_conversations(self) -> bytes:
        blocks = []
        for number, thread in sorted(self.conversations().items()):
            rows = []
            for m in thread:
                state = m["state"]
                note = "duplicate" if state.get("duplicate") else ""
                if state.get("status", 200) >= 400 or state.get("status") == 0:
                    note = f"HTTP {state.get('status')}"
                rows.append(
                    f"<li class='{m['from']}'><small>{html.escape(m['at'])} {m['from']} "
                    f"<span class='dup'>{html.escape(note)}</span></small>"
                    f"<pre>{html.escape(m['text'])}</pre></li>"
                )
            blocks.append(f"<h2>+{html.escape(number)}</h2><ul class='chat'>{''.join(rows)}</ul>")
        form = ""
        if self.intake_url:
            form = (
                "<form method='post' action='/percakapan'><label>Nomor <input name='from' "
                "value='6281234567890' size='16'></label> <label>Pesan <input name='text' "
                "size='60' autofocus></label> <button>Kirim sebagai warga</button></form>"
            )
        style = (
            "<style>.chat{list-style:none;padding:0;max-width:46rem}.chat li{margin:.4rem 0;"
            "padding:.4rem .6rem;border-radius:.5rem;background:#eef}.chat li.warga{background:"
            "#dfd;margin-left:6rem}</style>"
        )
        intro = (
            "<p>WhatsApp conversations as the citizen's phone sees them (replies sent by notify, "
            "messages sent from this page). <a href='/'>All posts</a>.</p>"
        )
        intro += "<p><a href='/percakapan'>Muat ulang</a></p>" if form else ""
        return page("Percakapan WhatsApp", style + intro + form + "".join(blocks), refresh=not form)

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
            "<a href='/messages'>JSON</a>; WhatsApp as <a href='/percakapan'>conversations</a>)."
            "</p><table><tr><th>#</th><th>at</th><th>path</th>"
            "<th>delivery key</th><th>answer</th><th>signature</th><th>body</th></tr>"
            + "".join(rows)
            + "</table>"
        )
        return page("Gateway sink", table)


class _SinkHandler(QuietHandler):
    owner: Sink
    server_version = "pengaduan-sink/1"

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        graph = GRAPH_PATH.match(path)
        if self._inbox_get(path):
            return
        if path == "/percakapan":
            self._send(200, self.owner.render_conversations(), "text/html; charset=utf-8")
        elif graph and (found := self.owner.media(graph.group(1))) is not None:
            self._json(
                200,
                {
                    "messaging_product": "whatsapp",
                    "id": graph.group(1),
                    "url": f"{self.owner.url}/_media/{graph.group(1)}",
                    "mime_type": found[1],
                    "file_size": len(found[0]),
                },
            )
        elif path.startswith("/_media/") and (found := self.owner.media(path[8:])) is not None:
            self._send(200, found[0], found[1])
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
        if path == "/_media":
            media_id = self.owner.add_media(raw, self.headers.get("Content-Type", ""))
            self._json(200, {"id": media_id})
            return
        if path == "/percakapan":
            form = urllib.parse.parse_qs(raw.decode(errors="replace"))
            number = re.sub(r"[^0-9]", "", (form.get("from") or [""])[0])
            text = (form.get("text") or [""])[0].strip()
            if number and text and self.owner.intake_url:
                self.owner.simulate(number, text)
            self.send_response(303)
            self.send_header("Location", "/percakapan")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        headers = {k.title(): v for k, v in self.headers.items()}
        received = self.owner.receive(path, headers, raw)
        if self.owner.delay_s:  # accepted, answered late: a sender may die before the answer
            time.sleep(self.owner.delay_s)
        if received.status >= 400:
            self._json(received.status, {"error": "sink configured to fail", "id": received.id})
        elif SEND_PATH.match(path):  # the Cloud API's answer to a send
            self._json(
                200,
                {
                    "messaging_product": "whatsapp",
                    "contacts": [{"wa_id": str((received.body or {}).get("to", ""))}],
                    "messages": [{"id": f"wamid.sink-{received.id}"}],
                },
            )
        else:
            self._json(
                200, {"id": received.id, "status": "accepted", "duplicate": received.duplicate}
            )


def whatsapp_webhook(number: str, message: dict[str, Any]) -> dict[str, Any]:
    """A Cloud API webhook payload carrying one message from `number`."""
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "628000000000", "phone_number_id": "dev"},
        "contacts": [{"profile": {"name": "Warga"}, "wa_id": number}],
        "messages": [message],
    }
    change = {"field": "messages", "value": value}
    return {"object": "whatsapp_business_account", "entry": [{"id": "dev", "changes": [change]}]}


def message_text(body: dict[str, Any]) -> str:
    """What a citizen's phone shows of a Cloud API send: text, buttons or a template."""
    kind = body.get("type")
    if kind == "text":
        return str(body.get("text", {}).get("body", ""))
    if kind == "interactive":
        interactive = body.get("interactive", {})
        buttons = [
            b.get("reply", {}).get("title", "")
            for b in interactive.get("action", {}).get("buttons", [])
        ]
        return str(interactive.get("body", {}).get("text", "")) + "".join(
            f"\n[{b}]" for b in buttons
        )
    if kind == "template":
        template = body.get("template", {})
        params = [
            p.get("text", "")
            for c in template.get("components", [])
            for p in c.get("parameters", [])
        ]
        return f"(template {template.get('name')}) " + " | ".join(params)
    return json.dumps(body, ensure_ascii=False)


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
    parser.add_argument("--intake-url", default="", help="where the phone simulator posts")
    parser.add_argument("--whatsapp-app-secret", default="", help="signs the simulator's posts")
    parser.add_argument("--fail-next", type=int, default=0)
    parser.add_argument("--fail-status", type=int, default=500)
    parser.add_argument("--delay-ms", type=int, default=0)
    ns = parser.parse_args()
    sink = Sink(
        ns.host,
        ns.port,
        ns.webhook_secret,
        Behaviour(fail_next=ns.fail_next, fail_status=ns.fail_status, delay_ms=ns.delay_ms),
        intake_url=ns.intake_url,
        whatsapp_app_secret=ns.whatsapp_app_secret,
    ).start()
    print(f"gateway sink listening on {sink.url}/ (posts to any path)", flush=True)
    try:
        wait_for_stop()
    finally:
        sink.stop()


if __name__ == "__main__":
    main()
