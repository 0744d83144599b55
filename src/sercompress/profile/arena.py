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

from .graph import Graph, Tensor

ARENA_ALIGNMENT = 16


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
        """Largest sum of simultaneously live buffers: no planner can do better."""
        times = {b.first_use for b in self.buffers}
        return max((sum(b.size for b in self.buffers if b.first_use <= t <= b.last_use)
                    for t in times), default=0)


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
    the simultaneously live buffers by increasing offset.
    """
    order = sorted(range(len(buffers)), key=lambda i: (-buffers[i].size, -i))
    placed: list[tuple[int, int, int, int]] = []  # (offset, size, first, last), by offset
    offsets = [0] * len(buffers)
    for i in order:
        b = buffers[i]
        candidate = 0
        for offset, size, first, last in placed:
            if first > b.last_use or b.first_use > last:
                continue  # not alive at the same time
            if offset - candidate >= b.size:
                break
            candidate = max(candidate, offset + size)
        offsets[i] = candidate
        _insert_by_offset(placed, (candidate, b.size, b.first_use, b.last_use))
    result = tuple(Buffer(b.tensor_id, b.name, b.size, b.first_use, b.last_use, offsets[i])
                   for i, b in enumerate(buffers))
    peak = max((b.offset + b.size for b in result), default=0)
    return ArenaPlan(buffers=result, peak_bytes=peak)


def _insert_by_offset(placed: list[tuple[int, int, int, int]], entry: tuple[int, int, int, int]) -> None:
    """Insert after every entry with an offset <= the new one (TFLM's list order)."""
    pos = len(placed)
    for j, existing in enumerate(placed):
        if existing[0] > entry[0]:
            pos = j
            break
    placed.insert(pos, entry)
