"""Flash each device needs, for a finished run's artifacts: re-assessed with this checkout's rules.

Reads RUN/summary.json and the artifacts it names (nothing in RUN or its store is written),
profiles each file again (TFLite Micro's arena measured again, Vela run into ``--cache-dir``),
assesses it on every profile of the run through ``assess.assess_on_device`` (the path of
``check`` and the run; the host latency is the run's own measurement, not taken again), and
renders the report into OUT: its "Flash each device needs" table and the ``device_flash_*``
columns of ``variants.csv`` are then filled for a summary written before they existed.

    python bench/device_flash.py RUN_DIR OUT_DIR [--cache-dir DIR]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", type=Path, help="a finished run directory (read only)")
    ap.add_argument("out", type=Path, help="directory for the re-rendered report")
    ap.add_argument("--cache-dir", type=Path, default=None, help="Vela cache (default: OUT/cache)")
    args = ap.parse_args()

    from sercompress.assess import assess_on_device
    from sercompress.profile import measured_arena, profile_artifact
    from sercompress.profile.hardware import get_hw_profile
    from sercompress.report import Summary, render_report

    summary = Summary.load(args.run)
    profiles = [get_hw_profile(p.name) for p in summary.profiles]
    cache = args.cache_dir or args.out / "cache"
    start = time.process_time()
    entries = []
    for v in summary.variants:
        static = measured_arena(profile_artifact(args.run / v.artifact.path))
        host = next((h for h in v.host_latency if h.runtime == "litert" and h.threads == 1), None)
        measure = (lambda _path, h=host: h) if host is not None else None  # None: measured here
        fits = []
        for hw in profiles:
            d = assess_on_device(static, hw, measure_fn=measure, cache_dir=cache)
            fits.append(d.model_copy(update={"latency": d.latency.without_layers()}))
        entries.append(v.model_copy(update={"fits": tuple(fits)}))
    fresh = Summary.model_validate(summary.model_copy(update={"variants": tuple(entries)}).model_dump())
    render_report(fresh, args.out)
    print(f"{len(entries)} artifacts x {len(profiles)} devices in {time.process_time() - start:.1f} s CPU "
          f"(this process; TFLite Micro and Vela run in subprocesses): {args.out / 'summary.md'}")


if __name__ == "__main__":
    main()
