"""Settings read from the environment."""

from __future__ import annotations

import pytest

from switchboard.settings import Settings, SettingsError


@pytest.mark.parametrize(
    ("value", "cdn"),
    [
        pytest.param(None, "https://unpkg.com", id="default_is_unpkg"),
        pytest.param("  ", "https://unpkg.com", id="blank_is_the_default"),
        pytest.param("https://npm.example.com/cdn/", "https://npm.example.com/cdn", id="trailing_slash_dropped"),
        pytest.param("http://10.0.0.5:8080", "http://10.0.0.5:8080", id="plain_http_mirror_allowed"),
    ],
)
def test_graphiql_cdn(value: str | None, cdn: str) -> None:
    environ = {} if value is None else {"SWITCHBOARD_GRAPHIQL_CDN": value}
    assert Settings.from_env(environ).graphiql_cdn == cdn


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("npm.example.com/cdn", id="no_scheme"),
        pytest.param("ftp://npm.example.com", id="not_http"),
        pytest.param("https://", id="no_host"),
        pytest.param("https://npm.example.com/cdn?token=1", id="query"),
    ],
)
def test_graphiql_cdn_refuses_what_is_not_an_http_base_url(value: str) -> None:
    with pytest.raises(SettingsError, match="SWITCHBOARD_GRAPHIQL_CDN must be an http"):
        Settings.from_env({"SWITCHBOARD_GRAPHIQL_CDN": value})
