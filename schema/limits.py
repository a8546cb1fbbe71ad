"""Limits on what one GraphQL document may ask for, each refused with a GraphQL error.

Length and tokens bound the parser's work, depth and aliases the resolvers'.
Introspection fields do not count towards depth (typed clients' introspection
query nests `ofType` deeply); the token limit bounds them instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    SelectionSetNode,
    get_operation_ast,
)
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
    SchemaExtension,
)
from strawberry.types import ExecutionResult

from schema.context import GraphQLContext

MAX_QUERY_LENGTH = 15_000
MAX_TOKENS = 2_000
MAX_DEPTH = 10
MAX_ALIASES = 15


class MaxQueryLength(SchemaExtension):
    """Refuses a query text longer than MAX_QUERY_LENGTH characters before parsing it.

    Listed before the parser cache, so a refused text is neither parsed nor cached.
    """

    def on_parse(self) -> Iterator[None]:
        length = len(self.execution_context.query or "")
        if length > MAX_QUERY_LENGTH:
            raise GraphQLError(f"The query is {length} characters long; at most {MAX_QUERY_LENGTH} are allowed")
        yield


# Strawberry's depth and alias limiters make a new rule class per instance, and
# ValidationCache keys its entries on the rule classes: built once, the rules
# let a repeated document's validation come from the cache.
_DOCUMENT_RULES = [
    *QueryDepthLimiter(max_depth=MAX_DEPTH).validation_rules,
    *MaxAliasesLimiter(max_alias_count=MAX_ALIASES).validation_rules,
]


def _document_rules() -> AddValidationRules:
    return AddValidationRules(_DOCUMENT_RULES)


def _max_tokens() -> MaxTokensLimiter:
    return MaxTokensLimiter(max_token_count=MAX_TOKENS)


def _response_keys(selection_set: SelectionSetNode, fragments: dict[str, FragmentDefinitionNode]) -> set[str]:
    """The response keys a selection set yields: one per field or alias, through fragments."""
    keys: set[str] = set()
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            keys.add((selection.alias or selection.name).value)
        elif isinstance(selection, InlineFragmentNode):
            keys |= _response_keys(selection.selection_set, fragments)
        elif isinstance(selection, FragmentSpreadNode):
            keys |= _response_keys(fragments[selection.name.value].selection_set, fragments)
    return keys


class RateLimit(SchemaExtension):
    """Charges the caller's rate limit one token per root field the operation selects, aliases included.

    Charged once the document is valid, just before it runs: a document that
    fails to parse or validate, or breaks a limit above, never reaches the
    database and costs nothing. Refused, the operation does not run.
    """

    def on_execute(self) -> Iterator[None]:
        execution = self.execution_context
        if isinstance(execution.context, GraphQLContext) and execution.graphql_document is not None:
            document = execution.graphql_document
            operation = get_operation_ast(document, execution.operation_name)
            if operation is not None:
                fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
                retry_after = execution.context.rate_limit(len(_response_keys(operation.selection_set, fragments)))
                if retry_after is not None:
                    error = GraphQLError(
                        f"Rate limit exceeded: retry after {retry_after} seconds",
                        extensions={"code": "RATE_LIMITED", "retryAfter": retry_after},
                    )
                    execution.result = ExecutionResult(data=None, errors=[error])
        yield


# Factories: Strawberry builds each extension afresh for every operation.
LIMITS: list[Callable[[], SchemaExtension]] = [MaxQueryLength, _max_tokens, _document_rules, RateLimit]
