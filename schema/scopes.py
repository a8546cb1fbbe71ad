"""Which API key scope each root field needs, checked for a whole operation before any of it runs.

ROOT_FIELD_SCOPES is the one declaration: tests/api/test_scopes.py fails when a
root field of the schema has no line here, and the REST API takes its scopes
from the GraphQL field each of its operations matches. A field left out is
refused to every key below ADMIN.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_operation_ast,
)
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionResult

from models import ApiKeyScope
from resolvers.context import RequestContext
from resolvers.scopes import allows, lacking_scope

READ, WRITE, ADMIN = ApiKeyScope.READ, ApiKeyScope.WRITE, ApiKeyScope.ADMIN

ROOT_FIELD_SCOPES: dict[str, ApiKeyScope] = {
    "Query.phoneNumber": READ,
    "Query.phoneNumbers": READ,
    "Query.agent": READ,
    "Query.agents": READ,
    "Query.viewer": READ,
    "Query.node": READ,
    "Query.nodes": READ,
    "Query.apiKeys": ADMIN,
    "Query.auditEvents": ADMIN,
    "Mutation.createPhoneNumber": WRITE,
    "Mutation.updatePhoneNumber": WRITE,
    "Mutation.deletePhoneNumber": WRITE,
    # Stores the result as the number's health, and connects out on the organization's behalf.
    "Mutation.verifyPhoneNumber": WRITE,
    "Mutation.createAgent": WRITE,
    "Mutation.updateAgent": WRITE,
    "Mutation.deleteAgent": WRITE,
    "Mutation.createApiKey": ADMIN,
    "Mutation.revokeApiKey": ADMIN,
    "Subscription.phoneNumberHealthChanged": READ,
}

_ROOT_TYPES = {"query": "Query", "mutation": "Mutation", "subscription": "Subscription"}


def needed_scope(root_field: str) -> ApiKeyScope:
    """The scope a root field ("Mutation.createAgent") needs; the strictest for one nobody declared."""
    return ROOT_FIELD_SCOPES.get(root_field, ADMIN)


@dataclass(frozen=True)
class MissingScope:
    field: str  # as the document names it, e.g. "createApiKey"
    scope: ApiKeyScope
    node: FieldNode

    def error(self) -> GraphQLError:
        return GraphQLError(
            lacking_scope(self.scope, self.field),
            nodes=[self.node],
            extensions={"code": "FORBIDDEN", "requiredScope": self.scope.name, "field": self.field},
        )


def missing_scopes(
    operation: OperationDefinitionNode, fragments: dict[str, FragmentDefinitionNode], granted: Iterable[ApiKeyScope]
) -> list[MissingScope]:
    """Each root field of the operation (through fragments) that the granted scopes do not allow.

    A function of the document and the key alone, so every kind of operation,
    subscriptions included, is checked the same way before it starts.
    """
    granted = frozenset(granted)
    root = _ROOT_TYPES[operation.operation.value]
    missing: dict[str, MissingScope] = {}
    for node in _root_fields(operation.selection_set, fragments, set()):
        name = node.name.value
        scope = needed_scope(f"{root}.{name}")
        if not name.startswith("__") and not allows(granted, scope) and name not in missing:
            missing[name] = MissingScope(name, scope, node)
    return list(missing.values())


def _root_fields(
    selection_set: SelectionSetNode, fragments: dict[str, FragmentDefinitionNode], seen: set[str]
) -> Iterator[FieldNode]:
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            yield selection
        elif isinstance(selection, InlineFragmentNode):
            yield from _root_fields(selection.selection_set, fragments, seen)
        elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in seen:
            seen.add(selection.name.value)
            fragment = fragments.get(selection.name.value)
            if fragment is not None:
                yield from _root_fields(fragment.selection_set, fragments, seen)


def forbidden(document: DocumentNode, operation_name: str | None, granted: Iterable[ApiKeyScope]) -> list[GraphQLError]:
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return []
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    return [missing.error() for missing in missing_scopes(operation, fragments, granted)]


class ScopeCheck(SchemaExtension):
    """Refuses the whole operation when the key lacks a scope any of its root fields needs: nothing runs.

    Runs once the document is valid, just before execution. A context with
    no key (none is ever built by the HTTP layer) is granted nothing.
    """

    def on_execute(self) -> Iterator[None]:
        execution = self.execution_context
        context = execution.context
        if execution.result is None and execution.graphql_document is not None:
            principal = context.principal if isinstance(context, RequestContext) else None
            granted = principal.scopes if principal is not None else frozenset()
            errors = forbidden(execution.graphql_document, execution.operation_name, granted)
            if errors:
                execution.result = ExecutionResult(data=None, errors=errors)
        yield
