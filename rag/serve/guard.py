"""What every request passes before the app sees it, and what every response carries.

:class:`Guard` is a plain ASGI middleware (Starlette's ``BaseHTTPMiddleware`` would hide a client
that goes away from the endpoints, so an abandoned ``POST /ask`` would keep the generator):

- **the Host rule**: only the names the server is bound to (``127.0.0.1``, ``localhost``,
  ``[::1]``, the ``--host`` value) and those given with ``--allowed-host`` are answered; any other
  ``Host`` is 421. A web page whose name an attacker rebinds to 127.0.0.1 (DNS rebinding) sends
  its own name, so it cannot read answers even from a server without a token;
- **the token** (``--token``): 401 without ``Authorization: Bearer <token>`` (the page, the docs
  and source files also take ``?token=``: a browser cannot send the header when it follows a link);
- **the body limit** (``--max-body-kb``): 413 for a larger body, checked before anything parses
  it, from ``Content-Length`` or, for a chunked body, by counting;
- **headers on every response**: ``X-Content-Type-Options: nosniff``, ``Referrer-Policy:
  no-referrer``, ``X-Frame-Options: DENY``, ``Cache-Control: no-store`` (unless set) and a
  Content-Security-Policy: a response's own policy (the page's, a source file's ``sandbox``) is
  kept with ``frame-ancestors 'none'`` added; any other response gets ``default-src 'none'``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
from collections import deque
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qs

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: The names a server bound to this machine answers to, whatever ``--host`` says.
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
#: Paths a browser opens by following a link, so the token may come in the query.
_LINK_PATHS = ("/", "/docs")
_LINK_PREFIXES = ("/source/",)
_API_CSP = "default-src 'none'; frame-ancestors 'none'"


def host_name(value: str) -> str:
    """The name in a ``Host`` header or a ``--host`` value, without port or brackets, lower case.

    >>> host_name("[::1]:8000"), host_name("LocalHost.:80"), host_name("::1"), host_name("10.0.0.2")
    ('::1', 'localhost', '::1', '10.0.0.2')
    """
    text = value.strip().lower()
    if text.startswith("["):
        text = text[1 : text.find("]")] if "]" in text else text[1:]
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    return text.rstrip(".")


def allowed_hosts(bound: str, extra: Iterable[str] = ()) -> frozenset[str]:
    """The ``Host`` names a server bound to ``bound`` answers: :data:`LOCAL_HOSTS`, ``bound``
    and ``extra`` (``--allowed-host``)."""
    return frozenset(host_name(h) for h in (*LOCAL_HOSTS, bound, *extra) if host_name(h))


def _inline(html: str, tag: str) -> list[str]:
    """The contents of the inline ``tag`` elements of ``html`` (those without ``src``)."""
    pattern = re.compile(rf"<{tag}(\s[^>]*)?>(.*?)</{tag}\s*>", re.DOTALL | re.IGNORECASE)
    return [m.group(2) for m in pattern.finditer(html) if "src=" not in (m.group(1) or "").lower()]


def _hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"


def page_csp(html: str, *, scripts: str = "", styles: str = "'unsafe-inline'", images: str = "'self' data:") -> str:
    """A Content-Security-Policy for an HTML page served here: its inline scripts by their
    sha256 (never ``'unsafe-inline'`` for scripts) and ``scripts`` (origins of its script files),
    requests to this server only, no framing, no ``<base>``, forms posting nowhere."""
    hashes = " ".join(_hash(s) for s in _inline(html, "script"))
    script_src = " ".join(x for x in (scripts, hashes) if x) or "'none'"
    return (
        f"default-src 'none'; script-src {script_src}; style-src {styles}; img-src {images}; "
        "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )


def _json_response(status: int, detail: str, headers: dict[str, str] | None = None) -> tuple[dict[str, Any], bytes]:
    body = json.dumps({"detail": detail}).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()]
    return {"type": "http.response.start", "status": status, "headers": raw}, body


class _TooLarge(Exception):
    pass


class Guard:
    """The Host rule, the token, the body limit and the response headers (see the module doc)."""

    def __init__(
        self, app: ASGIApp, *, hosts: frozenset[str], token: str | None = None, max_body_bytes: int = 64 * 1024
    ) -> None:
        self.app = app
        self.hosts = hosts
        self.token = token
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        send = self._with_headers(send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        if host_name(headers.get("host", "")) not in self.hosts:
            await self._reply(
                send,
                421,
                "misdirected request: this server does not answer for that Host name "
                "(start it with --allowed-host NAME to accept another name)",
            )
            return
        if self.token is not None and not self._token_ok(scope, headers):
            await self._reply(
                send,
                401,
                "missing or wrong token: send Authorization: Bearer <token>",
                {"WWW-Authenticate": "Bearer"},
            )
            return
        try:
            replay = await self._read_body(headers, receive)
        except _TooLarge:
            kb = self.max_body_bytes // 1024
            await self._reply(
                send, 413, f"the request body is over the limit of {kb} KB (rag serve --max-body-kb raises it)"
            )
            return

        async def receive_again() -> Message:
            # the body as it was read, then the client's own messages (a disconnect, say)
            return replay.popleft() if replay else await receive()

        await self.app(scope, receive_again, send)

    def _token_ok(self, scope: Scope, headers: dict[str, str]) -> bool:
        assert self.token is not None
        given = headers.get("authorization", "")
        given = given[7:] if given.lower().startswith("bearer ") else ""
        path = scope.get("path", "")
        if not given and scope.get("method") == "GET" and (path in _LINK_PATHS or path.startswith(_LINK_PREFIXES)):
            query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
            given = (query.get("token") or [""])[0]
        return secrets.compare_digest(given.encode(), self.token.encode())

    async def _read_body(self, headers: dict[str, str], receive: Receive) -> deque[Message]:
        """The request's body messages, read in full; :class:`_TooLarge` as soon as it is over
        the limit (by its ``Content-Length`` before anything is read, else by counting)."""
        length = headers.get("content-length", "").strip()
        if length.isdigit() and int(length) > self.max_body_bytes:
            raise _TooLarge()
        messages: deque[Message] = deque()
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                return messages  # the client went away: the app sees it
            size += len(message.get("body", b""))
            if size > self.max_body_bytes:
                raise _TooLarge()
            if not message.get("more_body", False):
                return messages

    @staticmethod
    async def _reply(send: Send, status: int, detail: str, headers: dict[str, str] | None = None) -> None:
        start, body = _json_response(status, detail, headers)
        await send(start)
        await send({"type": "http.response.body", "body": body})

    @staticmethod
    def _with_headers(send: Send) -> Send:
        async def sender(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["X-Content-Type-Options"] = "nosniff"
                headers["Referrer-Policy"] = "no-referrer"
                headers["X-Frame-Options"] = "DENY"
                if "cache-control" not in headers:
                    headers["Cache-Control"] = "no-store"
                own = headers.get("content-security-policy")
                if own is None:
                    headers["Content-Security-Policy"] = _API_CSP
                elif "frame-ancestors" not in own:
                    headers["Content-Security-Policy"] = f"{own.rstrip('; ')}; frame-ancestors 'none'"
            await send(message)

        return sender
