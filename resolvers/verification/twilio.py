"""Twilio: is the number one of the account's IncomingPhoneNumbers?

One GET of /2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers.json
filtered by PhoneNumber, with the account SID and auth token as Basic
credentials. Redirects are not followed and proxies from the environment
are not used: the request goes to the checked address and nowhere else.
"""

from __future__ import annotations

import json
import socket
import ssl
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import httpx

from models.health import HealthState
from resolvers.verification.results import (
    CheckOptions,
    CheckResult,
    Progress,
    tls_context,
)
from resolvers.verification.targets import TwilioTarget, allowed_addresses

MAX_BODY_BYTES = 1024 * 1024
API = "Twilio's API"


async def check_twilio(
    target: TwilioTarget, options: CheckOptions, elapsed_ms: Callable[[], int], progress: Progress
) -> CheckResult:
    """The lookup's result; the caller bounds it in time, and reports `progress` when time runs out."""
    base = httpx.URL(options.twilio_api_url)
    if base.scheme not in ("http", "https") or not base.host:
        raise ValueError("the Twilio API URL must be an http or https URL")
    port = base.port or (443 if base.scheme == "https" else 80)
    progress.attempt = f"the DNS lookup of {API} host '{base.host}'"
    addresses = await allowed_addresses(
        base.host,
        port,
        socket.SOCK_STREAM,
        resolver=options.resolver,
        allow_local=options.allow_local_targets,
        role=f"{API} host '{base.host}'",
    )
    path = (
        base.path.rstrip("/") + f"/2010-04-01/Accounts/{quote(target.account_sid, safe='')}/IncomingPhoneNumbers.json"
    )
    lookup = f"the lookup of {target.number} in account {target.account_sid}"
    verify: ssl.SSLContext | bool = tls_context(options.tls_ca_file) if base.scheme == "https" else False
    async with httpx.AsyncClient(verify=verify, trust_env=False, follow_redirects=False, timeout=None) as client:
        failure = "no address to connect to"
        for address in addresses:
            progress.attempt = f"{lookup} at {API} ({base.host}, {address})"
            request = client.build_request(
                "GET",
                base.copy_with(host=str(address), path=path, params={"PhoneNumber": target.number, "PageSize": "50"}),
                headers={
                    "Host": base.netloc.decode("ascii"),
                    "Accept": "application/json",
                    "Accept-Encoding": "identity",
                },
                extensions={"sni_hostname": base.host} if base.scheme == "https" else {},
            )
            try:
                response = await client.send(request, stream=True, auth=(target.account_sid, target.auth_token))
            except httpx.ConnectError as error:
                failure = _connect_failure(error)
                continue
            try:
                return await _judge(response, target, lookup, elapsed_ms)
            except httpx.TransportError as error:
                return CheckResult(
                    HealthState.UNREACHABLE,
                    f"{lookup} at {API} failed while reading the answer ({type(error).__name__}).",
                )
            finally:
                await response.aclose()
    return CheckResult(
        HealthState.UNREACHABLE, f"{lookup} could not reach {API} at {base.host}: {failure}.", None, None
    )


async def _judge(
    response: httpx.Response, target: TwilioTarget, lookup: str, elapsed_ms: Callable[[], int]
) -> CheckResult:
    status = response.status_code
    answered = f"{API} answered {status}"
    if status == 401:
        return CheckResult(
            HealthState.AUTH_FAILED,
            f"{answered} to {lookup}: it refused the account SID and auth token.",
            None,
            elapsed_ms(),
        )
    if 300 <= status < 400:
        return CheckResult(HealthState.UNREACHABLE, f"{answered} to {lookup}, a redirect, which is not followed.")
    if status >= 500:
        return CheckResult(HealthState.UNREACHABLE, f"{answered} to {lookup}: a server error.")
    if status >= 400 or status < 200:
        return CheckResult(HealthState.REJECTED, f"{answered} to {lookup}.", None, elapsed_ms())
    numbers = await _listed_numbers(response)
    if numbers is None:
        return CheckResult(HealthState.UNREACHABLE, f"{answered} to {lookup}, but not with the documented JSON.")
    latency = elapsed_ms()
    if target.number in numbers:
        return CheckResult(HealthState.OK, f"{answered} to {lookup}: the number is in the account.", None, latency)
    return CheckResult(
        HealthState.REJECTED,
        f"{answered} to {lookup}: {target.number} is not a number of this Twilio account.",
        None,
        latency,
    )


async def _listed_numbers(response: httpx.Response) -> set[str] | None:
    """The phone_number of each listed IncomingPhoneNumber, or None for any other body."""
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    if encoding != "identity":
        return None
    body = bytearray()
    async for chunk in response.aiter_raw():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            return None
    try:
        document: Any = json.loads(body)
    except ValueError:
        return None
    listed = document.get("incoming_phone_numbers") if isinstance(document, dict) else None
    if not isinstance(listed, list):
        return None
    return {
        entry["phone_number"]
        for entry in listed
        if isinstance(entry, dict) and isinstance(entry.get("phone_number"), str)
    }


def _connect_failure(error: httpx.ConnectError) -> str:
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return f"the TLS handshake failed: {cause.verify_message or 'certificate verify failed'}"
        if isinstance(cause, ssl.SSLError):
            return f"the TLS handshake failed: {cause.reason or 'TLS error'}"
        if isinstance(cause, ConnectionRefusedError):
            return "the connection was refused"
        cause = cause.__cause__ or cause.__context__
    return "the connection failed"
