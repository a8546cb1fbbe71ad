"""The committed migrations: the same schema on SQLite and PostgreSQL, applied once however many start them.

The tests that need real processes are in tests/system/test_migrations_processes.py.
"""

from __future__ import annotations

from typing import Any

from tortoise import Tortoise, connections
from tortoise.indexes import Index

from switchboard.settings import Settings
from tests.support.database import MIGRATIONS_TABLE

Schema = dict[str, dict[str, Any]]

POSTGRES_INDEXES = """
SELECT t.relname AS table_name, i.indisunique AS is_unique, array_agg(a.attname::text ORDER BY k.ord) AS columns
FROM pg_index i
JOIN pg_class t ON t.oid = i.indrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
WHERE n.nspname = current_schema()
GROUP BY t.relname, i.indexrelid, i.indisunique
"""


def table(columns: dict[str, bool]) -> dict[str, Any]:
    return {"columns": columns, "unique": set(), "indexes": set()}


async def database_schema(settings: Settings) -> Schema:
    """Tables, columns (name: nullable), unique keys and indexes, as the database reports them."""
    db = connections.get("default")
    schema: Schema = {}
    if settings.is_sqlite:
        tables = await db.execute_query_dict(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
        for name in (t["name"] for t in tables):
            info = await db.execute_query_dict(f"PRAGMA table_info('{name}')")
            schema[name] = table({c["name"]: not c["notnull"] and not c["pk"] for c in info})
            for index in await db.execute_query_dict(f"PRAGMA index_list('{name}')"):
                columns = tuple(c["name"] for c in await db.execute_query_dict(f"PRAGMA index_info('{index['name']}')"))
                schema[name]["unique" if index["unique"] else "indexes"].add(columns)
    else:
        columns = await db.execute_query_dict(
            "SELECT table_name, column_name, is_nullable FROM information_schema.columns WHERE table_schema = current_schema()"
        )
        for column in columns:
            schema.setdefault(column["table_name"], table({}))["columns"][column["column_name"]] = (
                column["is_nullable"] == "YES"
            )
        for index in await db.execute_query_dict(POSTGRES_INDEXES):
            schema[index["table_name"]]["unique" if index["is_unique"] else "indexes"].add(tuple(index["columns"]))
    del schema[MIGRATIONS_TABLE]
    return schema


def models_schema() -> Schema:
    """What the models declare, in the same terms."""
    schema: Schema = {}
    for model in Tortoise.apps["models"].values():
        meta = model._meta
        column = meta.fields_db_projection
        described = schema[meta.db_table] = table({column[name]: meta.fields_map[name].null for name in column})
        described["unique"] |= {(column[name],) for name in column if meta.fields_map[name].unique}
        described["unique"] |= {tuple(column[f] for f in fields) for fields in meta.unique_together}
        described["indexes"] |= {tuple(index.fields if isinstance(index, Index) else index) for index in meta.indexes}
    return schema


async def test_migrations_create_the_schema_the_models_declare(app: Any, settings: Settings) -> None:
    # Run on both backends, this says both get the same schema: the models'.
    assert await database_schema(settings) == models_schema()
