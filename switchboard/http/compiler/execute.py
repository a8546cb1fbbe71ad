"""Running a compiled operation: graphql-core's execution algorithm, step for step, over the plan.

Each function here and in complete.py is the graphql-core `AnyExecutor` method
of the same name (graphql/execution/executor.py) with the work the plan did
once taken out: the same order of resolver calls, the same gathering of
awaitables (so DataLoaders batch alike), the same errors, located and nulled
the same way, through the executor's own `handle_field_error` and
`collected_errors`. The executor is graphql-core's, built per request by
`AnyExecutor.build` (operation, fragments, coerced variables); where a value is
of a kind the plan did not foresee (an async iterable for a list, an
awaitable is_type_of or type resolver), completing it is handed to the
executor's own method.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, cast

from graphql import ExecutionResult, GraphQLError
from graphql.execution.values import get_argument_values
from graphql.pyutils import Path, async_reduce, gather_with_cancel

from switchboard.http.compiler.complete import (
    AnyExecutor,
    Info,
    build_info,
    complete_leaf_value,
    complete_value,
    field_error,
)
from switchboard.http.compiler.plan import CompiledOperation, FieldPlan, ObjectPlan


def execute_operation(
    executor: AnyExecutor, compiled: CompiledOperation
) -> ExecutionResult | Awaitable[ExecutionResult]:
    """AnyExecutor.execute_operation, for an executor built for this operation, without an abort signal."""
    try:
        root = compiled.root
        if compiled.serial:
            result: Any = execute_fields_serially(executor, root, executor.root_value)
        else:
            result = execute_fields(executor, root, executor.root_value, None)
        if executor.is_awaitable(result):

            async def await_result() -> ExecutionResult:
                try:
                    data = await result
                except GraphQLError as error:
                    executor.collected_errors.add(error, None)
                    return cast(ExecutionResult, executor.build_response(None))
                return cast(ExecutionResult, executor.build_response(data))

            return await_result()
    except GraphQLError as error:
        executor.collected_errors.add(error, None)
        return cast(ExecutionResult, executor.finish(executor.build_response(None)))
    return cast(ExecutionResult, executor.finish(executor.build_response(result)))


def execute_fields_serially(executor: AnyExecutor, plan: ObjectPlan, source: Any) -> Any:
    is_awaitable = executor.is_awaitable

    def reducer(results: dict[str, Any], field: FieldPlan) -> Any:
        result = execute_field(executor, field, source, None)
        if is_awaitable(result):

            async def set_result() -> dict[str, Any]:
                results[field.response_name] = await result
                return results

            return set_result()
        results[field.response_name] = result
        return results

    return async_reduce(reducer, plan.fields, {})


def execute_fields(executor: AnyExecutor, plan: ObjectPlan, source: Any, path: Path | None) -> Any:
    results: dict[str, Any] = {}
    is_awaitable = executor.is_awaitable
    awaitable_fields: list[str] = []
    try:
        for field in plan.fields:
            name = field.response_name
            leaf = field.leaf
            if leaf is None:
                result = execute_field(executor, field, source, path)
                results[name] = result
                if is_awaitable(result):
                    awaitable_fields.append(name)
                continue
            # A leaf read from an attribute, most fields of a page: completed here, a path made only for an error.
            try:
                value = getattr(source, cast(str, field.attribute))
            except Exception as raw_error:  # noqa: BLE001 - as a resolver's error: located, nulled
                results[name] = None
                field_error(executor, raw_error, field, Path(path, name, plan.type.name))
                continue
            passed = leaf.passed
            if (passed is not None and type(value) is passed) or (value is None and not leaf.non_null):
                results[name] = value
            elif value is None or is_awaitable(value) or isinstance(value, Exception):
                result = complete_field(executor, field, None, Path(path, name, plan.type.name), value)
                results[name] = result
                if is_awaitable(result):
                    awaitable_fields.append(name)
            else:
                try:
                    results[name] = complete_leaf_value(leaf, value)
                except Exception as raw_error:  # noqa: BLE001 - as graphql-core: located, nulled
                    results[name] = None
                    field_error(executor, raw_error, field, Path(path, name, plan.type.name))
    except Exception:
        if awaitable_fields:
            executor.settle_in_background([results[name] for name in awaitable_fields])
        raise
    if not awaitable_fields:
        return results

    async def get_results() -> dict[str, Any]:
        if len(awaitable_fields) == 1:
            name = awaitable_fields[0]
            results[name] = await results[name]
        else:
            awaited = await gather_with_cancel(*(results[name] for name in awaitable_fields))
            results.update(zip(awaitable_fields, awaited, strict=True))
        return results

    return get_results()


def execute_field(executor: AnyExecutor, field: FieldPlan, source: Any, parent_path: Path | None) -> Any:
    path = Path(parent_path, field.response_name, field.parent_type.name)
    info = build_info(executor, field, path) if field.needs_info else None
    try:
        if field.attribute is not None:
            result = getattr(source, field.attribute)
        elif field.typename:
            result = field.parent_type.name
        else:
            details = field.details[0]
            args = (
                get_argument_values(
                    field.definition,
                    details.node,
                    executor.variable_values,
                    details.fragment_variable_values,
                    executor.hide_suggestions,
                )
                if field.has_arguments
                else {}
            )
            result = cast(Any, field.resolve)(source, info, **args)
    except Exception as raw_error:  # noqa: BLE001 - a resolver's error: located, nulled
        field_error(executor, raw_error, field, path)
        return None
    return complete_field(executor, field, info, path, result)


def complete_field(executor: AnyExecutor, field: FieldPlan, info: Info | None, path: Path, result: Any) -> Any:
    """The rest of AnyExecutor.execute_field, once the resolver has answered."""
    is_awaitable = executor.is_awaitable
    try:
        if is_awaitable(result):
            return complete_awaitable_value(executor, field, info, path, result)
        completed = complete_value(executor, field.completion, field, info, path, result)
        if is_awaitable(completed):

            async def await_completed() -> Any:
                try:
                    return await completed
                except Exception as raw_error:  # noqa: BLE001 - as graphql-core: located, nulled
                    field_error(executor, raw_error, field, path)
                    return None

            return await_completed()
    except Exception as raw_error:  # noqa: BLE001 - as graphql-core: located, nulled
        field_error(executor, raw_error, field, path)
        return None
    return completed


async def complete_awaitable_value(
    executor: AnyExecutor, field: FieldPlan, info: Info | None, path: Path, result: Any
) -> Any:
    try:
        resolved = await result
        completed = complete_value(executor, field.completion, field, info, path, resolved)
        if executor.is_awaitable(completed):
            completed = await completed
    except Exception as raw_error:  # noqa: BLE001 - as graphql-core: located, nulled
        field_error(executor, raw_error, field, path)
        completed = None
    return completed
