"""Hostile-input benchmark: mutate the suite's own files and run every command that reads them.

For each target (a command and the kind of file it reads, see ``tests/fuzz/targets.py``)
it draws mutations from a fixed-seed generator (bit flips, truncation, hostile 32-bit sizes,
huge / negative / NaN / inf numbers, deep nesting, ragged lists), runs the command and
counts tracebacks, bound violations (peak memory over 1 GiB, CPU time over 30 s) and
half-written outputs. Target: 0 / 0 / 0.

Usage: ``python bench/hostile.py [--cases-per-target N] [--subprocess] [--seed S]``
(``--subprocess`` runs every CLI case in a fresh interpreter under RLIMIT_AS; slower).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "src")]

from tests.fuzz.harness import fresh, run_case, summarize  # noqa: E402
from tests.fuzz.mutate import mutate, mutations_for  # noqa: E402
from tests.fuzz.seeds import model_seeds, text_seeds  # noqa: E402
from tests.fuzz.targets import known_cases, seed_bytes, targets  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases-per-target", type=int, default=16)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--subprocess", action="store_true")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="sercompress-hostile-") as tmp:
        tmp = Path(tmp)
        t0 = time.perf_counter()
        seeds = {**text_seeds(tmp / "seeds"), **model_seeds(tmp / "seeds")}
        print(f"seed files ready in {time.perf_counter() - t0:.1f} s")
        outcomes, per_target = [], Counter()
        by_name = {t.name: t for t in targets(seeds)}
        for name, label, data in known_cases(seeds):  # the files of issue 12 first
            target = by_name[name]
            o = run_case(target, seed_bytes(seeds, target.seed)[0], data, fresh(tmp / "case"),
                         f"issue 12: {label}", subprocess_mode=args.subprocess)
            outcomes.append(o)
            per_target[name] += 1
            print(f"  issue 12 {label:<38} {name:<38} exit {o.code}  "
                  f"{o.peak_bytes / 2**20:6.1f} MiB {o.cpu_s:6.2f} s CPU  {'ok' if o.ok else o.problems}")
        for target in targets(seeds):
            seed_path, data = seed_bytes(seeds, target.seed)
            for _ in range(args.cases_per_target):
                mutation = rng.choice(mutations_for(target.kind))
                case_seed = rng.randrange(2**32)
                case = f"{mutation}#{case_seed}"
                mutated = mutate(target.kind, data, mutation, case_seed)
                o = run_case(target, seed_path, mutated, fresh(tmp / "case"), case,
                             subprocess_mode=args.subprocess)
                outcomes.append(o)
                per_target[target.name] += 1
                if not o.ok:
                    print(f"  PROBLEM {target.name} [{case}]: {'; '.join(o.problems)[:400]}")
        print(f"\n{'target':<42} {'cases':>5} {'exit0':>6} {'exit1':>6} {'exit2':>6} {'max MiB':>8} {'max CPU s':>9}")
        for name in per_target:
            mine = [o for o in outcomes if o.target == name]
            codes = Counter(o.code for o in mine)
            print(f"{name:<42} {len(mine):>5} {codes[0]:>6} {codes[1]:>6} {codes[2]:>6} "
                  f"{max(o.peak_bytes for o in mine) / 2**20:>8.1f} {max(o.cpu_s for o in mine):>9.2f}")
        s = summarize(outcomes)
        print(f"\n{s['cases']} hostile cases over {len(per_target)} targets in "
              f"{time.perf_counter() - t0:.0f} s (wall, shared machine)")
        print(f"tracebacks {s['tracebacks']} / bound violations {s['bound_violations']} / "
              f"half-written outputs {s['half_written']} (other bad exit codes: {s['bad_exit_codes']})")
        return 0 if not any(s[k] for k in ("tracebacks", "bound_violations", "half_written", "bad_exit_codes")) else 1


if __name__ == "__main__":
    sys.exit(main())
