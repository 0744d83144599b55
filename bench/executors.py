"""The executors' own costs: starting them, and scheduling one work unit through them.

Prints, for the local process pool and (with the [ray] extra) a local Ray instance: the time
to start the executor and load TensorFlow in every worker (the first task of each worker), and
then the wall time of N no-op tasks scheduled as `parallel.compute_ahead` does (``slots`` kept in
flight, a new one submitted as one finishes), per task. A work unit trains or converts for tens of
seconds, so a per-task cost in milliseconds is what "negligible" has to mean here.

    python bench/executors.py [--tasks 50] [--cpus 2]

Wall times depend on what else runs on the machine: the load average is printed with them.
"""

from __future__ import annotations

import argparse
import os
import time
from concurrent.futures import FIRST_COMPLETED, wait

from sercompress.executors import local_executor, ray_executor


def noop(i: int) -> int:
    return i


def through(executor, tasks: int) -> float:
    """Wall seconds for ``tasks`` no-op tasks, ``executor.slots`` in flight at a time."""
    t0 = time.perf_counter()
    running, submitted = set(), 0
    while submitted < tasks or running:
        while submitted < tasks and len(running) < executor.slots:
            running.add(executor.submit(noop, submitted))
            submitted += 1
        done, running = wait(running, return_when=FIRST_COMPLETED)
        for f in done:
            f.result()
    return time.perf_counter() - t0


def measure(name: str, start, tasks: int) -> None:
    t0 = time.perf_counter()
    executor = start()
    started = time.perf_counter() - t0
    try:
        warm = through(executor, executor.slots)  # every worker imports TensorFlow on its first task
        wall = through(executor, tasks)
    finally:
        executor.shutdown()
    print(f"{name:>5}: started in {started:.2f} s, workers ready (TensorFlow loaded) {warm:.2f} s later; "
          f"{tasks} no-op tasks in {wall:.3f} s = {1000 * wall / tasks:.1f} ms per task "
          f"({executor.slots} in flight)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", type=int, default=50)
    ap.add_argument("--cpus", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    measure("local", lambda: local_executor(args.cpus), args.tasks)
    try:
        import ray  # noqa: F401
    except ImportError:
        print("  ray: not installed (pip install 'sercompress[ray]'); skipped")
        return
    measure("ray", lambda: ray_executor(None, args.cpus), args.tasks)


if __name__ == "__main__":
    main()
