from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
if str(ROOT) not in sys.path:  # the command line module lives at the top of the checkout
    sys.path.insert(0, str(ROOT))
# Keep the load cache of the test run apart from the user's (and start it empty).
os.environ["DISCERN_CACHE_DIR"] = tempfile.mkdtemp(prefix="discern-test-cache-")


@pytest.fixture
def engine_policy() -> Path:
    return DATA / "engine" / "policy.yaml"


@pytest.fixture
def engine_router(engine_policy: Path):  # type: ignore[no-untyped-def]
    from router import Router

    return Router.load(engine_policy)
