"""Tensor-arena plan of a graph, as TFLite Micro's ``GreedyMemoryPlanner`` makes it.

Peak RAM of a microcontroller deployment is the size of the tensor arena, and
most of the arena is the activation plan: every non-constant tensor (graph
inputs and outputs included) lives from the op that creates it to the last op
that reads it, and tensors whose lifetimes overlap cannot share bytes. TFLM
does not solve this optimally; it places buffers greedily, largest first, each
at the lowest offset that does not collide with a simultaneously live buffer.
Reproducing that exact greedy order (including its tie-break) is what makes
the estimate agree with the real arena instead of a lower bound.

Lifetimes follow TFLM's ``AllocationInfoBuilder``: graph inputs are created at
time 0, the outputs of op ``i`` at time ``i``, inputs of op ``i`` are last
used at ``i``, and graph outputs stay alive past the last op. Sizes are
rounded up to the 16-byte ``MicroArenaBufferAlignment``.

Not modelled: kernel scratch buffers (the reference kernels ask for a few
bytes, e.g. ``MEAN``) and the arena tail (persistent op data, node structs),
which :mod:`.tflm` measures.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ProfileError
from .graph import Graph, Tensor

ARENA_ALIGNMENT = 16
#: Bound on the planner's work (sum of buffer lifetimes in op steps): 100k-op chains take
#: ~200k; a graph needing more than this is refused rather than planned for minutes.
MAX_PLAN_WORK = 20_000_000


@dataclass(frozen=True)
class Buffer:
    """One activation buffer of the plan."""

    tensor_id: int
    name: str
    size: int          # aligned bytes
    first_use: int     # op index that creates it (0 for graph inputs)
    last_use: int      # last op index that reads it (len(layers) for graph outputs)
    offset: int = -1


@dataclass(frozen=True)
class ArenaPlan:
    buffers: tuple[Buffer, ...]
    peak_bytes: int    # highest offset + size: the planned (head) arena size

    @property
    def lower_bound_bytes(self) -> int:
        """Largest sum of simultaneously live buffers: no planner can do better (a sweep)."""
        events = sorted([(b.first_use, b.size) for b in self.buffers]
                        + [(b.last_use + 1, -b.size) for b in self.buffers],
                        key=lambda e: (e[0], e[1]))   # ends before starts at the same time
        live = best = 0
        for _, delta in events:
            live += delta
            best = max(best, live)
        return best


def align_up(n: int, alignment: int = ARENA_ALIGNMENT) -> int:
    return (n + alignment - 1) // alignment * alignment


def lifetimes(graph: Graph, alignment: int = ARENA_ALIGNMENT) -> list[Buffer]:
    """Buffers in TFLM's tensor order (by tensor id) with their lifetimes."""
    first: dict[int, int] = {}
    last: dict[int, int] = {}
    tensors: dict[int, Tensor] = {}

    def touch(t: Tensor, time: int, created: bool) -> None:
        if t.is_constant:
            return
        tensors[t.id] = t
        if created:
            first[t.id] = min(first.get(t.id, time), time)
        last[t.id] = max(last.get(t.id, time), time)

    for t in graph.inputs:
        touch(t, 0, created=True)
    for layer in graph.layers:
        for t in layer.inputs:
            touch(t, layer.index, created=False)
        for t in layer.outputs:
            touch(t, layer.index, created=True)
    for t in graph.outputs:
        touch(t, len(graph.layers), created=False)
    buffers = []
    for tid in sorted(tensors):
        t = tensors[tid]
        if t.nbytes == 0:
            continue
        buffers.append(Buffer(tensor_id=tid, name=t.name, size=align_up(t.nbytes, alignment),
                              first_use=first.get(tid, 0), last_use=last[tid]))
    return buffers


def plan_arena(graph: Graph, alignment: int = ARENA_ALIGNMENT) -> ArenaPlan:
    return greedy_plan(lifetimes(graph, alignment))


def greedy_plan(buffers: list[Buffer]) -> ArenaPlan:
    """Place buffers as ``GreedyMemoryPlanner::CalculateOffsetsIfNeeded`` does.

    TFLM fills its sort array from the tail (so buffer ids end up reversed) and
    bubble-sorts it by decreasing size, which is stable: equal sizes are placed
    in decreasing id order. Each buffer then goes into the first gap, scanning
    the simultaneously live buffers by increasing offset (equal offsets in the
    order they were placed, as TFLM's linked list keeps them).

    TFLM scans every placed buffer for each new one (quadratic in the graph's
    size). Here placed buffers are indexed by the time steps they are alive, so
    a buffer only meets those it overlaps: O(n log n) for chain-like graphs, and
    at most the sum of the lifetimes in general, which :data:`MAX_PLAN_WORK`
    bounds (a graph beyond it is refused with a clear error, never planned for minutes).
    """
    work = sum(b.last_use - b.first_use + 1 for b in buffers)
    if work > MAX_PLAN_WORK:
        raise ProfileError(f"{len(buffers):,} activation buffers alive over {work:,} op steps in "
                           f"total: more than the planner's bound of {MAX_PLAN_WORK:,}")
    order = sorted(range(len(buffers)), key=lambda i: (-buffers[i].size, -i))
    alive_at: dict[int, list[int]] = {}   # time step -> placed buffer indices alive then
    offsets = [0] * len(buffers)
    placed_seq = [0] * len(buffers)
    for seq, i in enumerate(order):
        b = buffers[i]
        live = {j for t in range(b.first_use, b.last_use + 1) for j in alive_at.get(t, ())}
        candidate = 0
        for j in sorted(live, key=lambda j: (offsets[j], placed_seq[j])):
            if offsets[j] - candidate >= b.size:
                break
            candidate = max(candidate, offsets[j] + buffers[j].size)
        offsets[i], placed_seq[i] = candidate, seq
        for t in range(b.first_use, b.last_use + 1):
            alive_at.setdefault(t, []).append(i)
    result = tuple(Buffer(b.tensor_id, b.name, b.size, b.first_use, b.last_use, offsets[i])
                   for i, b in enumerate(buffers))
    peak = max((b.offset + b.size for b in result), default=0)
    return ArenaPlan(buffers=result, peak_bytes=peak)
