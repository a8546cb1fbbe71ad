"""What Strawberry's resolver of a field does, where the plan can do the same more directly.

Strawberry wraps every field: a field without a resolver function in a
wrapper that reads an attribute, one with a function in a wrapper that makes
a Strawberry Info, converts arguments and runs field extensions and exception
handlers. These read Strawberry's own records of each field (the
StrawberryField its GraphQLField carries) and answer only where they are
sure of what the wrapper would do; elsewhere the plan calls the wrapper.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import GraphQLField

# Strawberry's GraphQLField extension naming the StrawberryField it was made from.
_DEFINITION = "strawberry-definition"


def attribute_read(definition: GraphQLField) -> str | None:
    """The attribute Strawberry's resolver of this field reads, when reading it is all that resolver does."""
    resolve = definition.resolve
    strawberry_field = (definition.extensions or {}).get(_DEFINITION)
    if resolve is None or strawberry_field is None or not getattr(resolve, "_is_default", False):
        return None
    if strawberry_field.base_resolver is not None or strawberry_field.extensions:
        return None
    if strawberry_field.default_resolver is not getattr:
        return None
    return str(strawberry_field.python_name)


# Strawberry's wrappers of a resolver function (strawberry/schema/schema_converter.py, from_resolver).
_WRAPPERS = frozenset(
    f"GraphQLCoreConverter.from_resolver.<locals>.{name}" for name in ("_resolver", "_async_resolver")
)


def direct_call(definition: GraphQLField) -> Callable[..., Any] | None:
    """The resolver function itself, called as Strawberry's wrapper would call it, for a field without arguments.

    The wrapper makes a Strawberry Info, converts the arguments (none here),
    lets field extensions and exception handlers in (none here) and passes
    the source as `self` (or `root`, `parent`) and the Info where the
    function asks for them; an async function's coroutine is awaited by the
    wrapper's own, which adds nothing to what it answers.
    """
    resolve = definition.resolve
    strawberry_field = (definition.extensions or {}).get(_DEFINITION)
    if resolve is None or strawberry_field is None or definition.args:
        return None
    if resolve.__module__ != "strawberry.schema.schema_converter" or resolve.__qualname__ not in _WRAPPERS:
        return None
    cells = dict(zip(resolve.__code__.co_freevars, (c.cell_contents for c in resolve.__closure__ or ()), strict=True))
    make_info = cells.get("_strawberry_info_from_graphql")
    base = strawberry_field.base_resolver
    if cells.get("field_exception_handlers") != () or make_info is None or base is None:
        return None
    if strawberry_field.extensions or strawberry_field.arguments or not callable(base.wrapped_func):
        return None
    function, passes_self = base.wrapped_func, base.self_parameter is not None
    sources = [p.name for p in (base.parent_parameter, base.root_parameter) if p is not None]
    info_name = base.info_parameter.name if base.info_parameter is not None else None

    def direct(source: Any, info: Any) -> Any:
        kwargs = {name: source for name in sources}
        if info_name is not None:
            kwargs[info_name] = make_info(info)
        return function(source, **kwargs) if passes_self else function(**kwargs)

    return direct


def ignores_info(is_type_of: Callable[..., Any]) -> bool:
    """Strawberry's own is_type_of: isinstance tests of the value, its info argument unused."""
    return is_type_of.__module__ == "strawberry.schema.schema_converter" and is_type_of.__qualname__.endswith(
        "_get_is_type_of.<locals>.is_type_of"
    )
