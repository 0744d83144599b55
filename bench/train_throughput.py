"""Training throughput of the reference: plain ``model.fit`` against our loop, and the CPU's peak.

Everything is measured in ONE process, the variants interleaved round after
round, so that other load on a shared machine hits them alike; compare the
ratios, and prefer the per-CPU-second figures to wall clips/s when the load
average exceeds the core count.

Prints, for Light-SERNet at 3 s MFCC, batch 32, Adam, on random arrays of the
default fold's size (528 training / 176 validation clips; only the network
and the loop are measured):

* plain ``model.fit`` (no callbacks): the ceiling our loop is compared with;
* our :func:`sercompress.train.fit` per steady epoch (precise BN on 8 batches
  compiled, validation, best-weights copy), and the same loop with the
  precise-BN passes run eagerly as before issue 13 (``--no-before`` skips it);
* where an epoch of our loop goes: training steps, precise BN, validation;
* the cost of a ``fit()`` call's first epoch over a steady one (graph tracing,
  paid again by every compression step);
* the fraction of the CPU's float32 peak the training steps reach;
* our loop in mixed bfloat16 (``precision = "auto"`` on a CPU with AVX512-BF16 / AMX, what the
  default run trains the reference and the baselines with); its share of the *float32* peak can
  exceed 100 %: the matrix units multiply bfloat16 faster than the vector units multiply float32.

``--threads 1`` measures what one worker process of ``sercompress run`` gets (one TensorFlow thread).

The peak is derived like the hardware profiles' clock-based figures: cores x
clock x float32 lanes of the widest vector unit (``/proc/cpuinfo`` flags) x 2
(fused multiply-add) x FMA units per core (``--fma-units``, 2 on server cores
with AVX2 / AVX-512; not visible in cpuinfo). A training step costs 3 x the
forward MACs (forward, input gradients, weight gradients), 2 FLOPs per MAC.

Usage: ``python bench/train_throughput.py [--rounds 2] [--train 528] [--val 176] [--threads N] [--skip-data]``.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import numpy as np

BATCH = 32


@dataclass(frozen=True)
class CpuPeak:
    cores: int
    clock_hz: float
    vector_bits: int
    fma_units: int
    model: str

    @property
    def flops_per_core(self) -> float:
        return self.clock_hz * (self.vector_bits // 32) * 2 * self.fma_units

    @property
    def flops(self) -> float:
        return self.cores * self.flops_per_core


def cpu_peak(fma_units: int) -> CpuPeak:
    """float32 peak of this machine from /proc/cpuinfo (clock from hw_profiles/host.toml if absent)."""
    text = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").is_file() else ""
    fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
    fields = {k.strip(): v.strip() for k, v in fields.items()}
    flags = set(fields.get("flags", "").split())
    bits = 512 if "avx512f" in flags else 256 if "avx" in flags else 128
    clock = float(fields["cpu MHz"]) * 1e6 if "cpu MHz" in fields else _host_clock()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return CpuPeak(cores, clock, bits, fma_units if "fma" in flags else 1, fields.get("model name", "?"))


def _host_clock() -> float:
    from sercompress.profile.hardware import get_hw_profile

    return float(get_hw_profile("host").clock_hz)


class _CpuClock:
    """Keras callback: wall and CPU seconds of each epoch, everything in it included.

    Registered after our monitor, so its on_epoch_end (precise BN, validation) is inside.
    """

    def __new__(cls):
        from sercompress.tf_env import keras

        class Timer(keras().callbacks.Callback):
            def __init__(self):
                super().__init__()
                self.epochs: list[tuple[float, float]] = []

            def on_epoch_begin(self, epoch, logs=None):
                self._t = (time.perf_counter(), time.process_time())

            def on_epoch_end(self, epoch, logs=None):
                self.epochs.append((time.perf_counter() - self._t[0], time.process_time() - self._t[1]))

        return Timer()


def _clock(fn) -> tuple[float, float]:
    t, c = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - t, time.process_time() - c


def _data(n_train: int, n_val: int, shape: tuple[int, ...]) -> SimpleNamespace:
    rng = np.random.default_rng(0)

    def split(n):
        return SimpleNamespace(x=rng.normal(size=(n, *shape)).astype(np.float32), y=rng.integers(0, 4, n))

    return SimpleNamespace(train=split(n_train), val=split(n_val), classes=("a", "b", "c", "d"))


def measure(n_train: int, n_val: int, rounds: int, before: bool) -> dict[str, list[tuple[float, float]]]:
    """(wall s, CPU s) per epoch of each variant, interleaved round by round."""
    from sercompress.models import light_sernet
    from sercompress.progress import Progress
    from sercompress.tf_env import cpu_has_bf16, dtype_policy, keras, seed_everything
    from sercompress.train import TrainConfig, fit, loop
    from sercompress.train.batchnorm import PreciseBatchNorm
    from sercompress.train.loop import _validate
    from sercompress.train.losses import make_loss

    seed_everything(0)
    plain = light_sernet(4)
    data = _data(n_train, n_val, plain.input_shape[1:])
    plain.compile(optimizer=keras().optimizers.Adam(1e-4), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    plain.fit(data.train.x, data.train.y, batch_size=BATCH, epochs=1, verbose=0)  # trace
    cfg = TrainConfig(epochs=3, seed=0)
    out: dict[str, list[tuple[float, float]]] = {}

    def add(name, value):
        out.setdefault(name, []).append(value)

    def ours(name):
        timer = _CpuClock()
        fit(light_sernet(4), data, cfg, callbacks=[timer], progress=Progress(quiet=True))
        add(f"{name} first epoch", timer.epochs[0])
        for e in timer.epochs[1:]:
            add(name, e)

    eager = PreciseBatchNorm(plain, compiled=False)
    compiled = PreciseBatchNorm(plain, compiled=True)
    compiled(data.train.x, batches=8, batch_size=BATCH)  # trace
    loss = make_loss("cross_entropy")
    for _ in range(rounds):
        add("plain fit", _clock(lambda: plain.fit(data.train.x, data.train.y, batch_size=BATCH, epochs=1,
                                                  shuffle=True, verbose=0)))
        ours("our fit")
        if cpu_has_bf16():
            with dtype_policy("mixed_bfloat16"):
                ours("our fit, mixed bfloat16")
        if before:
            real = loop.PreciseBatchNorm
            loop.PreciseBatchNorm = lambda model, compiled, _real=real: _real(model, compiled=False)
            try:
                ours("our fit, eager precise BN (before)")
            finally:
                loop.PreciseBatchNorm = real
        add("precise BN, compiled", _clock(lambda: compiled(data.train.x, batches=8, batch_size=BATCH)))
        add("precise BN, eager", _clock(lambda: eager(data.train.x, batches=8, batch_size=BATCH)))
        add("validation", _clock(lambda: _validate(plain, data.val, data.classes, loss, BATCH)))
    return out


def prepare_times() -> dict[str, float]:
    from sercompress.dataset import DataConfig, prepare

    with tempfile.TemporaryDirectory() as cache:
        cfg = DataConfig(cache_dir=cache)
        t = time.perf_counter()
        data = prepare(cfg)
        cold = time.perf_counter() - t
        t = time.perf_counter()
        prepare(cfg)
        warm = time.perf_counter() - t
    return {"clips": len(data.train) + len(data.val) + len(data.test), "cold_s": cold, "warm_s": warm}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--train", type=int, default=528, help="training clips per epoch (default: 528, the default fold)")
    p.add_argument("--val", type=int, default=176, help="validation clips (default: 176)")
    p.add_argument("--rounds", type=int, default=2, help="interleaved rounds of every variant (default: 2)")
    p.add_argument("--fma-units", type=int, default=2, help="FMA units per core (default: 2)")
    p.add_argument("--no-before", action="store_true", help="skip the eager precise-BN loop")
    p.add_argument("--skip-data", action="store_true", help="do not time dataset.prepare")
    p.add_argument("--threads", type=int, default=None,
                   help="TensorFlow threads (default: all cores; 1 = what one worker of `run` gets)")
    args = p.parse_args()
    if args.threads:
        os.environ["TF_NUM_INTRAOP_THREADS"] = str(args.threads)
        from sercompress.tf_env import tf

        tf().config.threading.set_intra_op_parallelism_threads(args.threads)

    from sercompress.models import count_macs, light_sernet

    peak = cpu_peak(args.fma_units)
    load0 = os.getloadavg()[0]
    print(f"TensorFlow threads: {args.threads or 'all cores'}")
    print(f"machine: {peak.model}; {peak.cores} cores at {peak.clock_hz / 1e9:.2f} GHz, {peak.vector_bits}-bit "
          f"vectors, {peak.fma_units} FMA units/core -> float32 peak {peak.flops / 1e9:.0f} GFLOP/s "
          f"({peak.flops_per_core / 1e9:.0f} per core); load average {load0:.1f} at start")
    macs = count_macs(light_sernet(4))
    train_flops = 6 * macs  # 3 x forward MACs, 2 FLOPs each
    res = measure(args.train, args.val, args.rounds, before=not args.no_before)
    print(f"load average {os.getloadavg()[0]:.1f} at the end (other work skews wall figures; CPU figures less)")
    print(f"\nLight-SERNet 3 s MFCC, {macs / 1e6:.0f} M MACs forward, {train_flops / 1e9:.2f} GFLOP per "
          f"training clip; {args.train} train / {args.val} val clips; median over {args.rounds} round(s)")
    print(f"{'per epoch':48s} {'wall s':>7s} {'CPU s':>7s} {'clips/s':>8s} {'clips/CPU-s':>11s} "
          f"{'peak % (CPU)':>12s}")
    med = {k: tuple(float(np.median([v[i] for v in vs])) for i in range(2)) for k, vs in res.items()}
    for name, (wall, cpu) in med.items():
        clips = args.train if "fit" in name else args.val if name == "validation" else min(8 * BATCH, args.train)
        rate = f"{clips / wall:8.0f} {clips / cpu:11.0f}"
        frac = (f"{100 * clips * train_flops / cpu / peak.flops_per_core:11.1f}%" if "fit" in name and
                "first" not in name else "")
        print(f"{name:48s} {wall:7.2f} {cpu:7.2f} {rate} {frac:>12s}")
    ceiling, ours = med["plain fit"], med["our fit"]
    print(f"\nour loop / plain fit: {ceiling[0] / ours[0]:.2f} of the wall throughput, "
          f"{ceiling[1] / ours[1]:.2f} of the per-CPU-second throughput")
    before = med.get("our fit, eager precise BN (before)")
    if before:
        print(f"after / before (compiled vs eager precise BN): x{before[0] / ours[0]:.2f} wall, "
              f"x{before[1] / ours[1]:.2f} CPU")
    first = med["our fit first epoch"]
    print(f"a fit() call's first epoch costs {first[0] - ours[0]:.1f} s wall / {first[1] - ours[1]:.1f} CPU-s more "
          f"than a steady one (tracing the train, precise-BN and predict graphs)")
    if not args.skip_data:
        d = prepare_times()
        print(f"default corpus: {d['clips']} clips; prepare cold {d['cold_s']:.1f} s, warm {d['warm_s']:.2f} s")


if __name__ == "__main__":
    main()
