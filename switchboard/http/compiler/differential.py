"""The compiled answer beside graphql-core's, for the tests' differential check (tests/conftest.py).

The root fields' resolvers run once, in the compiled run: a mutation must
not run twice, and what a query reads can change between two runs (a key's
`lastUsedAt` is written after the request that used it). graphql-core then
executes the same operation on the same context with each root resolver's
answer, or error, replayed by a middleware, so it completes the same values
below the root: every field beneath, nested resolvers included, runs on both.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from inspect import isawaitable
from typing import Any

from graphql import ExecutionResult

from switchboard.http.compiler.complete import Info
from switchboard.http.compiler.plan import CompiledOperation, FieldPlan

Compiled = Callable[[CompiledOperation], Awaitable[ExecutionResult]]
Generic = Callable[[list[Any] | None], Awaitable[ExecutionResult]]


async def both(compiled: CompiledOperation, run: Compiled, execute: Generic) -> tuple[ExecutionResult, ExecutionResult]:
    """The compiled run's result (the answer) and graphql-core's (to compare it with)."""
    answers: dict[str, Any] = {}
    fields = [_recording(field, answers) for field in compiled.root.fields]
    result = await run(dataclasses.replace(compiled, root=dataclasses.replace(compiled.root, fields=fields)))

    def replay(next_: Callable[..., Any], source: Any, info: Info, **args: Any) -> Any:
        path = info.path
        if path.prev is None and path.key in answers:
            answer = answers[str(path.key)]
            if isinstance(answer, Exception):
                raise answer
            return answer
        return next_(source, info, **args)

    return result, await execute([replay])


def _recording(field: FieldPlan, answers: dict[str, Any]) -> FieldPlan:
    resolve, name = field.resolve, field.response_name
    if resolve is None:
        return field

    def recorded(source: Any, info: Info, **args: Any) -> Any:
        try:
            result = resolve(source, info, **args)
        except Exception as error:
            answers[name] = error
            raise
        if not isawaitable(result):
            answers[name] = result
            return result

        async def awaited() -> Any:
            try:
                answers[name] = await result
            except Exception as error:
                answers[name] = error
                raise
            return answers[name]

        return awaited()

    return dataclasses.replace(field, resolve=recorded)
