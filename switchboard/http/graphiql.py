"""The GraphiQL page served at GET /graphql to browsers.

It opens on an example createPhoneNumber and a Headers tab that shows where
the API key goes, and asks the server for the schema only once a key there is
accepted. Its scripts come from a CDN of npm packages (or an operator's mirror
of one) and are pinned by version and integrity hash, so a mirror must serve
the very same files; when they cannot load, the page says which, why, and
what a mirror needs (docs/graphiql-offline.md). The markup and script are in
graphiql.html.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from pathlib import Path
from string import Template


@dataclass(frozen=True)
class Asset:
    """One file of an npm package, as a CDN serves it."""

    package: str
    version: str
    file: str
    integrity: str

    @property
    def path(self) -> str:
        """Where a CDN of npm packages serves the file, below its base URL."""
        return f"{self.package}@{self.version}/{self.file}"

    def url(self, cdn: str) -> str:
        return f"{cdn}/{self.path}"


# The versions and hashes Strawberry's own GraphiQL page pins.
STYLESHEET = Asset(
    "graphiql", "3.8.3", "graphiql.min.css", "sha384-Mq3vbRBY71jfjQAt/DcjxUIYY33ksal4cgdRt9U/hNPvHBCaT2JfJ/PTRiPKf0aM"
)
SCRIPTS = (
    Asset(
        "react",
        "18.2.0",
        "umd/react.production.min.js",
        "sha384-tMH8h3BGESGckSAVGZ82T9n90ztNXxvdwvdM6UoR56cYcf+0iGXBliJ29D+wZ/x8",
    ),
    Asset(
        "react-dom",
        "18.2.0",
        "umd/react-dom.production.min.js",
        "sha384-bm7MnzvK++ykSwVJ2tynSE5TRdN+xL418osEVF2DE/L/gfWHj91J2Sphe582B1Bh",
    ),
    Asset(
        "graphiql",
        "3.8.3",
        "graphiql.min.js",
        "sha384-HbRVEFG0JGJZeAHCJ9Xm2+tpknBQ7QZmNlO/DgZtkZ0aJSypT96YYGRNod99l9Ie",
    ),
)
ASSETS = (STYLESHEET, *SCRIPTS)

# A CDN that has not delivered every file by then is explained on the page;
# files that still arrive later make the page as usual.
CDN_TIMEOUT_SECONDS = 20

KEY_PLACEHOLDER = "<your key>"
DEFAULT_HEADERS = json.dumps({"Authorization": f"Bearer {KEY_PLACEHOLDER}"})

EXAMPLE_OPERATION = """\
# Welcome to Switchboard.
#
# Every request carries an API key of your organization.
# Create one with
#
#   switchboard create-api-key --org "Your team"
#
# and put it in the Headers tab below, in place of
# <your key>. The line at the top of the page says when
# the key is accepted; the documentation explorer (the
# book icon) and autocompletion (Ctrl-Space) then know
# the schema.
#
# Run this mutation with the play button (or Ctrl-Enter)
# to register a number whose SIP trunk allowlists your
# PBX's address.

mutation CreatePhoneNumber {
  createPhoneNumber(
    input: {
      number: "+1 415 555 0100"
      name: "Front desk"
      provider: {
        sip: { ipAllowlist: { ip: "203.0.113.10", protocol: UDP } }
      }
    }
  ) {
    phoneNumber {
      id
      number
      name
      provider
      sipMode
      config {
        ... on SipIpAllowlistConfig {
          ip
          port
          protocol
        }
      }
    }
    userErrors {
      field
      message
      code
    }
  }
}
"""


class _PageTemplate(Template):
    # JavaScript's template literals use "${", so the page's placeholders are "@@name".
    delimiter = "@@"


_PAGE = _PageTemplate((Path(__file__).parent / "graphiql.html").read_text())


def graphiql_html(cdn: str) -> str:
    """The page, loading its files from `cdn` (a base URL without trailing slash)."""
    return _PAGE.substitute(
        cdn=html.escape(cdn),
        required="\n        ".join(f"<li><code>/{html.escape(asset.path)}</code></li>" for asset in ASSETS),
        stylesheet=(
            f'<link rel="stylesheet" crossorigin href="{html.escape(STYLESHEET.url(cdn))}"'
            f' integrity="{STYLESHEET.integrity}" data-cdn-file="{html.escape(STYLESHEET.url(cdn))}" />'
        ),
        scripts="\n    ".join(
            f'<script crossorigin src="{html.escape(script.url(cdn))}" integrity="{script.integrity}"'
            f' data-cdn-file="{html.escape(script.url(cdn))}"></script>'
            for script in SCRIPTS
        ),
        page=_script_literal(
            {
                "exampleOperation": EXAMPLE_OPERATION,
                "defaultHeaders": DEFAULT_HEADERS,
                "keyPlaceholder": KEY_PLACEHOLDER,
                "files": [{"url": asset.url(cdn), "integrity": asset.integrity} for asset in ASSETS],
                "timeoutSeconds": CDN_TIMEOUT_SECONDS,
            }
        ),
    )


def _script_literal(value: object) -> str:
    # JSON is valid JavaScript; escaping "<" keeps "</script>" from closing the tag.
    return json.dumps(value).replace("<", "\\u003c")
