from __future__ import annotations

import pytest
from emulator_helpers import Api

from reconciler.emulator import Emulator


@pytest.fixture
def emu() -> Emulator:
    return Emulator()


@pytest.fixture
def api(emu: Emulator) -> Api:
    return Api(emu)
