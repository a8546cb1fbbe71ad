"""/v1/phone-numbers: the reference REST API over the same rules as GraphQL."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.app import Api
from tests.support.database import stored_rows
from tests.support.graphql_ops import CREATE_PHONE_NUMBER, PHONE_NUMBER, SIP_PASSWORD, TWILIO_SID, TWILIO_TOKEN, twilio
from tests.support.helpers import create_agent, nth_number
from tests.support.rest import call, post
from tests.support.rule_cases import ALLOWLIST, BOUNDARY_CASES, NUMBER, REGISTRATION, RULE_CASES, RuleCase, body

# "health" is null until the number is checked (tests/system/test_verify_rest.py).
PHONE_NUMBER_KEYS = {"id", "name", "number", "provider", "sipMode", "agentId", "createdAt", "updatedAt", "health"}


async def created(api: Api, json: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    response = await post(api, json, **kwargs)
    assert response.status_code == 201, response.text
    return response.json()["data"]


# --- create -------------------------------------------------------------------------


async def test_the_references_curl_body_verbatim(api: Api) -> None:
    # curl -X POST ".../v1/phone-numbers" -H "Content-Type: application/json" -d '{"number": "string"}'
    response = await api.client.post(
        "/v1/phone-numbers",
        content='{\n    "number": "string"\n  }',
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {api.key}"},
    )
    assert response.status_code == 400
    assert response.json() == {
        "error": "Validation failed",
        "details": [
            {
                "field": "number",
                "message": "Number may contain only digits, a leading + and spaces, dashes, dots or brackets",
            },
            {"field": "twilioAccountSid", "message": "Twilio account SID is required"},
            {"field": "twilioAuthToken", "message": "Twilio auth token is required"},
        ],
    }
    assert await stored_rows("phone_numbers") == []


@pytest.mark.parametrize(
    ("request_body", "provider", "sip_mode"),
    [
        pytest.param(body(), "twilio", None, id="twilio"),
        pytest.param(
            {"number": NUMBER, "twilioAccountSid": TWILIO_SID, "twilioAuthToken": "t"},
            "twilio",
            None,
            id="provider-defaults-to-twilio",
        ),
        pytest.param(body(REGISTRATION), "sip", "registration", id="sip-registration"),
        pytest.param(
            body({k: v for k, v in REGISTRATION.items() if k != "sipMode"}),
            "sip",
            "registration",
            id="sip-mode-defaults-to-registration",
        ),
        pytest.param(body(ALLOWLIST, sipPort=5061, sipProtocol="tls"), "sip", "ip_allowlist", id="sip-ip-allowlist"),
        pytest.param(body({"provider": "voximplant"}), "voximplant", None, id="voximplant"),
        pytest.param(body({"provider": "jambonz"}), "jambonz", None, id="jambonz"),
    ],
)
async def test_create_answers_201_with_the_reference_body(
    api: Api, request_body: dict, provider: str, sip_mode: str | None
) -> None:
    response = await post(api, {**request_body, "name": "Front desk"})
    assert response.status_code == 201
    data = response.json()["data"]
    assert set(data) == PHONE_NUMBER_KEYS
    assert (data["number"], data["provider"], data["sipMode"], data["name"], data["agentId"]) == (
        NUMBER,
        provider,
        sip_mode,
        "Front desk",
        None,
    )
    assert data["createdAt"].endswith("Z") and data["updatedAt"].endswith("Z")
    assert response.headers["location"] == f"/v1/phone-numbers/{data['id']}"
    assert TWILIO_TOKEN not in response.text and SIP_PASSWORD not in response.text


@pytest.mark.parametrize("case", RULE_CASES, ids=lambda case: case.id)
async def test_rule_refuses_with_400_naming_the_field(api: Api, case: RuleCase) -> None:
    response = await post(api, case.body)
    assert response.status_code == 400
    payload = response.json()
    assert payload["error"] == "Validation failed"
    assert [d["field"] for d in payload["details"]] == [case.rest_field]
    assert payload["details"][0]["message"]
    assert await stored_rows("phone_numbers") == []


@pytest.mark.parametrize("name", list(BOUNDARY_CASES))
async def test_values_at_the_limits_are_accepted(api: Api, name: str) -> None:
    assert (await post(api, BOUNDARY_CASES[name])).status_code == 201


@pytest.mark.parametrize(
    ("request_body", "field", "message"),
    [
        pytest.param(
            body(REGISTRATION, sipIp="10.0.0.1"),
            "sipIp",
            "sipIp does not apply to provider 'sip' in sipMode 'registration'",
            id="sip-ip-in-registration",
        ),
        pytest.param(
            body(ALLOWLIST, sipUsername="u"),
            "sipUsername",
            "sipUsername does not apply to provider 'sip' in sipMode 'ip_allowlist'",
            id="username-in-allowlist",
        ),
        pytest.param(
            body(ALLOWLIST, sipRegisterTransport="tcp"),
            "sipRegisterTransport",
            "sipRegisterTransport does not apply to provider 'sip' in sipMode 'ip_allowlist'",
            id="register-transport-in-allowlist",
        ),
        pytest.param(
            body(REGISTRATION, sipProtocol="tcp"),
            "sipProtocol",
            "sipProtocol does not apply to provider 'sip' in sipMode 'registration'",
            id="protocol-in-registration",
        ),
        pytest.param(
            body(sipUsername="u"),
            "sipUsername",
            "sipUsername does not apply to provider 'twilio'",
            id="sip-field-for-twilio",
        ),
        pytest.param(
            body(REGISTRATION, twilioAuthToken="t"),
            "twilioAuthToken",
            "twilioAuthToken does not apply to provider 'sip' in sipMode 'registration'",
            id="twilio-field-for-sip",
        ),
        pytest.param(
            body(sipMode="registration"),
            "sipMode",
            "sipMode applies only when provider is 'sip'",
            id="sip-mode-for-twilio",
        ),
        pytest.param(
            body(faxNumber="1"), "faxNumber", "faxNumber is not a field of a phone number", id="unknown-field"
        ),
        pytest.param(body(REGISTRATION, sipPort="5060"), "sipPort", "sipPort must be an integer", id="port-as-string"),
        pytest.param(body(REGISTRATION, sipPort=True), "sipPort", "sipPort must be an integer", id="port-as-boolean"),
        pytest.param(body(number=4155550123), "number", "number must be a string", id="number-as-integer"),
        pytest.param(body(twilioAuthToken=None), "twilioAuthToken", "twilioAuthToken can't be null", id="null-secret"),
        pytest.param(
            body(provider="fax"),
            "provider",
            "provider must be one of: twilio, sip, voximplant, jambonz",
            id="unknown-provider",
        ),
        pytest.param(
            body(REGISTRATION, sipMode="trunk"),
            "sipMode",
            "sipMode must be one of: registration, ip_allowlist",
            id="unknown-sip-mode",
        ),
        pytest.param(
            body(REGISTRATION, sipRegisterTransport="sctp"),
            "sipRegisterTransport",
            "sipRegisterTransport must be one of: udp, tcp, tls",
            id="unknown-transport",
        ),
    ],
)
async def test_fields_that_do_not_fit_are_refused_not_dropped(
    api: Api, request_body: dict, field: str, message: str
) -> None:
    response = await post(api, request_body)
    assert response.status_code == 400
    assert response.json() == {"error": "Validation failed", "details": [{"field": field, "message": message}]}
    assert await stored_rows("phone_numbers") == []


async def test_defaults_are_stored_and_visible_over_graphql(api: Api) -> None:
    data = await created(api, body(REGISTRATION))
    read = (await api.gql(PHONE_NUMBER, {"id": data["id"]}))["phoneNumber"]
    assert read["config"]["port"] == 5060 and read["config"]["registerTransport"] == "UDP"
    assert read["number"] == data["number"] and read["provider"] == "SIP" and read["sipMode"] == "REGISTRATION"


async def test_created_over_graphql_read_over_rest(api: Api) -> None:
    agent = await create_agent(api)
    payload = await api.gql(
        CREATE_PHONE_NUMBER, {"input": {"number": NUMBER, "provider": twilio(), "agentId": agent["id"], "name": "N"}}
    )
    made = payload["createPhoneNumber"]["phoneNumber"]
    response = await call(api, "GET", f"/v1/phone-numbers/{made['id']}")
    assert response.status_code == 200
    assert response.json()["data"] == {
        "id": made["id"],
        "name": "N",
        "number": NUMBER,
        "provider": "twilio",
        "sipMode": None,
        "agentId": agent["id"],
        "createdAt": made["createdAt"].replace("+00:00", "Z"),
        "updatedAt": made["updatedAt"].replace("+00:00", "Z"),
        "health": None,
    }


@pytest.mark.parametrize(
    ("status", "make_request"),
    [
        pytest.param(
            415,
            lambda c, h: c.post(
                "/v1/phone-numbers",
                content="number=+14155550123",
                headers={**h, "Content-Type": "application/x-www-form-urlencoded"},
            ),
            id="form-body-415",
        ),
        pytest.param(
            415,
            lambda c, h: c.post(
                "/v1/phone-numbers", content='{"number": "+1"}', headers={**h, "Content-Type": "text/plain"}
            ),
            id="text-body-415",
        ),
        pytest.param(
            415,
            lambda c, h: c.post("/v1/phone-numbers", content='{"number": "+1"}', headers=h),
            id="no-content-type-415",
        ),
        pytest.param(
            400,
            lambda c, h: c.post(
                "/v1/phone-numbers", content="{nope", headers={**h, "Content-Type": "application/json"}
            ),
            id="malformed-json-400",
        ),
        pytest.param(
            400, lambda c, h: c.post("/v1/phone-numbers", json=[{"number": "+1"}], headers=h), id="array-body-400"
        ),
        pytest.param(
            400,
            lambda c, h: c.post(
                "/v1/phone-numbers", content=LONE_SURROGATE, headers={**h, "Content-Type": "application/json"}
            ),
            id="lone-surrogate-400",
        ),
        pytest.param(
            400,
            lambda c, h: c.post(
                "/v1/phone-numbers", content=DEEP_JSON, headers={**h, "Content-Type": "application/json"}
            ),
            id="deep-json-400",
        ),
    ],
)
async def test_bodies_that_are_not_a_json_object(api: Api, status: int, make_request: Any) -> None:
    response = await make_request(api.client, {"Authorization": f"Bearer {api.key}"})
    assert response.status_code == status
    assert set(response.json()) == {"error", "details"}
    assert await stored_rows("phone_numbers") == []


# JSON that parses in Python but that no layer below can hold: a \u escape of
# half a surrogate pair is not Unicode text, and Python's JSON parser gives up
# on nesting this deep.
LONE_SURROGATE = '{"number": "+14155550123", "name": "\\ud800", "twilioAccountSid": "AC0123456789abcdef0123456789abcdef", "twilioAuthToken": "t"}'
DEEP_JSON = '{"metadata": ' + "[" * 5000 + "]" * 5000 + "}"


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer sb_live_unknown"}, {"Authorization": "Token x"}])
async def test_unauthenticated_is_401(api: Api, headers: dict[str, str]) -> None:
    for method, path in [
        ("POST", "/v1/phone-numbers"),
        ("GET", "/v1/phone-numbers"),
        ("GET", f"/v1/phone-numbers/{'0' * 8}-0000-4000-8000-{'0' * 12}"),
    ]:
        response = await api.client.request(method, path, json=body(), headers=headers)
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Bearer")
    assert await stored_rows("phone_numbers") == []


async def test_duplicate_number_is_409(api: Api) -> None:
    await created(api, body())
    response = await post(api, {"number": "+1 (415) 555-0123", "provider": "voximplant"})
    assert response.status_code == 409
    assert response.json() == {
        "error": "Phone number already exists",
        "details": [{"field": "number", "message": "Number +14155550123 already exists in this organization"}],
    }


async def test_duplicate_with_other_failures_is_400_with_all_of_them(api: Api) -> None:
    await created(api, body())
    response = await post(api, body(twilioAuthToken=""))
    assert response.status_code == 400
    assert [d["field"] for d in response.json()["details"]] == ["twilioAuthToken", "number"]


# --- read, update, delete -------------------------------------------------------------


@pytest.mark.parametrize("id", ["00000000-0000-4000-8000-000000000000", "not-a-uuid"])
async def test_unknown_ids_are_404(api: Api, id: str) -> None:
    for method, json in [("GET", None), ("PATCH", {"name": "x"}), ("DELETE", None)]:
        response = await call(api, method, f"/v1/phone-numbers/{id}", json=json)
        assert response.status_code == 404
        assert response.json() == {"error": "Not found", "details": []}


async def test_other_organizations_numbers_are_404(api: Api, other_key: str) -> None:
    data = await created(api, body())
    for method, json in [("GET", None), ("PATCH", {"name": "x"}), ("DELETE", None)]:
        response = await call(api, method, f"/v1/phone-numbers/{data['id']}", json=json, key=other_key)
        assert response.status_code == 404
    (row,) = await stored_rows("phone_numbers")
    assert row["name"] is None


async def test_patch_rotates_one_secret_and_keeps_the_rest(api: Api) -> None:
    data = await created(api, body(REGISTRATION, sipOutboundProxy="proxy.example.com"))
    before = (await stored_rows("phone_numbers"))[0]
    response = await call(api, "PATCH", f"/v1/phone-numbers/{data['id']}", json={"sipPassword": "rotated"})
    assert response.status_code == 200
    updated = response.json()["data"]
    assert (
        set(updated) == PHONE_NUMBER_KEYS
        and updated["createdAt"] == data["createdAt"]
        and updated["updatedAt"] > data["updatedAt"]
    )
    (row,) = await stored_rows("phone_numbers")
    assert row["sip_password_encrypted"] != before["sip_password_encrypted"]
    assert (row["sip_username"], row["sip_proxy"], row["sip_outbound_proxy"]) == (
        "agent-1",
        "pbx.example.com",
        "proxy.example.com",
    )


async def test_patch_switches_mode_and_erases_the_old_config(api: Api) -> None:
    data = await created(api, body(REGISTRATION))
    incomplete = await call(api, "PATCH", f"/v1/phone-numbers/{data['id']}", json={"sipMode": "ip_allowlist"})
    assert incomplete.status_code == 400
    assert incomplete.json()["details"] == [{"field": "sipIp", "message": "PBX IP address is required"}]

    response = await call(
        api, "PATCH", f"/v1/phone-numbers/{data['id']}", json={"sipMode": "ip_allowlist", "sipIp": "198.51.100.4"}
    )
    assert response.status_code == 200 and response.json()["data"]["sipMode"] == "ip_allowlist"
    (row,) = await stored_rows("phone_numbers")
    assert row["sip_password_encrypted"] is None and row["sip_username"] is None and row["sip_ip"] == "198.51.100.4"


async def test_patch_fields_must_fit_the_numbers_provider(api: Api) -> None:
    data = await created(api, body())
    response = await call(api, "PATCH", f"/v1/phone-numbers/{data['id']}", json={"sipIp": "10.0.0.1"})
    assert response.status_code == 400
    assert response.json()["details"] == [{"field": "sipIp", "message": "sipIp does not apply to provider 'twilio'"}]


async def test_patch_null_clears_and_rules_apply(api: Api) -> None:
    agent = await create_agent(api)
    data = await created(api, body(name="N", agentId=agent["id"], metadata={"a": 1}))
    cleared = await call(
        api, "PATCH", f"/v1/phone-numbers/{data['id']}", json={"name": None, "agentId": None, "metadata": None}
    )
    assert cleared.status_code == 200
    assert cleared.json()["data"]["name"] is None and cleared.json()["data"]["agentId"] is None
    bad = await call(
        api, "PATCH", f"/v1/phone-numbers/{data['id']}", json={"number": None, "twilioAuthToken": "x" * 129}
    )
    assert bad.status_code == 400
    assert bad.json()["details"] == [{"field": "number", "message": "number can't be null"}]
    too_long = await call(
        api, "PATCH", f"/v1/phone-numbers/{data['id']}", json={"name": "n" * 101, "twilioAuthToken": "x" * 129}
    )
    assert [(d["field"]) for d in too_long.json()["details"]] == ["name", "twilioAuthToken"]


async def test_patch_to_a_taken_number_is_409(api: Api) -> None:
    await created(api, body())
    other = await created(api, body(number=nth_number(9)))
    response = await call(api, "PATCH", f"/v1/phone-numbers/{other['id']}", json={"number": NUMBER})
    assert response.status_code == 409


async def test_delete_is_204_then_404(api: Api) -> None:
    data = await created(api, body())
    response = await call(api, "DELETE", f"/v1/phone-numbers/{data['id']}")
    assert response.status_code == 204 and response.content == b""
    assert (await call(api, "GET", f"/v1/phone-numbers/{data['id']}")).status_code == 404
    assert await stored_rows("phone_numbers") == []


# --- list ---------------------------------------------------------------------------------


async def test_list_pages_by_offset_with_filters(api: Api, other_key: str) -> None:
    agent = await create_agent(api)
    ids = [
        (await created(api, body(number=nth_number(n), **({"agentId": agent["id"]} if n % 2 else {}))))["id"]
        for n in range(5)
    ]
    await created(api, body(ALLOWLIST, number=nth_number(7)))
    await created(api, body(), key=other_key)

    page = (await call(api, "GET", "/v1/phone-numbers", params={"limit": 2, "offset": 1})).json()
    assert page["pagination"] == {"total": 6, "limit": 2, "offset": 1}
    assert [d["id"] for d in page["data"]] == [ids[4], ids[3]]

    twilio_only = (await call(api, "GET", "/v1/phone-numbers", params={"provider": "twilio"})).json()
    assert twilio_only["pagination"] == {"total": 5, "limit": 20, "offset": 0}
    by_agent = (await call(api, "GET", "/v1/phone-numbers", params={"agentId": agent["id"]})).json()
    assert [d["id"] for d in by_agent["data"]] == [ids[3], ids[1]]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"offset": -1}, "offset"),
        ({"offset": 2**31}, "offset"),
        ({"provider": "fax"}, "provider"),
        ({"agentId": "sales"}, "agentId"),
        ({"page": 2}, "page"),
    ],
)
async def test_list_arguments_are_checked(api: Api, params: dict, field: str) -> None:
    response = await call(api, "GET", "/v1/phone-numbers", params=params)
    assert response.status_code == 400
    assert [d["field"] for d in response.json()["details"]] == [field]


# --- idempotency ------------------------------------------------------------------------------


async def test_idempotency_key_header(api: Api) -> None:
    first = await created(api, body(), headers={"Idempotency-Key": "req-1"})
    again = await created(api, body(), headers={"Idempotency-Key": "req-1"})
    assert again == first
    changed = await post(api, body(number=nth_number(8)), headers={"Idempotency-Key": "req-1"})
    assert changed.status_code == 409
    assert changed.json()["details"][0]["field"] == "Idempotency-Key"
    assert len(await stored_rows("phone_numbers")) == 1


async def test_idempotency_key_is_shared_with_graphql(api: Api) -> None:
    first = await created(api, body(), headers={"Idempotency-Key": "shared"})
    payload = await api.gql(
        CREATE_PHONE_NUMBER, {"input": {"number": NUMBER, "provider": twilio(), "idempotencyKey": "shared"}}
    )
    assert payload["createPhoneNumber"]["phoneNumber"]["id"] == first["id"]


# --- OpenAPI --------------------------------------------------------------------------------------


async def test_openapi_document(api: Api) -> None:
    response = await api.client.get("/v1/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"] == "3.1.0"
    assert set(document["paths"]) == {
        "/v1/phone-numbers",
        "/v1/phone-numbers/{id}",
        "/v1/phone-numbers/{id}/verify",
        "/v1/api-keys",
        "/v1/api-keys/{id}",
        "/v1/audit-events",
    }
    fields = document["components"]["schemas"]["PhoneNumberCreate"]["properties"]
    assert fields["sipUsername"]["maxLength"] == 60 and fields["sipProxy"]["maxLength"] == 100
    assert fields["sipPort"] == {
        "type": "integer",
        "description": "SIP port number. Used in both 'registration' and 'ip_allowlist' modes.",
        "minimum": 1,
        "maximum": 65535,
        "default": 5060,
    }
    assert fields["provider"]["default"] == "twilio" and fields["sipMode"]["default"] == "registration"
