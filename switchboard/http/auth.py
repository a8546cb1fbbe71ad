"""Who a request acts for: one gate, called first by the GraphQL view and by every REST endpoint.

It reads the Authorization header (one, a bearer token), finds the key
(resolvers/api_keys.py's Authenticator remembers valid keys), keeps the
per-address limit on requests without a valid key, charges the key's rate
limit, and says whether the key has a scope. A refusal is a `Denied`, which
each transport words in its own error shape.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request

from models import ApiKeyScope
from resolvers import api_keys
from resolvers.context import Principal
from resolvers.scopes import allows, lacking_scope
from schema.cost import REQUEST_COST
from switchboard.http.rate_limit import RateLimiter


def bearer_token(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def client_address(request: Request) -> str:
    """Whom a request comes from, for the limit on requests without a valid key.

    The socket's peer, or what a trusted proxy put in X-Forwarded-For (the app
    rewrites `client` for those). An IPv6 client is its /64, which one host
    usually holds whole; an IPv4-mapped one is its IPv4 address.
    """
    host = request.client.host if request.client else ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


@dataclass(frozen=True)
class Caller:
    principal: Principal
    charge: Callable[[int], Awaitable[int | None]]


@dataclass(frozen=True)
class Denied:
    """A request refused before it runs; each transport words it its own way."""

    status: int
    message: str
    code: str
    headers: dict[str, str] = field(default_factory=dict)
    extensions: dict[str, Any] = field(default_factory=dict)


def rate_limit_exceeded(retry_after: int, message: str = "Rate limit exceeded") -> Denied:
    return Denied(
        429,
        f"{message}: retry after {retry_after} seconds",
        "RATE_LIMITED",
        headers={"Retry-After": str(retry_after)},
        extensions={"retryAfter": retry_after},
    )


class Gate:
    """Who a request acts for, decided before anything of it runs; the same for GraphQL and REST.

    A client address that has sent too many requests without a valid key is
    refused (429) before its key is looked up; each such request counts
    against its address, and so does one with two Authorization headers
    (400). A valid key's request costs REQUEST_COST units of the key's rate
    limit at once, whatever follows.
    """

    def __init__(self, authenticator: api_keys.Authenticator, keys: RateLimiter, addresses: RateLimiter) -> None:
        self.authenticator, self.keys, self.addresses = authenticator, keys, addresses

    async def admit(self, request: Request) -> Caller | Denied:
        address = client_address(request)
        count = len(request.headers.getlist("authorization"))
        if count > 1:
            # Which one counts would depend on the parser in front; neither does.
            await self.addresses.take(address, 1)
            return Denied(400, f"Send one Authorization header; this request has {count}", "BAD_REQUEST")
        admission = await self.admit_token(bearer_token(request), address)
        if isinstance(admission, Caller):
            # For what runs next: the GraphQL context, the REST endpoint, the request log's line.
            request.state.principal = admission.principal
            request.state.organization_id = admission.principal.organization_id
            request.state.charge = admission.charge
        return admission

    async def admit_token(self, token: str | None, address: str) -> Caller | Denied:
        """The same decision for a key sent elsewhere than in a header (a WebSocket's connection_init)."""
        blocked = await self.addresses.allows(address)
        # A blocked address costs the database nothing: only keys this worker
        # remembers pass, so its other users' recent keys keep working.
        principal = await self.authenticator.authenticate(token, look_up=blocked is None) if token else None
        if principal is None and blocked is not None:
            return rate_limit_exceeded(blocked, "Too many requests without a valid API key")
        if token is None or principal is None:
            await self.addresses.take(address, 1)
            message = "Missing API key: send 'Authorization: Bearer <your API key>'" if token is None else "Invalid API key"
            return Denied(401, message, "UNAUTHENTICATED", headers={"WWW-Authenticate": 'Bearer realm="switchboard"'})
        # Every later charge of the request is the key's too; each comes before the work it pays for.
        charge = functools.partial(self.keys.take, api_keys.hash_key(token))
        retry_after = await charge(REQUEST_COST)
        if retry_after is not None:
            return rate_limit_exceeded(retry_after)
        return Caller(principal, charge)


def scope_denied(principal: Principal, scope: ApiKeyScope, needed_by: str) -> Denied | None:
    """403 when the key lacks `scope`, which `needed_by` (an operation) needs; else None."""
    if allows(principal.scopes, scope):
        return None
    return Denied(403, lacking_scope(scope, needed_by), "FORBIDDEN", extensions={"requiredScope": scope.name})
