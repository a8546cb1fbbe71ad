"""Configuration errors name the variable and the rule, and stop the process at once.

The tests that need real processes are in tests/system/test_settings_processes.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from switchboard.settings import Settings, SettingsError


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        pytest.param(
            {"SWITCHBOARD_WORKERS": "0"},
            "SWITCHBOARD_WORKERS must be a whole number from 1 to 64, got '0'",
            id="workers-zero",
        ),
        pytest.param(
            {"SWITCHBOARD_WORKERS": "two"},
            "SWITCHBOARD_WORKERS must be a whole number from 1 to 64, got 'two'",
            id="workers-word",
        ),
        pytest.param(
            {"SWITCHBOARD_WORKERS": "²"},
            "SWITCHBOARD_WORKERS must be a whole number from 1 to 64, got '²'",
            id="workers-superscript-digit",
        ),
        pytest.param(
            {"SWITCHBOARD_SHUTDOWN_TIMEOUT": "-1"},
            "SWITCHBOARD_SHUTDOWN_TIMEOUT must be a number of seconds greater than 0, got '-1'",
            id="shutdown-timeout-negative",
        ),
        pytest.param(
            {"SWITCHBOARD_SHUTDOWN_TIMEOUT": "soon"},
            "SWITCHBOARD_SHUTDOWN_TIMEOUT must be a number of seconds greater than 0, got 'soon'",
            id="shutdown-timeout-word",
        ),
        pytest.param(
            {"SWITCHBOARD_HEALTH_INTERVAL": "-1"},
            "SWITCHBOARD_HEALTH_INTERVAL must be a whole number from 0 to 604800, got '-1'",
            id="health-interval-negative",
        ),
        pytest.param(
            {"SWITCHBOARD_HEALTH_INTERVAL": "5m"},
            "SWITCHBOARD_HEALTH_INTERVAL must be a whole number from 0 to 604800, got '5m'",
            id="health-interval-unit",
        ),
        pytest.param(
            {"SWITCHBOARD_HEALTH_FAILURES": "0"},
            "SWITCHBOARD_HEALTH_FAILURES must be a whole number from 1 to 100, got '0'",
            id="health-failures-zero",
        ),
        pytest.param(
            {"SWITCHBOARD_HEALTH_RECOVERIES": "0"},
            "SWITCHBOARD_HEALTH_RECOVERIES must be a whole number from 1 to 100, got '0'",
            id="health-recoveries-zero",
        ),
        pytest.param(
            {"SWITCHBOARD_HEALTH_CONCURRENCY": "0"},
            "SWITCHBOARD_HEALTH_CONCURRENCY must be a whole number from 1 to 1000, got '0'",
            id="health-concurrency-zero",
        ),
        pytest.param(
            {"SWITCHBOARD_VERIFY_TIMEOUT": "0"},
            "SWITCHBOARD_VERIFY_TIMEOUT must be a number of seconds greater than 0, got '0'",
            id="verify-timeout-zero",
        ),
        pytest.param(
            {"SWITCHBOARD_VERIFY_TIMEOUT": "61"},
            "SWITCHBOARD_VERIFY_TIMEOUT must be a number of seconds greater than 0 and at most 60, got 61",
            id="verify-timeout-too-long",
        ),
        pytest.param(
            {"SWITCHBOARD_TWILIO_API_URL": "ftp://api.twilio.com"},
            "SWITCHBOARD_TWILIO_API_URL must be an http(s) URL of a host, without a path, query or user, "
            "e.g. https://api.twilio.com; got 'ftp://api.twilio.com'",
            id="twilio-api-url-scheme",
        ),
        pytest.param(
            {"SWITCHBOARD_LOG_FORMAT": "xml"},
            "SWITCHBOARD_LOG_FORMAT must be 'json' or 'text', got 'xml'",
            id="log-format",
        ),
        pytest.param(
            {"SWITCHBOARD_ENV": "staging"},
            "SWITCHBOARD_ENV must be 'development' or 'production', got 'staging'",
            id="env",
        ),
        pytest.param(
            {"SWITCHBOARD_INTROSPECTION": "no"},
            "SWITCHBOARD_INTROSPECTION must be 'true' or 'false', got 'no'",
            id="introspection",
        ),
        pytest.param(
            {"SWITCHBOARD_COMPILED_EXECUTION": "off"},
            "SWITCHBOARD_COMPILED_EXECUTION must be 'true' or 'false', got 'off'",
            id="compiled-execution",
        ),
        pytest.param(
            {"SWITCHBOARD_CORS_ORIGINS": "https://app.example.com/"},
            "SWITCHBOARD_CORS_ORIGINS must list origins such as https://app.example.com (scheme and host, no path), "
            "comma-separated, or *; got 'https://app.example.com/'",
            id="cors-origin-with-path",
        ),
        pytest.param(
            {"SWITCHBOARD_CORS_ORIGINS": "app.example.com"},
            "SWITCHBOARD_CORS_ORIGINS must list origins such as https://app.example.com (scheme and host, no path), "
            "comma-separated, or *; got 'app.example.com'",
            id="cors-origin-without-scheme",
        ),
        pytest.param(
            {"SWITCHBOARD_RATE_LIMIT": "0"},
            "SWITCHBOARD_RATE_LIMIT must be a number of cost units per second greater than 0, got '0'",
            id="rate-limit-zero",
        ),
        pytest.param(
            {"SWITCHBOARD_RATE_LIMIT_BURST": "0"},
            "SWITCHBOARD_RATE_LIMIT_BURST must be a whole number from 1 to 100000000, got '0'",
            id="rate-limit-burst-zero",
        ),
        pytest.param(
            {"SWITCHBOARD_RATE_LIMIT_BURST": "11549"},
            "SWITCHBOARD_RATE_LIMIT_BURST (11549) must be at least 11550, what one request may cost with "
            "SWITCHBOARD_MAX_QUERY_COST at 10000: else some requests could never run",
            id="rate-limit-burst-below-max-query-cost",
        ),
        pytest.param(
            {"SWITCHBOARD_MAX_QUERY_COST": "0"},
            "SWITCHBOARD_MAX_QUERY_COST must be a whole number from 1 to 1000000, got '0'",
            id="max-query-cost-zero",
        ),
        pytest.param(
            {"SWITCHBOARD_UNAUTHENTICATED_RATE_LIMIT": "many"},
            "SWITCHBOARD_UNAUTHENTICATED_RATE_LIMIT must be a whole number from 1 to 1000000, got 'many'",
            id="unauthenticated-rate-limit-word",
        ),
        pytest.param(
            {"SWITCHBOARD_TRUSTED_PROXIES": "10.0.0.0/8, proxy.internal"},
            "SWITCHBOARD_TRUSTED_PROXIES must list IP addresses or networks such as 10.0.0.0/8 or 2001:db8::/32, "
            "comma-separated; got 'proxy.internal'",
            id="trusted-proxies-host-name",
        ),
        pytest.param(
            {"DATABASE_URL": "mysql://root:hunter2@db/switchboard"},
            "DATABASE_URL must start with sqlite:// or postgres:// (got scheme 'mysql')",
            id="database-scheme",
        ),
    ],
)
def test_bad_values_are_refused_with_the_rule(environ: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_env(environ)
    assert str(raised.value) == message


def test_defaults_and_accepted_values() -> None:
    assert Settings.from_env({}) == Settings(
        database_url="sqlite://data/switchboard.sqlite3", data_dir=Path("data"), encryption_keys=()
    )
    settings = Settings.from_env(
        {
            "DATABASE_URL": "postgresql://switchboard@db:5432/switchboard",
            "SWITCHBOARD_WORKERS": "4",
            "SWITCHBOARD_SHUTDOWN_TIMEOUT": "7.5",
            "SWITCHBOARD_LOG_FORMAT": "text",
            "SWITCHBOARD_ENV": "production",
            "SWITCHBOARD_INTROSPECTION": "false",
            "SWITCHBOARD_COMPILED_EXECUTION": "false",
            "SWITCHBOARD_CORS_ORIGINS": "https://app.example.com, http://localhost:5173",
            "SWITCHBOARD_RATE_LIMIT": "2.5",
            "SWITCHBOARD_RATE_LIMIT_BURST": "1570",
            "SWITCHBOARD_MAX_QUERY_COST": "20",
            "SWITCHBOARD_UNAUTHENTICATED_RATE_LIMIT": "5",
            "SWITCHBOARD_TRUSTED_PROXIES": "10.1.2.3, 192.168.0.0/16, 2001:DB8::/32",
        }
    )
    assert (settings.database, settings.workers, settings.shutdown_timeout, settings.log_format) == (
        "postgres",
        4,
        7.5,
        "text",
    )
    assert (settings.is_production, settings.introspection, settings.compiled_execution) == (True, False, False)
    assert settings.cors_origins == ("https://app.example.com", "http://localhost:5173")
    assert (settings.rate_limit, settings.rate_limit_burst, settings.max_query_cost) == (2.5, 1570, 20)
    assert settings.unauthenticated_rate_limit == 5
    assert settings.trusted_proxies == ("10.1.2.3/32", "192.168.0.0/16", "2001:db8::/32")


def test_the_defaults_of_the_limits() -> None:
    settings = Settings.from_env({})
    assert (settings.is_production, settings.introspection, settings.cors_origins) == (False, True, ())
    assert settings.compiled_execution is True
    assert (settings.rate_limit, settings.rate_limit_burst, settings.max_query_cost) == (5000, 50000, 10000)
    assert (settings.unauthenticated_rate_limit, settings.trusted_proxies) == (60, ())


def test_the_defaults_of_monitoring_and_checks() -> None:
    settings = Settings.from_env({})
    assert (settings.health_interval, settings.health_failures, settings.health_recoveries) == (300, 3, 2)
    assert (settings.health_concurrency, settings.verify_timeout, settings.allow_local_targets) == (10, 5.0, False)
    assert settings.twilio_api_url == "https://api.twilio.com"
    off = Settings.from_env({"SWITCHBOARD_HEALTH_INTERVAL": "0", "SWITCHBOARD_TWILIO_API_URL": "http://127.0.0.1:9/"})
    assert (off.health_interval, off.twilio_api_url) == (0, "http://127.0.0.1:9")


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


@pytest.mark.parametrize(("value", "seconds"), [(None, 30.0), ("0", 0.0), ("2.5", 2.5)])
def test_api_key_cache_seconds(value: str | None, seconds: float) -> None:
    environ = {} if value is None else {"SWITCHBOARD_API_KEY_CACHE_SECONDS": value}
    assert Settings.from_env(environ).api_key_cache_seconds == seconds


@pytest.mark.parametrize("value", ["-1", "soon", "inf"])
def test_api_key_cache_seconds_refuses_what_is_not_a_duration(value: str) -> None:
    with pytest.raises(
        SettingsError, match=f"SWITCHBOARD_API_KEY_CACHE_SECONDS must be a number of seconds 0 or more, got '{value}'"
    ):
        Settings.from_env({"SWITCHBOARD_API_KEY_CACHE_SECONDS": value})


@pytest.mark.parametrize(("value", "days"), [(None, 365), ("  ", 365), ("1", 1), ("30", 30), ("36500", 36500)])
def test_audit_retention_days(value: str | None, days: int) -> None:
    environ = {} if value is None else {"SWITCHBOARD_AUDIT_RETENTION_DAYS": value}
    assert Settings.from_env(environ).audit_retention_days == days


@pytest.mark.parametrize("value", ["0", "-1", "36501", "1y", "7.5", "٣", "²"])
def test_audit_retention_days_refuses_what_is_not_a_number_of_days(value: str) -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_env({"SWITCHBOARD_AUDIT_RETENTION_DAYS": value})
    assert (
        str(raised.value) == f"SWITCHBOARD_AUDIT_RETENTION_DAYS must be a whole number from 1 to 36500, got {value!r}"
    )


# --- provider checks ----------------------------------------------------------------------


def test_check_options_default_to_five_seconds_twilio_and_no_local_targets() -> None:
    options = Settings.from_env({}).check_options
    assert (options.timeout, options.allow_local_targets, options.twilio_api_url, options.tls_ca_file) == (
        5.0,
        False,
        "https://api.twilio.com",
        None,
    )
    assert Settings.from_env({}).policy.checks == options, "the API checks with the options the monitor gets"


@pytest.mark.parametrize("value", ["0", "-1", "60.5", "soon", "inf", "nan"])
def test_verify_timeout_refuses_what_is_not_a_duration_up_to_a_minute(value: str) -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_env({"SWITCHBOARD_VERIFY_TIMEOUT": value})
    assert str(raised.value).startswith("SWITCHBOARD_VERIFY_TIMEOUT must be a number of seconds greater than 0")


@pytest.mark.parametrize(
    "value",
    [
        "api.twilio.com",
        "ftp://api.twilio.com",
        "https://api.twilio.com/2010-04-01",
        "https://user@api.twilio.com",
        "https://x:99999",
    ],
)
def test_twilio_api_url_refuses_what_is_not_the_base_url_of_a_host(value: str) -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_env({"SWITCHBOARD_TWILIO_API_URL": value})
    assert str(raised.value).startswith("SWITCHBOARD_TWILIO_API_URL")


def test_verify_ca_file_must_be_pem_certificates(tmp_path: Path) -> None:
    not_pem = tmp_path / "ca.pem"
    not_pem.write_text("not a certificate\n")
    for path in (str(tmp_path / "missing.pem"), str(not_pem)):
        with pytest.raises(SettingsError) as raised:
            Settings.from_env({"SWITCHBOARD_VERIFY_CA_FILE": path})
        assert str(raised.value).startswith(
            "SWITCHBOARD_VERIFY_CA_FILE must name a readable file of PEM CA certificates"
        )
