"""Refusals of a subscription's document answered as graphql-transport-ws `error` messages."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing
from typing import Any

from graphql import GraphQLError
from strawberry.types import ExecutionResult
from strawberry.types.execution import PreExecutionError


class RefusalsAsErrors:
    """The schema as a WebSocket handler streams from it, with a refusal made before execution as an answer.

    The document limits (schema/limits.py) refuse a document too long, too
    costly or over the caller's rate limit by raising a GraphQLError from
    their hooks, which Strawberry's HTTP path turns into an answer; its
    subscription path lets it escape, so the operation ended with a bare
    `complete` and a logged traceback. Here it becomes the first result as a
    PreExecutionError, which the handler sends as the operation's `error`
    message, as it does for a document that does not validate.
    """

    def __init__(self, schema: Any) -> None:
        self._schema = schema

    def __getattr__(self, name: str) -> Any:
        return getattr(self._schema, name)

    async def stream(self, *args: Any, **kwargs: Any) -> AsyncGenerator[ExecutionResult | PreExecutionError, None]:
        try:
            source = await self._schema.stream(*args, **kwargs)
        except GraphQLError as error:
            return _refused(error)
        return _refusal_first(source)


async def _refused(error: GraphQLError) -> AsyncGenerator[PreExecutionError, None]:
    yield PreExecutionError(data=None, errors=[error])


async def _refusal_first(
    source: AsyncGenerator[ExecutionResult | PreExecutionError, None],
) -> AsyncGenerator[ExecutionResult | PreExecutionError, None]:
    started = False
    async with aclosing(source):
        try:
            async for result in source:
                started = True
                yield result
        except GraphQLError as error:
            if started:
                raise
            yield PreExecutionError(data=None, errors=[error])
