"""The GraphiQL mirror tool: only the pinned bytes go in, and they are served with the CORS header.

The browser test builds a mirror from the real npm packages and loads the
page from it; these check the tool's refusals without npm.
"""

from __future__ import annotations

import re
import threading
import urllib.request
from collections.abc import Iterator
from functools import partial
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

from switchboard.http.graphiql import ASSETS, SCRIPTS, Asset
from switchboard.http.graphiql_mirror import CorsFileHandler, MirrorError, build, main
from tests.support import REPO

OFFLINE_DOCS = REPO / "docs" / "graphiql-offline.md"


def test_the_offline_docs_list_the_paths_the_page_loads() -> None:
    rows = re.findall(r"^\| `(/[^`]+)` \| `([^`]+)` ([^ ]+) \|$", OFFLINE_DOCS.read_text(), re.M)
    assert rows == [(f"/{asset.path}", asset.package, asset.version) for asset in ASSETS]


def test_a_file_other_than_the_pinned_one_is_refused_and_nothing_is_copied(tmp_path: Path) -> None:
    node_modules = tmp_path / "node_modules"
    for asset in ASSETS:
        source = node_modules / asset.package / asset.file
        source.parent.mkdir(parents=True, exist_ok=True)
        source.write_text("not the package's file")
    first = ASSETS[0]
    with pytest.raises(
        MirrorError,
        match=rf"^{node_modules / first.package / first.file} is not the file of "
        rf"{first.package}@{first.version} the page pins \(integrity\)$",
    ):
        build(node_modules, tmp_path / "mirror")
    assert not (tmp_path / "mirror").exists()


def test_a_missing_package_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["build", "--packages", str(tmp_path / "node_modules"), str(tmp_path / "mirror")]) == 1
    first = ASSETS[0]
    assert capsys.readouterr().err == (
        f"{tmp_path / 'node_modules' / first.package / first.file} is missing:"
        f" install {first.package}@{first.version} there (npm ci)\n"
    )
    assert not (tmp_path / "mirror").exists()


@pytest.fixture
def mirror_origin(tmp_path: Path) -> Iterator[str]:
    for asset in ASSETS:
        (tmp_path / asset.path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / asset.path).write_text("/* a file */")
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(CorsFileHandler, directory=str(tmp_path)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(("asset", "content_type"), [(ASSETS[0], "text/css"), (SCRIPTS[0], "text/javascript")])
def test_the_mirror_answers_with_the_cors_header_and_the_type_browsers_check(
    mirror_origin: str, asset: Asset, content_type: str
) -> None:
    with urllib.request.urlopen(f"{mirror_origin}/{asset.path}", timeout=10) as response:
        assert response.status == 200
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        assert response.headers["Content-Type"] == content_type
        assert response.read() == b"/* a file */"
