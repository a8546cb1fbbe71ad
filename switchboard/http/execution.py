"""Queries and mutations of known documents, run on graphql-core directly.

Strawberry builds the schema, its types and resolvers; per request, its
view and `Schema.execute` add a layer of extension hooks, execution
contexts and request parsing around graphql-core that costs about as much
as the executor itself. A document whose plan is already cached
(schema/limits.py: parsed, validated, costed once) needs none of that: what
is left per request is evaluating the cost with the variables, charging
it, checking the key's scopes, and graphql-core's `execute` on the schema
Strawberry built (`schema._schema`) with the cached document.

Everything else (a document not seen yet, GET requests, subscriptions, a
body of an unusual shape, an unknown operation name) goes through
Strawberry's view as before, and that path makes the plans this one uses.
Both answer the same, byte for byte: tests/api/test_strawberry_seam.py sends
each kind of request through both and compares.

With compiled execution on (SWITCHBOARD_COMPILED_EXECUTION, the default), an
operation is compiled once into a plan of exactly its fields
(switchboard/http/compiler/) and runs on that instead of graphql-core's
generic walk; an operation the compiler refuses runs on `execute` as before.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from inspect import isawaitable
from typing import Any, TypeGuard, cast

from graphql import (
    ExecutionResult,
    GraphQLError,
    OperationDefinitionNode,
    OperationType,
    execute,
    get_operation_ast,
)
from strawberry.execution import optimized_is_awaitable
from strawberry.http.parse_content_type import parse_content_type

from schema import Schema
from schema.context import GraphQLContext
from schema.limits import Plan, rate_limited, too_costly
from schema.scopes import forbidden
from switchboard.http.compiler import CompiledOperation, CompiledOperations, differential, execute_operation

# Strawberry's test of awaitables, as its own execution passes it; it is annotated as returning bool,
# where graphql-core's parameter asks for the TypeGuard that it is in effect.
_IS_AWAITABLE = cast(Callable[[Any], TypeGuard[Awaitable[Any]]], optimized_is_awaitable)

APPLICATION_JSON = "application/json"
_RUN_HERE = (OperationType.QUERY, OperationType.MUTATION)

COMPILED, GENERIC = "compiled", "graphql-core"
# Operations run, by how: the compiled plan or graphql-core's `execute`.
executions: Counter[str] = Counter()
_compiled = CompiledOperations()

# A check the tests may install (tests/conftest.py): it is given each compiled answer beside
# graphql-core's to the same request (switchboard/http/compiler/differential.py). Off (None) otherwise.
compare: Callable[[str, Mapping[str, Any], Mapping[str, Any]], None] | None = None


@dataclass(frozen=True)
class KnownOperation:
    """A request this path answers: a known, valid document and one query or mutation of it."""

    plan: Plan
    operation: OperationDefinitionNode
    operation_name: str | None  # as the request gave it
    name: str | None  # the operation's own name, for the request log
    variables: dict[str, Any] | None
    extensions: dict[str, Any] | None


def known_operation(schema: Schema, content_type: str, data: Any) -> KnownOperation | None:
    """The operation a POST body asks for, when this path can answer it; None leaves it to Strawberry."""
    if parse_content_type(content_type)[0] != APPLICATION_JSON or not isinstance(data, dict):
        return None
    query, variables = data.get("query"), data.get("variables")
    operation_name, extensions = data.get("operationName"), data.get("extensions")
    if not (
        isinstance(query, str)
        and (variables is None or isinstance(variables, dict))
        and (operation_name is None or isinstance(operation_name, str))
        and (extensions is None or isinstance(extensions, dict))
    ):
        return None
    plan = schema.documents.known(query)
    if plan is None or plan.errors or plan.document is None or plan.cost is None:
        return None
    operation = get_operation_ast(plan.document, operation_name)
    if operation is None or operation.operation not in _RUN_HERE:
        return None
    name = operation.name.value if operation.name else None
    return KnownOperation(plan, operation, operation_name, name, variables, extensions)


async def run(
    schema: Schema, known: KnownOperation, context: GraphQLContext, *, compiled: bool = True
) -> ExecutionResult:
    """What Strawberry's path answers for it: the cost limit, the charge, the scopes, then execution.

    In the order its extensions take them (schema/limits.py's DocumentLimits,
    schema/scopes.py's ScopeCheck); each refusal is an answer with no data.
    """
    context.operation_name = known.name
    try:
        result = await _checked_and_executed(schema, known, context, compiled)
    except Exception as error:  # noqa: BLE001 - as Strawberry's Schema.execute: an answer, masked by the view
        result = ExecutionResult(None, [GraphQLError(str(error), original_error=error)])
    if result.errors:
        # As Strawberry's Schema.execute does with every error list.
        if schema.config.disable_field_suggestions:
            for graphql_error in result.errors:
                schema.remove_field_suggestion(graphql_error)
        schema.process_errors(result.errors, None)
    return result


async def _checked_and_executed(
    schema: Schema, known: KnownOperation, context: GraphQLContext, compiled: bool
) -> ExecutionResult:
    plan, documents = known.plan, schema.documents
    assert plan.cost is not None and plan.document is not None, "known_operation took only valid plans"
    cost = plan.cost.of(known.operation_name, known.variables)
    if cost is None or cost > documents.max_cost:
        return ExecutionResult(None, [too_costly(cost, documents.max_cost)])
    if cost > 0 and (retry_after := await context.charge(cost)) is not None:
        return ExecutionResult(None, [rate_limited(retry_after)])
    errors = forbidden(plan.document, known.operation_name, context.principal.scopes if context.principal else ())
    if errors:
        return ExecutionResult(None, errors)
    operation = _compiled.of(schema._schema, plan.document, known.operation) if compiled else None
    if operation is None:
        executions[GENERIC] += 1
        return await _executed(schema, known, context)
    executions[COMPILED] += 1
    if compare is None:
        return await _compiled_run(schema, known, context, operation)
    result, standard = await differential.both(
        operation,
        lambda recording: _compiled_run(schema, known, context, recording),
        lambda middleware: _executed(schema, known, context, middleware),
    )
    compare(plan.document.loc.source.body if plan.document.loc else "", result.formatted, standard.formatted)
    return result


async def _executed(
    schema: Schema, known: KnownOperation, context: GraphQLContext, middleware: list[Any] | None = None
) -> ExecutionResult:
    assert known.plan.document is not None
    result = execute(
        schema._schema,
        known.plan.document,
        context_value=context,
        variable_values=known.variables,
        operation_name=known.operation_name,
        is_awaitable=_IS_AWAITABLE,
        # Strawberry's own executor class (and its keyword): resolvers get the Info they expect.
        executor_class=schema.execution_context_class,
        operation_extensions=known.extensions,
        middleware=middleware,
    )
    return await result if isawaitable(result) else result


async def _compiled_run(
    schema: Schema, known: KnownOperation, context: GraphQLContext, compiled: CompiledOperation
) -> ExecutionResult:
    """What `execute` does, with the plan in place of the executor's walk of the document."""
    assert known.plan.document is not None
    executor = schema.execution_context_class.build(
        schema._schema,
        known.plan.document,
        None,
        context,
        known.variables,
        known.operation_name,
        is_awaitable=_IS_AWAITABLE,
        operation_extensions=known.extensions,
    )
    if isinstance(executor, list):  # the variables' errors
        return ExecutionResult(None, executor)
    # The operation the request names is the one compiled (known_operation found it by the same rules).
    result = (
        execute_operation(executor, compiled)
        if executor.operation is compiled.operation
        else cast(ExecutionResult | Awaitable[ExecutionResult], executor.execute_operation())
    )
    return await result if isawaitable(result) else result
