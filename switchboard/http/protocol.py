"""The HTTP protocol of `switchboard serve`: uvicorn's, with the limits a server facing clients on its own needs.

uvicorn's httptools protocol reads a request's line and headers without a
size limit, has no clock for a request that never finishes arriving or a
response nobody reads, queues pipelined requests without end, and caps
connections (`limit_concurrency`) only once a request's headers are in, so
an idle connection over the cap still holds a file descriptor. The protocol
below closes those holes, in each worker process.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from uvicorn._types import ASGI3Application
from uvicorn.config import Config
from uvicorn.protocols.http.flow_control import FlowControl
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol, RequestResponseCycle
from uvicorn.server import ServerState

log = logging.getLogger("switchboard.server")

# The parser is fed at most this fraction of the head limit at a time.
SLICES_PER_HEAD_LIMIT = 16
# Pipelined requests parsed ahead of the one being answered. uvicorn answers
# them one after another, so reading further ahead only costs memory.
MAX_QUEUED_REQUESTS = 8


@dataclass(frozen=True)
class ConnectionLimits:
    max_header_bytes: int  # request line and headers of one request, together
    client_timeout: float  # seconds the server waits on a client, for its request or to take a response
    max_connections: int  # per worker


class HeldFlowControl(FlowControl):
    """uvicorn's flow control, except that reading stays paused while read bytes wait to be parsed.

    A request waiting for its body resumes reading; data read then would
    pile up behind what the protocol holds back.
    """

    def __init__(self, transport: asyncio.Transport, protocol: LimitedHttpToolsProtocol) -> None:
        super().__init__(transport)
        self.protocol = protocol

    def resume_reading(self) -> None:
        if not self.protocol.unparsed:
            super().resume_reading()


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, with a head limit, client clocks and a connection cap.

    The read clock runs while the client owes the server a request: from
    when the connection opens, or the previous response is sent, until the
    request (line, headers and body) is in whole. It stops while the server
    works on a request, so a slow answer is never cut. The write clock runs
    while the server holds response bytes the client does not take.
    """

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
        *,
        limits: ConnectionLimits,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.limits = limits
        self.slice_bytes = max(1, limits.max_header_bytes // SLICES_PER_HEAD_LIMIT)
        self.in_head = True  # reading (or waiting for) a request line and headers, not a body
        self.head_started = False  # a byte of the request line has arrived
        self.head_bytes = 0
        # Chunk sizes, chunk extensions and trailers: what a body carries besides its bytes.
        self.framing_bytes = 0
        self.body_bytes_in_slice = 0
        self.unparsed = memoryview(b"")  # read, but held back while MAX_QUEUED_REQUESTS wait
        self.pending_refusal: tuple[int, str] | None = None
        self.running_cycle: RequestResponseCycle | None = None
        self.read_clock: asyncio.TimerHandle | None = None
        self.write_clock: asyncio.TimerHandle | None = None

    # --- connections ------------------------------------------------------------

    # override: asyncio types the transport as BaseTransport; a stream server's is a Transport
    # (uvicorn's base class narrows it the same way).
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.flow = HeldFlowControl(transport, self)
        # Paused as soon as a byte waits to be sent, so the write clock sees every stall.
        transport.set_write_buffer_limits(high=0)
        cap = self.limits.max_connections
        if len(self.connections) > cap or len(self.tasks) >= cap:
            # Answered and closed at once, so a connection over the cap never
            # holds a descriptor; HTTP clients read a response that comes
            # before their request as its answer.
            log.warning("refused a connection: this worker serves %d connections at most (503)", cap)
            self._answer(503, f"this worker already serves its {cap} connections; try again shortly")
            return
        self._start_read_clock()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_read_clock()
        self._stop_write_clock()
        # uvicorn tells only the newest request the client is gone; a
        # pipelined one answered before it would write to a closed transport.
        running = self.running_cycle
        if running is not None and running is not self.cycle and not running.response_complete:
            running.disconnected = True
            running.message_event.set()
        super().connection_lost(exc)

    def _start_asgi_task(self, cycle: RequestResponseCycle, app: ASGI3Application) -> None:
        self.running_cycle = cycle
        super()._start_asgi_task(cycle, app)

    # --- reading ----------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        """Feed the parser in slices, checking the limits after each.

        httptools holds a header until it ends and says nothing of where in
        the data a request starts, so the data goes in slices small enough
        that no head outgrows its limit unseen. A head that starts inside a
        slice (a pipelined request) is counted from the slice's start: at
        most 1/16 of the limit too many.
        """
        self.unparsed = memoryview(data) if not self.unparsed else memoryview(bytes(self.unparsed) + data)
        self._parse()

    def _parse(self) -> None:
        while self.unparsed and not self.transport.is_closing() and self.pending_refusal is None:
            if len(self.pipeline) >= MAX_QUEUED_REQUESTS:
                # on_response_complete parses on; until then the wait is the server's.
                self.flow.pause_reading()
                self._stop_read_clock()
                return
            size = self.slice_bytes
            if self.in_head and self.head_started:
                size = min(size, self.limits.max_header_bytes - self.head_bytes)
            piece, self.unparsed = self.unparsed[:size], self.unparsed[size:]
            self.body_bytes_in_slice = 0
            super().data_received(piece)  # type: ignore[arg-type]  # httptools reads any buffer
            if self.transport.get_protocol() is not self:
                self._stop_read_clock()  # upgraded to a WebSocket: that protocol has its own limits
                return
            if not self.transport.is_closing():  # e.g. answered 400 for a malformed request
                self._count(len(piece))
        if self.pending_refusal is not None:
            self.unparsed = memoryview(b"")  # the connection closes after the answers due

    def _count(self, size: int) -> None:
        limit = self.limits.max_header_bytes
        if self.in_head and self.head_started:
            self.head_bytes += size
            if self.head_bytes >= limit:
                log.info("refused a request: its line and headers exceed %d bytes (431)", limit)
                self._refuse(431, f"the request line and headers exceed {limit} bytes")
        elif not self.in_head:
            self.framing_bytes += size - self.body_bytes_in_slice
            if self.framing_bytes > limit:
                log.info("closed a connection: the chunk framing and trailers of a body exceed %d bytes", limit)
                self.transport.close()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.head_started = True
        self.head_bytes = 0

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        self.in_head = False
        self.framing_bytes = 0

    def on_body(self, body: bytes) -> None:
        self.body_bytes_in_slice += len(body)
        super().on_body(body)

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self.in_head, self.head_started = True, False
        self._stop_read_clock()
        if not self._answering():
            self._start_read_clock()  # answered before it was all in: the next request's time starts now

    def on_response_complete(self) -> None:
        if self.pending_refusal is not None and not self.pipeline:
            self._answer(*self.pending_refusal)
        super().on_response_complete()
        if self.transport.is_closing():
            return
        self._parse()
        self.flow.resume_reading()  # held back above while bytes waited to be parsed
        if not (self.in_head and not self.head_started and self._answering()):
            self._start_read_clock()

    # --- clocks -----------------------------------------------------------------

    def _start_read_clock(self) -> None:
        # Bytes held back unparsed mean the wait is the server's, not the client's.
        if self.read_clock is None and not self.unparsed:
            self.read_clock = self.loop.call_later(self.limits.client_timeout, self._read_timed_out)

    def _stop_read_clock(self) -> None:
        if self.read_clock is not None:
            self.read_clock.cancel()
            self.read_clock = None

    def _read_timed_out(self) -> None:
        self.read_clock = None
        if self.transport.is_closing():
            return  # closing already; if its last bytes are not taken, the write clock ends it
        reason = f"the request did not arrive whole within {self.limits.client_timeout:g} seconds"
        if self.in_head and self.head_started:
            self._refuse(408, reason)
        elif not self.in_head and not self.pipeline and not self.cycle.response_started:
            # The application waits for the rest of the body: it learns the
            # client is gone once the connection is closed, after this answer.
            self._answer(408, reason)
        else:
            self.transport.close()  # idle between requests, or answered already

    def pause_writing(self) -> None:
        super().pause_writing()
        if self.write_clock is None:
            self.write_clock = self.loop.call_later(self.limits.client_timeout, self._write_timed_out)

    def resume_writing(self) -> None:
        super().resume_writing()
        self._stop_write_clock()

    def _stop_write_clock(self) -> None:
        if self.write_clock is not None:
            self.write_clock.cancel()
            self.write_clock = None

    def _write_timed_out(self) -> None:
        self.write_clock = None
        log.info("closed a connection: the client took none of its response for %g seconds", self.limits.client_timeout)
        self.transport.abort()  # close() would wait for the bytes nobody takes

    # --- refusing ---------------------------------------------------------------

    def _answering(self) -> bool:
        """A response to an earlier request on this connection is due or under way."""
        return bool(self.pipeline) or (self.cycle is not None and not self.cycle.response_complete)

    def _refuse(self, status: int, reason: str) -> None:
        """Answer with `status` and close; after the responses already due on this connection, if any."""
        if self._answering():
            self.pending_refusal = (status, reason)
            self.flow.pause_reading()
            return
        self._answer(status, reason)

    def _answer(self, status: int, reason: str) -> None:
        body = f"{HTTPStatus(status).phrase}: {reason}\n".encode()
        head = [STATUS_LINE[status]]
        for name, value in self.server_state.default_headers:
            head += [name, b": ", value, b"\r\n"]
        head += [
            b"content-type: text/plain; charset=utf-8\r\n",
            b"content-length: %d\r\n" % len(body),
            b"connection: close\r\n\r\n",
        ]
        self.transport.write(b"".join(head) + body)
        self.transport.close()
