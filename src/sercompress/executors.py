"""Where work units run: a local process pool, or the tasks of a Ray cluster.

Why two: one machine is the common case and needs nothing more than the standard
library; a cross-validated sweep (folds x seeds x recipes) outgrows one machine, and
users who reach that point already run Ray. Both executors look the same to the
scheduler (``parallel.compute_ahead``): ``slots`` units kept in flight, ``submit``
returning a ``concurrent.futures.Future``, ``shutdown``. Both set up each worker the
same way before TensorFlow loads in it (one TensorFlow thread per unit, the run's
verbosity), so a unit gives the same files, with the same hashes, under either.

A Ray worker that dies (killed, out of memory, its node lost) is retried by Ray
(``MAX_RETRIES``). The retry finds the store as the dead worker left it: every
finished entry carries a ``DONE`` marker written last (references, variants), every
step checkpoint is renamed into place whole, and a lock whose process is gone is taken
over (``storage``), so what the dead worker half-wrote is recomputed, never reused.

Ray is optional (``pip install sercompress[ray]``) and imported only here, only when
asked for.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import re
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, Literal, Protocol

from .errors import RunError

ExecutorKind = Literal["local", "ray"]
#: how often Ray re-runs a task whose worker process died (not one that raised)
MAX_RETRIES = 3
#: a local Ray instance's object store: units pass paths and small records, never arrays
OBJECT_STORE_BYTES = 200 * 1024 * 1024
#: what ``--address`` accepts: "auto", "host:port" or "ray://host:port"
_ADDRESS = re.compile(r"^(auto|(ray://)?[A-Za-z0-9._\-\[\]:]+:\d{1,5})$")
_INSTALL_HINT = "pip install 'sercompress[ray]'"


class UnitExecutor(Protocol):
    """What the scheduler needs of an executor."""

    slots: int  # units kept in flight

    def submit(self, fn: Callable[..., Any], /, *args: Any) -> Future: ...

    def shutdown(self) -> None: ...


def worker_count(requested: int | None = None, cpus: int | None = None) -> int:
    """Worker processes for a run: one per core unless asked for fewer (1 = no workers)."""
    cpus = cpus or os.cpu_count() or 1
    return max(1, min(cpus, requested if requested is not None else cpus))


def start_worker(threads: int, verbose_flag: bool) -> None:
    """One TensorFlow thread pool of ``threads`` in this worker, set before TensorFlow runs anything.

    Called once per worker process (the pool's initializer, the first Ray task a worker runs);
    later calls do nothing, since TensorFlow refuses a new thread count once it has started.
    """
    global _started
    if _started:
        return
    os.environ["TF_NUM_INTRAOP_THREADS"] = str(threads)
    os.environ["OMP_NUM_THREADS"] = str(threads)
    from .tf_env import set_verbose, tf

    set_verbose(verbose_flag)
    tf().config.threading.set_intra_op_parallelism_threads(threads)
    _started = True


_started = False


class LocalExecutor:
    """A spawn process pool: no state forked from the parent, TensorFlow loaded fresh in each worker."""

    def __init__(self, workers: int) -> None:
        from .tf_env import verbose

        self.slots = workers
        threads = max(1, (os.cpu_count() or 1) // workers)
        self._pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                         initializer=start_worker, initargs=(threads, verbose()))

    def start(self) -> None:
        """Start every worker now rather than at the first unit: each loads TensorFlow (about 5 s of
        one core) while the caller still prepares the data on the other. (A spawn pool starts a
        process per submitted task while none is idle, so one no-op per slot starts them all.)"""
        for _ in range(self.slots):
            self._pool.submit(int)

    def submit(self, fn: Callable[..., Any], /, *args: Any) -> Future:
        return self._pool.submit(fn, *args)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def local_executor(workers: int) -> LocalExecutor:
    """Today's process pool: ``workers`` spawned processes, the cores shared among their TensorFlow threads."""
    return LocalExecutor(workers)


class RayExecutor:
    """Each unit one Ray task of one CPU, so a node runs no more units at once than it has cores."""

    def __init__(self, ray: Any, disconnect: bool) -> None:
        from .tf_env import verbose

        self._ray, self._disconnect, self._verbose = ray, disconnect, verbose()
        self._task = ray.remote(num_cpus=1, max_retries=MAX_RETRIES, retry_exceptions=False)(_ray_task)
        self._pending: set[Any] = set()
        self.slots = max(1, int(ray.cluster_resources().get("CPU", 1)))

    def submit(self, fn: Callable[..., Any], /, *args: Any) -> Future:
        ref = self._task.options(name=getattr(fn, "__name__", "task")).remote(fn, args, self._verbose)
        self._pending.add(ref)
        future = ref.future()
        future.add_done_callback(lambda _: self._pending.discard(ref))
        return future

    def shutdown(self) -> None:
        """Cancel what is still running, then leave Ray: ``ray.shutdown`` stops the processes of a Ray
        instance this executor started and only disconnects from a cluster it connected to."""
        for ref in list(self._pending):
            try:
                self._ray.cancel(ref, force=True)
            except Exception:  # noqa: BLE001, S110  (already finished, or the cluster is gone: nothing to stop)
                pass
        self._pending.clear()
        if self._disconnect:
            self._ray.shutdown()


def _ray_task(fn: Callable[..., Any], args: tuple, verbose_flag: bool) -> Any:
    """Inside a Ray worker: the local workers' set-up (one TensorFlow thread), then the unit."""
    start_worker(1, verbose_flag)
    return fn(*args)


def import_ray() -> Any:
    """Ray, or one clear error saying how to install it."""
    try:
        import ray
    except ImportError:
        raise RunError(f"the Ray executor needs Ray, which is not installed: {_INSTALL_HINT}",
                       key="--executor") from None
    return ray


def start_local_ray(cpus: int | None = None) -> Any:
    """A private Ray instance on this machine (no dashboard, a small object store); Ray's module.

    ``address="local"``: a new instance even where ``ray start`` or ``$RAY_ADDRESS`` names a cluster
    (which ``ray.init()`` would join instead)."""
    ray = import_ray()
    ray.init(address="local", num_cpus=cpus or os.cpu_count() or 1, include_dashboard=False,
             object_store_memory=OBJECT_STORE_BYTES, log_to_driver=False, configure_logging=False)
    return ray


def check_executor(kind: str, address: str | None = None) -> None:
    """What can be known of an executor before anything starts: its kind, the address's form, Ray's
    presence. For commands that check their arguments before writing anything; ``RunError`` if wrong."""
    if kind not in ("local", "ray"):
        raise RunError(f"unknown executor {kind!r} (expected local or ray)", key="--executor")
    if kind == "local" and address is not None:
        raise RunError("--address is for --executor ray", key="--address")
    if address is not None and not _ADDRESS.match(address):
        raise RunError(f"not a Ray cluster address: {address!r} (expected auto, host:port or ray://host:port)",
                       key="--address")
    if kind == "ray":
        import_ray()


def ray_executor(address: str | None, cpus: int | None = None) -> RayExecutor:
    """Tasks on the Ray cluster at ``address`` ("auto", "host:port", "ray://host:port"), which is never
    stopped here; without one, on a Ray instance started on this machine (``cpus`` CPUs, default all)
    and stopped afterwards. A Ray already initialised in this process is used as it is, and left so."""
    check_executor("ray", address)
    ray = import_ray()
    if ray.is_initialized():
        return RayExecutor(ray, disconnect=False)
    if address is None:
        return RayExecutor(start_local_ray(cpus), disconnect=True)
    try:
        with warnings.catch_warnings():  # Ray Client's own warning repeats what the error below says
            warnings.simplefilter("ignore")
            ray.init(address=address, log_to_driver=False, configure_logging=False)
    except Exception as e:  # noqa: BLE001  (ConnectionError, RuntimeError, gRPC errors: all "cannot reach it")
        with contextlib.suppress(Exception):
            ray.shutdown()
        cause = str(e).strip().splitlines()[0] if str(e).strip() else "no answer"
        raise RunError(f"cannot connect to the Ray cluster at {address} ({type(e).__name__}: {cause}); is it "
                       f"running, and its port reachable from here?", key="--address") from None
    return RayExecutor(ray, disconnect=True)


@contextlib.contextmanager
def open_executor(kind: ExecutorKind, workers: int | None = None,
                  address: str | None = None) -> Iterator[LocalExecutor | RayExecutor]:
    """The executor of ``kind`` for the duration of the block; its workers stopped after it."""
    check_executor(kind, address)
    executor = local_executor(worker_count(workers)) if kind == "local" else ray_executor(address, workers)
    try:
        yield executor
    finally:
        executor.shutdown()
