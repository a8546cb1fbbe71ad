from tortoise import migrations
from tortoise.migrations import operations as ops
from models.health import HealthState
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0005_audit')]

    initial = False

    operations = [
        ops.CreateModel(
            name='PhoneNumberHealth',
            fields=[
                ('phone_number', fields.OneToOneField('models.PhoneNumber', source_field='phone_number_id', primary_key=True, db_index=True, db_constraint=True, to_field='id', related_name='health', on_delete=OnDelete.CASCADE)),
                ('organization', fields.ForeignKeyField('models.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name='phone_number_health', on_delete=OnDelete.CASCADE)),
                ('state', fields.CharEnumField(null=True, description='OK: ok\nAUTH_FAILED: auth_failed\nREJECTED: rejected\nUNREACHABLE: unreachable\nUNSUPPORTED: unsupported', enum_type=HealthState, max_length=16)),
                ('detail', fields.TextField(null=True, unique=False)),
                ('sip_status_code', fields.IntField(null=True)),
                ('latency_ms', fields.IntField(null=True)),
                ('checked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('since', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('failures', fields.IntField(default=0)),
                ('successes', fields.IntField(default=0)),
                ('next_check_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('lease_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'phone_number_health', 'app': 'models', 'indexes': [Index(fields=['next_check_at'])], 'pk_attr': 'phone_number_id', 'table_description': 'One row per number once monitoring or a check has seen it.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PhoneNumberHealthEvent',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('organization', fields.ForeignKeyField('models.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name='phone_number_health_events', on_delete=OnDelete.CASCADE)),
                ('phone_number', fields.ForeignKeyField('models.PhoneNumber', source_field='phone_number_id', db_constraint=True, to_field='id', related_name='health_events', on_delete=OnDelete.CASCADE)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('from_state', fields.CharEnumField(null=True, description='OK: ok\nAUTH_FAILED: auth_failed\nREJECTED: rejected\nUNREACHABLE: unreachable\nUNSUPPORTED: unsupported', enum_type=HealthState, max_length=16)),
                ('to_state', fields.CharEnumField(description='OK: ok\nAUTH_FAILED: auth_failed\nREJECTED: rejected\nUNREACHABLE: unreachable\nUNSUPPORTED: unsupported', enum_type=HealthState, max_length=16)),
                ('detail', fields.TextField(unique=False)),
                ('sip_status_code', fields.IntField(null=True)),
                ('latency_ms', fields.IntField(null=True)),
            ],
            options={'table': 'phone_number_health_events', 'app': 'models', 'indexes': [Index(fields=['phone_number_id', 'at', 'id']), Index(fields=['organization_id', 'at', 'id'])], 'pk_attr': 'id', 'table_description': "A change of a number's health state, recorded once however many monitors saw it."},
            bases=['Model'],
        ),
    ]
