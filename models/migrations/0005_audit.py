from tortoise import migrations
from tortoise.migrations import operations as ops
from models.audit import AuditAction, AuditActorType, AuditTargetType
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0004_api_keys')]

    initial = False

    operations = [
        ops.CreateModel(
            name='AuditEvent',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('organization', fields.ForeignKeyField('models.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name='audit_events', on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('action', fields.CharEnumField(description='PHONE_NUMBER_CREATED: phone_number_created\nPHONE_NUMBER_UPDATED: phone_number_updated\nPHONE_NUMBER_DELETED: phone_number_deleted\nPHONE_NUMBER_VERIFIED: phone_number_verified\nAGENT_CREATED: agent_created\nAGENT_UPDATED: agent_updated\nAGENT_DELETED: agent_deleted\nAPI_KEY_CREATED: api_key_created\nAPI_KEY_REVOKED: api_key_revoked', enum_type=AuditAction, max_length=32)),
                ('target_type', fields.CharEnumField(description='PHONE_NUMBER: phone_number\nAGENT: agent\nAPI_KEY: api_key', enum_type=AuditTargetType, max_length=16)),
                ('target_id', fields.UUIDField()),
                ('actor_type', fields.CharEnumField(description='API_KEY: api_key\nCOMMAND_LINE: command_line', enum_type=AuditActorType, max_length=16)),
                ('actor_key_id', fields.UUIDField(null=True)),
                ('actor_name', fields.CharField(max_length=100)),
                ('actor_prefix', fields.CharField(null=True, max_length=16)),
                ('request_id', fields.CharField(null=True, max_length=128)),
                ('changes', fields.JSONField(encoder=JSON_DUMPS, decoder=loads)),
            ],
            options={'table': 'audit_events', 'app': 'models', 'indexes': [Index(fields=['organization_id', 'created_at', 'id']), Index(fields=['organization_id', 'target_id', 'created_at', 'id']), Index(fields=['organization_id', 'actor_key_id', 'created_at', 'id']), Index(fields=['organization_id', 'action', 'created_at', 'id']), Index(fields=['created_at', 'id'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
