"""What the tests share besides fixtures: starting servers, building data, operations, stand-ins, the secret sweep.

conftest.py holds the fixtures and imports from here; tests import from here,
never from conftest.py. Layout and tiers: docs/test-tiers.md.
"""

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
