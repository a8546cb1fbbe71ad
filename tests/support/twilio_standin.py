"""A stand-in for Twilio's REST API on 127.0.0.1: the IncomingPhoneNumbers list, behind Basic auth.

It serves GET /2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers.json
as Twilio documents it: the account SID and auth token as Basic
credentials, else 401 with Twilio's error body (code 20003); a PhoneNumber
filter that matches partial numbers; a page object with
`incoming_phone_numbers` and the paging fields. It runs in uvicorn on its
own thread, over HTTPS when given certificates, and records every request.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.support.kamailio import TlsCertificates

PAGE_SIZE = 50


@dataclass
class Account:
    auth_token: str
    numbers: list[str]


@dataclass
class SeenRequest:
    path: str
    query: str
    host: str
    authorization: str


@dataclass
class TwilioStandin:
    accounts: dict[str, Account]
    requests: list[SeenRequest] = field(default_factory=list)
    # When set, every request is answered with this status and body instead.
    override: tuple[int, bytes, dict[str, str]] | None = None

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/2010-04-01/Accounts/{sid}/IncomingPhoneNumbers.json", self.list_numbers)])

    async def list_numbers(self, request: Request) -> Response:
        self.requests.append(
            SeenRequest(
                request.url.path,
                request.url.query,
                request.headers.get("host", ""),
                request.headers.get("authorization", ""),
            )
        )
        if self.override is not None:
            status, body, headers = self.override
            return Response(body, status, headers=headers)
        sid = request.path_params["sid"]
        account = self.accounts.get(sid)
        if account is None or _basic(request) != (sid, account.auth_token):
            return JSONResponse(
                {
                    "code": 20003,
                    "message": "Authenticate",
                    "more_info": "https://www.twilio.com/docs/errors/20003",
                    "status": 401,
                },
                401,
                headers={"WWW-Authenticate": 'Basic realm="Twilio API"'},
            )
        wanted = request.query_params.get("PhoneNumber", "")
        listed = [n for n in account.numbers if wanted.lstrip("+") in n]
        return JSONResponse(_page(sid, wanted, listed))


def _basic(request: Request) -> tuple[str, str] | None:
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, _, password = base64.b64decode(credentials, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return user, password


def _page(sid: str, wanted: str, numbers: list[str]) -> dict[str, Any]:
    base = f"/2010-04-01/Accounts/{sid}/IncomingPhoneNumbers.json"
    query = f"PhoneNumber={quote(wanted)}&PageSize={PAGE_SIZE}"
    return {
        "end": max(len(numbers) - 1, 0),
        "first_page_uri": f"{base}?{query}&Page=0",
        "incoming_phone_numbers": [_instance(sid, number, i) for i, number in enumerate(numbers)],
        "next_page_uri": None,
        "page": 0,
        "page_size": PAGE_SIZE,
        "previous_page_uri": None,
        "start": 0,
        "uri": f"{base}?{query}&Page=0",
    }


def _instance(sid: str, number: str, index: int) -> dict[str, Any]:
    phone_sid = f"PN{index:032x}"
    return {
        "account_sid": sid,
        "address_requirements": "none",
        "address_sid": None,
        "api_version": "2010-04-01",
        "beta": False,
        "bundle_sid": None,
        "capabilities": {"fax": False, "mms": True, "sms": True, "voice": True},
        "date_created": "Thu, 30 Jul 2015 23:19:04 +0000",
        "date_updated": "Thu, 30 Jul 2015 23:19:04 +0000",
        "emergency_address_sid": None,
        "emergency_address_status": "unregistered",
        "emergency_status": "Active",
        "friendly_name": number,
        "identity_sid": None,
        "origin": "twilio",
        "phone_number": number,
        "sid": phone_sid,
        "sms_application_sid": "",
        "sms_fallback_method": "POST",
        "sms_fallback_url": "",
        "sms_method": "POST",
        "sms_url": "",
        "status": "in-use",
        "status_callback": "",
        "status_callback_method": "POST",
        "subresource_uris": {
            "assigned_add_ons": f"/2010-04-01/Accounts/{sid}/IncomingPhoneNumbers/{phone_sid}/AssignedAddOns.json"
        },
        "trunk_sid": None,
        "uri": f"/2010-04-01/Accounts/{sid}/IncomingPhoneNumbers/{phone_sid}.json",
        "voice_application_sid": None,
        "voice_caller_id_lookup": False,
        "voice_fallback_method": "POST",
        "voice_fallback_url": None,
        "voice_method": "POST",
        "voice_receive_mode": "voice",
        "voice_url": None,
    }


@contextmanager
def serving(standin: TwilioStandin, certificates: TlsCertificates | None = None) -> Iterator[int]:
    """Serve the stand-in on 127.0.0.1 for the duration of the block; yields its port."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        standin.app(),
        log_level="warning",
        access_log=False,
        lifespan="off",
        ssl_certfile=None if certificates is None else str(certificates.certificate_file),
        ssl_keyfile=None if certificates is None else str(certificates.key_file),
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])), daemon=True)
    thread.start()
    try:
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("the Twilio stand-in did not start")
            threading.Event().wait(0.01)
        yield port
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
