"""GraphiQL in Debian's Chromium against a real server.

The page loads its files from a CDN, and test machines have no internet:
the browser's requests for them are answered with the files of the npm
packages they come from, so the page's integrity hashes are checked against
the real packages by the browser itself.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, Route, expect, sync_playwright

from switchboard.graphiql import ASSETS
from switchboard.settings import DEFAULT_GRAPHIQL_CDN
from tests.conftest import REPO
from tests.processes import Server, create_api_key, environment, post, serving
from tests.tooling import chromium, npm_project

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
LIST_NUMBERS = "{ phoneNumbers { totalCount edges { node { id number name sipMode } } } }"


@pytest.fixture(scope="module")
def node_modules() -> Path:
    return npm_project(CDN_PACKAGES)


@pytest.fixture(scope="module")
def chromium_path() -> str:
    return chromium()


class Cdn:
    """Answers for a CDN of npm packages at `base` from installed packages; refuses any other outside request."""

    def __init__(self, base: str, node_modules: Path, server: Server) -> None:
        self.file_url = re.compile(re.escape(base) + r"/(?P<package>(?:@[^/@]+/)?[^/@]+)@(?P<version>[^/]+)/(?P<file>.+)")
        self.node_modules = node_modules
        self.server = server
        self.served: list[str] = []
        self.refused: list[str] = []

    def handle(self, route: Route) -> None:
        url = route.request.url
        if url.startswith(self.server.origin + "/"):
            route.continue_()
            return
        match = self.file_url.fullmatch(url)
        if match and self._installed_version(match["package"]) == match["version"]:
            path = self.node_modules / match["package"] / match["file"]
            if path.is_file():
                content_type = "text/css" if path.suffix == ".css" else "text/javascript"
                # The page loads these crossorigin, as from a real CDN.
                route.fulfill(body=path.read_bytes(), headers={"Content-Type": content_type, "Access-Control-Allow-Origin": "*"})
                self.served.append(url)
                return
        self.refused.append(url)
        route.abort()

    def _installed_version(self, package: str) -> str | None:
        manifest = self.node_modules / package / "package.json"
        return json.loads(manifest.read_text())["version"] if manifest.is_file() else None


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


def test_the_page_pins_the_files_of_the_npm_packages(node_modules: Path) -> None:
    """A mirror must serve these very bytes: the versions and hashes are those of the packages."""
    dependencies = json.loads((CDN_PACKAGES / "package.json").read_text())["dependencies"]
    for asset in ASSETS:
        assert dependencies[asset.package] == asset.version
        digest = hashlib.sha384((node_modules / asset.package / asset.file).read_bytes()).digest()
        assert asset.integrity == "sha384-" + base64.b64encode(digest).decode()


def test_a_first_visit_creates_a_number_with_a_pasted_key(tmp_path: Path, node_modules: Path, browser: Browser) -> None:
    env = environment(tmp_path)
    key = create_api_key(env)
    page = browser.page
    with serving(env) as server:
        cdn = Cdn(DEFAULT_GRAPHIQL_CDN, node_modules, server)
        browser.context.route("**/*", cdn.handle)
        page.goto(server.url)

        query_editor = page.locator(".graphiql-query-editor .CodeMirror")
        headers_editor = page.locator(".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror")
        result = page.locator(".result-window")
        docs = page.locator(".graphiql-doc-explorer")
        # What a first-time user sees: the example, and where the key goes.
        expect(query_editor).to_contain_text("mutation CreatePhoneNumber {")
        expect(headers_editor).to_contain_text('{"Authorization": "Bearer <your key>"}')
        expect(result).to_contain_text('"message": "Invalid API key"')

        headers_editor.click()
        page.keyboard.press("Control+A")
        page.keyboard.insert_text(json.dumps({"Authorization": f"Bearer {key}"}))

        # The documentation follows the key, with no reload.
        page.get_by_role("button", name="Show Documentation Explorer").click()
        docs.get_by_text("Mutation", exact=True).click()
        docs.get_by_text("createPhoneNumber", exact=True).click()
        expect(docs).to_contain_text("Register a phone number and its provider.")

        # So does autocompletion; a new tab starts with the key in place.
        page.get_by_role("button", name="Add tab").click()
        expect(headers_editor).to_contain_text(key)
        query_editor.click()
        page.keyboard.press("Control+A")
        page.keyboard.type("{ phoneNu")
        expect(page.locator(".CodeMirror-hints .CodeMirror-hint")).to_have_text(["phoneNumber", "phoneNumbers"])
        page.keyboard.press("Escape")
        page.get_by_role("button", name="Close Tab").last.click()
        expect(query_editor).to_contain_text("mutation CreatePhoneNumber {")

        with page.expect_response(lambda r: "createPhoneNumber" in (r.request.post_data or "")) as answer:
            page.get_by_role("button", name="Execute query (Ctrl-Enter)").click()
        created = answer.value.json()["data"]["createPhoneNumber"]
        assert created["userErrors"] == []
        number_id = created["phoneNumber"]["id"]
        expect(result).to_contain_text('"number": "+14155550123"')
        expect(result).to_contain_text(f'"id": "{number_id}"')
        listed = {"phoneNumbers": {"totalCount": 1, "edges": [
            {"node": {"id": number_id, "number": "+14155550123", "name": "Front desk", "sipMode": "IP_ALLOWLIST"}},
        ]}}
        assert post(server.url, {"query": LIST_NUMBERS}, key) == (200, {"data": listed})

        # The key the user pasted stays off the picture.
        page.get_by_role("button", name="Variables", exact=True).click()
        assert key not in page.locator("body").inner_text()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=ARTIFACTS / "graphiql-create-phone-number.png")

    assert browser.errors == []
    assert cdn.refused == []
    assert sorted(cdn.served) == sorted(asset.url(DEFAULT_GRAPHIQL_CDN) for asset in ASSETS)


def test_the_page_loads_from_the_operators_mirror(tmp_path: Path, node_modules: Path, browser: Browser) -> None:
    env = environment(tmp_path, SWITCHBOARD_GRAPHIQL_CDN=MIRROR + "/")
    page = browser.page
    with serving(env) as server:
        cdn = Cdn(MIRROR, node_modules, server)
        browser.context.route("**/*", cdn.handle)
        page.goto(server.url)
        expect(page.locator(".graphiql-query-editor .CodeMirror")).to_contain_text("mutation CreatePhoneNumber {")

    assert browser.errors == []
    assert cdn.refused == []
    assert sorted(cdn.served) == sorted(asset.url(MIRROR) for asset in ASSETS)
