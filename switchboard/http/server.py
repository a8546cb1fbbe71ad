"""The HTTP server: binds the socket, then runs uvicorn, one process or several, with the guarded protocol.

The protocol (switchboard/http/protocol.py) limits request heads, clocks
slow clients and caps connections in each worker; here the cap is fitted to
the files a process may open.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import resource
import signal
import socket
import sys
from functools import partial
from typing import cast

import uvicorn
from uvicorn.config import STARTUP_FAILURE, Config
from uvicorn.supervisors import Multiprocess

from switchboard.http.protocol import ConnectionLimits, LimitedHttpToolsProtocol
from switchboard.logs import log_config
from switchboard.settings import Settings

log = logging.getLogger("switchboard.server")

# Descriptors each worker keeps for what is not a client: its database
# connections, log streams, the event loop, the supervisor's pipes.
RESERVED_FILE_DESCRIPTORS = 64
BACKLOG = 2048  # uvicorn's own default
CHOOSE_PORT = "choose another with --port, SWITCHBOARD_PORT or make run PORT=..."
CHOOSE_HOST = "choose another with --host, SWITCHBOARD_HOST or make run HOST=..."


def connection_cap(configured: int) -> int:
    """`configured`, or fewer if the process may not open that many files besides its own."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or configured <= soft - RESERVED_FILE_DESCRIPTORS:
        return configured
    cap = max(1, soft - RESERVED_FILE_DESCRIPTORS)
    log.warning(
        "SWITCHBOARD_MAX_CONNECTIONS is %d, but this process may open %d files: serving at most %d connections a worker",
        configured,
        soft,
        cap,
    )
    return cap


class ListenError(Exception):
    """`serve` cannot listen where it is asked to; the message says why and how to choose another place."""


def listen(host: str, port: int) -> socket.socket:
    """A socket listening on `host`:`port`, bound before anything else starts.

    Bound here, in the one process that starts, the socket is handed to
    uvicorn, which would otherwise bind it itself and report a busy port as
    a bare `[Errno 98]` log line; with several workers its supervisor binds
    once and its workers share the socket, so one check covers them all.
    """
    # As uvicorn chooses: a colon means IPv6, anything else IPv4.
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    try:
        # A restart may bind the port while the previous server's connections close.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        # Listening at once: with SO_REUSEADDR two sockets may both bind a
        # port, and only the second `listen` finds the first.
        sock.listen(BACKLOG)
    except OSError as error:
        sock.close()
        raise ListenError(_listen_failure(host, port, error)) from None
    sock.set_inheritable(True)
    return sock


def _listen_failure(host: str, port: int, error: OSError) -> str:
    if isinstance(error, socket.gaierror):
        return f"cannot listen on {host}: the name does not resolve to an address ({error.strerror}); {CHOOSE_HOST}"
    if error.errno == errno.EADDRINUSE:
        return f"port {port} on {host} is in use; {CHOOSE_PORT}"
    if error.errno == errno.EACCES:
        return f"may not listen on port {port} on {host}: ports below 1024 need privileges; {CHOOSE_PORT}"
    if error.errno == errno.EADDRNOTAVAIL:
        return f"cannot listen on {host}: it is not an address of this machine; {CHOOSE_HOST}"
    return f"cannot listen on {host} port {port}: {error.strerror or error}"


def serve(settings: Settings, sock: socket.socket) -> None:
    """Serve the app on `sock` (from `listen`) until stopped."""
    host, port = sock.getsockname()[:2]
    limits = ConnectionLimits(
        max_header_bytes=settings.max_header_bytes,
        client_timeout=settings.client_timeout,
        max_connections=connection_cap(settings.max_connections),
    )
    # uvicorn makes each connection's protocol by calling this with its
    # config; a partial of a module-level class pickles into spawned workers.
    protocol = cast(type[asyncio.Protocol], partial(LimitedHttpToolsProtocol, limits=limits))
    # After a graceful stop uvicorn raises the stopping signal again, to exit
    # by it, while with several workers its supervisor exits 0. A stop that
    # went as asked exits 0 in both cases: the raised SIGTERM meets this
    # no-op, and the raised SIGINT (Ctrl-C) its KeyboardInterrupt, caught below.
    signal.signal(signal.SIGTERM, lambda signum, frame: None)
    config = Config(
        "switchboard.app:create_app",
        factory=True,
        host=host,
        port=port,
        http=protocol,
        workers=settings.workers,
        timeout_graceful_shutdown=settings.shutdown_timeout,
        log_config=log_config(settings),
        # RequestLogMiddleware logs each request, with more than uvicorn knows.
        access_log=False,
        # The app trusts X-Forwarded-For from SWITCHBOARD_TRUSTED_PROXIES only;
        # uvicorn's own default would trust it from 127.0.0.1.
        proxy_headers=False,
    )
    # uvicorn announces a socket it binds itself only; this says where to go, and how to stop.
    shown = f"[{host}]" if ":" in host else host
    log.info("serving http://%s:%d/graphql (Ctrl-C stops)", shown, port)
    # What uvicorn.run does, with the socket bound here.
    if settings.workers > 1:
        with contextlib.suppress(KeyboardInterrupt):
            Multiprocess(config, sockets=[sock]).run()
        return
    server = uvicorn.Server(config)
    with contextlib.suppress(KeyboardInterrupt):
        server.run(sockets=[sock])
    if not server.started:  # the app did not start; uvicorn logged why
        sys.exit(STARTUP_FAILURE)
