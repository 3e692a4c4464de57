"""Small helpers shared by the benchmarks: timing statistics, tables, machine facts."""

from __future__ import annotations

import math
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Timing:
    """Wall-clock samples of one measured step, in milliseconds."""

    name: str
    samples_ms: tuple[float, ...]

    @property
    def runs(self) -> int:
        return len(self.samples_ms)

    @property
    def median(self) -> float:
        return statistics.median(self.samples_ms)

    @property
    def p95(self) -> float:
        return percentile(self.samples_ms, 95)

    @property
    def minimum(self) -> float:
        return min(self.samples_ms)


def percentile(samples: Sequence[float], pct: float) -> float:
    """Linear-interpolation percentile (same definition as numpy's default)."""
    xs = sorted(samples)
    if not xs:
        return math.nan
    if len(xs) == 1:
        return xs[0]
    pos = (len(xs) - 1) * pct / 100.0
    lo = math.floor(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def now_ms() -> float:
    return time.perf_counter() * 1000.0


async def time_async(
    fn: Callable[[], Awaitable[object]],
    *,
    warmup: int = 2,
    runs: int = 20,
    max_seconds: float = 20.0,
    min_runs: int = 5,
) -> list[float]:
    """Run ``fn`` ``warmup`` times, then up to ``runs`` times (at least ``min_runs``,
    stopping early once ``max_seconds`` have been spent on the measured runs)."""
    for _ in range(warmup):
        await fn()
    samples: list[float] = []
    started = time.perf_counter()
    while len(samples) < runs:
        t0 = now_ms()
        await fn()
        samples.append(now_ms() - t0)
        if len(samples) >= min_runs and time.perf_counter() - started > max_seconds:
            break
    return samples


def fmt_ms(x: float) -> str:
    if math.isnan(x):
        return "—"
    if x >= 100:
        return f"{x:,.0f}".replace(",", " ")
    if x >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[object]], align: str | None = None) -> str:
    """A GitHub markdown table. ``align``: one char per column, 'l' or 'r' (default: l then r...)."""
    align = align or ("l" + "r" * (len(headers) - 1))
    sep = ["---:" if a == "r" else "---" for a in align]
    lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join(sep) + " |"]
    for row in rows:
        lines.append("| " + " | ".join(str(c) for c in row) + " |")
    return "\n".join(lines)


def _cmd(args: list[str]) -> str:
    try:
        return subprocess.run(args, capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "?"


def machine_facts(*, postgres_version: str | None = None) -> dict[str, str]:
    """CPU count, memory and library versions, for the record."""
    import sqlite3

    facts: dict[str, str] = {}
    facts["nproc"] = str(os.cpu_count())
    try:
        with open("/proc/meminfo") as fh:
            kb = int(next(line for line in fh if line.startswith("MemTotal")).split()[1])
        facts["memory"] = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, StopIteration, ValueError):
        facts["memory"] = "?"
    try:
        with open("/proc/cpuinfo") as fh:
            facts["cpu"] = next(line for line in fh if line.startswith("model name")).split(":", 1)[1].strip()
    except (OSError, StopIteration):
        facts["cpu"] = platform.processor() or "?"
    facts["os"] = platform.platform()
    facts["python"] = sys.version.split()[0]
    facts["sqlite"] = sqlite3.sqlite_version
    for mod in ("polars", "duckdb", "piccolo", "asyncpg", "aiosqlite", "adbc_driver_manager", "pyarrow"):
        try:
            facts[mod] = __import__(mod).__version__
        except Exception:  # noqa: BLE001 - optional packages
            pass
    if postgres_version:
        facts["postgresql"] = postgres_version
    facts["speed reference"] = speed_reference()
    return facts


def speed_reference() -> str:
    """How fast this machine is right now, on two fixed workloads (best of 5): a pure-Python loop and
    a Polars group-by. The shared reference machine's speed varies from session to session (up to
    ~3× seen); compare figures from different days through these two numbers."""
    import time

    import polars as pl

    frame = pl.DataFrame({"k": [i % 97 for i in range(1_000_000)], "v": list(range(1_000_000))})
    python_ms, polars_ms = [], []
    for _ in range(5):
        t0 = time.perf_counter()
        sum(i * i for i in range(1_000_000))
        python_ms.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        frame.group_by("k").agg(pl.col("v").sum().alias("s"), pl.col("v").n_unique().alias("u"))
        polars_ms.append((time.perf_counter() - t0) * 1000)
    return f"python loop 1M {min(python_ms):.0f} ms, polars group-by 1M {min(polars_ms):.1f} ms"


def facts_line(facts: dict[str, str]) -> str:
    return ", ".join(f"{k} {v}" for k, v in facts.items())
