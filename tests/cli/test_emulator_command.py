"""``filestack-async emulator``: every flag reaches the `EmulatorServer` it runs, an address
it cannot listen on is one error line, and a signal stops it cleanly."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from filestack_async.cli import main
from filestack_async.emulator import EmulatorConfig, Faults, NetworkProfile, RouteFault
from filestack_async.emulator.server import EmulatorServer


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[EmulatorServer]]:
    """The servers the command made; `serve_forever` returns at once (then they are stopped)."""
    made: list[EmulatorServer] = []

    def record(self: EmulatorServer) -> None:
        made.append(self)

    monkeypatch.setattr(EmulatorServer, "serve_forever", record)
    monkeypatch.delenv("FILESTACK_EMULATOR_SECRET", raising=False)
    yield made
    for server in made:
        server.stop()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def _config(served: list[EmulatorServer], *argv: str) -> EmulatorConfig:
    assert main(["emulator", "--port", "0", *argv]) == 0
    (server,) = served
    return server.emulator.config


def test_the_defaults(served: list[EmulatorServer]) -> None:
    config = _config(served)
    assert config == EmulatorConfig(data_dir=None, upload_expiry=86400.0)
    assert served[0].host == "127.0.0.1"


def test_host_and_port_reach_the_server(
    served: list[EmulatorServer], capsys: pytest.CaptureFixture[str]
) -> None:
    port = _free_port()
    assert main(["emulator", "--host", "localhost", "--port", str(port)]) == 0
    (server,) = served
    assert (server.host, server.port) == ("localhost", port)
    assert f"listening on http://localhost:{port}\n" in capsys.readouterr().out


def test_storage_and_checking_flags_reach_the_config(
    served: list[EmulatorServer], tmp_path: Path
) -> None:
    config = _config(
        served,
        *("--data-dir", str(tmp_path), "--apikey", "K1", "--apikey", "K2"),
        *("--strict", "--upload-expiry", "12.5"),
    )
    assert config.data_dir == tmp_path and served[0].emulator.data_dir == tmp_path
    assert config.apikeys == frozenset({"K1", "K2"})
    assert config.strict is True and config.upload_expiry == 12.5


@pytest.mark.parametrize("source", ["flag", "file", "env"])
def test_the_secret_reaches_the_config(
    served: list[EmulatorServer],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    source: str,
) -> None:
    argv: list[str] = []
    if source == "flag":
        argv = ["--secret", "THE-SECRET"]
    elif source == "file":
        (tmp_path / "secret").write_text("THE-SECRET\nnot this line\n")
        argv = ["--secret-file", str(tmp_path / "secret")]
    else:
        monkeypatch.setenv("FILESTACK_EMULATOR_SECRET", "THE-SECRET")
    assert _config(served, *argv).secret == "THE-SECRET"
    out = capsys.readouterr().out
    assert "control: /_emulator/* needs the secret" in out and "THE-SECRET" not in out


def test_one_fault_rule_and_the_upload_faults_reach_the_config(
    served: list[EmulatorServer],
) -> None:
    config = _config(
        served,
        *("--seed", "7", "--fault-route", "put", "--error-rate", "0.25"),
        *("--error-status", "502", "--retry-after", "1.5", "--reset-rate", "0.125"),
        *("--delay-rate", "0.5", "--delay", "0.75"),
        *("--max-chunk-size", "4096", "--complete-202", "3"),
    )
    rule = RouteFault(
        route="put",
        error_rate=0.25,
        status=502,
        retry_after=1.5,
        reset_rate=0.125,
        delay_rate=0.5,
        delay=0.75,
    )
    assert config.faults == Faults(seed=7, rules=(rule,), max_chunk_size=4096, complete_202=3)


@pytest.mark.parametrize(
    ("argv", "network"),
    [
        (["--latency", "0.2", "--bandwidth", "1000"], NetworkProfile(0.2, 1000.0)),
        (["--latency", "0.2"], NetworkProfile(0.2, None)),
        (["--wan-profile", "--latency", "9"], NetworkProfile.wan()),
    ],
)
def test_the_network_flags_reach_the_config(
    served: list[EmulatorServer], argv: list[str], network: NetworkProfile
) -> None:
    assert _config(served, *argv).faults.network == network


def test_allow_open_reaches_the_bind_check(capsys: pytest.CaptureFixture[str]) -> None:
    # a documentation address (RFC 5737): allowed, it still cannot be listened on
    assert main(["emulator", "--host", "192.0.2.1", "--port", "0"]) == 2
    assert "without a secret" in capsys.readouterr().err
    assert main(["emulator", "--host", "192.0.2.1", "--port", "0", "--allow-open"]) == 2
    assert capsys.readouterr().err.startswith(
        "filestack-async: error: cannot listen on 192.0.2.1:0: "
    )


def test_a_port_in_use_is_one_error_line(capsys: pytest.CaptureFixture[str]) -> None:
    # (EmulatorServer closes its emulator then: tests/emulator/test_server.py)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        assert main(["emulator", "--port", str(port)]) == 2
    out, err = capsys.readouterr()
    assert (
        err.startswith(f"filestack-async: error: cannot listen on 127.0.0.1:{port}: ")
        and err.count("\n") == 1
    )
    assert "listening" not in out


# -- a signal stops it cleanly ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("signum", "returncode"), [(signal.SIGTERM, -signal.SIGTERM), (signal.SIGINT, 130)]
)
def test_a_signal_stops_it_and_removes_its_temporary_folder(
    signum: signal.Signals, returncode: int
) -> None:
    command = [sys.executable, "-m", "filestack_async.cli", "emulator", "--port", "0"]
    env = {k: v for k, v in os.environ.items() if k != "FILESTACK_EMULATOR_SECRET"}
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    ) as proc:
        try:
            assert proc.stdout is not None
            url = proc.stdout.readline().split()[-1]
            data = Path(proc.stdout.readline().split()[-1])
            assert data.is_dir()
            # answered: the server runs (its signal handlers are in place)
            assert httpx.get(f"{url}/_emulator/health", trust_env=False).status_code == 200
            proc.send_signal(signum)
            _, err = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    assert proc.returncode == returncode
    assert not data.exists()
    assert "Traceback" not in err
    if signum == signal.SIGINT:
        assert err == "filestack-async: error: interrupted\n"
