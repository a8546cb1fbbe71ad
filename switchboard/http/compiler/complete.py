"""Completing a resolved value as the plan says: graphql-core's `complete_value` and the methods it calls.

See execute.py: the same algorithm, step for step, with the plan in place of
collecting fields and looking types up.
"""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Any, cast

from graphql import GraphQLError, GraphQLResolveInfo
from graphql.execution.executor import Executor, invalid_return_type_error
from graphql.pyutils import Path, Undefined, gather_with_cancel, inspect, is_iterable

from switchboard.http.compiler import execute
from switchboard.http.compiler.plan import Abstract, Completion, FieldPlan, Leaf, ListOf, ObjectPlan

AnyExecutor = Executor[Any]
if TYPE_CHECKING:
    Info = GraphQLResolveInfo[Any]
else:
    Info = GraphQLResolveInfo
_NO_NAMES: dict[Any, Any] = {}
_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1


def build_info(executor: AnyExecutor, field: FieldPlan, path: Path) -> Info:
    return executor.build_resolve_info(field.definition, field.nodes, field.parent_type, path)


def field_error(
    executor: AnyExecutor, raw_error: Exception, field: FieldPlan, path: Path, item: Completion | None = None
) -> None:
    """Executor.handle_field_error: raises for a non-null type, else records the error and the nulled position."""
    return_type = field.definition.type if item is None else item.output
    executor.handle_field_error(raw_error, return_type, field.details, path)


def complete_value(
    executor: AnyExecutor, completion: Completion, field: FieldPlan, info: Info | None, path: Path, result: Any
) -> Any:
    """graphql-core's complete_value; a non-null type is a flag of its position, not a wrapper to recurse into.

    (What graphql-core checks after completing the inner type, a None, comes only from a None result.)
    """
    if isinstance(result, Exception):
        raise result
    if result is None or result is Undefined:
        if completion.non_null:
            msg = f"Cannot return null for non-nullable field {field.parent_type}.{field.nodes[0].name.value}."
            raise TypeError(msg)
        return None
    kind = completion.__class__
    if kind is ObjectPlan:
        return complete_object_value(executor, cast(ObjectPlan, completion), field, info, path, result)
    if kind is Leaf:
        return complete_leaf_value(cast(Leaf, completion), result)
    if kind is ListOf:
        if executor.is_async_iterable(result):
            full_info = _ensured(executor, field, info, path)
            return executor.complete_value(completion.output, field.details, full_info, path, result, None)
        if not is_iterable(result):
            msg = (
                f"Expected Iterable, but did not find one for field '{field.parent_type}.{field.nodes[0].name.value}'."
            )
            raise GraphQLError(msg)
        return complete_iterable_value(executor, cast(ListOf, completion).item, field, info, path, result)
    full_info = _ensured(executor, field, info, path)
    return complete_abstract_value(executor, cast(Abstract, completion), field, full_info, path, result)


def _ensured(executor: AnyExecutor, field: FieldPlan, info: Info | None, path: Path) -> Info:
    """The field's info; built when the plan expected none to be needed (the path of a list item is not its own)."""
    if info is not None:
        return info
    while isinstance(path.key, int):
        path = cast(Path, path.prev)
    return build_info(executor, field, path)


def complete_leaf_value(leaf: Leaf, result: Any) -> Any:
    names = leaf.names
    if names is not None:
        # Per enum class: members of two str enums can be equal.
        name = names.get(type(result), _NO_NAMES).get(result) if isinstance(result, Enum) else None
        if name is not None:
            return name
    elif type(result) is leaf.passed or (leaf.is_int and type(result) is int and _INT_MIN <= result <= _INT_MAX):
        return result
    coerced = leaf.type.coerce_output_value(result)
    if coerced is Undefined or coerced is None:
        msg = (
            f"Expected `{inspect(leaf.type)}.coerce_output_value({inspect(result)})`"
            f" to return non-nullable value, returned: {inspect(coerced)}"
        )
        raise TypeError(msg)
    if names is not None and isinstance(result, Enum):
        names.setdefault(type(result), {})[result] = coerced
    return coerced


def complete_iterable_value(
    executor: AnyExecutor, item: Any, field: FieldPlan, info: Info | None, path: Path, items: Any
) -> Any:
    is_awaitable = executor.is_awaitable
    completed_results: list[Any] = []
    awaitable_indices: list[int] = []
    iterator = iter(items)
    index = 0
    try:
        for element in iterator:
            item_path = Path(path, index, None)
            if is_awaitable(element):
                completed_results.append(complete_awaitable_item(executor, element, item, field, info, item_path))
                awaitable_indices.append(index)
            elif complete_list_item_value(executor, element, completed_results, item, field, info, item_path):
                awaitable_indices.append(index)
            index += 1
    except Exception:
        pending = [completed_results[i] for i in awaitable_indices]
        pending.extend(element for element in iterator if is_awaitable(element))
        if pending:
            executor.settle_in_background(pending)
        raise
    if not awaitable_indices:
        return completed_results

    async def get_completed_results() -> list[Any]:
        if len(awaitable_indices) == 1:
            i = awaitable_indices[0]
            completed_results[i] = await completed_results[i]
        else:
            awaited = await gather_with_cancel(*(completed_results[i] for i in awaitable_indices))
            for i, value in zip(awaitable_indices, awaited, strict=True):
                completed_results[i] = value
        return completed_results

    return get_completed_results()


def complete_list_item_value(
    executor: AnyExecutor,
    element: Any,
    completed_results: list[Any],
    item: Any,
    field: FieldPlan,
    info: Info | None,
    item_path: Path,
) -> bool:
    try:
        completed = complete_value(executor, item, field, info, item_path, element)
        if executor.is_awaitable(completed):

            async def await_completed() -> Any:
                try:
                    return await completed
                except Exception as raw_error:  # noqa: BLE001 - as graphql-core: located, nulled
                    field_error(executor, raw_error, field, item_path, item)
                    return None

            completed_results.append(await_completed())
            return True
        completed_results.append(completed)
    except Exception as raw_error:  # noqa: BLE001 - as graphql-core: located, nulled
        field_error(executor, raw_error, field, item_path, item)
        completed_results.append(None)
    return False


async def complete_awaitable_item(
    executor: AnyExecutor, element: Any, item: Any, field: FieldPlan, info: Info | None, item_path: Path
) -> Any:
    try:
        resolved = await element
        completed = complete_value(executor, item, field, info, item_path, resolved)
        if executor.is_awaitable(completed):
            completed = await completed
    except Exception as raw_error:  # noqa: BLE001 - as graphql-core: located, nulled
        field_error(executor, raw_error, field, item_path, item)
        return None
    return completed


def complete_abstract_value(
    executor: AnyExecutor, completion: Abstract, field: FieldPlan, info: Info, path: Path, result: Any
) -> Any:
    resolve_type = completion.type.resolve_type or executor.type_resolver
    runtime_type = resolve_type(result, info, completion.type)
    if executor.is_awaitable(runtime_type):
        return executor.complete_abstract_value(completion.type, field.details, info, path, result, None)
    object_type = executor.ensure_valid_runtime_type(runtime_type, completion.type, field.details, info, result)
    return complete_object_value(executor, completion.plans[object_type.name], field, info, path, result)


def complete_object_value(
    executor: AnyExecutor, plan: ObjectPlan, field: FieldPlan, info: Info | None, path: Path, result: Any
) -> Any:
    is_type_of = plan.type.is_type_of
    if is_type_of is not None:
        if plan.is_type_of_needs_info:
            info = _ensured(executor, field, info, path)
        is_type = is_type_of(result, cast(Info, info))
        if executor.is_awaitable(is_type):
            full_info = _ensured(executor, field, info, path)
            return executor.complete_object_value(plan.type, field.details, full_info, path, result, None)
        if not is_type:
            raise invalid_return_type_error(plan.type, result, field.details)
    return execute.execute_fields(executor, plan, result, path)
