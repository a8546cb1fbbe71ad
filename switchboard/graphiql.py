"""The GraphiQL page served at GET /graphql to browsers.

It opens on an example createPhoneNumber and a Headers tab that shows where
the API key goes. Its scripts come from a CDN of npm packages (or an
operator's mirror of one) and are pinned by version and integrity hash, so a
mirror must serve the very same files.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from string import Template


@dataclass(frozen=True)
class Asset:
    """One file of an npm package, as a CDN serves it."""

    package: str
    version: str
    file: str
    integrity: str

    def url(self, cdn: str) -> str:
        return f"{cdn}/{self.package}@{self.version}/{self.file}"


# The versions and hashes Strawberry's own GraphiQL page pins.
STYLESHEET = Asset(
    "graphiql", "3.8.3", "graphiql.min.css", "sha384-Mq3vbRBY71jfjQAt/DcjxUIYY33ksal4cgdRt9U/hNPvHBCaT2JfJ/PTRiPKf0aM"
)
SCRIPTS = (
    Asset("react", "18.2.0", "umd/react.production.min.js", "sha384-tMH8h3BGESGckSAVGZ82T9n90ztNXxvdwvdM6UoR56cYcf+0iGXBliJ29D+wZ/x8"),
    Asset(
        "react-dom",
        "18.2.0",
        "umd/react-dom.production.min.js",
        "sha384-bm7MnzvK++ykSwVJ2tynSE5TRdN+xL418osEVF2DE/L/gfWHj91J2Sphe582B1Bh",
    ),
    Asset("graphiql", "3.8.3", "graphiql.min.js", "sha384-HbRVEFG0JGJZeAHCJ9Xm2+tpknBQ7QZmNlO/DgZtkZ0aJSypT96YYGRNod99l9Ie"),
)
ASSETS = (STYLESHEET, *SCRIPTS)

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
# <your key>. The documentation explorer (the book icon)
# and autocompletion (Ctrl-Space) then know the schema.
#
# Run this mutation with the play button (or Ctrl-Enter)
# to register a number whose SIP trunk allowlists your
# PBX's address.

mutation CreatePhoneNumber {
  createPhoneNumber(
    input: {
      number: "+1 415 555 0123"
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

_PAGE = Template("""\
<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>Switchboard GraphiQL</title>
    <style>
      body { margin: 0; }
      #graphiql { height: 100vh; }
    </style>
    $stylesheet
    $scripts
  </head>
  <body>
    <div id="graphiql">Loading GraphiQL…</div>
    <script>
      const EXAMPLE_OPERATION = $example_operation;
      const DEFAULT_HEADERS = $default_headers;
      const endpoint = window.location.origin + window.location.pathname;

      function authorizationOf(headers) {
        try {
          const parsed = JSON.parse(headers || "{}");
          const name = Object.keys(parsed).find((key) => key.toLowerCase() === "authorization");
          return name === undefined ? null : String(parsed[name]);
        } catch {
          return null;
        }
      }

      function Explorer() {
        // The headers last typed; new tabs start with them, so a key is entered once.
        const [headers, setHeaders] = React.useState(DEFAULT_HEADERS);
        const typing = React.useRef(undefined);
        const authorization = authorizationOf(headers);
        // GraphiQL fetches the schema once per fetcher, with the headers of
        // that moment. A new fetcher once another key is in place makes the
        // documentation and autocompletion follow the key.
        const fetcher = React.useMemo(() => GraphiQL.createFetcher({ url: endpoint }), [authorization]);
        function onEditHeaders(edited) {
          clearTimeout(typing.current);
          typing.current = setTimeout(() => setHeaders(edited), 400);
        }
        return React.createElement(GraphiQL, {
          fetcher,
          defaultQuery: EXAMPLE_OPERATION,
          defaultHeaders: headers,
          defaultEditorToolsVisibility: "headers",
          isHeadersEditorEnabled: true,
          onEditHeaders,
          inputValueDeprecation: true,
        });
      }

      ReactDOM.createRoot(document.getElementById("graphiql")).render(React.createElement(Explorer));
    </script>
  </body>
</html>
""")


def graphiql_html(cdn: str) -> str:
    """The page, loading its files from `cdn` (a base URL without trailing slash)."""
    return _PAGE.substitute(
        stylesheet=(
            f'<link rel="stylesheet" crossorigin href="{html.escape(STYLESHEET.url(cdn))}"'
            f' integrity="{STYLESHEET.integrity}" />'
        ),
        scripts="\n    ".join(
            f'<script crossorigin src="{html.escape(script.url(cdn))}" integrity="{script.integrity}"></script>'
            for script in SCRIPTS
        ),
        example_operation=_script_literal(EXAMPLE_OPERATION),
        default_headers=_script_literal(DEFAULT_HEADERS),
    )


def _script_literal(value: str) -> str:
    # JSON is valid JavaScript; escaping "<" keeps "</script>" from closing the tag.
    return json.dumps(value).replace("<", "\\u003c")
