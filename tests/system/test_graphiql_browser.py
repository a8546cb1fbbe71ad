"""GraphiQL in Debian's Chromium against a real server.

The page loads its files from a CDN, and test machines have no internet:
the browser's requests for them are answered with the files of the npm
packages they come from (tests/graphiql-cdn, installed by `make test-deps`),
so the page's integrity hashes are checked against the real packages by the
browser itself. The mirror of docs/graphiql-offline.md runs as a real
process. Where the files cannot load, the page must say why and what a
mirror must serve.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Locator, Page, Route, expect, sync_playwright

from switchboard.http.graphiql import ASSETS, CDN_TIMEOUT_SECONDS, SCRIPTS
from switchboard.settings import DEFAULT_GRAPHIQL_CDN
from tests.support import REPO
from tests.support.servers import Server, create_api_key, first_run_environment, free_port, post, serving
from tests.support.tooling import chromium, npm_project

CDN_PACKAGES = REPO / "tests" / "graphiql-cdn"
ARTIFACTS = REPO / "test-artifacts"
# Without the background-networking flags Chromium's own connections to
# Google fail on a closed network, and the failures get in the way.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
MIRROR = "https://npm-mirror.example.test/cdn"
CREATE_NUMBER = "mutation ($input: CreatePhoneNumberInput!) { createPhoneNumber(input: $input) { phoneNumber { id } userErrors { message } } }"
LIST_NUMBERS = "{ phoneNumbers { totalCount edges { node { id number name sipMode } } } }"
WRONG_KEY = "sb_live_" + "x" * 43
GRAPHIQL_SCRIPT = SCRIPTS[-1]
EXAMPLE_NUMBER = "+14155550100"  # the page's example creates it

# What the page says of each file that did not load, by cause.
UNREACHABLE = "could not be reached (no network, or the host is blocked or unknown)"
NO_CORS_HEADER = "answered without the header Access-Control-Allow-Origin, so the browser refused it"
DIFFERENT_BYTES = "answered with other bytes than the npm package's file, so the integrity check refused it"
STILL_LOADING = f"has not loaded after {CDN_TIMEOUT_SECONDS} seconds"


@pytest.fixture(scope="module")
def node_modules() -> Path:
    return npm_project(CDN_PACKAGES)


@pytest.fixture(scope="module")
def chromium_path() -> str:
    return chromium()


def content_type(path: Path) -> str:
    return "text/css" if path.suffix == ".css" else "text/javascript"


class Cdn:
    """The browser's network: the server and `local` origins pass, a CDN of npm packages at `base` answers from
    installed packages, anything else is refused.

    `cors=False` answers without Access-Control-Allow-Origin; the files whose paths are in `altered` get a byte more.
    """

    def __init__(
        self,
        base: str,
        node_modules: Path,
        server: Server,
        *,
        local: tuple[str, ...] = (),
        cors: bool = True,
        altered: frozenset[str] = frozenset(),
    ) -> None:
        file_path = r"/(?P<package>(?:@[^/@]+/)?[^/@]+)@(?P<version>[^/]+)/(?P<file>.+)"
        self.file_url = re.compile(re.escape(base) + file_path)
        self.node_modules = node_modules
        self.server = server
        self.local = local
        self.cors = cors
        self.altered = altered
        self.served: list[str] = []
        self.refused: list[str] = []
        self.graphql_posts: list[str] = []

    def handle(self, route: Route) -> None:
        url = route.request.url
        if url.startswith(self.server.origin + "/"):
            if route.request.method == "POST":
                self.graphql_posts.append(route.request.post_data or "")
            route.continue_()
            return
        if url.startswith(tuple(origin + "/" for origin in self.local)):
            route.continue_()
            return
        match = self.file_url.fullmatch(url)
        if match and self._installed_version(match["package"]) == match["version"]:
            path = self.node_modules / match["package"] / match["file"]
            if path.is_file():
                body = path.read_bytes()
                if f"{match['package']}@{match['version']}/{match['file']}" in self.altered:
                    body += b"\n"
                # The page loads these crossorigin, as from a real CDN.
                headers = {"Content-Type": content_type(path)}
                if self.cors:
                    headers["Access-Control-Allow-Origin"] = "*"
                route.fulfill(body=body, headers=headers)
                self.served.append(url)
                return
        self.refused.append(url)
        route.abort()

    def _installed_version(self, package: str) -> str | None:
        manifest = self.node_modules / package / "package.json"
        return json.loads(manifest.read_text())["version"] if manifest.is_file() else None


class Offline:
    """A network where only the server answers: every other request fails as without internet."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.refused: list[str] = []

    def handle(self, route: Route) -> None:
        if route.request.url.startswith(self.server.origin + "/"):
            route.continue_()
            return
        self.refused.append(route.request.url)
        route.abort("internetdisconnected")


class Unanswered:
    """A network where only the server answers: every other request waits, unanswered, until `answer_from`."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.held: list[Route] = []
        self.cdn: Cdn | None = None

    def handle(self, route: Route) -> None:
        if self.cdn is not None:
            self.cdn.handle(route)
        elif route.request.url.startswith(self.server.origin + "/"):
            route.continue_()
        else:
            self.held.append(route)

    def answer_from(self, cdn: Cdn) -> None:
        """Answer what waits, and what comes next, as `cdn` does."""
        self.cdn = cdn
        for route in self.held:
            cdn.handle(route)


class Browser:
    def __init__(self, context: BrowserContext) -> None:
        self.context = context
        self.page: Page = context.pages[0]
        self.errors: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))


@pytest.fixture
def browser(tmp_path: Path, chromium_path: str) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            tmp_path / "chromium-profile",
            executable_path=chromium_path,
            args=CHROMIUM_ARGS,
            viewport={"width": 1600, "height": 1000},
        )
        try:
            context.set_default_timeout(10_000)
            yield Browser(context)
        finally:
            context.close()


def query_editor(page: Page) -> Locator:
    return page.locator(".graphiql-query-editor .CodeMirror")


def headers_editor(page: Page) -> Locator:
    return page.locator(".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror")


def result_text(page: Page) -> str:
    return str(page.locator(".result-window .CodeMirror").evaluate("element => element.CodeMirror.getValue()"))


def type_headers(page: Page, headers: dict[str, str]) -> None:
    headers_editor(page).click()
    page.keyboard.press("Control+A")
    page.keyboard.insert_text(json.dumps(headers))


def expect_explained(page: Page, cdn: str, reasons: dict[str, str]) -> None:
    """The page says its files did not load, which and why, and what a mirror at SWITCHBOARD_GRAPHIQL_CDN must serve."""
    explanation = page.get_by_role("alert")
    expect(explanation).to_be_visible()
    expect(explanation).to_contain_text("GraphiQL could not load its files")
    expect(explanation).to_contain_text(f"SWITCHBOARD_GRAPHIQL_CDN (now {cdn})")
    expect(explanation.locator("#cdn-required li")).to_have_text([f"/{asset.path}" for asset in ASSETS])
    expect(explanation).to_contain_text("byte for byte the files of these npm packages")
    expect(explanation).to_contain_text("Access-Control-Allow-Origin")
    expect(explanation).to_contain_text("crossorigin")
    expect(explanation).to_contain_text("docs/graphiql-offline.md")
    failed = explanation.locator("#cdn-failed li")
    expect(failed).to_have_text([f"{cdn}/{path}: {reason}" for path, reason in reasons.items()])
    expect(page.get_by_text("Loading GraphiQL…")).to_be_hidden()


def test_the_page_pins_the_files_of_the_npm_packages(node_modules: Path) -> None:
    """A mirror must serve these very bytes: the versions and hashes are those of the packages."""
    dependencies = json.loads((CDN_PACKAGES / "package.json").read_text())["dependencies"]
    for asset in ASSETS:
        assert dependencies[asset.package] == asset.version
        digest = hashlib.sha384((node_modules / asset.package / asset.file).read_bytes()).digest()
        assert asset.integrity == "sha384-" + base64.b64encode(digest).decode()


def test_a_first_visit_creates_a_number_with_a_pasted_key(tmp_path: Path, node_modules: Path, browser: Browser) -> None:
    env = first_run_environment(tmp_path)
    key = create_api_key(env)
    page = browser.page
    with serving(env) as server:
        cdn = Cdn(DEFAULT_GRAPHIQL_CDN, node_modules, server)
        browser.context.route("**/*", cdn.handle)
        page.goto(server.graphql_url)

        result = page.locator(".result-window")
        docs = page.locator(".graphiql-doc-explorer")
        key_status = page.get_by_role("status")
        # What a first-time user sees: the example, and where the key goes.
        expect(query_editor(page)).to_contain_text("mutation CreatePhoneNumber {")
        expect(headers_editor(page)).to_contain_text('{"Authorization": "Bearer <your key>"}')
        expect(key_status).to_have_text(
            "Put your API key in the Headers tab (below the query) in place of <your key>:"
            " the documentation explorer and autocompletion load once it is accepted."
        )
        # Nothing was run, so nothing has failed: no request went out with the placeholder.
        page.get_by_role("button", name="Show Documentation Explorer").click()
        expect(docs).to_contain_text("No GraphQL schema available")
        assert result_text(page) == ""
        assert cdn.graphql_posts == []

        # A key the server refuses is said beside the headers, not as a result.
        type_headers(page, {"Authorization": f"Bearer {WRONG_KEY}"})
        expect(key_status).to_have_text(
            "The key in the Headers tab was refused (Invalid API key): the documentation explorer and"
            " autocompletion load once a valid key is there."
        )
        expect(docs).to_contain_text("No GraphQL schema available")
        assert result_text(page) == ""

        type_headers(page, {"Authorization": f"Bearer {key}"})
        expect(key_status).to_have_text(
            "The key in the Headers tab is accepted: the documentation explorer (the book icon) and"
            " autocompletion (Ctrl-Space) know the schema."
        )

        # The documentation follows the key, with no reload.
        docs.get_by_text("Mutation", exact=True).click()
        docs.get_by_text("createPhoneNumber", exact=True).click()
        expect(docs).to_contain_text("Register a phone number and its provider.")
        assert result_text(page) == ""

        # So does autocompletion; a new tab starts with the key in place.
        page.get_by_role("button", name="Add tab").click()
        expect(headers_editor(page)).to_contain_text(key)
        query_editor(page).click()
        page.keyboard.press("Control+A")
        page.keyboard.type("{ phoneNu")
        expect(page.locator(".CodeMirror-hints .CodeMirror-hint")).to_have_text(["phoneNumber", "phoneNumbers"])
        page.keyboard.press("Escape")
        page.get_by_role("button", name="Close Tab").last.click()
        expect(query_editor(page)).to_contain_text("mutation CreatePhoneNumber {")

        with page.expect_response(lambda r: "createPhoneNumber" in (r.request.post_data or "")) as answer:
            page.get_by_role("button", name="Execute query (Ctrl-Enter)").click()
        created = answer.value.json()["data"]["createPhoneNumber"]
        assert created["userErrors"] == []
        number_id = created["phoneNumber"]["id"]
        expect(result).to_contain_text(f'"number": "{EXAMPLE_NUMBER}"')
        expect(result).to_contain_text(f'"id": "{number_id}"')
        listed = {
            "phoneNumbers": {
                "totalCount": 1,
                "edges": [
                    {
                        "node": {
                            "id": number_id,
                            "number": EXAMPLE_NUMBER,
                            "name": "Front desk",
                            "sipMode": "IP_ALLOWLIST",
                        }
                    },
                ],
            }
        }
        assert post(server.graphql_url, {"query": LIST_NUMBERS}, key) == (200, {"data": listed})

        # The key the user pasted stays off the picture.
        page.get_by_role("button", name="Variables", exact=True).click()
        assert key not in page.locator("body").inner_text()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=ARTIFACTS / "graphiql-create-phone-number.png")

    assert browser.errors == []
    assert cdn.refused == []
    assert sorted(cdn.served) == sorted(asset.url(DEFAULT_GRAPHIQL_CDN) for asset in ASSETS)
    expect(page.get_by_role("alert")).to_have_count(0)


HEALTH_SUBSCRIPTION = "subscription Watch { phoneNumberHealthChanged { phoneNumberId from to detail } }"


def test_the_page_runs_the_health_subscription_with_the_key_of_the_headers_tab(
    tmp_path: Path, node_modules: Path, browser: Browser
) -> None:
    # Monitoring every second; the number below points at a closed port on loopback.
    env = first_run_environment(
        tmp_path,
        SWITCHBOARD_HEALTH_INTERVAL="1",
        SWITCHBOARD_VERIFY_TIMEOUT="1",
        SWITCHBOARD_ALLOW_LOCAL_TARGETS="true",
    )
    key = create_api_key(env)
    page = browser.page
    with serving(env) as server:
        cdn = Cdn(DEFAULT_GRAPHIQL_CDN, node_modules, server)
        browser.context.route("**/*", cdn.handle)
        page.goto(server.graphql_url)
        type_headers(page, {"Authorization": f"Bearer {key}"})
        expect(page.get_by_role("status")).to_contain_text("is accepted")
        query_editor(page).click()
        page.keyboard.press("Control+A")
        page.keyboard.insert_text(HEALTH_SUBSCRIPTION)
        page.wait_for_timeout(1000)  # GraphiQL parses the edited document, and takes its operation name, after a pause
        page.get_by_role("button", name="Execute query (Ctrl-Enter)").click()
        page.wait_for_timeout(1000)  # subscribed over the WebSocket

        provider = {"sip": {"ipAllowlist": {"ip": "127.0.0.1", "port": free_port(), "protocol": "UDP"}}}
        created = post(
            server.graphql_url,
            {"query": CREATE_NUMBER, "variables": {"input": {"number": "+14155550199", "provider": provider}}},
            key,
        )
        number_id = created[1]["data"]["createPhoneNumber"]["phoneNumber"]["id"]

        result = page.locator(".result-window")
        expect(result).to_contain_text(f'"phoneNumberId": "{number_id}"', timeout=30_000)
        expect(result).to_contain_text('"to": "UNREACHABLE"')
        # The key stays in the Headers tab: not in the result, nor anywhere else on the page.
        page.get_by_role("button", name="Variables", exact=True).click()
        assert key not in page.locator("body").inner_text()
    assert browser.errors == []


def test_the_page_loads_from_the_operators_mirror(tmp_path: Path, node_modules: Path, browser: Browser) -> None:
    env = first_run_environment(tmp_path, SWITCHBOARD_GRAPHIQL_CDN=MIRROR + "/")
    page = browser.page
    with serving(env) as server:
        cdn = Cdn(MIRROR, node_modules, server)
        browser.context.route("**/*", cdn.handle)
        page.goto(server.graphql_url)
        expect(query_editor(page)).to_contain_text("mutation CreatePhoneNumber {")

    assert browser.errors == []
    assert cdn.refused == []
    assert sorted(cdn.served) == sorted(asset.url(MIRROR) for asset in ASSETS)


def build_mirror(tmp_path: Path, node_modules: Path) -> Path:
    """The mirror as `make graphiql-mirror` builds it (docs/graphiql-offline.md)."""
    mirror = tmp_path / "graphiql-mirror"
    built = subprocess.run(
        [
            sys.executable,
            "-m",
            "switchboard.http.graphiql_mirror",
            "build",
            "--packages",
            str(node_modules),
            str(mirror),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (built.returncode, built.stderr) == (0, ""), built.stderr
    assert built.stdout == f"{len(ASSETS)} files, checked against the page's integrity hashes, in {mirror}\n"
    return mirror


@contextmanager
def static_server(command: list[str], port: int, tmp_path: Path) -> Iterator[str]:
    """A web server process answering at the origin this yields; stopped after."""
    origin = f"http://127.0.0.1:{port}"
    with (tmp_path / f"static-{port}.log").open("wb") as log:
        process = subprocess.Popen(command, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{origin}/{ASSETS[0].path}", timeout=5)
                break
            except (ConnectionError, urllib.error.URLError):
                assert process.poll() is None, (tmp_path / f"static-{port}.log").read_text()
                assert time.monotonic() < deadline, "the mirror did not start"
                time.sleep(0.2)
        yield origin
    finally:
        process.terminate()
        process.wait(timeout=30)


def mirror_command(mirror: Path, port: int) -> list[str]:
    """What `make serve-graphiql-mirror` runs."""
    return [sys.executable, "-m", "switchboard.http.graphiql_mirror", "serve", "--port", str(port), str(mirror)]


def plain_server_command(mirror: Path, port: int) -> list[str]:
    """A static server that sends no CORS header."""
    return [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", "--directory", str(mirror), str(port)]


@contextmanager
def page_from_mirror(
    tmp_path: Path, node_modules: Path, browser: Browser, mirror: Path, command: Callable[[Path, int], list[str]]
) -> Iterator[tuple[str, Cdn]]:
    """The page opened from a server whose SWITCHBOARD_GRAPHIQL_CDN is `mirror` served by `command`.

    The browser reaches the two and nothing else; this yields the mirror's origin and the network.
    """
    port = free_port()
    with (
        static_server(command(mirror, port), port, tmp_path) as origin,
        serving(first_run_environment(tmp_path, SWITCHBOARD_GRAPHIQL_CDN=origin)) as server,
    ):
        network = Cdn(DEFAULT_GRAPHIQL_CDN, node_modules, server, local=(origin,))
        browser.context.route("**/*", network.handle)
        browser.page.goto(server.graphql_url)
        yield origin, network


def test_the_mirror_of_the_offline_recipe_serves_the_page(tmp_path: Path, node_modules: Path, browser: Browser) -> None:
    mirror = build_mirror(tmp_path, node_modules)
    page = browser.page
    with page_from_mirror(tmp_path, node_modules, browser, mirror, mirror_command) as (_, network):
        expect(query_editor(page)).to_contain_text("mutation CreatePhoneNumber {")
        expect(page.get_by_role("status")).to_contain_text("Put your API key in the Headers tab")
        expect(page.get_by_role("alert")).to_have_count(0)

    assert browser.errors == []
    assert (network.refused, network.served) == ([], [])


def test_a_mirror_without_the_cors_header_is_explained(tmp_path: Path, node_modules: Path, browser: Browser) -> None:
    """What README used to suggest: the right files from a plain static server, which sends no CORS header."""
    mirror = build_mirror(tmp_path, node_modules)
    with page_from_mirror(tmp_path, node_modules, browser, mirror, plain_server_command) as (origin, network):
        expect_explained(browser.page, origin, {asset.path: NO_CORS_HEADER for asset in ASSETS})

    assert browser.errors == []
    assert (network.refused, network.served) == ([], [])


def test_a_mirror_missing_a_file_is_explained(tmp_path: Path, node_modules: Path, browser: Browser) -> None:
    mirror = build_mirror(tmp_path, node_modules)
    missing = SCRIPTS[1]
    (mirror / missing.path).unlink()
    with page_from_mirror(tmp_path, node_modules, browser, mirror, mirror_command) as (origin, network):
        expect_explained(browser.page, origin, {missing.path: "answered HTTP 404"})

    assert browser.errors == []
    assert (network.refused, network.served) == ([], [])


def test_an_unreachable_cdn_is_explained(tmp_path: Path, browser: Browser) -> None:
    page = browser.page
    with serving(first_run_environment(tmp_path)) as server:
        offline = Offline(server)
        browser.context.route("**/*", offline.handle)
        page.goto(server.graphql_url)
        expect_explained(page, DEFAULT_GRAPHIQL_CDN, {asset.path: UNREACHABLE for asset in ASSETS})
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=ARTIFACTS / "graphiql-cdn-unreachable.png")

    assert browser.errors == []
    assert {asset.url(DEFAULT_GRAPHIQL_CDN) for asset in ASSETS} <= set(offline.refused)


def test_a_file_other_than_the_packages_is_explained(tmp_path: Path, node_modules: Path, browser: Browser) -> None:
    page = browser.page
    with serving(first_run_environment(tmp_path)) as server:
        cdn = Cdn(DEFAULT_GRAPHIQL_CDN, node_modules, server, altered=frozenset({GRAPHIQL_SCRIPT.path}))
        browser.context.route("**/*", cdn.handle)
        page.goto(server.graphql_url)
        expect_explained(page, DEFAULT_GRAPHIQL_CDN, {GRAPHIQL_SCRIPT.path: DIFFERENT_BYTES})

    assert browser.errors == []
    assert cdn.refused == []


def test_a_cdn_that_never_answers_is_explained_after_the_timeout(
    tmp_path: Path, node_modules: Path, browser: Browser
) -> None:
    page = browser.page
    page.clock.install()
    with serving(first_run_environment(tmp_path)) as server:
        network = Unanswered(server)
        browser.context.route("**/*", network.handle)
        page.goto(server.graphql_url, wait_until="commit")
        expect(page.get_by_text("Loading GraphiQL…")).to_be_visible()
        page.wait_for_function("() => typeof cdnTimedOut === 'function'")
        page.clock.fast_forward(CDN_TIMEOUT_SECONDS * 1000 - 1000)
        expect(page.get_by_role("alert")).to_have_count(0)

        page.clock.fast_forward(1000)
        expect_explained(page, DEFAULT_GRAPHIQL_CDN, {asset.path: STILL_LOADING for asset in ASSETS})

        # Files that arrive late still make the page, and the explanation goes.
        cdn = Cdn(DEFAULT_GRAPHIQL_CDN, node_modules, server)
        network.answer_from(cdn)
        expect(query_editor(page)).to_contain_text("mutation CreatePhoneNumber {")
        expect(page.get_by_role("alert")).to_have_count(0)

    assert browser.errors == []
    assert cdn.refused == []
