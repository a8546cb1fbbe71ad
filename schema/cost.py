"""The static cost of a GraphQL document: an upper bound of its answer, computed before it runs.

A unit of cost stands for at most UNIT_BYTES bytes of the answer and about
one field resolved. Every field costs at least 1 each time it can appear in
the answer. A field with a `first` argument (a connection) reads a page of
rows: ROW_COST for each row its page size allows, and its edges count that
many times; `nodes(ids)` reads and answers a row per id. Counts and filtered
pages may read every row: SCAN_COST, once per field. Fragments are counted wherever they are spread, aliases as the
separate fields they are, @skip/@include as if the field were kept, every
member of a union. Mutations cost MUTATION_COST more each: they write.

The cost depends on the variables only through `first`, so the analysis of a
document is done once, into a polynomial over its page-size variables, and
each request only evaluates it. Introspection answers depend on the schema
alone: they are counted exactly, once per document.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import orjson
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLCompositeType,
    GraphQLField,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    VariableNode,
    get_named_type,
    is_composite_type,
    is_leaf_type,
    is_list_type,
    is_non_null_type,
)
from graphql.pyutils import Undefined
from graphql.type.introspection import SchemaMetaFieldDef, TypeMetaFieldDef

from resolvers.pagination import PAGE_SIZE_MAX, PAGE_SIZE_MIN
from resolvers.rules import METADATA_MAX_BYTES

UNIT_BYTES = 512
# What a field adds around its key and value: quotes, colon, comma, braces.
FRAMING_BYTES = 8
# The largest JSON any scalar field of the schema answers, but those listed in
# VALUE_BYTES: a name of 100 characters of 4 UTF-8 bytes each, quoted, is 402.
SCALAR_BYTES = 440
VALUE_BYTES: Mapping[tuple[str, str], int] = {("PhoneNumber", "metadata"): METADATA_MAX_BYTES}
MUTATION_COST = 10
# A provider check (verifyPhoneNumber, or `verify: true` on a create or update,
# charged as it runs) holds a socket and a task for up to SWITCHBOARD_VERIFY_TIMEOUT
# and sends traffic to a host the caller chose. Charged as much as 5 full
# scans, so a key at the default rate limit checks at most 5 numbers a second:
# enough for anyone verifying their numbers, too slow to use Switchboard to
# probe other hosts. Monitoring is not charged.
VERIFY_COST = 1_000
VERIFY_COST_FIELDS = (("Mutation", "verifyPhoneNumber"),)
# Receiving and answering any request, GraphQL or REST, whatever it asks: about
# a millisecond of CPU, what resolving some 50 fields takes.
REQUEST_COST = 50
# Reading one row of a page, whatever is selected of it: about the CPU time of
# four fields resolved, its 8 KiB of metadata decoded.
ROW_COST = 4
# Counting or filtering may read every row an organization holds (10,000 numbers
# at the default limit): about 3 ms of CPU. Charged once per field in the document,
# not per appearance: the counts of a page's agents are one batched query.
SCAN_COST = 200
SCAN_COST_FIELDS = (("PhoneNumberConnection", "totalCount"), ("AgentConnection", "totalCount"))

# A page-size variable: its name, and the page size the argument takes without it.
PageVariable = tuple[str, int]


def weight(key: str, value_bytes: int) -> int:
    """Units one appearance of a field costs: its key and value in UNIT_BYTES, at least 1."""
    return max(1, math.ceil((len(key.encode()) + value_bytes + FRAMING_BYTES) / UNIT_BYTES))


def page_size(value: Any, fallback: int) -> int:
    """The rows a page of this `first` can hold: clamped to the page limits, as the resolvers refuse more.

    A value that is not a whole number never runs (its coercion fails), but
    counts as a full page all the same.
    """
    if value is None or value is Undefined:
        value = fallback
    if isinstance(value, list):  # ids: one row each
        value = len(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        return PAGE_SIZE_MAX
    return min(max(value, PAGE_SIZE_MIN), PAGE_SIZE_MAX)


@dataclass(frozen=True)
class Polynomial:
    """A sum of coefficients times products of page-size variables; () is the constant term."""

    terms: Mapping[tuple[PageVariable, ...], int] = field(default_factory=dict)

    @staticmethod
    def constant(value: int) -> Polynomial:
        return Polynomial({(): value})

    def __add__(self, other: Polynomial) -> Polynomial:
        terms = dict(self.terms)
        for monomial, coefficient in other.terms.items():
            terms[monomial] = terms.get(monomial, 0) + coefficient
        return Polynomial(terms)

    def scaled(self, factor: int) -> Polynomial:
        return Polynomial({monomial: coefficient * factor for monomial, coefficient in self.terms.items()})

    def times(self, variable: PageVariable) -> Polynomial:
        return Polynomial({tuple(sorted((*monomial, variable))): c for monomial, c in self.terms.items()})

    def evaluate(self, sizes: Mapping[PageVariable, int]) -> int:
        return sum(coefficient * math.prod(sizes[v] for v in monomial) for monomial, coefficient in self.terms.items())

    @property
    def variables(self) -> set[PageVariable]:
        return {variable for monomial in self.terms for variable in monomial}


@dataclass(frozen=True)
class OperationCost:
    polynomial: Polynomial
    # The operation's variable defaults, for variables a request leaves out.
    defaults: Mapping[str, Any]

    def evaluate(self, variables: Mapping[str, Any] | None) -> int:
        given = variables or {}
        sizes = {
            (name, fallback): page_size(given[name] if name in given else self.defaults.get(name), fallback)
            for name, fallback in self.polynomial.variables
        }
        return self.polynomial.evaluate(sizes)


@dataclass(frozen=True)
class DocumentCost:
    """The cost of each operation of a valid document; None for one whose introspection alone is over `limit`."""

    operations: Mapping[str | None, OperationCost | None]

    def of(self, operation_name: str | None, variables: Mapping[str, Any] | None) -> int | None:
        if operation_name is None and len(self.operations) == 1:
            (operation,) = self.operations.values()
        else:
            operation = self.operations[operation_name]
        return None if operation is None else operation.evaluate(variables)


class OverLimit(Exception):
    """Counting went past the limit: the document is refused whatever its variables."""


def document_cost(schema: GraphQLSchema, document: DocumentNode, limit: int) -> DocumentCost:
    """The cost of a document that passed validation. Work is linear in its size, and in `limit` for introspection."""
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    analysis = _Analysis(schema, fragments, limit)
    operations: dict[str | None, OperationCost | None] = {}
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            name = definition.name.value if definition.name else None
            operations[name] = analysis.operation(definition)
    return DocumentCost(operations)


# A page's size: rows a literal `first` allows, a variable, or no page at all.
Page = int | PageVariable | None


@dataclass(frozen=True)
class Work:
    """What a selection costs: units for each time it appears, and scans done once whatever the multipliers."""

    per_answer: Polynomial = field(default_factory=Polynomial)
    scans: int = 0

    def __add__(self, other: Work) -> Work:
        return Work(self.per_answer + other.per_answer, self.scans + other.scans)

    def times(self, page: Page) -> Work:
        if page is None:
            return self
        return Work(self.per_answer.scaled(page) if isinstance(page, int) else self.per_answer.times(page), self.scans)

    def polynomial(self) -> Polynomial:
        return self.per_answer + Polynomial.constant(self.scans * SCAN_COST)


class _Analysis:
    def __init__(self, schema: GraphQLSchema, fragments: dict[str, FragmentDefinitionNode], limit: int) -> None:
        self.schema = schema
        self.fragments = fragments
        self.introspection = _Introspection(schema, fragments, limit)
        # A fragment costs the same wherever it is spread on a page of the same
        # size: computed once, however often it is spread.
        self.fragment_costs: dict[tuple[str, Page], Work] = {}

    def operation(self, operation: OperationDefinitionNode) -> OperationCost | None:
        root = self.schema.get_root_type(operation.operation)
        assert root is not None, "validation checked the operation type"
        defaults = {
            v.variable.name.value: _literal(v.default_value) for v in operation.variable_definitions or () if v.default_value
        }
        try:
            return OperationCost(self.selections(operation.selection_set, root, None).polynomial(), defaults)
        except OverLimit:
            return None

    def selections(self, selection_set: SelectionSetNode, parent: GraphQLCompositeType, page: Page) -> Work:
        """The cost of a selection set; `page` is the page size when `parent` is a connection."""
        total = Work()
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self.field(selection, parent, page)
            elif isinstance(selection, InlineFragmentNode):
                condition = self._type(selection.type_condition.name.value) if selection.type_condition else parent
                total += self.selections(selection.selection_set, condition, page)
            elif isinstance(selection, FragmentSpreadNode):
                total += self.fragment(selection.name.value, page)
        return total

    def fragment(self, name: str, page: Page) -> Work:
        if (name, page) not in self.fragment_costs:
            definition = self.fragments[name]
            condition = self._type(definition.type_condition.name.value)
            self.fragment_costs[(name, page)] = self.selections(definition.selection_set, condition, page)
        return self.fragment_costs[(name, page)]

    def field(self, node: FieldNode, parent: GraphQLCompositeType, page: Page) -> Work:
        name = node.name.value
        key = (node.alias or node.name).value
        if name == "__typename":
            return Work(Polynomial.constant(weight(key, SCALAR_BYTES)))
        if name in ("__schema", "__type"):
            return Work(Polynomial.constant(self.introspection.root(node)))
        # A validated document selects fields of object and interface types only; unions have only __typename.
        definition: GraphQLField = parent.fields[name]  # type: ignore[union-attr]
        # An object's own bytes are its key and braces; its fields count below.
        own = weight(key, 2 if node.selection_set else VALUE_BYTES.get((parent.name, name), SCALAR_BYTES))
        if parent is self.schema.mutation_type:
            own += MUTATION_COST
        if (parent.name, name) in VERIFY_COST_FIELDS:
            own += VERIFY_COST
        work = Work(Polynomial.constant(own), SCAN_COST_FIELDS.count((parent.name, name)))
        if node.selection_set is not None:
            rows = self._page(node, definition) if "first" in definition.args else None
            if rows is not None:
                # The page's rows are read whatever is selected of them; a filter may read all.
                work += Work(scans=int(any(a.name.value == "filter" for a in node.arguments or ()))) + Work(
                    Polynomial.constant(ROW_COST)
                ).times(rows)
            # A field with a selection set has a composite type (validated); graphql-core types it as any named type.
            work += self.selections(node.selection_set, get_named_type(definition.type), rows)  # type: ignore[arg-type]
        if "ids" in definition.args:
            # nodes(ids): a row read and answered for each id.
            return (work + Work(Polynomial.constant(ROW_COST))).times(self._ids(node))
        # A list in a connection (its edges) holds a row each.
        return work.times(page) if _is_list(definition.type) else work

    def _page(self, node: FieldNode, definition: GraphQLField) -> Page:
        fallback = definition.args["first"].default_value
        fallback = fallback if isinstance(fallback, int) else PAGE_SIZE_MAX
        argument = next((a.value for a in node.arguments or () if a.name.value == "first"), None)
        if isinstance(argument, VariableNode):
            return (argument.name.value, fallback)
        value = int(argument.value) if isinstance(argument, IntValueNode) else None if argument is None else PAGE_SIZE_MAX
        return page_size(value, fallback)

    def _ids(self, node: FieldNode) -> Page:
        """As many rows as ids: a literal list's length, a variable's per request, one lone id."""
        argument = next(a.value for a in node.arguments or () if a.name.value == "ids")
        if isinstance(argument, VariableNode):
            return (argument.name.value, PAGE_SIZE_MAX)
        return page_size(len(argument.values) if isinstance(argument, ListValueNode) else 1, PAGE_SIZE_MAX)

    def _type(self, name: str) -> GraphQLCompositeType:
        type_ = self.schema.get_type(name)
        assert is_composite_type(type_), name  # a fragment's type condition, validated before
        return type_


def _is_list(type_: GraphQLOutputType) -> bool:
    return is_list_type(type_.of_type if is_non_null_type(type_) else type_)


def _literal(value: Any) -> Any:
    return int(value.value) if isinstance(value, IntValueNode) else None


class _Introspection:
    """Counts an introspection answer exactly, by walking the schema as its resolvers would.

    The count stops once past `limit`, so the work stays bounded by it.
    """

    def __init__(self, schema: GraphQLSchema, fragments: dict[str, FragmentDefinitionNode], limit: int) -> None:
        self.schema = schema
        self.fragments = fragments
        self.remaining = limit
        # All graphql-core's introspection resolvers read from their `info`.
        self.info = SimpleNamespace(schema=schema)

    def root(self, node: FieldNode) -> int:
        key = (node.alias or node.name).value
        if node.name.value == "__schema":
            return self._value(node, key, SchemaMetaFieldDef.type, self.schema)
        name = next(a.value for a in node.arguments or () if a.name.value == "name")
        if isinstance(name, StringValueNode):
            return self._value(node, key, TypeMetaFieldDef.type, self.schema.get_type(name.value))
        # A type named by a variable: whichever type answers the most, every one counted.
        candidates = [self._value(node, key, TypeMetaFieldDef.type, t) for t in self.schema.type_map.values()]
        return max(candidates, default=self._spend(weight(key, 4)))

    def _spend(self, units: int) -> int:
        self.remaining -= units
        if self.remaining < 0:
            raise OverLimit
        return units

    def _value(self, node: FieldNode, key: str, type_: GraphQLOutputType, value: Any) -> int:
        if is_non_null_type(type_):
            type_ = type_.of_type
        if value is None:
            return self._spend(weight(key, len(b"null")))
        if is_list_type(type_):
            item_type = type_.of_type
            return self._spend(weight(key, 2)) + sum(self._value(node, "", item_type, item) for item in value)
        if is_leaf_type(type_):
            return self._spend(weight(key, len(orjson.dumps(type_.serialize(value)))))
        object_type = get_named_type(type_)
        assert isinstance(object_type, GraphQLObjectType) and node.selection_set is not None
        total = self._spend(weight(key, 2))
        for field_node in self._fields(node.selection_set, object_type):
            total += self._field(field_node, object_type, value)
        return total

    def _field(self, node: FieldNode, parent: GraphQLObjectType, source: Any) -> int:
        key = (node.alias or node.name).value
        if node.name.value == "__typename":
            return self._spend(weight(key, len(parent.name) + 2))
        definition = parent.fields[node.name.value]
        # Deprecated entries included: an upper bound whatever the argument says.
        arguments = {name: True for name in definition.args if name == "includeDeprecated"}
        return self._value(node, key, definition.type, definition.resolve(source, self.info, **arguments))

    def _fields(self, selection_set: SelectionSetNode, parent: GraphQLNamedType) -> Iterator[FieldNode]:
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                yield selection
            elif isinstance(selection, InlineFragmentNode):
                if selection.type_condition is None or selection.type_condition.name.value == parent.name:
                    yield from self._fields(selection.selection_set, parent)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments[selection.name.value]
                if fragment.type_condition.name.value == parent.name:
                    yield from self._fields(fragment.selection_set, parent)
