"""One running stack for the walker's tests (starting it binds every focal point: ~8 s)."""

from __future__ import annotations

import pytest

from tests.walk.stack import Stack


@pytest.fixture(scope="package")
def stack(tmp_path_factory):
    with Stack(tmp_path_factory.mktemp("walk")) as running:
        yield running
