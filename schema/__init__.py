"""The GraphQL schema: root types and the Schema object."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator

import strawberry
from graphql import GraphQLError, specified_rules
from strawberry.extensions import DisableIntrospection, SchemaExtension
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from resolvers.context import RequestContext
from schema import agents as agent_fields
from schema import api_keys as key_fields
from schema import audit as audit_fields
from schema import health_subscription as health_fields
from schema import nodes as node_fields
from schema import phone_numbers as number_fields
from schema.health import PhoneNumberHealthEvent
from schema.limits import DEFAULT_MAX_QUERY_COST, Documents, limit_extensions
from schema.node import Node
from schema.scopes import ScopeCheck


@strawberry.type
class Query:
    phone_number: number_fields.PhoneNumber | None = strawberry.field(
        resolver=number_fields.phone_number,
        description="A phone number of your organization; null when absent or another organization's.",
    )
    phone_numbers: number_fields.PhoneNumberConnection = strawberry.field(
        resolver=number_fields.phone_number_list,
        description="Your organization's numbers, newest first. `first` is 1 to 100.",
    )
    agent: agent_fields.Agent | None = strawberry.field(
        resolver=agent_fields.agent,
        description="An agent of your organization; null when absent or another organization's.",
    )
    agents: agent_fields.AgentConnection = strawberry.field(
        resolver=agent_fields.agent_list, description="Your organization's agents, newest first. `first` is 1 to 100."
    )
    api_keys: key_fields.ApiKeyConnection = strawberry.field(
        resolver=key_fields.api_key_list,
        description="Your organization's API keys, newest first, revoked and expired ones included. `first` "
        "is 1 to 100.",
    )
    viewer: key_fields.Viewer = strawberry.field(
        resolver=key_fields.viewer, description="The key this request is made with, and its organization."
    )
    node: Node | None = strawberry.field(
        resolver=node_fields.node,
        description="A phone number or agent of your organization, by id; null when absent, another organization's "
        "or not a UUID.",
    )
    nodes: list[Node | None] = strawberry.field(
        resolver=node_fields.node_list,
        description="The object of each id, in the order given, null in place of each `node` would answer null.",
    )
    audit_events: audit_fields.AuditEventConnection = strawberry.field(
        resolver=audit_fields.audit_event_list,
        description="Your organization's audit log: every change to its phone numbers, agents and API keys, "
        "newest first. `first` is 1 to 100.",
    )


@strawberry.type
class Mutation:
    create_phone_number: number_fields.CreatePhoneNumberPayload = strawberry.mutation(
        resolver=number_fields.create_phone_number, description="Register a phone number and its provider."
    )
    update_phone_number: number_fields.UpdatePhoneNumberPayload = strawberry.mutation(
        resolver=number_fields.update_phone_number,
        description="Change a number. Omitted fields keep their value; null clears a nullable one.",
    )
    verify_phone_number: number_fields.VerifyPhoneNumberPayload = strawberry.mutation(
        resolver=number_fields.verify_phone_number,
        description="Check the number's provider configuration now, within SWITCHBOARD_VERIFY_TIMEOUT "
        "(5 s by default), and store the result as its `health`. SIP registration: REGISTER with digest "
        "credentials (the check's own "
        "binding is removed after); SIP IP allowlist: OPTIONS; Twilio: the account's number lookup; Voximplant and "
        "jambonz: UNSUPPORTED. Costs more than other mutations: it connects to a host outside.",
    )
    delete_phone_number: number_fields.DeletePhoneNumberPayload = strawberry.mutation(
        resolver=number_fields.delete_phone_number, description="Delete a number and its stored secrets."
    )
    create_agent: agent_fields.CreateAgentPayload = strawberry.mutation(
        resolver=agent_fields.create_agent, description="Create an agent."
    )
    update_agent: agent_fields.UpdateAgentPayload = strawberry.mutation(
        resolver=agent_fields.update_agent, description="Rename an agent."
    )
    delete_agent: agent_fields.DeleteAgentPayload = strawberry.mutation(
        resolver=agent_fields.delete_agent, description="Delete an agent; its numbers stay, with agentId null."
    )
    create_api_key: key_fields.CreateApiKeyPayload = strawberry.mutation(
        resolver=key_fields.create_api_key,
        description="Create an API key; the payload's `secret` is the only time the key is shown.",
    )
    revoke_api_key: key_fields.RevokeApiKeyPayload = strawberry.mutation(
        resolver=key_fields.revoke_api_key,
        description="Revoke a key: every server refuses it within a second. "
        "The organization's last active ADMIN key cannot be revoked this way.",
    )


@strawberry.type
class Subscription:
    phone_number_health_changed: PhoneNumberHealthEvent = strawberry.subscription(  # type: ignore[assignment]  # the schema types a subscription by its items; the resolver is their async generator
        resolver=health_fields.phone_number_health_changed,
        description="Each change of the health of your organization's numbers, as it is recorded on any server; "
        "with `id`, of that number only (an id of no number of yours yields nothing). Over graphql-transport-ws "
        'on /graphql, with {"Authorization": "Bearer <API key>"} as connection_init\'s payload.',
    )


_SUGGESTION = re.compile(r"\s*Did you mean .*\Z", re.S)


class Schema(strawberry.Schema):
    # The plans of the documents its operations ran: the HTTP view runs a known document's
    # operations on graphql-core directly (switchboard/http/execution.py).
    documents: Documents

    @staticmethod
    def remove_field_suggestion(error: GraphQLError) -> None:
        """With suggestions off, no message names a field, argument, type or enum value the caller did not.

        Strawberry's own version only trims unknown-field messages.
        """
        error.message = _SUGGESTION.sub("", error.message)

    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        """Log nothing here: messages can quote input, secrets included.

        The HTTP layer logs unexpected errors, with the request id.
        """


class RecordOperationName(SchemaExtension):
    """Records the name of the operation that ran in the request's context."""

    def on_operation(self) -> Iterator[None]:
        yield
        context = self.execution_context.context
        if isinstance(context, RequestContext):
            context.operation_name = self.execution_context.operation_name


@functools.cache
def create_schema(
    *,
    suggestions: bool = True,
    introspection: bool = True,
    max_query_cost: int = DEFAULT_MAX_QUERY_COST,
    pinned: frozenset[str] = frozenset(),
) -> Schema:
    """The schema, with "Did you mean ...?" hints and introspection each on or off, and a cost limit.

    The plans of the `pinned` documents are made now and kept (schema/limits.py).
    """
    documents = Documents(max_query_cost)
    extensions: list[Callable[[], SchemaExtension]] = [
        *limit_extensions(documents),
        # Once the document is valid and charged, before anything runs.
        ScopeCheck,
        RecordOperationName,
    ]
    if not introspection:
        extensions.append(DisableIntrospection)
    built = Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions,
        config=StrawberryConfig(disable_field_suggestions=not suggestions),
    )
    built.documents = documents
    # The rules Strawberry's operations validate with: its defaults, and those extensions add.
    rules = tuple(specified_rules) + (tuple(DisableIntrospection().validation_rules) if not introspection else ())
    for query in sorted(pinned):
        documents.pin(built, query, rules)
    return built


schema = create_schema()
