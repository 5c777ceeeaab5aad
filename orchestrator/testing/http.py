"""Just enough HTTP/1.1 for one client on loopback: read a request, write a response.

Requests carry ``Content-Length`` or chunked bodies. Streaming responses are
close-delimited (``Connection: close``, no length), which is what lets a
scripted fault cut a stream: closing the socket early is all it takes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from http import HTTPStatus

from anyio.abc import ByteStream
from anyio.streams.buffered import BufferedByteReceiveStream

MAX_HEAD = 64 * 1024
MAX_BODY = 64 * 1024 * 1024


class BadRequest(Exception):
    """The bytes received are not an HTTP request we can read."""


@dataclass(frozen=True)
class HttpRequest:
    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    body: bytes


async def read_request(reader: BufferedByteReceiveStream) -> HttpRequest:
    """Read one request (raises ``anyio.EndOfStream`` at a clean end of connection)."""
    head = await reader.receive_until(b"\r\n\r\n", MAX_HEAD)
    lines = head.decode("latin-1").split("\r\n")
    try:
        method, target, _version = lines[0].split(" ", 2)
    except ValueError as exc:
        raise BadRequest(f"bad request line {lines[0]!r}") from exc
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep:
            raise BadRequest(f"bad header line {line!r}")
        headers[name.strip().lower()] = value.strip()
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = await _read_chunked(reader)
    else:
        length = int(headers.get("content-length", "0") or "0")
        if length > MAX_BODY:
            raise BadRequest(f"body of {length} bytes is too large")
        body = await reader.receive_exactly(length) if length else b""
    return HttpRequest(method=method.upper(), path=target, headers=headers, body=body)


async def _read_chunked(reader: BufferedByteReceiveStream) -> bytes:
    parts: list[bytes] = []
    total = 0
    while True:
        size_line = await reader.receive_until(b"\r\n", 1024)
        size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
        if size == 0:
            while await reader.receive_until(b"\r\n", MAX_HEAD):
                pass  # trailers, up to the blank line
            return b"".join(parts)
        total += size
        if total > MAX_BODY:
            raise BadRequest("chunked body is too large")
        parts.append(await reader.receive_exactly(size))
        await reader.receive_exactly(2)


def _head(status: int, headers: dict[str, str]) -> bytes:
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = "Status"
    lines = [f"HTTP/1.1 {status} {reason}", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def send_json(
    stream: ByteStream, status: int, payload: object, extra: dict[str, str] | None = None
) -> None:
    """A complete JSON response with a length (the connection stays usable)."""
    body = json.dumps(payload).encode()
    headers = {"content-type": "application/json", "content-length": str(len(body))}
    headers.update(extra or {})
    await stream.send(_head(status, headers) + body)


async def start_event_stream(stream: ByteStream) -> None:
    """The head of a close-delimited ``text/event-stream`` response."""
    headers = {
        "content-type": "text/event-stream",
        "cache-control": "no-cache",
        "connection": "close",
    }
    await stream.send(_head(200, headers))


def error_payload(status: int, message: str) -> dict[str, object]:
    """The Responses API's error body, which codex quotes for 400/401/403/503."""
    kinds = {400: "invalid_request_error", 401: "invalid_api_key", 429: "rate_limit_exceeded"}
    return {
        "error": {
            "message": message,
            "type": kinds.get(status, "server_error"),
            "code": kinds.get(status),
            "param": None,
        }
    }
