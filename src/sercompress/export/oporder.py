"""Order parallel branches in a .tflite file so TensorFlow Lite Micro's arena is smallest.

Why: TFLite Micro plans the arena from tensor lifetimes, which follow the operator order
in the file. The converter does not keep the Keras order: it emits parallel branches one
after the other sorted by their op *names* (measured in ``bench/branch_order.py``:
Light-SERNet's three first-layer paths come out ``path1, path2, path3`` whatever the Keras
build or concatenation order). While branch ``k`` runs, the finished branches' outputs are
alive, so a wide branch run last costs more than a wide branch run first. With equal
branches (the reference) every order costs the same; with channel-pruned paths of unequal
width the widest-first order is smaller (8/16/32 channels at 3 s: 338,560 -> 294,400 planned
bytes).

:func:`smallest_arena_order` finds each join op whose inputs come from single-input chains
that start at one shared tensor (a fork/join region), tries the orders of those chains
(every interleaving of their ops when there are few, else every order of whole chains)
with the project's TFLM planner (:func:`~sercompress.profile.arena.plan_arena`), and
re-emits the file only when an order plans strictly smaller. Only the operator list
changes: same tensors, same weights, same kernels, so the outputs are bit-identical.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import replace

#: More chains than this are left alone (their orders grow as n!).
MAX_CHAINS = 5
#: Every interleaving of the chains' ops is planned when there are at most this many (Light-SERNet's
#: three conv -> pool paths: 90); beyond, only whole chains are permuted.
MAX_ORDERS = 2000


def smallest_arena_order(data: bytes) -> bytes:
    """``data`` with its parallel branches reordered when that lowers the planned arena, else ``data``."""
    from ..profile.arena import plan_arena
    from ..profile.tflite_reader import parse_tflite

    graph = parse_tflite("model.tflite", data)
    order = list(range(len(graph.layers)))
    best = plan_arena(graph).peak_bytes
    improved = False
    for chains, start in _regions(graph):
        n = sum(len(c) for c in chains)
        small = math.factorial(n) // math.prod(math.factorial(len(c)) for c in chains) <= MAX_ORDERS
        flats = _interleavings(chains) if small else \
            ([i for chain in perm for i in chain] for perm in itertools.permutations(chains))
        for flat in flats:
            candidate = order[:start] + list(flat) + order[start + n:]
            peak = plan_arena(_reordered(graph, candidate)).peak_bytes
            if peak < best:
                best, order, improved = peak, candidate, True
    return _emit(data, order) if improved else data


def _interleavings(chains: list[list[int]]):
    """Every order of the chains' ops that keeps each chain's own order (the region's topological orders)."""
    if all(not c for c in chains):
        yield ()
        return
    for k, chain in enumerate(chains):
        if chain:
            rest = chains[:k] + [chain[1:]] + chains[k + 1:]
            for tail in _interleavings(rest):
                yield (chain[0], *tail)


def _regions(graph) -> list[tuple[list[list[int]], int]]:
    """(chains of layer indices, first index) of every contiguous fork/join region."""
    producer = {t.id: layer.index for layer in graph.layers for t in layer.outputs}
    readers: dict[int, int] = {}
    for layer in graph.layers:
        for t in layer.inputs:
            readers[t.id] = readers.get(t.id, 0) + 1
    regions = []
    for join in graph.layers:
        if not 2 <= len(join.inputs) <= MAX_CHAINS:
            continue
        chains, roots = [], set()
        for t in join.inputs:
            chain, tid = [], t.id
            while tid in producer and readers.get(tid) == 1 and len(graph.layers[producer[tid]].inputs) == 1:
                chain.insert(0, producer[tid])
                tid = graph.layers[producer[tid]].inputs[0].id
            chains.append(chain)
            roots.add(tid)
        ops = sorted(i for chain in chains for i in chain)
        if len(roots) == 1 and all(chains) and ops == list(range(ops[0], join.index)):
            regions.append((sorted(chains), ops[0]))
    return regions


def _reordered(graph, order: list[int]):
    return replace(graph, layers=tuple(replace(graph.layers[i], index=k) for k, i in enumerate(order)))


def _emit(data: bytes, order: list[int]) -> bytes:
    """The file re-serialised with its (first subgraph's) operators in ``order``."""
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.read_model_from_bytearray(bytearray(data))
    ops = model.subgraphs[0].operators
    model.subgraphs[0].operators = [ops[i] for i in order]
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model))
