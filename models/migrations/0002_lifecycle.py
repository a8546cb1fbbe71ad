from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='IdempotencyKey',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('organization', fields.ForeignKeyField('models.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name='idempotency_keys', on_delete=OnDelete.CASCADE)),
                ('key', fields.CharField(max_length=255)),
                ('fingerprint', fields.CharField(max_length=80)),
                ('phone_number', fields.ForeignKeyField('models.PhoneNumber', source_field='phone_number_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'idempotency_keys', 'app': 'models', 'unique_together': (('organization_id', 'key'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.AddIndex(
            model_name='PhoneNumber',
            index=Index(fields=['agent_id', 'created_at', 'id']),
        ),
    ]
