"""The executors: the same units give the same store under a local pool and under Ray, even when a
Ray worker is killed in the middle of one; bad Ray set-ups fail with one clear error.

One local Ray instance (2 CPUs) serves the whole module: starting one costs seconds.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from sercompress.errors import RunError
from sercompress.executors import (
    local_executor,
    open_executor,
    ray_executor,
    start_local_ray,
)
from sercompress.parallel import Unit, compute_ahead, plan
from sercompress.progress import Progress
from sercompress.runconfig import load_run_config, resolve_names
from sercompress.storage import DONE_MARKER, is_done, sha256_file
from sercompress.workunits import RECIPE_DIR

#: exported files: what a report's figures come from, compared by content
EXPORTED = ("*.tflite", "*.onnx")


def tiny_units(cache: Path):
    """The reference and two recipes (one without fine-tuning, one with a 1-epoch step) on 1-s clips."""
    quick = load_run_config("quick")
    data = quick.data.model_copy(update={"duration_s": 1.0, "synthetic_speakers": 4, "synthetic_per_emotion": 3,
                                         "synthetic_test_per_emotion": 4, "val_speakers": 1,
                                         "cache_dir": str(cache)})
    config = quick.model_copy(update={
        "data": data, "train": quick.train.model_copy(update={"epochs": 1}),
        "compress": quick.compress.model_copy(update={"recipes": ("ptq-int8", "prune-50"), "epochs_scale": 0.1})})
    recipes = resolve_names(config.compress.recipes, RECIPE_DIR, "recipe")
    return [u for u in plan(config, recipes, []) if u.kind != "controls"]


def store_contents(store: Path) -> tuple[set[str], dict[str, str]]:
    """Every finished entry's key (its path in the store) and the sha256 of every exported file."""
    entries = {str(p.parent.relative_to(store)) for p in store.rglob(DONE_MARKER)}
    entries |= {str(p.relative_to(store)) for p in (store / "steps").glob("*.weights.h5")}
    files = {str(p.relative_to(store)): sha256_file(p) for pattern in EXPORTED for p in store.rglob(pattern)
             if not any(part.startswith(".") for part in p.relative_to(store).parts)}
    return entries, files


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("features")


@pytest.fixture(scope="module")
def local_store(tmp_path_factory, cache) -> Path:
    """The units computed by the local process pool, one worker per core (one TensorFlow thread each)."""
    store = tmp_path_factory.mktemp("local") / "store"
    executor = local_executor(os.cpu_count() or 1)
    try:
        assert compute_ahead(tiny_units(cache), store, executor, Progress(quiet=True)) == []
    finally:
        executor.shutdown()
    return store


@pytest.fixture(scope="module")
def ray_instance():
    pytest.importorskip("ray", reason="the Ray executor's tests need the [ray] extra (make test installs it)")
    started = time.perf_counter()
    module = start_local_ray(cpus=2)
    print(f"local Ray instance started in {time.perf_counter() - started:.1f} s")
    yield module
    module.shutdown()


class Killer(threading.Thread):
    """Kills (SIGKILL) the Ray worker computing a variant once its first file is written, before DONE.

    The worker is the holder named in the variant directory's lock; what it leaves behind is
    recorded, to show it was half-written at the moment of the kill.
    """

    def __init__(self, store: Path, recipe: str, timeout_s: float = 300.0) -> None:
        super().__init__(daemon=True)
        self.store, self.recipe, self.deadline = store, recipe, time.monotonic() + timeout_s
        self.killed: int | None = None
        self.left: set[str] = set()
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set() and time.monotonic() < self.deadline:
            for vdir in (self.store / "variants").glob(f"{self.recipe}-*"):
                if any(vdir.glob("*.tflite")) and not is_done(vdir) and self._kill(vdir / ".lock"):
                    self.left = {p.name for p in vdir.iterdir()}
                    return
            time.sleep(0.05)

    def _kill(self, lock: Path) -> bool:
        try:
            pid = int(lock.read_text())
            title = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        except (OSError, ValueError):
            return False
        if not title.startswith("ray::"):  # only ever a Ray worker of ours
            return False
        os.kill(pid, signal.SIGKILL)
        self.killed = pid
        return True


@pytest.mark.slow
def test_ray_gives_the_local_pools_store_even_after_a_worker_is_killed_mid_unit(local_store, ray_instance,
                                                                               cache, tmp_path):
    store = tmp_path / "store"
    killer = Killer(store, "prune-50")
    killer.start()
    try:
        with open_executor("ray") as executor:  # the module's Ray instance, left running
            assert executor.slots == 2
            failed = compute_ahead(tiny_units(cache), store, executor, Progress(quiet=True))
    finally:
        killer.stop.set()
        killer.join()
    assert killer.killed is not None, "no Ray worker was caught writing the prune-50 variant"
    assert "model.tflite" in killer.left and DONE_MARKER not in killer.left  # half-written when killed
    assert failed == []  # Ray ran the unit again on another worker
    assert ray_instance.is_initialized()
    entries, files = store_contents(store)
    assert any(e.startswith("variants/prune-50-") for e in entries) and len(entries) == 4  # + reference, step
    assert len(files) == 5  # two variants' .tflite and .onnx, prune-50's int8 .tflite
    assert (entries, files) == store_contents(local_store)


@pytest.mark.slow
def test_a_unit_that_fails_is_named(ray_instance, tmp_path):
    """Ray retries dead workers, not errors: a unit's own failure is reported as under the pool."""
    config = load_run_config("quick")
    broken = Unit("baseline:missing", "baseline", config, (str(tmp_path / "missing.toml"),))
    with open_executor("ray") as executor:
        assert compute_ahead([broken], tmp_path / "store", executor, Progress(quiet=True)) == ["baseline:missing"]


def test_missing_ray_is_one_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(RunError, match=r"pip install 'sercompress\[ray\]'"):
        ray_executor(None)


@pytest.mark.parametrize("address", ["http://head:6379", "head", "ray://head:port"])
def test_malformed_address_is_refused_before_ray_is_asked(address):
    pytest.importorskip("ray")
    with pytest.raises(RunError, match="not a Ray cluster address"), open_executor("ray", address=address):
        pass


@pytest.mark.slow
def test_unreachable_cluster_is_one_clear_error():
    """In a fresh process (this one may have a Ray instance already): no traceback, the address named."""
    pytest.importorskip("ray")
    code = ("import sys\nfrom sercompress.errors import RunError\nfrom sercompress.executors import open_executor\n"
            "try:\n    open_executor('ray', address='ray://127.0.0.1:9').__enter__()\n"
            "except RunError as e:\n    print(e)\n    sys.exit(2)\n")
    started = time.perf_counter()
    # Ray Client tries 3 times, waiting 5, 10 and 15 s by default: 1 s each here
    env = {**os.environ, "RAY_CLIENT_INITIAL_CONNECTION_TIMEOUT_S": "1", "RAY_CLIENT_MAX_CONNECTION_TIMEOUT_S": "1"}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False,
                          env=env)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "cannot connect to the Ray cluster at ray://127.0.0.1:9" in proc.stdout
    assert time.perf_counter() - started < 60


def test_sweep_refuses_a_bad_executor_before_writing_anything(tmp_path, capsys):
    from sercompress.cli import main

    out = tmp_path / "sweep"
    rc = main(["sweep", "--config", "quick", "--out", str(out), "--executor", "ray", "--address", "head"])
    assert rc == 2
    assert "not a Ray cluster address" in capsys.readouterr().err and not out.exists()


def test_address_belongs_to_ray():
    with pytest.raises(RunError, match="--executor ray"), open_executor("local", 1, address="auto"):
        pass
