"""GraphQL documents shared by the tests."""

PHONE_NUMBER_FIELDS = """
  id name number provider sipMode agentId metadata createdAt updatedAt version
  agent { id name }
  config {
    __typename
    ... on TwilioConfig { accountSid authTokenSet }
    ... on SipRegistrationConfig { username proxy outboundProxy authUser port registerTransport passwordSet }
    ... on SipIpAllowlistConfig { ip port protocol }
    ... on VoximplantConfig { applicationId ruleId }
    ... on JambonzConfig { applicationSid carrierSid }
  }
"""

CREATE_PHONE_NUMBER = f"""
mutation Create($input: CreatePhoneNumberInput!) {{
  createPhoneNumber(input: $input) {{
    phoneNumber {{ {PHONE_NUMBER_FIELDS} }}
    userErrors {{ field message code }}
  }}
}}
"""

PHONE_NUMBER = f"""
query PhoneNumber($id: ID!) {{ phoneNumber(id: $id) {{ {PHONE_NUMBER_FIELDS} }} }}
"""

CREATE_AGENT = """
mutation CreateAgent($input: CreateAgentInput!) {
  createAgent(input: $input) { agent { id name createdAt } userErrors { field message code } }
}
"""

AGENT = "query Agent($id: ID!) { agent(id: $id) { id name createdAt } }"

TWILIO_SID = "AC" + "0123456789abcdef" * 2
TWILIO_TOKEN = "twilio-secret-token-0123456789"
SIP_PASSWORD = "sip-secret-password-9876"


def twilio(**overrides: object) -> dict:
    return {"twilio": {"accountSid": TWILIO_SID, "authToken": TWILIO_TOKEN, **overrides}}


def sip_registration(**overrides: object) -> dict:
    return {
        "sip": {
            "registration": {"username": "agent-1", "password": SIP_PASSWORD, "proxy": "pbx.example.com", **overrides}
        }
    }


def sip_ip_allowlist(**overrides: object) -> dict:
    return {"sip": {"ipAllowlist": {"ip": "203.0.113.10", **overrides}}}


LIST_PHONE_NUMBERS = """
query List($first: Int, $after: String, $filter: PhoneNumberFilter) {
  phoneNumbers(first: $first, after: $after, filter: $filter) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id number name provider sipMode agentId createdAt } }
  }
}
"""

UPDATE_PHONE_NUMBER = f"""
mutation Update($input: UpdatePhoneNumberInput!) {{
  updatePhoneNumber(input: $input) {{
    phoneNumber {{ {PHONE_NUMBER_FIELDS} }}
    userErrors {{ field message code }}
  }}
}}
"""

DELETE_PHONE_NUMBER = """
mutation Delete($input: DeletePhoneNumberInput!) {
  deletePhoneNumber(input: $input) { deletedId userErrors { field message code } }
}
"""

UPDATE_AGENT = """
mutation UpdateAgent($input: UpdateAgentInput!) {
  updateAgent(input: $input) { agent { id name createdAt } userErrors { field message code } }
}
"""

DELETE_AGENT = """
mutation DeleteAgent($input: DeleteAgentInput!) {
  deleteAgent(input: $input) { deletedId userErrors { field message code } }
}
"""

LIST_AGENTS = """
query Agents($first: Int, $after: String) {
  agents(first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id name } }
  }
}
"""

API_KEY_FIELDS = "id name prefix scopes createdAt expiresAt lastUsedAt revokedAt"

LIST_API_KEYS = f"""
query ApiKeys($first: Int, $after: String) {{
  apiKeys(first: $first, after: $after) {{
    totalCount
    pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }}
    edges {{ cursor node {{ {API_KEY_FIELDS} }} }}
  }}
}}
"""

VIEWER = f"query Viewer {{ viewer {{ apiKey {{ {API_KEY_FIELDS} }} organization {{ id name createdAt }} }} }}"

CREATE_API_KEY = f"""
mutation CreateApiKey($input: CreateApiKeyInput!) {{
  createApiKey(input: $input) {{ apiKey {{ {API_KEY_FIELDS} }} secret userErrors {{ field message code }} }}
}}
"""

REVOKE_API_KEY = f"""
mutation RevokeApiKey($input: RevokeApiKeyInput!) {{
  revokeApiKey(input: $input) {{ apiKey {{ {API_KEY_FIELDS} }} userErrors {{ field message code }} }}
}}
"""

NODE_FIELDS = "__typename id ... on PhoneNumber { number name } ... on Agent { agentName: name createdAt }"
NODE = f"query Node($id: ID!) {{ node(id: $id) {{ {NODE_FIELDS} }} }}"
NODES = f"query Nodes($ids: [ID!]!) {{ nodes(ids: $ids) {{ {NODE_FIELDS} }} }}"

AUDIT_EVENT_FIELDS = """
  id at action targetType targetId requestId
  actor { type apiKeyId name prefix }
  changes { field before after secretChanged }
"""

AUDIT_EVENTS = f"""
query AuditEvents($first: Int, $after: String, $filter: AuditEventFilter) {{
  auditEvents(first: $first, after: $after, filter: $filter) {{
    pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }}
    edges {{ cursor node {{ {AUDIT_EVENT_FIELDS} }} }}
  }}
}}
"""

HEALTH_FIELDS = "state detail sipStatusCode latencyMs checkedAt since"
HEALTH_EVENT_FIELDS = "id at from to detail sipStatusCode latencyMs phoneNumberId phoneNumber { id number }"

VERIFY_PHONE_NUMBER = f"""
mutation Verify($input: VerifyPhoneNumberInput!) {{
  verifyPhoneNumber(input: $input) {{
    phoneNumber {{ id number version health {{ {HEALTH_FIELDS} }} }}
    health {{ {HEALTH_FIELDS} }}
    userErrors {{ field message code }}
  }}
}}
"""

PHONE_NUMBER_HEALTH = f"""
query Health($id: ID!, $first: Int, $after: String) {{
  phoneNumber(id: $id) {{
    id version
    health {{ {HEALTH_FIELDS} }}
    healthEvents(first: $first, after: $after) {{
      pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }}
      edges {{ cursor node {{ {HEALTH_EVENT_FIELDS} }} }}
    }}
  }}
}}
"""

CREATE_PHONE_NUMBER_WITH_HEALTH = f"""
mutation Create($input: CreatePhoneNumberInput!) {{
  createPhoneNumber(input: $input) {{
    phoneNumber {{ id number version health {{ {HEALTH_FIELDS} }} }}
    userErrors {{ field message code }}
  }}
}}
"""

UPDATE_PHONE_NUMBER_WITH_HEALTH = f"""
mutation Update($input: UpdatePhoneNumberInput!) {{
  updatePhoneNumber(input: $input) {{
    phoneNumber {{ id number version name health {{ {HEALTH_FIELDS} }} }}
    userErrors {{ field message code }}
  }}
}}
"""

HEALTH_CHANGED = """
subscription HealthChanged($id: ID) {
  phoneNumberHealthChanged(id: $id) { id phoneNumberId at from to detail sipStatusCode latencyMs }
}
"""
