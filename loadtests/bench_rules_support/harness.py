"""Timing, checking and reporting helpers for loadtests/bench_rules.py."""

from __future__ import annotations

import cProfile
import functools
import gc
import io
import pstats
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass


@dataclass
class Timing:
    program: str
    engine: str
    events: int
    seconds: float  # best repetition
    note: str = ""

    @property
    def us_per_event(self) -> float:
        return self.seconds / self.events * 1e6

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds


def best_of(run: Callable[[], object], repeats: int) -> float:
    """Best wall time of `repeats` runs, each with a collected heap and the collector off."""
    best = float("inf")
    for _ in range(repeats):
        gc.collect()
        gc.disable()
        try:
            start = time.perf_counter()
            run()
            best = min(best, time.perf_counter() - start)
        finally:
            gc.enable()
    return best


def time_per_event(evaluate: Callable[[dict], object], events: list[dict], repeats: int,
                   *, fresh: Callable[[], Callable[[dict], object]] | None = None) -> float:
    """Best time to evaluate every event once. `fresh` builds a new evaluator per run
    (e.g. one with an empty history) outside the timed region."""
    best = float("inf")
    for _ in range(repeats):
        run = fresh() if fresh else evaluate

        def loop(run: Callable[[dict], object] = run) -> None:
            for event in events:
                run(event)

        best = min(best, best_of(loop, 1))
    return best


def interleaved_best(evaluators: dict[str, Callable], events: list[dict], repeats: int,
                     whole_list: Iterable[str] = ()) -> dict[str, float]:
    """Best time of each evaluator over `repeats` rounds that run them one after the other,
    so that a burst of load on a shared machine hits all of them alike. Evaluators named in
    `whole_list` take the list of events in one call; the others one event."""
    lists = set(whole_list)
    best = dict.fromkeys(evaluators, float("inf"))
    for _ in range(repeats):
        for name, evaluate in evaluators.items():
            if name in lists:
                seconds = best_of(functools.partial(evaluate, events), 1)
            else:
                seconds = time_per_event(evaluate, events, 1)
            best[name] = min(best[name], seconds)
    return best


def first_differences(expected: Iterable[dict[str, int]], actual: Iterable[dict[str, int]],
                      events: list[dict], show: int = 3) -> tuple[int, list[str]]:
    """How many events differ, and a description of the first few."""
    count = 0
    shown: list[str] = []
    for event, want, got in zip(events, expected, actual, strict=True):
        if want != got:
            count += 1
            if len(shown) < show:
                diff = sorted(set(want.items()) ^ set(got.items()))
                shown.append(f"{event['id']}: expected {want}, got {got} (differs: {diff})")
    return count, shown


def profile(evaluate: Callable[[dict], object], events: list[dict], top: int = 14) -> str:
    """cProfile of evaluating every event once, the functions with most own time first."""
    profiler = cProfile.Profile()
    profiler.enable()
    for event in events:
        evaluate(event)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    lines = out.getvalue().splitlines()
    start = next((i for i, line in enumerate(lines) if "ncalls" in line), 0)
    return "\n".join(lines[start:start + top + 1])


def render_table(timings: list[Timing], baseline: dict[str, float],
                 zen: dict[str, float]) -> str:
    """The results table; ratios are speed-ups (higher is faster)."""
    header = (f"{'program':<16} {'engine':<44} {'events':>7} {'events/s':>10} "
              f"{'µs/event':>9} {'vs hand':>8} {'vs zen':>8}  note")
    lines = [header, "-" * len(header)]
    for t in timings:
        hand = baseline.get(t.program)
        zen_us = zen.get(t.program)
        vs_hand = f"{hand / t.us_per_event:7.2f}x" if hand else f"{'':>8}"
        vs_zen = f"{zen_us / t.us_per_event:7.1f}x" if zen_us else f"{'':>8}"
        lines.append(f"{t.program:<16} {t.engine:<44} {t.events:>7} "
                     f"{t.events_per_second:>10,.0f} {t.us_per_event:>9.2f} {vs_hand} {vs_zen}"
                     f"  {t.note}")
    return "\n".join(lines)
