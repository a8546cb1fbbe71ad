"""The Node interface: every object a client can refetch by its id alone, with `node` and `nodes`."""

from __future__ import annotations

import strawberry

# Not Strawberry's relay.Node: its global ids ("Type:id" in base64) would
# differ from the UUIDs REST answers with. A UUID names no type, so `node`
# looks the id up among every kind (resolvers/nodes.py).


@strawberry.interface(
    description="An object with an id: a PhoneNumber or an Agent. Refetch any of them with `node(id:)` or "
    "`nodes(ids:)`."
)
class Node:
    id: strawberry.ID = strawberry.field(description="A UUID, the same the REST API uses.")
