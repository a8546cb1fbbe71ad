"""Scripted SIP servers on 127.0.0.1 for the client's edge cases: whatever bytes a test wants sent back.

A script is called with each request as it arrived and returns the raw
replies to send (bytes, or lists of chunks to write separately over TCP),
or nothing to stay silent. `reply` builds a response echoing the request's
Via, From, To, Call-ID and CSeq, as a server must (RFC 3261 §8.2.6.2).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass, field

Chunk = bytes | list[bytes]
Script = Callable[["Request"], list[Chunk]]


@dataclass(frozen=True)
class Request:
    raw: bytes
    index: int  # 0 for the first request the server got

    @property
    def text(self) -> str:
        return self.raw.decode(errors="replace")

    @property
    def method(self) -> str:
        return self.text.split(" ", 1)[0]

    def header(self, name: str) -> list[str]:
        return re.findall(rf"^{re.escape(name)}:[ \t]*(.*?)\r$", self.text, re.IGNORECASE | re.MULTILINE)

    @property
    def expires(self) -> str | None:
        values = self.header("Expires")
        return values[0] if values else None


def reply(
    request: Request, status: int, reason: str, *headers: str, body: bytes = b"", length: int | None = None
) -> bytes:
    echoed = [f"{name}: {value}" for name in ("Via", "From", "To", "Call-ID", "CSeq") for value in request.header(name)]
    lines = [
        f"SIP/2.0 {status} {reason}",
        *echoed,
        *headers,
        f"Content-Length: {len(body) if length is None else length}",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


@dataclass
class UdpStandin:
    script: Script
    requests: list[Request] = field(default_factory=list)
    port: int = 0
    _transport: asyncio.DatagramTransport | None = None

    async def __aenter__(self) -> UdpStandin:
        standin = self

        class Protocol(asyncio.DatagramProtocol):
            def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
                request = Request(data, len(standin.requests))
                standin.requests.append(request)
                for chunk in standin.script(request):
                    assert standin._transport is not None
                    standin._transport.sendto(chunk if isinstance(chunk, bytes) else b"".join(chunk), addr)

        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(Protocol, local_addr=("127.0.0.1", 0))
        self._transport = transport
        self.port = transport.get_extra_info("sockname")[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._transport is not None
        self._transport.close()


@dataclass
class TcpStandin:
    """Reads requests by their blank line and Content-Length, as a SIP server over TCP would."""

    script: Script
    requests: list[Request] = field(default_factory=list)
    port: int = 0
    close_after: int | None = None  # close the connection after this many requests
    _server: asyncio.Server | None = None

    async def __aenter__(self) -> TcpStandin:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                match = re.search(rb"^content-length:\s*(\d+)", head, re.IGNORECASE | re.MULTILINE)
                body = await reader.readexactly(int(match.group(1))) if match else b""
                request = Request(head + body, len(self.requests))
                self.requests.append(request)
                for chunk in self.script(request):
                    for piece in [chunk] if isinstance(chunk, bytes) else chunk:
                        writer.write(piece)
                        await writer.drain()
                        await asyncio.sleep(0)
                if self.close_after is not None and len(self.requests) >= self.close_after:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
