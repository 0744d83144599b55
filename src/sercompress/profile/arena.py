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

Variable tensors (LSTM / SVDF state) are not planned: TFLM allocates them in
the persistent tail (:mod:`.persistent`). Kernel scratch buffers that TFLM's
reference kernels request are planned like TFLM does, alive during their op
only and placed after every tensor: an int8 ``TRANSPOSE_CONV``'s int32
accumulators and the gate buffers of ``UNIDIRECTIONAL_SEQUENCE_LSTM``. Small
requests (``MEAN``'s few bytes) are left out. The persistent tail (node and
tensor structs, op data) is :mod:`.persistent`'s; TFLM's own figure is :mod:`.tflm`'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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
        if t.is_constant or t.is_variable:
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


def scratch_buffers(graph: Graph, first_id: int, alignment: int = ARENA_ALIGNMENT) -> list[Buffer]:
    """Scratch buffers the reference kernels request, each alive during its op only."""
    out: list[Buffer] = []
    for layer in graph.layers:
        for size in scratch_request_bytes(layer.raw_op, layer):
            out.append(Buffer(tensor_id=first_id + len(out), name=f"scratch:{layer.name}",
                              size=align_up(size, alignment), first_use=layer.index,
                              last_use=layer.index))
    return out


def scratch_request_bytes(raw_op: str, layer: Any) -> tuple[int, ...]:
    """Bytes of each scratch request of one op (measured against TFLM: ``tests/profile``).

    * int8 / int16 ``TRANSPOSE_CONV``: one accumulator per output element (int32 / int64);
    * ``UNIDIRECTIONAL_SEQUENCE_LSTM``: four gate buffers of ``units`` elements, float32 for
      a float cell, int16 for an integer one;
    * ``MEAN``: index arrays (an int per input dim, an int per reduced axis) and, for integer
      data, an int32 sum per output element.
    """
    out = layer.outputs[0] if layer.outputs else None
    if out is None:
        return ()
    if raw_op == "TRANSPOSE_CONV" and out.dtype in ("int8", "int16"):
        return (out.size * (4 if out.dtype == "int8" else 8),)
    if raw_op == "UNIDIRECTIONAL_SEQUENCE_LSTM":
        units = out.shape[-1] if out.shape else 1
        return (units * (4 if out.dtype == "float32" else 2),) * 4
    if raw_op == "MEAN" and layer.inputs:
        sums = (out.size * 4,) if out.dtype in ("int8", "int16") else ()
        return (4 * len(layer.inputs[0].shape), 4 * 2) + sums
    return ()


def plan_arena(graph: Graph, alignment: int = ARENA_ALIGNMENT) -> ArenaPlan:
    """TFLM's head: activations (tensor order), then kernel scratch buffers."""
    buffers = lifetimes(graph, alignment)
    first_scratch = max(graph.tensor_count, max((b.tensor_id for b in buffers), default=-1) + 1)
    return greedy_plan(buffers + scratch_buffers(graph, first_scratch, alignment))


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
