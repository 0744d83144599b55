"""Progress for long runs: one line per stage, bars with an ETA for long loops, JSON logs.

`sercompress run` reports each stage with its elapsed time; `--quiet` keeps
only errors, `--log-json` emits one JSON object per event on stderr for
machines. Stage timings are kept for the summary: a stage opened inside
another (a recipe inside "compress") is kept apart in ``nested_timings``, so
that ``timings`` holds the top-level stages only and they add up to the run.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, TextIO, TypeVar

T = TypeVar("T")


@dataclass
class Progress:
    quiet: bool = False
    log_json: bool = False
    stream: TextIO = field(default_factory=lambda: sys.stderr)
    #: seconds per top-level stage (they do not overlap: their sum is at most the wall time)
    timings: dict[str, float] = field(default_factory=dict)
    #: seconds per nested stage, keyed "outer/inner" (already inside its outer stage's time)
    nested_timings: dict[str, float] = field(default_factory=dict)
    #: CPU seconds per stage (this process and its finished children), keyed like both tables
    #: above: on a shared machine these move less with other people's load than wall seconds
    cpu_timings: dict[str, float] = field(default_factory=dict)
    _t0: float = field(default_factory=time.perf_counter)
    _open: list[str] = field(default_factory=list)
    _bars: int = 0  # tqdm bars drawn now

    def event(self, kind: str, message: str, **data: Any) -> None:
        if self.log_json:
            rec = {"t": round(time.perf_counter() - self._t0, 3), "event": kind, "message": message, **data}
            self.stream.write(json.dumps(rec, default=str) + "\n")
        elif not self.quiet:
            line = f"[{self._elapsed()}] {message}"
            if self._bars:  # above the bars, which tqdm then redraws below the line
                from tqdm import tqdm

                tqdm.write(line, file=self.stream)
            else:
                self.stream.write(line + "\n")
        self.stream.flush()

    def info(self, message: str, **data: Any) -> None:
        self.event("info", message, **data)

    @contextlib.contextmanager
    def stage(self, name: str, detail: str = "") -> Iterator[None]:
        self.event("stage_start", f"{name} ..." + (f" ({detail})" if detail else ""), stage=name)
        key = "/".join([*self._open, name])
        table = self.nested_timings if self._open else self.timings
        self._open.append(name)
        t, cpu = time.perf_counter(), _cpu_seconds()
        try:
            yield
        finally:
            dt = time.perf_counter() - t
            self._open.pop()
            table[key] = table.get(key, 0.0) + dt
            self.cpu_timings[key] = self.cpu_timings.get(key, 0.0) + _cpu_seconds() - cpu
            self.event("stage_end", f"{name} done in {dt:.1f} s", stage=name, seconds=round(dt, 3))

    def stage_seconds(self) -> float:
        """Time spent in top-level stages: each second counted once."""
        return sum(self.timings.values())

    def wall_seconds(self) -> float:
        return time.perf_counter() - self._t0

    def bar(self, items: Iterable[T], desc: str, total: int | None = None,
            label: Callable[[T], str] = str) -> Iterator[T]:
        """A progress bar on a TTY (or plain per-item lines, named by ``label``, otherwise)."""
        if not self._interactive():
            items = list(items)
            for i, item in enumerate(items, 1):
                self.event("item", f"{desc} {i}/{len(items)}: {label(item)}", desc=desc, index=i,
                           total=len(items))
                yield item
            return
        from tqdm import tqdm

        self._bars += 1
        try:
            yield from tqdm(items, desc=desc, total=total, file=self.stream, leave=False)
        finally:
            self._bars -= 1

    @contextlib.contextmanager
    def steps(self, total: int, desc: str, kind: str = "step") -> Iterator[Callable[..., None]]:
        """A bar with an ETA over ``total`` steps reported by the caller.

        Yields ``report(message, **data)``: on a TTY it advances the bar and
        shows ``message`` beside it; otherwise each call is one event line
        (``kind``, what logs and ``--log-json`` keep).
        """
        if not self._interactive():
            def line(message: str, **data: Any) -> None:
                self.event(kind, message, **data)

            yield line
            return
        from tqdm import tqdm

        self._bars += 1
        try:
            with tqdm(total=total, desc=desc, file=self.stream, leave=False, dynamic_ncols=True) as pbar:
                def advance(message: str, **_data: Any) -> None:
                    pbar.update(1)
                    pbar.set_postfix_str(message)  # redraws: one step is seconds, never too often

                yield advance
        finally:
            self._bars -= 1

    def _interactive(self) -> bool:
        return not (self.quiet or self.log_json) and self.stream.isatty()

    def _elapsed(self) -> str:
        s = int(time.perf_counter() - self._t0)
        return f"{s // 60:02d}:{s % 60:02d}"


def _cpu_seconds() -> float:
    """User + system CPU of this process and of the subprocesses it has waited for."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system
