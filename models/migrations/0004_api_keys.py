from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index

# Keys issued before scopes existed could do everything: they stay ADMIN keys,
# named so that people can tell them apart from the ones they name themselves.
EXISTING_KEYS = """UPDATE api_keys SET name = 'default', scopes = '["admin"]'"""


class Migration(migrations.Migration):
    dependencies = [('models', '0003_versions')]

    initial = False

    operations = [
        ops.AddField(
            model_name='ApiKey',
            name='expires_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='ApiKey',
            name='last_used_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='ApiKey',
            name='revoked_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        # Added nullable, filled, then made NOT NULL: existing rows need a value first.
        ops.AddField(
            model_name='ApiKey',
            name='name',
            field=fields.CharField(null=True, max_length=100),
        ),
        ops.AddField(
            model_name='ApiKey',
            name='scopes',
            field=fields.JSONField(null=True, encoder=JSON_DUMPS, decoder=loads),
        ),
        ops.RunSQL(EXISTING_KEYS, reverse_sql=ops.RunSQL.noop),
        ops.AlterField(
            model_name='ApiKey',
            name='name',
            field=fields.CharField(max_length=100),
        ),
        ops.AlterField(
            model_name='ApiKey',
            name='scopes',
            field=fields.JSONField(encoder=JSON_DUMPS, decoder=loads),
        ),
        ops.AddIndex(
            model_name='ApiKey',
            index=Index(fields=['organization_id', 'created_at', 'id']),
        ),
    ]
