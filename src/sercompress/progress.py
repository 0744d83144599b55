"""Progress for long runs: one line per stage, bars for long loops, JSON logs.

`sercompress run` reports each stage with its elapsed time; `--quiet` keeps
only errors, `--log-json` emits one JSON object per event on stderr for
machines. Stage timings are kept for the summary.
"""

from __future__ import annotations

import contextlib
import json
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
    timings: dict[str, float] = field(default_factory=dict)
    _t0: float = field(default_factory=time.perf_counter)

    def event(self, kind: str, message: str, **data: Any) -> None:
        if self.log_json:
            rec = {"t": round(time.perf_counter() - self._t0, 3), "event": kind, "message": message, **data}
            self.stream.write(json.dumps(rec, default=str) + "\n")
        elif not self.quiet:
            self.stream.write(f"[{self._elapsed()}] {message}\n")
        self.stream.flush()

    def info(self, message: str, **data: Any) -> None:
        self.event("info", message, **data)

    @contextlib.contextmanager
    def stage(self, name: str, detail: str = "") -> Iterator[None]:
        self.event("stage_start", f"{name} ..." + (f" ({detail})" if detail else ""), stage=name)
        t = time.perf_counter()
        try:
            yield
        finally:
            dt = time.perf_counter() - t
            self.timings[name] = self.timings.get(name, 0.0) + dt
            self.event("stage_end", f"{name} done in {dt:.1f} s", stage=name, seconds=round(dt, 3))

    def bar(self, items: Iterable[T], desc: str, total: int | None = None,
            label: Callable[[T], str] = str) -> Iterator[T]:
        """A progress bar on a TTY (or plain per-item lines, named by ``label``, otherwise)."""
        if self.quiet or self.log_json or not self.stream.isatty():
            items = list(items)
            for i, item in enumerate(items, 1):
                self.event("item", f"{desc} {i}/{len(items)}: {label(item)}", desc=desc, index=i,
                           total=len(items))
                yield item
            return
        from tqdm import tqdm

        yield from tqdm(items, desc=desc, total=total, file=self.stream, leave=False)

    def _elapsed(self) -> str:
        s = int(time.perf_counter() - self._t0)
        return f"{s // 60:02d}:{s % 60:02d}"
