"""The arena planner: TFLM's greedy placement, lifetimes, alignment."""

from __future__ import annotations

import itertools

import pytest

from sercompress.profile import read_graph
from sercompress.profile.arena import ARENA_ALIGNMENT, Buffer, align_up, greedy_plan, lifetimes, plan_arena


def _buffers(*specs: tuple[int, int, int]) -> list[Buffer]:
    return [Buffer(tensor_id=i, name=f"b{i}", size=s, first_use=f, last_use=l)
            for i, (s, f, l) in enumerate(specs)]


def _assert_no_live_overlap(plan) -> None:
    for a, b in itertools.combinations(plan.buffers, 2):
        live_together = not (a.first_use > b.last_use or b.first_use > a.last_use)
        apart = a.offset + a.size <= b.offset or b.offset + b.size <= a.offset
        assert apart or not live_together, (a, b)


def test_buffers_with_disjoint_lifetimes_share_offset_zero():
    plan = greedy_plan(_buffers((10, 0, 1), (20, 2, 3)))
    assert [b.offset for b in plan.buffers] == [0, 0]
    assert plan.peak_bytes == 20


def test_chain_is_placed_largest_first_into_the_first_gap():
    # sizes 10..50 along a chain, each alive with its neighbours only
    plan = greedy_plan(_buffers((10, 0, 1), (20, 1, 2), (30, 2, 3), (40, 3, 4), (50, 4, 5)))
    # 50 at 0; 40 overlaps it -> 50; 30 fits under 40's gap at 0; 20 after 30; 10 at 0
    assert [b.offset for b in plan.buffers] == [0, 30, 0, 50, 0]
    assert plan.peak_bytes == 90
    _assert_no_live_overlap(plan)


def test_greedy_plan_is_valid_and_deterministic():
    # overlapping lifetimes of mixed sizes
    specs = ((32, 0, 2), (48, 1, 3), (16, 2, 4), (48, 3, 5), (32, 4, 6))
    plan = greedy_plan(_buffers(*specs))
    _assert_no_live_overlap(plan)
    assert plan.peak_bytes >= plan.lower_bound_bytes
    assert greedy_plan(_buffers(*specs)) == plan


def test_equal_sizes_are_placed_in_decreasing_id_order():
    # TFLM fills its sort array from the tail, so of two equal buffers the later id goes first
    plan = greedy_plan(_buffers((16, 0, 1), (16, 0, 1)))
    assert [b.offset for b in plan.buffers] == [16, 0]


def test_lifetimes_cover_inputs_from_zero_and_outputs_past_the_last_op(small_model):
    g = read_graph(small_model.int8)
    buffers = {b.tensor_id: b for b in lifetimes(g)}
    (inp,) = g.inputs
    (out,) = g.outputs
    assert buffers[inp.id].first_use == 0
    assert buffers[out.id].last_use == len(g.layers)
    assert all(b.size % ARENA_ALIGNMENT == 0 for b in buffers.values())
    constants = {w.id for layer in g.layers for w in layer.weights}
    assert not constants & set(buffers)


def test_plan_of_a_real_graph_has_no_overlap(light_sernet_int8):
    plan = plan_arena(read_graph(light_sernet_int8))
    _assert_no_live_overlap(plan)
    assert plan.peak_bytes >= plan.lower_bound_bytes
    # three 184x40x32 int8 path convolutions cannot all be alive at once
    assert plan.peak_bytes < 3 * 184 * 40 * 32


@pytest.mark.parametrize("n,aligned", [(1, 16), (16, 16), (17, 32), (0, 0)])
def test_align_up(n, aligned):
    assert align_up(n) == aligned
