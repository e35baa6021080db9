"""The Stripe emulator: a stateful fake of Stripe's REST API for the managed kinds.

It is part of the product (users run it in CI) and what the test suite talks to. Everything
it knows about Stripe's parameters and objects comes from the reference data; the per-kind
rules live in :mod:`.rules`. Use it in-process through ``emu.transport()`` /
``emu.async_transport()`` with httpx, or on a socket with :func:`serve_in_thread` or
``reconciler emulator serve``.
"""

from .app import Emulator, Response
from .faults import Faults
from .server import EmulatorServer, serve_in_thread

__all__ = ["Emulator", "EmulatorServer", "Faults", "Response", "serve_in_thread"]
