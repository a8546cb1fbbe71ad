"""A known document's operation compiled, once, into a plan of exactly its fields.

graphql-core works a document out anew for every object it completes:
which fields a selection set groups under each response name (cached per
request only), a `GraphQLResolveInfo` and a `Path` for every field, the
resolver (Strawberry's wrapper even where that reads an attribute), an
awaitable test for every value and the type's serializer for every scalar.
The plan does the grouping once, with graphql-core's own `collect_fields`,
and records for each field what completing it takes: an attribute read
where Strawberry's default resolver would only read one, a call of the
resolver where one is defined, the serializer of its leaf type, the plans
of its object type or of each possible type of an abstract one.

Whatever the plan cannot be sure of is refused, and the document then runs
on graphql-core as before: directives other than a literal @skip/@include,
variables of fragments, introspection of the schema (`__schema`, `__type`),
subscriptions, a schema with @defer/@stream.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLAbstractType,
    GraphQLEnumType,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    VariableNode,
    is_abstract_type,
)
from graphql.execution.collect_fields import FieldDetails, FragmentDetails, collect_fields, collect_subfields
from graphql.execution.values import VariableValues
from graphql.language import Visitor, visit
from graphql.type import GraphQLBoolean, GraphQLID, GraphQLInt, GraphQLString, TypeNameMetaFieldDef

from switchboard.http.compiler.fields import attribute_read, direct_call, ignores_info

# Directives graphql-core's collect_fields applies itself; with literal arguments, the plan applies them once.
_STATIC_DIRECTIVES = frozenset({"skip", "include"})
# Leaf types whose serializer returns a value of this exact Python type unchanged.
_PASSED_THROUGH: tuple[tuple[GraphQLScalarType, type], ...] = (
    (GraphQLString, str),
    (GraphQLID, str),
    (GraphQLBoolean, bool),
)


PythonType = type


class NotCompiled(Exception):
    """The operation needs something the plan does not do; graphql-core runs it."""


# Each completion stands for the type at one position of the answer: `output` is that type as the schema
# gives it (non-null or not), what graphql-core's errors are handled against.


@dataclass(eq=False)
class Leaf:
    output: GraphQLOutputType
    non_null: bool
    type: GraphQLScalarType | GraphQLEnumType
    passed: PythonType | None  # values of this exact type are their own serialization
    is_int: bool
    # An enum member's name, per enum class and member, as the enum's serializer answered it.
    names: dict[PythonType, dict[Any, Any]] | None


@dataclass(eq=False)
class ListOf:
    output: GraphQLOutputType
    non_null: bool
    item: Completion


@dataclass(eq=False)
class ObjectPlan:
    output: GraphQLOutputType
    non_null: bool
    type: GraphQLObjectType
    fields: list[FieldPlan] = field(default_factory=list)
    # is_type_of as Strawberry makes it (an isinstance test that never reads its info): called without one.
    is_type_of_needs_info: bool = False


@dataclass(eq=False)
class Abstract:
    output: GraphQLOutputType
    non_null: bool
    type: GraphQLAbstractType
    plans: dict[str, ObjectPlan]


Completion = Leaf | ListOf | ObjectPlan | Abstract


@dataclass(eq=False)
class FieldPlan:
    response_name: str
    definition: GraphQLField
    details: list[FieldDetails]
    nodes: list[FieldNode]
    parent_type: GraphQLObjectType
    attribute: str | None  # read with getattr: Strawberry's default resolver does only that
    typename: bool  # __typename: the parent type's name
    has_arguments: bool
    needs_info: bool  # a resolver, an abstract type or an is_type_of that reads it
    completion: Completion
    resolve: Callable[..., Any] | None  # the field's resolver, where no attribute is read instead
    # A leaf read from an attribute: completed where it is read.
    leaf: Leaf | None = None


@dataclass(eq=False)
class CompiledOperation:
    operation: OperationDefinitionNode
    root: ObjectPlan
    serial: bool


def _refuse_dynamic_parts(document: DocumentNode, operation: OperationDefinitionNode) -> None:
    if operation.operation not in (OperationType.QUERY, OperationType.MUTATION):
        raise NotCompiled("subscriptions run on graphql-core")
    if operation.directives:
        raise NotCompiled("operation directives change how graphql-core executes")

    class Check(Visitor):
        def enter_directive(self, node: Any, *_: Any) -> None:
            if node.name.value not in _STATIC_DIRECTIVES:
                raise NotCompiled(f"directive @{node.name.value}")
            for argument in node.arguments or ():
                if _has_variable(argument.value):
                    raise NotCompiled(f"@{node.name.value} depends on a variable")

    for definition in document.definitions:
        if isinstance(definition, FragmentDefinitionNode) and definition.variable_definitions:
            raise NotCompiled("fragment variables")
        if isinstance(definition, (FragmentDefinitionNode, OperationDefinitionNode)):
            visit(definition.selection_set, Check())


def _has_variable(value: Any) -> bool:
    if isinstance(value, VariableNode):
        return True
    children = getattr(value, "values", None) or [f.value for f in getattr(value, "fields", None) or ()]
    return any(_has_variable(child) for child in children)


class _Compiler:
    def __init__(self, schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode) -> None:
        self.schema = schema
        self.operation = operation
        self.fragments = {
            d.name.value: FragmentDetails(d, None)
            for d in document.definitions
            if isinstance(d, FragmentDefinitionNode)
        }
        # No directive reads a variable (checked first), so collecting needs none.
        self.variables = VariableValues({}, {})

    def root(self) -> ObjectPlan:
        root_type = self.schema.get_root_type(self.operation.operation)
        if root_type is None:
            raise NotCompiled("no root type for the operation")
        grouped, defers, _ = collect_fields(self.schema, self.fragments, self.variables, root_type, self.operation)
        return self.object_plan(root_type, False, root_type, grouped, defers)

    def object_plan(
        self, output: GraphQLOutputType, non_null: bool, object_type: GraphQLObjectType, grouped: Any, defers: Any
    ) -> ObjectPlan:
        if defers:
            raise NotCompiled("@defer")
        is_type_of = object_type.is_type_of
        needs_info = is_type_of is not None and not ignores_info(is_type_of)
        plan = ObjectPlan(output, non_null, object_type, is_type_of_needs_info=needs_info)
        plan.fields = [self.field_plan(object_type, name, details) for name, details in grouped.items()]
        return plan

    def field_plan(self, parent_type: GraphQLObjectType, response_name: str, details: list[FieldDetails]) -> FieldPlan:
        node = details[0].node
        name = node.name.value
        if name.startswith("__") and name != "__typename":
            raise NotCompiled("schema introspection")
        definition = TypeNameMetaFieldDef if name == "__typename" else parent_type.fields.get(name)
        if definition is None:
            raise NotCompiled(f"no field {parent_type.name}.{name}")
        completion, needs_info = self.completion(definition.type, details)
        attribute = attribute_read(definition)
        if attribute is None and name != "__typename" and definition.resolve is None:
            raise NotCompiled(f"{parent_type.name}.{name} has no resolver of its own")
        plan = FieldPlan(
            response_name,
            definition,
            details,
            [d.node for d in details],
            parent_type,
            attribute,
            typename=name == "__typename",
            has_arguments=bool(definition.args or node.arguments),
            needs_info=needs_info or (attribute is None and name != "__typename"),
            completion=completion,
            resolve=(direct_call(definition) or definition.resolve) if attribute is None else None,
        )
        if attribute is not None and isinstance(completion, Leaf):
            plan.leaf = completion
        return plan

    def completion(self, output: GraphQLOutputType, details: list[FieldDetails]) -> tuple[Completion, bool]:
        non_null = isinstance(output, GraphQLNonNull)
        named = output.of_type if isinstance(output, GraphQLNonNull) else output
        if isinstance(named, GraphQLList):
            item, needs_info = self.completion(named.of_type, details)
            return ListOf(output, non_null, item), needs_info
        if isinstance(named, GraphQLScalarType):
            passed = next((python for scalar, python in _PASSED_THROUGH if named is scalar), None)
            return Leaf(output, non_null, named, passed, named is GraphQLInt, None), False
        if isinstance(named, GraphQLEnumType):
            return Leaf(output, non_null, named, None, False, {}), False
        if isinstance(named, GraphQLObjectType):
            plan = self.subplan(output, non_null, named, details)
            return plan, plan.is_type_of_needs_info
        if is_abstract_type(named):
            possible = self.schema.get_possible_types(named)
            plans = {t.name: self.subplan(output, non_null, t, details) for t in possible}
            return Abstract(output, non_null, named, plans), True
        raise NotCompiled(f"output type {output}")

    def subplan(
        self, output: GraphQLOutputType, non_null: bool, object_type: GraphQLObjectType, details: list[FieldDetails]
    ) -> ObjectPlan:
        grouped, defers, _ = collect_subfields(
            self.schema, self.fragments, self.variables, self.operation, object_type, details
        )
        return self.object_plan(output, non_null, object_type, grouped, defers)


def compile_operation(
    schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode
) -> CompiledOperation:
    """The plan of one operation of a valid document; NotCompiled when graphql-core must run it."""
    if schema.get_directive("defer") or schema.get_directive("stream"):
        raise NotCompiled("a schema with @defer or @stream")
    _refuse_dynamic_parts(document, operation)
    root = _Compiler(schema, document, operation).root()
    return CompiledOperation(operation, root, serial=operation.operation == OperationType.MUTATION)


__all__ = [
    "Abstract",
    "Completion",
    "CompiledOperation",
    "FieldPlan",
    "Leaf",
    "ListOf",
    "NotCompiled",
    "ObjectPlan",
    "compile_operation",
]
