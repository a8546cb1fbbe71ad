"""A mirror of the GraphiQL page's CDN files, for browsers that cannot reach the CDN.

`build` copies the files the page loads out of installed npm packages into
`<package>@<version>/<file>`, as a CDN lays them out, refusing any whose bytes
do not match the page's integrity hash. `serve` serves such a directory with
the header browsers need for the page's `crossorigin` tags. `make
graphiql-mirror` and `make serve-graphiql-mirror` run them; see
docs/graphiql-offline.md.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import shutil
import sys
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from switchboard.http.graphiql import ASSETS


class MirrorError(Exception):
    """The packages cannot make the mirror; the message says which file and why."""


def build(node_modules: Path, mirror: Path) -> None:
    """Copy each file the page loads from `node_modules` into `mirror`, checked against its integrity hash."""
    for asset in ASSETS:
        source = node_modules / asset.package / asset.file
        if not source.is_file():
            raise MirrorError(f"{source} is missing: install {asset.package}@{asset.version} there (npm ci)")
        if _integrity(source.read_bytes()) != asset.integrity:
            raise MirrorError(f"{source} is not the file of {asset.package}@{asset.version} the page pins (integrity)")
    for asset in ASSETS:
        target = mirror / asset.path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(node_modules / asset.package / asset.file, target)


def _integrity(content: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(content).digest()).decode()


class CorsFileHandler(SimpleHTTPRequestHandler):
    """Static files, with the header the page's `crossorigin` tags need and the types browsers check."""

    extensions_map = {**SimpleHTTPRequestHandler.extensions_map, ".js": "text/javascript", ".css": "text/css"}

    def end_headers(self) -> None:
        self.send_header("Access-Control-Allow-Origin", "*")
        super().end_headers()


def serve(mirror: Path, host: str, port: int) -> None:
    handler = partial(CorsFileHandler, directory=str(mirror))
    with ThreadingHTTPServer((host, port), handler) as server:
        origin = f"http://{host}:{port}"
        print(f"serving {mirror} at {origin}: set SWITCHBOARD_GRAPHIQL_CDN={origin}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            server.serve_forever()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m switchboard.http.graphiql_mirror", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    build_command = commands.add_parser("build", help="copy the page's files out of npm packages into a directory")
    build_command.add_argument("--packages", type=Path, required=True, help="node_modules with the pinned packages")
    build_command.add_argument("mirror", type=Path)
    serve_command = commands.add_parser("serve", help="serve a mirror directory with Access-Control-Allow-Origin: *")
    serve_command.add_argument("--host", default="127.0.0.1")
    serve_command.add_argument("--port", type=int, default=8081)
    serve_command.add_argument("mirror", type=Path)
    args = parser.parse_args(argv)
    if args.command == "build":
        try:
            build(args.packages, args.mirror)
        except MirrorError as error:
            print(error, file=sys.stderr)
            return 1
        print(f"{len(ASSETS)} files, checked against the page's integrity hashes, in {args.mirror}")
        return 0
    serve(args.mirror, args.host, args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
