"""Compiled execution of known documents: each operation planned once, then run without graphql-core's generic walk.

`plan.py` compiles an operation of a valid document into the fields it
completes and how; `run.py` runs that plan on an executor graphql-core built
for the request, answering what graphql-core's `execute` would, byte for
byte (tests/api/test_compiled_execution.py compares the two). An operation
the plan refuses runs on graphql-core (switchboard/http/execution.py).
"""

from __future__ import annotations

from cachetools import LRUCache
from graphql import DocumentNode, GraphQLSchema, OperationDefinitionNode

from switchboard.http.compiler.execute import execute_operation
from switchboard.http.compiler.plan import CompiledOperation, FieldPlan, NotCompiled, compile_operation

# Twice the documents schema/limits.py keeps plans of, for documents with more than one operation.
CACHE_SIZE = 256


class CompiledOperations:
    """The compiled operations of known documents, by identity of document and operation; None for refused ones."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        # Each entry holds what its key names, so no id is reused while the entry lives.
        self.entries: LRUCache[tuple[int, int, int], tuple[object, object, CompiledOperation | None]] = LRUCache(
            maxsize=size
        )

    def of(
        self, schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode
    ) -> CompiledOperation | None:
        key = (id(schema), id(document), id(operation))
        entry = self.entries.get(key)
        if entry is not None:
            return entry[2]
        compiled: CompiledOperation | None
        try:
            compiled = compile_operation(schema, document, operation)
        except NotCompiled:
            compiled = None
        except Exception:  # noqa: BLE001 - whatever else the plan did not foresee, graphql-core runs
            compiled = None
        self.entries[key] = (schema, document, compiled)
        return compiled


__all__ = ["CompiledOperation", "CompiledOperations", "FieldPlan", "execute_operation"]
