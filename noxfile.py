"""Developer tasks: ``nox -s tests``, ``lint typecheck``, ``docs``, ``bench``, ``reliability``."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import nox
from nox.command import CommandFailed

nox.options.sessions = ["lint", "typecheck", "tests"]
nox.options.reuse_existing_virtualenvs = True

PYTHON = ["3.10", "3.11", "3.12", "3.13"]


def ensure_chromium(session: nox.Session) -> None:
    """Install Debian's chromium for the docs' browser test when it is missing and this
    machine can (root, apt-get); never fails the run: without it that test skips with
    its reason. Nothing downloads a browser build."""
    if shutil.which("chromium") or shutil.which("chromium-browser"):
        return
    if not hasattr(os, "geteuid") or os.geteuid() != 0 or shutil.which("apt-get") is None:
        session.log("chromium is missing and cannot be installed here: the browser test skips")
        return
    env = {"DEBIAN_FRONTEND": "noninteractive"}
    install = ("apt-get", "install", "-y", "--no-install-recommends", "chromium")
    try:
        session.run(*install, external=True, env=env, silent=True)
    except CommandFailed:
        try:  # the package lists may be missing or stale
            session.run("apt-get", "update", external=True, env=env, silent=True)
            session.run(*install, external=True, env=env, silent=True)
        except CommandFailed:
            session.log("could not install chromium with apt-get: the browser test skips")


@nox.session
def tests(session: nox.Session) -> None:
    """Run the whole test suite (unit, wire, emulator, end-to-end, compat, docs site)."""
    session.install("-e", ".[dev]")
    ensure_chromium(session)
    session.run("pytest", "-W", "error", *session.posargs)


@nox.session(python=PYTHON)
def tests_matrix(session: nox.Session) -> None:
    """The test suite on every supported Python found on this machine."""
    session.install("-e", ".[dev]")
    session.run("pytest", "-W", "error", "-q", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check."""
    session.install("-e", ".[dev]")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict over src, tests, examples, bench and scripts."""
    session.install("-e", ".[dev]")
    session.run("mypy")
    # the example user's suite is a project of its own (it imports ``avatars`` as top level)
    session.run(
        "mypy",
        "--strict",
        "--config-file=",
        "--python-version=3.10",
        "--explicit-package-bases",
        "examples/user_test_suite",
        env={"MYPYPATH": "examples/user_test_suite"},
    )


@nox.session
def docs(session: nox.Session) -> None:
    """Run every docs code sample against the emulator, then build the site with --strict."""
    session.install("-e", ".[dev]")
    session.run(
        "pytest", "-W", "error", "-q", "tests/docs", "tests/unit/test_tasks.py", *session.posargs
    )
    site = Path(session.create_tmp()) / "site"
    session.run(
        "mkdocs", "build", "--strict", "--site-dir", str(site), env={"NO_MKDOCS_2_WARNING": "1"}
    )
    session.log(f"the site is in {site}")


@nox.session
def reliability(session: nox.Session) -> None:
    """The whole reliability campaign: faults, cancellation, bad input, fuzzing, load."""
    session.install("-e", ".[dev]")
    session.run(
        "pytest",
        "-W",
        "error",
        "--timeout=1800",
        "tests/reliability",
        *session.posargs,
        env={"FILESTACK_RELIABILITY": "full"},
    )


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks over loopback against the emulator; results go to docs/performance.md."""
    session.install("-e", ".[dev]")
    session.run("python", "-m", "bench", *session.posargs)
