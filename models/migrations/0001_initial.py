from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from models.phone_numbers import Provider, SipMode, SipTransport
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='Organization',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('name', fields.CharField(unique=True, max_length=100)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'organizations', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Agent',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('organization', fields.ForeignKeyField('models.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name='agents', on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(max_length=100)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'agents', 'app': 'models', 'indexes': [Index(fields=['organization_id', 'created_at', 'id'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ApiKey',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('organization', fields.ForeignKeyField('models.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name='api_keys', on_delete=OnDelete.CASCADE)),
                ('key_hash', fields.CharField(unique=True, max_length=64)),
                ('display_prefix', fields.CharField(max_length=16)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'api_keys', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PhoneNumber',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('organization', fields.ForeignKeyField('models.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name='phone_numbers', on_delete=OnDelete.CASCADE)),
                ('agent', fields.ForeignKeyField('models.Agent', source_field='agent_id', null=True, db_constraint=True, to_field='id', related_name='phone_numbers', on_delete=OnDelete.SET_NULL)),
                ('number', fields.CharField(max_length=16)),
                ('name', fields.CharField(null=True, max_length=100)),
                ('metadata', fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('provider', fields.CharEnumField(description='TWILIO: twilio\nSIP: sip\nVOXIMPLANT: voximplant\nJAMBONZ: jambonz', enum_type=Provider, max_length=16)),
                ('sip_mode', fields.CharEnumField(null=True, description='REGISTRATION: registration\nIP_ALLOWLIST: ip_allowlist', enum_type=SipMode, max_length=16)),
                ('twilio_account_sid', fields.CharField(null=True, max_length=34)),
                ('twilio_auth_token_encrypted', fields.TextField(null=True, unique=False)),
                ('sip_username', fields.CharField(null=True, max_length=60)),
                ('sip_password_encrypted', fields.TextField(null=True, unique=False)),
                ('sip_proxy', fields.CharField(null=True, max_length=100)),
                ('sip_outbound_proxy', fields.CharField(null=True, max_length=100)),
                ('sip_auth_user', fields.CharField(null=True, max_length=60)),
                ('sip_ip', fields.CharField(null=True, max_length=255)),
                ('sip_port', fields.IntField(null=True)),
                ('sip_transport', fields.CharEnumField(null=True, description='UDP: udp\nTCP: tcp\nTLS: tls', enum_type=SipTransport, max_length=8)),
                ('voximplant_application_id', fields.CharField(null=True, max_length=64)),
                ('voximplant_rule_id', fields.CharField(null=True, max_length=64)),
                ('jambonz_application_sid', fields.CharField(null=True, max_length=64)),
                ('jambonz_carrier_sid', fields.CharField(null=True, max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'phone_numbers', 'app': 'models', 'unique_together': (('organization_id', 'number'),), 'indexes': [Index(fields=['organization_id', 'created_at', 'id'])], 'pk_attr': 'id', 'table_description': 'One number and its provider configuration.'},
            bases=['Model'],
        ),
    ]
