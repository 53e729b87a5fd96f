"""The hit path's budget (issue 13), judged from the interleaved rounds of bench/run.py.

Each ratio is taken within a round (A, B and C measured one after another, under the same
load from the rest of the machine) and the median of the rounds is judged: a host-independent
budget, since each side of a ratio ran on the same host at nearly the same time."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol


class Run(Protocol):
    """What a wrk run measured (bench/run.py's Result)."""

    rps: float
    p99_ms: float
    errors: int
    server_us: float
    redis_us: float

    @property
    def box_us(self) -> float: ...


@dataclass(frozen=True)
class Round:
    """One interleaved round: bare aiohttp (A), the naive script (B), statsvc's hit (C)."""

    a: Run
    b: Run
    c: Run


@dataclass(frozen=True)
class Target:
    """One line of the budget: a measured figure against its bound."""

    name: str
    measured: float | None  # None: not run
    bound: float
    at_most: bool  # the figure must be ≤ bound (else ≥)
    fmt: str = "{:.2f}"

    def verdict(self) -> str:
        """Return PASS, MISS (with by how much) or "not run"."""
        if self.measured is None:
            return "not run"
        met = self.measured <= self.bound if self.at_most else self.measured >= self.bound
        return "PASS" if met else f"MISS by {self.fmt.format(abs(self.measured - self.bound))}"


def median_of(rounds: Sequence[Round], ratio: Callable[[Round], float]) -> float:
    """Return the median over the rounds of a ratio taken within each round."""
    return statistics.median(ratio(r) for r in rounds)


def targets(rounds: Sequence[Round], errors_at_1000: int | None) -> list[Target]:
    """Return the budget's targets as measured."""
    return [
        Target(
            "statsvc worker CPU per hit / bare worker CPU per request (C/A)",
            median_of(rounds, lambda r: r.c.server_us / r.a.server_us),
            1.5,
            at_most=True,
        ),
        Target(
            "Redis CPU per hit / naive script's Redis CPU per request (C/B)",
            median_of(rounds, lambda r: r.c.redis_us / r.b.redis_us),
            0.5,
            at_most=True,
        ),
        Target("req/s C/A", median_of(rounds, lambda r: r.c.rps / r.a.rps), 0.50, at_most=False),
        Target("req/s C/B", median_of(rounds, lambda r: r.c.rps / r.b.rps), 2.0, at_most=False),
        Target(
            "C p99 at 64 connections, ms",
            statistics.median(r.c.p99_ms for r in rounds),
            25.0,
            at_most=True,
            fmt="{:.1f}",
        ),
        Target("C errors at 1,000 connections", errors_at_1000, 0, at_most=True, fmt="{:.0f}"),
    ]


def report(rounds: Sequence[Round], errors_at_1000: int | None) -> str:
    """Return the budget as a markdown table with a PASS/MISS per target, and the whole
    box's CPU per request (worker + Redis + wrk) of A, B and C."""
    lines = [
        f"Budget (issue 13), medians of {len(rounds)} interleaved rounds of ratios taken "
        "within each round:",
        "",
        "| target | bound | measured | |",
        "| --- | ---: | ---: | --- |",
    ]
    for target in targets(rounds, errors_at_1000):
        bound = ("≤ " if target.at_most else "≥ ") + target.fmt.format(target.bound)
        measured = "—" if target.measured is None else target.fmt.format(target.measured)
        lines.append(f"| {target.name} | {bound} | {measured} | {target.verdict()} |")
    box = {name: statistics.median(pick(r).box_us for r in rounds) for name, pick in _SIDES}
    worker = {name: statistics.median(pick(r).server_us for r in rounds) for name, pick in _SIDES}
    lines += [
        "",
        "The whole box's CPU per request (worker + Redis + wrk, from /proc and wrk's rusage): "
        + ", ".join(f"{name} {box[name]:.0f} µs (worker {worker[name]:.0f})" for name in box)
        + ".",
    ]
    return "\n".join(lines)


_SIDES: tuple[tuple[str, Callable[[Round], Run]], ...] = (
    ("A", lambda r: r.a),
    ("B", lambda r: r.b),
    ("C", lambda r: r.c),
)
