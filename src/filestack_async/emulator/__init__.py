"""A local Filestack: the Upload API, CDN, File API and processing on one origin.

Needs the ``emulator`` extra (``pip install 'filestack-async[emulator]'``).

Three ways to run it:

* ``filestack-async emulator --port 8700`` (prints the base URL to use);
* in-process, no socket: ``Client(..., base_url="http://emulator",
  transport=EmulatorTransport(create_app()))``;
* ``with EmulatorServer() as server:`` on a free loopback port (``server.url``).

Example:
    >>> app = create_app(strict=True)
    >>> emulator = app.state.emulator
    >>> emulator.close()
"""

from .app import Emulator, create_app
from .config import (
    DownloadCut,
    EmulatorConfig,
    FaultConfigError,
    Faults,
    NetworkProfile,
    RouteFault,
)
from .server import EmulatorServer
from .transport import EmulatorTransport

__all__ = [
    "DownloadCut",
    "Emulator",
    "EmulatorConfig",
    "EmulatorServer",
    "EmulatorTransport",
    "FaultConfigError",
    "Faults",
    "NetworkProfile",
    "RouteFault",
    "create_app",
]
