from __future__ import annotations

import pytest
from emulator_helpers import Api
from emulator_world import World

from reconciler.emulator import Emulator


@pytest.fixture
def emu() -> Emulator:
    return Emulator()


@pytest.fixture
def api(emu: Emulator) -> Api:
    return Api(emu)


@pytest.fixture
def world(api: Api) -> World:
    return World(api)
