"""Limits on what one GraphQL document may ask for, and what the caller is charged for it.

Each document is parsed, checked against the limits, validated and costed
once (`Documents`, an LRU keyed by its text); a request then only evaluates
the cached cost with its variables and charges the caller's rate limit.

Length and tokens bound the parser's work, selections the validator's
(graphql-core compares fields of one name pairwise), depth and aliases the
shape, and the cost the resolvers' work and the size of the answer.
Introspection fields do not count towards depth (typed clients' introspection
query nests `ofType` deeply); graphql-core's own rule bounds their nesting,
and their cost is counted exactly.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from cachetools import LRUCache
from graphql import (
    ASTValidationRule,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionNode,
    parse,
)
from strawberry.extensions import AddValidationRules, MaxAliasesLimiter, QueryDepthLimiter, SchemaExtension
from strawberry.schema.schema import validate_document
from strawberry.schema import Schema as StrawberrySchema

from schema.context import GraphQLContext
from schema.cost import DocumentCost, document_cost

MAX_QUERY_LENGTH = 15_000
MAX_TOKENS = 1_000
MAX_SELECTIONS = 150
MAX_DEPTH = 10
MAX_ALIASES = 15
DEFAULT_MAX_QUERY_COST = 10_000
# A document costs at least one unit per this many characters of its text,
# so parsing and validating what never runs is paid for too.
CHARACTERS_PER_UNIT = 10
DOCUMENT_CACHE_SIZE = 128

# Strawberry's depth and alias limiters make a new rule class per instance;
# built once, the rules stay the same, and so does the document cache's key.
_DOCUMENT_RULES = [
    *QueryDepthLimiter(max_depth=MAX_DEPTH).validation_rules,
    *MaxAliasesLimiter(max_alias_count=MAX_ALIASES).validation_rules,
]


def _document_rules() -> AddValidationRules:
    return AddValidationRules(_DOCUMENT_RULES)


def text_size(query: str) -> int:
    """What a document's text costs, known before it is parsed."""
    return max(1, math.ceil(len(query) / CHARACTERS_PER_UNIT))


@dataclass(frozen=True)
class Plan:
    """All that is known of a document before it runs, whatever the request's variables."""

    document: DocumentNode | None
    # Why it cannot run: a syntax error, a limit, validation errors. Empty when it can.
    errors: list[GraphQLError]
    # What it costs at least: its text, or its selections, whichever is more.
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


class Documents:
    """Plans of the documents recently seen, each made once: an LRU keyed by the query text."""

    def __init__(self, max_cost: int, maxsize: int = DOCUMENT_CACHE_SIZE) -> None:
        self.max_cost = max_cost
        self._plans: LRUCache[tuple[str, tuple[type[ASTValidationRule], ...]], Plan] = LRUCache(maxsize=maxsize)

    def plan(self, schema: StrawberrySchema, query: str, rules: tuple[type[ASTValidationRule], ...]) -> Plan:
        key = (query, rules)
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = self._make(schema, query, rules)
        return plan

    def _make(self, schema: StrawberrySchema, query: str, rules: tuple[type[ASTValidationRule], ...]) -> Plan:
        size = text_size(query)
        try:
            document = parse(query, max_tokens=MAX_TOKENS)
        except GraphQLError as error:
            return Plan(None, [error], size, None)
        selections = _selections(document)
        size = max(size, selections)
        if selections > MAX_SELECTIONS:
            error = GraphQLError(f"The document has {selections} selections; at most {MAX_SELECTIONS} are allowed")
            return Plan(document, [error], size, None)
        errors = validate_document(schema._schema, document, rules)
        if errors:
            return Plan(document, errors, size, None)
        return Plan(document, [], size, document_cost(schema._schema, document, self.max_cost))


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
    """Parses, checks and costs each document once (see `Documents`), and charges every request.

    Replaces Strawberry's parser and validation caches: the plan holds both.
    A request is charged the document's text size before parsing, its size
    once parsed, and its cost before it runs; whatever the outcome, so a
    document that never runs is paid for too. Refused, nothing more runs.
    """

    def __init__(self, documents: Documents) -> None:
        self.documents = documents
        self.plan: Plan | None = None

    async def _charge(self, total: int) -> None:
        """Brings the request's charge up to `total`; raises when the rate limit refuses it."""
        context = self.execution_context.context
        if isinstance(context, GraphQLContext):
            retry_after = await context.charge(total)
            if retry_after is not None:
                raise rate_limited(retry_after)

    async def on_parse(self) -> AsyncIterator[None]:
        execution = self.execution_context
        query = execution.query or ""
        if len(query) > MAX_QUERY_LENGTH:
            raise GraphQLError(f"The query is {len(query)} characters long; at most {MAX_QUERY_LENGTH} are allowed")
        await self._charge(text_size(query))
        plan = self.plan = self.documents.plan(execution.schema, query, execution.validation_rules)
        await self._charge(plan.size)
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
                    await self._charge(max(cost, self.plan.size))
                except GraphQLError as refusal:
                    errors = [refusal]
        # Set, the errors spare Strawberry's own validation.
        execution.pre_execution_errors = errors
        yield


def limits(max_cost: int) -> list[Callable[[], SchemaExtension]]:
    """The extensions that enforce the limits, as factories: Strawberry builds each afresh per operation."""
    documents = Documents(max_cost)
    return [_document_rules, lambda: DocumentLimits(documents)]

