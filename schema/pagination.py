"""Relay connection pieces shared by every list."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import strawberry
from graphql import GraphQLError

from resolvers.pagination import InvalidArgument, Position, check_page_size, decode_cursor, encode_cursor


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


def page_arguments(kind: str, scope: uuid.UUID, first: int, after: str | None) -> tuple[int, Position | None]:
    with argument_errors():
        return check_page_size(first), decode_cursor(kind, scope, after)


def edges_and_page_info(
    kind: str, scope: uuid.UUID, rows: list[Any], has_next_page: bool, after: str | None, to_node: Callable[[Any], Any]
) -> tuple[list[tuple[str, Any]], PageInfo]:
    edges = [(encode_cursor(kind, scope, row), to_node(row)) for row in rows]
    page_info = PageInfo(
        has_next_page=has_next_page,
        has_previous_page=after is not None,
        start_cursor=edges[0][0] if edges else None,
        end_cursor=edges[-1][0] if edges else None,
    )
    return edges, page_info

