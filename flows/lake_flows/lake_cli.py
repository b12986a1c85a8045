"""Running one `lake` command for a flow: its progress lines streamed into the logger as they come,
its JSON report (`--format json`) parsed, and its exit status turned into the outcome a flow can
act on (README of the repository, "Driving lake from an orchestrator").

| status | here |
|---|---|
| 0 | `LakeResult` |
| 4 | `LakeResult` with `nothing_to_do` (the commands run with `--detailed-exit-codes`) |
| 2 | `LakeUsageError`: never retried |
| 3 | `QualityGateFailed`: never retried, fix the data |
| 75 | `LakeBusy`: another writer holds the lake's lease; retried |
| 1, 130, others | `LakeFailed`: retried |
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# What `lake` exits with (cli/src/exit.rs).
EXIT_SUCCESS = 0
EXIT_USAGE = 2
EXIT_QUALITY_GATE = 3
EXIT_NOTHING_TO_DO = 4
EXIT_LEASE_HELD = 75

# How long an interrupted command may take to cancel its jobs and clean up before it is killed.
INTERRUPT_GRACE_SECONDS = 30.0


class LakeCommandError(Exception):
    """A `lake` command that failed: its exit status, message and JSON report."""

    def __init__(
        self, command: list[str], exit_code: int, report: dict[str, Any]
    ) -> None:
        self.command = command
        self.exit_code = exit_code
        self.report = report
        message = report.get("error") or f"exit status {exit_code}"
        super().__init__(f"`{' '.join(command)}` failed ({exit_code}): {message}")


class LakeFailed(LakeCommandError):
    """A failure a retry may get past (the engine, the store, a timeout, an interruption)."""


class LakeBusy(LakeFailed):
    """Another writer holds the lake's lease."""


class LakeUsageError(LakeCommandError):
    """The command line was wrong: a retry will fail the same way."""


class QualityGateFailed(LakeCommandError):
    """Silver's blocking quality checks failed: nothing was published, the data must be fixed."""


class LakeTimeout(LakeFailed):
    """The command ran past the task's timeout and was interrupted."""


# Failures that a retry cannot fix.
FINAL_FAILURES: tuple[type[Exception], ...] = (LakeUsageError, QualityGateFailed)


@dataclass(frozen=True)
class LakeConfig:
    """Where `lake` is and which lake it works on; every command of a flow run shares it."""

    lake_bin: Path
    """The `lake` executable."""
    lake: str = "lake"
    """Lake root: a local folder or s3://bucket/prefix (relative to `workdir`)."""
    sources: str = "data/sources"
    """Folder of the CSV sources."""
    workdir: Path = field(default_factory=Path.cwd)
    """The directory commands run in."""
    scheduler: str | None = None
    """A Ballista scheduler (df://host:port); `None`: standalone, in the `lake` process."""
    env: dict[str, str] = field(default_factory=dict)
    """More environment for `lake` (S3 settings, LAKE_MEMORY_LIMIT, ...)."""

    @staticmethod
    def from_env(workdir: Path | None = None) -> LakeConfig:
        """From LAKE_BIN (default: `lake` on the PATH), LAKE_ROOT, LAKE_SOURCES, LAKE_SCHEDULER."""
        return LakeConfig(
            lake_bin=Path(os.environ.get("LAKE_BIN", "lake")),
            lake=os.environ.get("LAKE_ROOT", "lake"),
            sources=os.environ.get("LAKE_SOURCES", "data/sources"),
            workdir=workdir or Path.cwd(),
            scheduler=os.environ.get("LAKE_SCHEDULER") or None,
        )


@dataclass(frozen=True)
class LakeResult:
    """A command that succeeded."""

    command: list[str]
    exit_code: int
    report: dict[str, Any]

    @property
    def nothing_to_do(self) -> bool:
        return self.exit_code == EXIT_NOTHING_TO_DO


def _environment(config: LakeConfig) -> dict[str, str]:
    env = dict(os.environ)
    env.update(config.env)
    env["LAKE_ROOT"] = config.lake
    env["LAKE_DETAILED_EXIT_CODES"] = "1"
    if config.scheduler:
        env["LAKE_SCHEDULER"] = config.scheduler
    else:
        env.pop("LAKE_SCHEDULER", None)
    return env


def run_lake(
    config: LakeConfig,
    args: list[str],
    logger: logging.Logger | logging.LoggerAdapter[logging.Logger],
    timeout: float | None = None,
) -> LakeResult:
    """Runs `lake ARGS --format json`; its standard error goes to `logger` line by line.

    Past `timeout` seconds the command is interrupted (SIGINT: it cancels its cluster jobs and
    removes its unfinished runs, then exits 130), and killed if it has not ended within
    `INTERRUPT_GRACE_SECONDS`.
    """
    command = [str(config.lake_bin), *args, "--format", "json"]
    logger.info("running %s", " ".join(command))
    process = subprocess.Popen(
        command,
        cwd=config.workdir,
        env=_environment(config),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None and process.stdout is not None
    stderr, stdout_pipe = process.stderr, process.stdout
    output: list[str] = []

    def stream_log() -> None:
        for line in stderr:
            logger.info("%s", line.rstrip())

    readers = [
        threading.Thread(target=stream_log, daemon=True),
        threading.Thread(target=lambda: output.append(stdout_pipe.read()), daemon=True),
    ]
    for reader in readers:
        reader.start()
    timed_out = False
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=INTERRUPT_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    for reader in readers:
        reader.join()
    stdout = "".join(output)
    report = _report(stdout)
    code = process.returncode
    if timed_out:
        raise LakeTimeout(
            command, code, report | {"error": f"timed out after {timeout} s"}
        )
    if code in (EXIT_SUCCESS, EXIT_NOTHING_TO_DO):
        return LakeResult(command, code, report)
    error: type[LakeCommandError] = {
        EXIT_USAGE: LakeUsageError,
        EXIT_QUALITY_GATE: QualityGateFailed,
        EXIT_LEASE_HELD: LakeBusy,
    }.get(code, LakeFailed)
    raise error(command, code, report)


def _report(stdout: str) -> dict[str, Any]:
    """The command's JSON report; an empty one if it printed none (killed, or clap's usage)."""
    text = stdout.strip()
    if not text:
        return {}
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError:
        return {"error": f"not a JSON report: {text[:200]}"}
    return parsed if isinstance(parsed, dict) else {"report": parsed}
