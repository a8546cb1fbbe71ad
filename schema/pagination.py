"""Relay connection pieces shared by every list."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Generic, TypeVar

import strawberry
from graphql import GraphQLError

from models.secrets import SecretBox
from resolvers.pagination import InvalidArgument, Listed, Position, check_page_size, decode_cursor, encode_cursor

NodeT = TypeVar("NodeT")
RowT = TypeVar("RowT", bound=Listed)


@strawberry.type
class Edge(Generic[NodeT]):
    node: NodeT
    # (secrets, list kind, scope, row): the cursor is signed only when a client asks for it.
    source: strawberry.Private[tuple[SecretBox, str, uuid.UUID, Listed]]

    @strawberry.field(description="Opaque; pass it as `after` to read on from this edge.")  # type: ignore[untyped-decorator]  # Strawberry types field(...) without a resolver as Any
    def cursor(self) -> str:
        return encode_cursor(*self.source)


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool = strawberry.field(description="True when `after` was given: items precede this page.")
    start_cursor: str | None
    end_cursor: str | None


@contextmanager
def argument_errors() -> Iterator[None]:
    """Report an unusable read argument as a GraphQL error that names it."""
    try:
        yield
    except InvalidArgument as error:
        raise GraphQLError(str(error), extensions={"code": "BAD_USER_INPUT", "argument": error.argument}) from None


def page_arguments(
    secrets: SecretBox, kind: str, scope: uuid.UUID, first: int, after: str | None
) -> tuple[int, Position | None]:
    with argument_errors():
        return check_page_size(first), decode_cursor(secrets, kind, scope, after)


def edges_and_page_info(
    secrets: SecretBox,
    kind: str,
    scope: uuid.UUID,
    rows: Sequence[RowT],
    has_next_page: bool,
    after: str | None,
    to_node: Callable[[RowT], NodeT],
) -> tuple[list[Edge[NodeT]], PageInfo]:
    edges = [Edge(node=to_node(row), source=(secrets, kind, scope, row)) for row in rows]
    page_info = PageInfo(
        has_next_page=has_next_page,
        has_previous_page=after is not None,
        start_cursor=encode_cursor(secrets, kind, scope, rows[0]) if rows else None,
        end_cursor=encode_cursor(secrets, kind, scope, rows[-1]) if rows else None,
    )
    return edges, page_info
