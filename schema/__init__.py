"""The GraphQL schema: root types and the Schema object."""

from __future__ import annotations

from collections.abc import Iterator

import strawberry
from graphql import GraphQLError
from strawberry.extensions import ParserCache, SchemaExtension, ValidationCache
from strawberry.types import ExecutionContext

from resolvers.context import RequestContext
from schema import agents, phone_numbers


@strawberry.type
class Query:
    phone_number: phone_numbers.PhoneNumber | None = strawberry.field(
        resolver=phone_numbers.phone_number,
        description="A phone number of your organization; null when absent or another organization's.",
    )
    agent: agents.Agent | None = strawberry.field(
        resolver=agents.agent, description="An agent of your organization; null when absent."
    )


@strawberry.type
class Mutation:
    create_phone_number: phone_numbers.CreatePhoneNumberPayload = strawberry.mutation(
        resolver=phone_numbers.create_phone_number, description="Register a phone number and its provider."
    )
    create_agent: agents.CreateAgentPayload = strawberry.mutation(
        resolver=agents.create_agent, description="Create an agent."
    )


class Schema(strawberry.Schema):
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


schema = Schema(
    query=Query,
    mutation=Mutation,
    extensions=[lambda: ParserCache(maxsize=256), lambda: ValidationCache(maxsize=256), RecordOperationName],
)
