"""A local SMTP server that keeps what notify "sent" by email, and lists it (development, tests).

SMTP (aiosmtpd) on `--smtp-port`, a page and JSON on `--http-port`: `GET /` lists the messages
(newest first), `GET /messages` gives them as JSON and `GET /messages/<id>.html` shows a
message's HTML part (sandboxed). With `--tls-cert` and `--tls-key` it offers STARTTLS, or speaks
TLS from the start with `--implicit-tls`. For tests it can refuse:
`POST /_control {"fail_next": 1, "fail_code": 451}`.

    python -m devstack.mailcatcher --smtp-port 1025 --http-port 8025
"""

from __future__ import annotations

import argparse
import email
import email.policy
import html
import json
import socket
import ssl
import threading
from dataclasses import asdict, dataclass, field
from email.message import EmailMessage
from http.server import ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from devstack.sink import QuietHandler, now_iso, page, serve_http, stop_http, wait_for_stop

MAX_KEPT = 1000


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Mail:
    id: int
    at: str
    mail_from: str
    rcpt_tos: list[str]
    subject: str
    message_id: str
    delivery_key: str | None
    text: str
    html: str | None
    size: int
    headers: dict[str, str]


def parse(id_: int, mail_from: str, rcpt_tos: list[str], raw: bytes) -> Mail:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    text_part = message.get_body(("plain",))
    html_part = message.get_body(("html",))
    return Mail(
        id=id_,
        at=now_iso(),
        mail_from=mail_from,
        rcpt_tos=list(rcpt_tos),
        subject=str(message.get("Subject", "")),
        message_id=str(message.get("Message-ID", "")).strip(),
        # A long key is folded onto the next line; unfolded, it keeps the fold's space.
        delivery_key=(message.get("X-Pengaduan-Delivery") or "").strip() or None,
        text=text_part.get_content() if isinstance(text_part, EmailMessage) else "",
        html=html_part.get_content() if isinstance(html_part, EmailMessage) else None,
        size=len(raw),
        headers={k: str(v) for k, v in message.items()},
    )


@dataclass
class MailCatcher:
    host: str = "127.0.0.1"
    smtp_port: int = 0
    http_port: int = 0
    tls_context: ssl.SSLContext | None = None
    require_starttls: bool = False
    implicit_tls: bool = False  # TLS from the first byte (port 465 style) instead of STARTTLS
    fail_next: int = 0
    fail_code: int = 451
    _mails: list[Mail] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._controller: Controller | None = None
        self._http: ThreadingHTTPServer | None = None

    # -- life ----------------------------------------------------------------------------------
    def start(self) -> MailCatcher:
        if not self.smtp_port:
            self.smtp_port = free_port(self.host)
        kwargs: dict[str, Any] = {}
        if self.tls_context is not None and self.implicit_tls:
            kwargs = {"ssl_context": self.tls_context}
        elif self.tls_context is not None:
            kwargs = {"tls_context": self.tls_context, "require_starttls": self.require_starttls}
        self._controller = Controller(
            _SmtpHandler(self),
            hostname=self.host,
            port=self.smtp_port,
            server_hostname="localhost",
            ready_timeout=10.0,
            **kwargs,
        )
        self._controller.start()
        catcher = self

        class Handler(_PageHandler):
            owner = catcher

        self._http, _ = serve_http(self.host, self.http_port, Handler)
        self.http_port = self._http.server_address[1]
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
        stop_http(self._http)
        self._http = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.http_port}"

    # -- state ---------------------------------------------------------------------------------
    def store(self, mail_from: str, rcpt_tos: list[str], raw: bytes) -> str:
        """Keep a message, or refuse it as configured; returns the SMTP answer."""
        with self._lock:
            if self.fail_next > 0:
                self.fail_next -= 1
                return f"{self.fail_code} Mail catcher configured to refuse; try again later"
            self._mails.append(parse(len(self._mails) + 1, mail_from, rcpt_tos, raw))
            del self._mails[:-MAX_KEPT]
        return "250 OK: message kept by the mail catcher"

    def messages(self) -> list[dict[str, Any]]:
        with self._lock:
            return [asdict(m) for m in self._mails]

    def clear(self) -> None:
        with self._lock:
            self._mails.clear()

    def configure(self, *, fail_next: int | None = None, fail_code: int | None = None) -> None:
        with self._lock:
            if fail_next is not None:
                self.fail_next = int(fail_next)
            if fail_code is not None:
                self.fail_code = int(fail_code)

    def render_page(self) -> bytes:
        rows = []
        for m in reversed(self.messages()):
            link = f" <a href='/messages/{m['id']}.html'>HTML</a>" if m["html"] else ""
            rows.append(
                f"<tr><td>{m['id']}</td><td>{html.escape(m['at'])}</td>"
                f"<td>{html.escape(', '.join(m['rcpt_tos']))}</td>"
                f"<td><b>{html.escape(m['subject'])}</b>{link}<br>"
                f"<small>{html.escape(str(m['delivery_key']))}</small>"
                f"<pre>{html.escape(m['text'])}</pre></td></tr>"
            )
        body = (
            "<p>Email notify sent to this SMTP server (newest first; "
            "<a href='/messages'>JSON</a>).</p><table><tr><th>#</th><th>at</th><th>to</th>"
            "<th>message</th></tr>" + "".join(rows) + "</table>"
        )
        return page("Mail catcher", body)


class _SmtpHandler:
    def __init__(self, catcher: MailCatcher) -> None:
        self._catcher = catcher

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode()
        return self._catcher.store(str(envelope.mail_from), list(envelope.rcpt_tos), raw)


class _PageHandler(QuietHandler):
    owner: MailCatcher
    server_version = "pengaduan-mailcatcher/1"

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if self._inbox_get(path):
            return
        if path.startswith("/messages/") and path.endswith(".html"):
            wanted = path.removeprefix("/messages/").removesuffix(".html")
            found = [m for m in self.owner.messages() if str(m["id"]) == wanted and m["html"]]
            if not found:
                self._json(404, {"detail": "not found"})
                return
            csp = (
                "Content-Security-Policy",
                "sandbox; default-src 'none'; style-src 'unsafe-inline'",
            )
            self._send(200, found[0]["html"].encode(), "text/html; charset=utf-8", csp)
        else:
            self._json(404, {"detail": "not found"})

    def do_POST(self) -> None:
        raw = self._body()
        if self.path.split("?", 1)[0] != "/_control":
            self._json(404, {"detail": "not found"})
            return
        try:
            self.owner.configure(**json.loads(raw or b"{}"))
        except (ValueError, TypeError) as exc:
            self._json(422, {"detail": str(exc)})
            return
        self._json(200, {"fail_next": self.owner.fail_next, "fail_code": self.owner.fail_code})


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m devstack.mailcatcher", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--smtp-port", type=int, default=1025)
    parser.add_argument("--http-port", type=int, default=8025)
    parser.add_argument("--tls-cert", help="PEM certificate: offer STARTTLS")
    parser.add_argument("--tls-key", help="PEM key of --tls-cert")
    parser.add_argument("--implicit-tls", action="store_true", help="TLS at once, no STARTTLS")
    ns = parser.parse_args()
    context = None
    if ns.tls_cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(ns.tls_cert, ns.tls_key)
    catcher = MailCatcher(
        ns.host, ns.smtp_port, ns.http_port, tls_context=context, implicit_tls=ns.implicit_tls
    ).start()
    print(
        f"mail catcher: SMTP on {ns.host}:{catcher.smtp_port}, messages at {catcher.url}/",
        flush=True,
    )
    try:
        wait_for_stop()
    finally:
        catcher.stop()


if __name__ == "__main__":
    main()
