"""Does the order of Light-SERNet's three first-layer branches change the TFLite Micro arena?

TFLite Micro's greedy planner lays tensors out by their lifetimes, and lifetimes follow the
operator order in the .tflite file. Light-SERNet has three parallel first-layer paths
(conv -> BN -> ReLU -> 2x2 average pool) concatenated before the LFLB blocks, so there are
several valid operator orders. This bench measures, on the real TFLite Micro arena
(``profile.measured_arena``), what they cost:

1. **Keras level** (the converter's own order, the export's reorder step switched off): the model is rebuilt from the reference's config with the three paths in
   each of the 6 *build* orders (layer order in the config), and with each of the 6
   *concatenation* orders (which permute the concat's channels; ``lflb1_conv``'s input-channel
   weights are permuted to match, so the function is the same). Same weights everywhere
   (random init, fixed seed). Each is exported int8 (int8 I/O) with the project's exporter,
   the operator order is read back from the file, the arena measured, and the int8 outputs
   compared with the default order's on random inputs (bit-identical or not). Then the
   project's export (``to_tflite``, which reorders branches with
   ``export.oporder.smallest_arena_order``) of the default model, measured the same way
   (row ``exported``).
2. **File level**: every topological order of the default file's first-layer operators (the
   converter's order re-emitted through ``tensorflow.lite.tools.flatbuffer_utils``, operator
   list permuted only) is measured the same way, so an order the converter never emits is
   covered too.

At 3 s (184 frames), at a 1 s window (59 frames) and optionally with channel-pruned paths
(``--pruned``: paths cut to 8 / 16 / 32 channels so their widths differ and the order could matter).

    python bench/branch_order.py [--frames 184 59] [--pruned] [--file-orders] [--inputs 8]
"""

from __future__ import annotations

import argparse
import itertools
import tempfile
from pathlib import Path

import numpy as np

PATHS = ("path1", "path2", "path3")


def reordered(base, build: tuple[int, ...], concat: tuple[int, ...]):
    """``base`` rebuilt with its paths' layers in ``build`` order and the concat inputs in ``concat`` order.

    Weights are copied by layer name; ``lflb1_conv``'s input channels follow the concat order,
    so the rebuilt model computes the same function as ``base``.
    """
    from sercompress.tf_env import keras

    config = base.get_config()
    layers = config["layers"]
    paths = {p: [c for c in layers if c["name"].startswith(p + "_")] for p in PATHS}
    others = [c for c in layers if not c["name"].startswith(PATHS)]
    first = others.index(next(c for c in others if c["name"] == "paths_concat"))
    config["layers"] = others[:first] + [c for i in build for c in paths[PATHS[i]]] + others[first:]
    concat_cfg = next(c for c in layers if c["name"] == "paths_concat")
    inbound = concat_cfg["inbound_nodes"][0]
    by_name = {entry[0]: entry for entry in inbound}
    concat_cfg["inbound_nodes"][0] = [by_name[f"{PATHS[i]}_pool"] for i in concat]
    model = keras().Model.from_config(config)
    widths = [int(base.get_layer(f"{p}_pool").output_shape[-1]) for p in PATHS]
    starts = np.cumsum([0, *widths])
    channels = np.concatenate([np.arange(starts[i], starts[i] + widths[i]) for i in concat])
    for layer in base.layers:
        weights = layer.get_weights()
        if layer.name == "lflb1_conv":
            weights = [weights[0][:, :, channels, :], *weights[1:]]
        model.get_layer(layer.name).set_weights(weights)
    return model


def converter_order(model, rep: np.ndarray) -> bytes:
    """The int8 file in the converter's own operator order (the export's reorder step switched off)."""
    from sercompress.export import oporder
    from sercompress.export.tflite import to_tflite

    step, oporder.smallest_arena_order = oporder.smallest_arena_order, lambda data: data
    try:
        return to_tflite(model, mode="int8", representative=rep, int8_io=True)
    finally:
        oporder.smallest_arena_order = step


def op_order(data: bytes) -> list[str]:
    """Operator names in file order, first-layer ops tagged with their path (from the output tensor)."""
    from sercompress.profile.tflite_reader import parse_tflite

    graph = parse_tflite("model.tflite", data)
    return [_short(layer) for layer in graph.layers]


def _short(layer) -> str:
    name = layer.outputs[0].name if layer.outputs else layer.name
    tag = next((p[-1] for p in PATHS if p in name), "")
    kind = {"CONV_2D": "c", "AVERAGE_POOL_2D": "p", "CONCATENATION": "cat"}.get(layer.raw_op, layer.raw_op)
    return f"{kind}{tag}" if kind in ("c", "p") else kind


def measure(data: bytes, workdir: Path, name: str) -> tuple[int, int]:
    """(TFLite Micro's total arena, its planned head) of the file, with the project's measurement."""
    from sercompress.profile import measured_arena, profile_artifact

    path = workdir / f"{name}.tflite"
    path.write_bytes(data)
    profile = measured_arena(profile_artifact(path))
    if profile.tflm is None:
        raise SystemExit(f"TFLite Micro could not load {path}: {profile.tflm_error}")
    return profile.tflm.total_bytes, profile.tflm.head_bytes


def outputs(data: bytes, workdir: Path, name: str, x: np.ndarray) -> np.ndarray:
    from sercompress.export.runtime import run_tflite

    path = workdir / f"{name}.tflite"
    path.write_bytes(data)
    return run_tflite(path, x)


def file_orders(data: bytes) -> list[tuple[tuple[str, ...], bytes]]:
    """Every topological order of the file's first-layer ops (rest unchanged), re-emitted."""
    from tensorflow.lite.tools import flatbuffer_utils as fu

    model = fu.read_model_from_bytearray(bytearray(data))
    ops = model.subgraphs[0].operators
    names = [fu.opcode_to_name(model, op.opcodeIndex) for op in ops]
    cat = names.index("CONCATENATION")
    head = list(range(cat))             # the three convs and pools, in the converter's order
    producer = {int(t): i for i in range(len(ops)) for t in ops[i].outputs}
    deps = {i: {producer[int(t)] for t in ops[i].inputs if int(t) in producer} for i in head}
    out = []
    for perm in itertools.permutations(head):
        if _valid(perm, deps):
            model.subgraphs[0].operators = [ops[i] for i in perm] + ops[cat:]
            tags = tuple(_tag(ops[i], model, fu) for i in perm)
            out.append((tags, bytes(fu.convert_object_to_bytearray(model))))
    model.subgraphs[0].operators = ops
    return out


def _valid(perm: tuple[int, ...], deps: dict[int, set[int]]) -> bool:
    seen: set[int] = set()
    for i in perm:
        if not deps[i] <= seen:
            return False
        seen.add(i)
    return True


def _tag(op, model, fu) -> str:
    name = model.subgraphs[0].tensors[int(op.outputs[0])].name.decode()
    kind = "c" if fu.opcode_to_name(model, op.opcodeIndex) == "CONV_2D" else "p"
    return kind + next(p[-1] for p in PATHS if p in name)


def base_model(frames: int, pruned: bool, seed: int):
    from sercompress.compress.channels import ChannelPlan, shrink
    from sercompress.models.lightsernet import light_sernet_from_shape
    from sercompress.tf_env import keras, tf

    keras().utils.set_random_seed(seed)
    tf().random.set_seed(seed)
    model = light_sernet_from_shape((frames, 40, 1), 4)
    rng = np.random.default_rng(seed)
    for layer in model.layers:  # BN statistics away from identity, so the folded weights are not trivial
        if type(layer).__name__ == "BatchNormalization":
            g, b, m, v = layer.get_weights()
            layer.set_weights([rng.uniform(0.5, 1.5, g.shape), rng.normal(0, 0.1, b.shape),
                               rng.normal(0, 0.1, m.shape), rng.uniform(0.5, 1.5, v.shape)])
    if not pruned:
        return model
    keep = {"path1_conv": 8, "path2_conv": 16, "path3_conv": 32}
    kept = {n: tuple(range(keep.get(n, int(model.get_layer(n).get_config()["filters"]))))
            for n in (layer.name for layer in model.layers if type(layer).__name__ == "Conv2D")
            if n != "classifier"}
    original = {n: int(model.get_layer(n).get_config()["filters"]) for n in kept}
    return shrink(model, ChannelPlan(kept=kept, original=original))


def run(frames: int, pruned: bool, args, workdir: Path) -> None:
    from sercompress.export.tflite import to_tflite

    rng = np.random.default_rng(args.seed)
    rep = rng.normal(0, 1, (args.inputs, frames, 40, 1)).astype(np.float32)
    x = rng.normal(0, 1, (args.inputs, frames, 40, 1)).astype(np.float32)
    base = base_model(frames, pruned, args.seed)
    label = f"{frames} frames" + (", paths pruned to 8/16/32 channels" if pruned else "")
    print(f"\n== {label} ==")
    print(f"{'build':>6} {'concat':>6} {'arena B':>9} {'head B':>9}  {'identical':>9}  first ops in the file")
    ref_out = None
    default_data = None
    orders = [(b, (0, 1, 2)) for b in itertools.permutations(range(3))]
    if args.concat:
        orders += [((0, 1, 2), c) for c in itertools.permutations(range(3)) if c != (0, 1, 2)]
    for build, concat in orders:
        model = reordered(base, build, concat)
        data = converter_order(model, rep)
        name = f"f{frames}{'p' if pruned else ''}_b{''.join(map(str, build))}_c{''.join(map(str, concat))}"
        total, head = measure(data, workdir, name)
        out = outputs(data, workdir, name, x)
        if ref_out is None:
            ref_out, default_data = out, data
        same = "yes" if np.array_equal(out, ref_out) else "NO"
        ops = op_order(data)
        first = " ".join(ops[:ops.index("cat") + 1])
        print(f"{''.join(str(i + 1) for i in build):>6} {''.join(str(i + 1) for i in concat):>6} "
              f"{total:>9,} {head:>9,}  {same:>9}  {first}")
    data = to_tflite(base, mode="int8", representative=rep, int8_io=True)
    total, head = measure(data, workdir, "exported")
    same = "yes" if np.array_equal(outputs(data, workdir, "exported", x), ref_out) else "NO"
    ops = op_order(data)
    print(f"{'exported':>13} {total:>9,} {head:>9,}  {same:>9}  {' '.join(ops[:ops.index('cat') + 1])}")
    if args.file_orders:
        print("-- every valid order of the first-layer ops, operator list permuted in the default file --")
        rows = []
        for tags, data in file_orders(default_data):
            total, head = measure(data, workdir, "perm")
            same = np.array_equal(outputs(data, workdir, "perm", x), ref_out)
            rows.append((total, head, same, " ".join(tags)))
        for total, head, same, tags in sorted(rows):
            print(f"{total:>9,} {head:>9,}  {'yes' if same else 'NO':>9}  {tags} cat")
        totals = [r[0] for r in rows]
        print(f"{len(rows)} orders: arena min {min(totals):,} B, max {max(totals):,} B")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, nargs="+", default=[184, 59])
    ap.add_argument("--pruned", action="store_true", help="also with paths pruned to 8/16/32 channels")
    ap.add_argument("--concat", action="store_true", help="also the 5 other concatenation orders")
    ap.add_argument("--file-orders", action="store_true", help="also every valid op order in the file")
    ap.add_argument("--inputs", type=int, default=8, help="random inputs (calibration and comparison)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for frames in args.frames:
            for pruned in (False, True) if args.pruned else (False,):
                run(frames, pruned, args, Path(tmp))


if __name__ == "__main__":
    main()
