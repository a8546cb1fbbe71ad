from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.migrations.schema_editor.base import BaseSchemaEditor

# Each organization counts its numbers and agents, so that a create claims its
# place against the limit with one conditional UPDATE of the organization's
# row instead of locking it and counting the rows. The database keeps the
# counts: a trigger on each table adds the rows every INSERT makes and takes
# away the rows every DELETE removes, in the statement's own transaction,
# whichever code (or the cascade of a deleted organization) runs it. Rows
# never move between organizations. The triggers come first and the counts
# are filled after them: a row inserted in between is counted by the fill
# (on PostgreSQL the migration's transaction keeps writers out until it ends).
COUNTED = (("phone_numbers", "phone_number_count"), ("agents", "agent_count"))

SQLITE_TRIGGERS = (
    """CREATE TRIGGER "{table}_counted" AFTER INSERT ON "{table}" BEGIN
  UPDATE "organizations" SET "{column}" = "{column}" + 1 WHERE "id" = NEW."organization_id";
END""",
    """CREATE TRIGGER "{table}_uncounted" AFTER DELETE ON "{table}" BEGIN
  UPDATE "organizations" SET "{column}" = "{column}" - 1 WHERE "id" = OLD."organization_id";
END""",
)

# Per statement, from its transition table: a bulk insert or delete of many
# rows updates each organization's row once.
POSTGRES_TRIGGERS = (
    """CREATE FUNCTION "{table}_counted"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE "organizations" o SET "{column}" = o."{column}" + made.n
  FROM (SELECT "organization_id", count(*) AS n FROM made GROUP BY "organization_id") made
  WHERE o."id" = made."organization_id";
  RETURN NULL;
END $$""",
    """CREATE TRIGGER "{table}_counted" AFTER INSERT ON "{table}"
  REFERENCING NEW TABLE AS made FOR EACH STATEMENT EXECUTE FUNCTION "{table}_counted"()""",
    """CREATE FUNCTION "{table}_uncounted"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE "organizations" o SET "{column}" = o."{column}" - gone.n
  FROM (SELECT "organization_id", count(*) AS n FROM gone GROUP BY "organization_id") gone
  WHERE o."id" = gone."organization_id";
  RETURN NULL;
END $$""",
    """CREATE TRIGGER "{table}_uncounted" AFTER DELETE ON "{table}"
  REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION "{table}_uncounted"()""",
)

SQLITE_DROP = ('DROP TRIGGER "{table}_counted"', 'DROP TRIGGER "{table}_uncounted"')
POSTGRES_DROP = ('DROP FUNCTION "{table}_counted"() CASCADE', 'DROP FUNCTION "{table}_uncounted"() CASCADE')

FILL = """
UPDATE "organizations" SET
  "phone_number_count" = (SELECT count(*) FROM "phone_numbers" WHERE "phone_numbers"."organization_id" = "organizations"."id"),
  "agent_count" = (SELECT count(*) FROM "agents" WHERE "agents"."organization_id" = "organizations"."id")
"""


async def _run(schema_editor: BaseSchemaEditor, sqlite: tuple[str, ...], postgres: tuple[str, ...]) -> None:
    # One statement at a time: a trigger's body holds semicolons, which
    # the schema editor would split SQLite's scripts at.
    templates = sqlite if schema_editor.client.capabilities.dialect == "sqlite" else postgres
    for table, column in COUNTED:
        for template in templates:
            await schema_editor.client.execute_query(template.format(table=table, column=column))


async def count_rows(apps: object, schema_editor: BaseSchemaEditor) -> None:
    await _run(schema_editor, SQLITE_TRIGGERS, POSTGRES_TRIGGERS)
    await schema_editor.client.execute_query(FILL)


async def stop_counting(apps: object, schema_editor: BaseSchemaEditor) -> None:
    await _run(schema_editor, SQLITE_DROP, POSTGRES_DROP)


class Migration(migrations.Migration):
    dependencies = [('models', '0006_health')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Organization',
            name='agent_count',
            field=fields.IntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='Organization',
            name='phone_number_count',
            field=fields.IntField(default=0, db_default=0),
        ),
        ops.RunPython(count_rows, reverse_code=stop_counting),
    ]
