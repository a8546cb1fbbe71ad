"""Limits on what one GraphQL document may ask for, and what the caller is charged for it.

Each document is parsed, checked against the limits, validated and costed
once (`Documents`, an LRU keyed by its text); a request then only evaluates
the cached cost with its variables and charges the caller's rate limit.
Making a plan is work too: a document not in the cache is charged its size.

Length and tokens bound the parser's work; selections, and a budget for
comparing fields of one name pairwise, the validator's; depth and aliases the
shape; the cost the resolvers' work and the size of the answer.
Introspection fields do not count towards depth (typed clients' introspection
query nests `ofType` deeply); graphql-core's own rule bounds their nesting,
and their cost is counted exactly.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass

from cachetools import LRUCache
from graphql import (
    ASTValidationRule,
    DocumentNode,
    FieldNode,
    FloatValueNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionNode,
    Visitor,
    parse,
    visit,
)
from graphql.validation.rules import overlapping_fields_can_be_merged
from graphql.validation.validate import ValidationAbortedError
from strawberry.extensions import SchemaExtension
from strawberry.schema import Schema as StrawberrySchema
from strawberry.schema.schema import validate_document

from schema.context import GraphQLContext
from schema.cost import REQUEST_COST, DocumentCost, document_cost

MAX_QUERY_LENGTH = 15_000
MAX_TOKENS = 1_000
MAX_SELECTIONS = 150
# graphql-core's budget for comparing fields that share a response name, pairwise:
# documents clients send spend a few units; its default, 500,000, took 0.35 s.
MAX_FIELD_COMPARISONS = 2_000
MAX_DEPTH = 10
MAX_ALIASES = 15
# Python refuses to read an integer of more than 4,300 digits (a guard against
# quadratic conversion); no Int or JSON number the schema takes needs 100.
MAX_NUMBER_LENGTH = 100
DEFAULT_MAX_QUERY_COST = 10_000
# A document not in the cache costs a unit per this many characters of its
# text (or per selection, if more): parsing and validating it, whether it then
# runs or not.
CHARACTERS_PER_UNIT = 10
DOCUMENT_CACHE_SIZE = 128

# Read by graphql-core each time the rule starts; documented as the knob to turn.
overlapping_fields_can_be_merged.MAX_COMPLEXITY_BUDGET = MAX_FIELD_COMPARISONS


def largest_charge(max_cost: int) -> int:
    """The most one request can be charged: its own cost, the parsing of the longest document, the cost limit."""
    return REQUEST_COST + math.ceil(MAX_QUERY_LENGTH / CHARACTERS_PER_UNIT) + max_cost


def text_size(query: str) -> int:
    """What parsing a document costs, known before it is parsed."""
    return max(1, math.ceil(len(query) / CHARACTERS_PER_UNIT))


@dataclass(frozen=True)
class Plan:
    """All that is known of a document before it runs, whatever the request's variables."""

    document: DocumentNode | None
    # Why it cannot run: a syntax error, a limit, validation errors. Empty when it can.
    errors: list[GraphQLError]
    # What making the plan cost: its text, or its selections, whichever is more.
    size: int
    cost: DocumentCost | None


def _selections(document: DocumentNode) -> int:
    """Fields, fragment spreads and inline fragments, as written, in every definition."""
    pending: list[SelectionNode] = []
    for definition in document.definitions:
        if isinstance(definition, (OperationDefinitionNode, FragmentDefinitionNode)):
            pending.extend(definition.selection_set.selections)
    count = 0
    while pending:
        selection = pending.pop()
        count += 1
        if isinstance(selection, (FieldNode, InlineFragmentNode)) and selection.selection_set:
            pending.extend(selection.selection_set.selections)
    return count


class _Shape:
    """Depth and aliases, counted through fragments as Strawberry's limiters count them, each fragment once.

    Strawberry's own limiters follow every spread anew: a chain of 40
    fragments each spreading the next twice, 400 tokens, never finished.
    """

    def __init__(self, document: DocumentNode) -> None:
        self.fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        self.done: dict[str, tuple[int, int]] = {}
        self.started: set[str] = set()

    def of(self, selections: Iterable[SelectionNode]) -> tuple[int, int]:
        """The depth of the deepest field below, and the aliases, of a selection set."""
        depth = aliases = 0
        for selection in selections:
            below = (0, 0)
            if isinstance(selection, FieldNode):
                aliases += selection.alias is not None
                if selection.selection_set:
                    below = self.of(selection.selection_set.selections)
                    # Introspection fields are not counted towards depth.
                    below = (0 if selection.name.value.startswith("__") else 1 + below[0], below[1])
            elif isinstance(selection, InlineFragmentNode):
                below = self.of(selection.selection_set.selections)
            elif isinstance(selection, FragmentSpreadNode):
                below = self.fragment(selection.name.value)
            depth, aliases = max(depth, below[0]), aliases + below[1]
        return depth, aliases

    def fragment(self, name: str) -> tuple[int, int]:
        # Unknown fragments and cycles are validation's to refuse: they count nothing here.
        if name not in self.done and name in self.fragments and name not in self.started:
            self.started.add(name)
            self.done[name] = self.of(self.fragments[name].selection_set.selections)
        return self.done.get(name, (0, 0))

    def errors(self, document: DocumentNode) -> list[GraphQLError]:
        errors, aliases = [], 0
        for definition in document.definitions:
            if isinstance(definition, OperationDefinitionNode):
                depth, operation_aliases = self.of(definition.selection_set.selections)
                aliases += operation_aliases
                if depth > MAX_DEPTH:
                    name = definition.name.value if definition.name else "anonymous"
                    errors.append(
                        GraphQLError(f"'{name}' exceeds maximum operation depth of {MAX_DEPTH}", [definition])
                    )
        if aliases > MAX_ALIASES:
            errors.append(GraphQLError(f"{aliases} aliases found. Allowed: {MAX_ALIASES}"))
        return errors


class Documents:
    """Plans of the documents recently seen, each made once: an LRU keyed by the query text.

    Pinned documents (a manifest of persisted documents, switchboard/http/persisted.py) have
    their plans made when the schema is built, and kept for as long as it lives.
    """

    def __init__(self, max_cost: int, maxsize: int = DOCUMENT_CACHE_SIZE) -> None:
        self.max_cost = max_cost
        self._plans: LRUCache[tuple[str, tuple[type[ASTValidationRule], ...]], Plan] = LRUCache(maxsize=maxsize)
        self._pinned: dict[tuple[str, tuple[type[ASTValidationRule], ...]], Plan] = {}
        # The validation rules Strawberry's operations run with; one set per schema.
        self.rules: tuple[type[ASTValidationRule], ...] | None = None

    def cached(self, query: str, rules: tuple[type[ASTValidationRule], ...]) -> Plan | None:
        key = (query, rules)
        plan = self._pinned.get(key)
        return self._plans.get(key) if plan is None else plan

    def known(self, query: str) -> Plan | None:
        """The plan of a document an operation of this schema has already made one for, under the schema's rules."""
        return None if self.rules is None else self.cached(query, self.rules)

    def pin(self, schema: StrawberrySchema, query: str, rules: tuple[type[ASTValidationRule], ...]) -> Plan:
        """The document's plan, made now under the rules the schema's operations run with, and never evicted."""
        self.rules = rules
        plan = self._pinned[(query, rules)] = self._made(schema, query, rules)
        return plan

    def make(self, schema: StrawberrySchema, query: str, rules: tuple[type[ASTValidationRule], ...]) -> Plan:
        self.rules = rules
        plan = self._plans[(query, rules)] = self._made(schema, query, rules)
        return plan

    def _made(self, schema: StrawberrySchema, query: str, rules: tuple[type[ASTValidationRule], ...]) -> Plan:
        try:
            return self._make(schema, query, rules)
        except RecursionError:
            # Fragments spread within fragments, deeper than the interpreter's stack.
            return Plan(None, [GraphQLError("The document nests too deeply")], text_size(query), None)

    def _make(self, schema: StrawberrySchema, query: str, rules: tuple[type[ASTValidationRule], ...]) -> Plan:
        size = text_size(query)
        try:
            document = parse(query, max_tokens=MAX_TOKENS)
        except GraphQLError as error:
            return Plan(None, [error], size, None)
        selections = _selections(document)
        size = max(size, selections)
        if selections > MAX_SELECTIONS:
            refusal = GraphQLError(f"The document has {selections} selections; at most {MAX_SELECTIONS} are allowed")
            return Plan(document, [refusal], size, None)
        if (longest := _longest_number(document)) > MAX_NUMBER_LENGTH:
            refusal = GraphQLError(
                f"A number in the document has {longest} characters; at most {MAX_NUMBER_LENGTH} are allowed"
            )
            return Plan(document, [refusal], size, None)
        errors = [_named(e) for e in validate_document(schema._schema, document, rules)] + _Shape(document).errors(
            document
        )
        if errors:
            return Plan(document, errors, size, None)
        return Plan(document, [], size, document_cost(schema._schema, document, self.max_cost))


class _Numbers(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.longest = 0

    def enter_int_value(self, node: IntValueNode, *_: object) -> None:
        self.longest = max(self.longest, len(node.value))

    def enter_float_value(self, node: FloatValueNode, *_: object) -> None:
        self.longest = max(self.longest, len(node.value))


def _longest_number(document: DocumentNode) -> int:
    numbers = _Numbers()
    visit(document, numbers)
    return numbers.longest


def _named(error: GraphQLError) -> GraphQLError:
    """graphql-core's bare "Validation aborted." names no limit: say which one."""
    if isinstance(error, ValidationAbortedError) and error.message == "Validation aborted.":
        return GraphQLError(
            f"Validation aborted: comparing the fields that share a name took more than {MAX_FIELD_COMPARISONS} steps"
        )
    return error


def too_costly(cost: int | None, max_cost: int) -> GraphQLError:
    if cost is None:
        message = f"The query costs more than {max_cost}; at most {max_cost} is allowed"
    else:
        message = f"The query costs {cost}; at most {max_cost} is allowed"
    return GraphQLError(message, extensions={"code": "QUERY_TOO_COSTLY", "cost": cost, "maxCost": max_cost})


def rate_limited(retry_after: int) -> GraphQLError:
    return GraphQLError(
        f"Rate limit exceeded: retry after {retry_after} seconds",
        extensions={"code": "RATE_LIMITED", "retryAfter": retry_after},
    )


class DocumentLimits(SchemaExtension):
    """Parses, checks and costs each document once (see `Documents`), and charges the request for it.

    Replaces Strawberry's parser and validation caches: the plan holds both.
    A document not in the cache is charged its text size before it is
    parsed, and its selections beyond that once parsed, whether it then runs
    or not; a document that runs is charged its cost before it does. Each
    charge comes before the work it pays for; refused, nothing more runs.
    """

    def __init__(self, documents: Documents) -> None:
        self.documents = documents
        self.plan: Plan | None = None

    async def _charge(self, units: int) -> None:
        """Takes `units` more from the caller's rate limit; raises when it refuses them."""
        context = self.execution_context.context
        if units > 0 and isinstance(context, GraphQLContext):
            retry_after = await context.charge(units)
            if retry_after is not None:
                raise rate_limited(retry_after)

    async def on_parse(self) -> AsyncIterator[None]:
        execution = self.execution_context
        query = execution.query or ""
        if len(query) > MAX_QUERY_LENGTH:
            raise GraphQLError(f"The query is {len(query)} characters long; at most {MAX_QUERY_LENGTH} are allowed")
        plan = self.documents.cached(query, execution.validation_rules)
        if plan is None:
            await self._charge(text_size(query))
            plan = self.documents.make(execution.schema, query, execution.validation_rules)
            await self._charge(plan.size - text_size(query))
        self.plan = plan
        if plan.document is None:
            # A fresh error each time: a cached one would gather tracebacks.
            (error,) = plan.errors
            raise GraphQLError(error.message, source=error.source, positions=error.positions)
        execution.graphql_document = plan.document
        yield

    async def on_validate(self) -> AsyncIterator[None]:
        execution = self.execution_context
        assert self.plan is not None, "on_parse made the plan"
        errors = self.plan.errors
        if self.plan.cost is not None:
            cost = self.plan.cost.of(execution.operation_name, execution.variables)
            if cost is None or cost > self.documents.max_cost:
                errors = [too_costly(cost, self.documents.max_cost)]
            else:
                try:
                    await self._charge(cost)
                except GraphQLError as refusal:
                    errors = [refusal]
        # Set, the errors spare Strawberry's own validation.
        execution.pre_execution_errors = errors
        yield


def limit_extensions(documents: Documents) -> list[Callable[[], SchemaExtension]]:
    """The extensions that enforce the limits, as factories: Strawberry builds each afresh per operation."""
    return [lambda: DocumentLimits(documents)]
