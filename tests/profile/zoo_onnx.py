"""The ONNX half of the generated zoo (see :mod:`tests.profile.zoo`), built with ``onnx.helper``.

Each model is a short chain written with :class:`_Chain`, which tracks the NCHW shape
so the next layer can be sized. ``onnx_tool_macs`` is the independent count the
profiler is checked against: onnx-tool's own shape inference and per-node MAC
formulas, with its cost constants for element-wise work (bias adds, exp, division,
...) set to zero, since MACs here count multiply-accumulates only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

Zoo = list[tuple[str, Path]]


class _Chain:
    """A linear ONNX graph under construction, NCHW-style shape tracked by hand."""

    def __init__(self, shape: tuple[int, ...], seed: int):
        self.shape = shape
        self.rng = np.random.default_rng(seed)
        self.nodes: list[Any] = []
        self.inits: list[Any] = []
        self.inputs = [("x", list(shape))]
        self.cur = "x"
        self.n = 0

    def _name(self, base: str) -> str:
        self.n += 1
        return f"{base}{self.n}"

    def const(self, array: np.ndarray) -> str:
        from onnx import numpy_helper

        name = self._name("c")
        self.inits.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def weight(self, *shape: int) -> str:
        return self.const(self.rng.standard_normal(shape).astype(np.float32) * 0.1)

    def op(self, op_type: str, *extra: str, out_shape: tuple[int, ...] | None = None,
           inputs: list[str] | None = None, **attrs: Any) -> str:
        from onnx import helper

        out = self._name(op_type.lower())
        self.nodes.append(helper.make_node(op_type, (inputs or [self.cur]) + list(extra), [out],
                                           name=out, **attrs))
        self.cur = out
        if out_shape is not None:
            self.shape = out_shape
        return out

    def conv(self, cout: int, k: int | tuple[int, ...], stride: int = 1, group: int = 1,
             bias: bool = True) -> None:
        spatial = self.shape[2:]
        ks = (k,) * len(spatial) if isinstance(k, int) else k
        cin = self.shape[1]
        w = self.weight(cout, cin // group, *ks)
        extra = [w, self.weight(cout)] if bias else [w]
        pads = [kk // 2 for kk in ks] * 2
        out = tuple((s + 2 * (kk // 2) - kk) // stride + 1 for s, kk in zip(spatial, ks))
        self.op("Conv", *extra, out_shape=(self.shape[0], cout, *out), kernel_shape=list(ks),
                strides=[stride] * len(ks), pads=pads, group=group)

    def act(self, kind: str) -> None:
        if kind == "Clip6":
            self.op("Clip", self.const(np.float32(0)), self.const(np.float32(6)))
        elif kind == "Clip1":
            self.op("Clip", self.const(np.float32(-1)), self.const(np.float32(1)))
        elif kind == "PRelu":
            self.op("PRelu", self.weight(self.shape[1], *([1] * (len(self.shape) - 2))))
        elif kind == "LeakyRelu":
            self.op("LeakyRelu", alpha=0.1)
        elif kind == "BatchNorm":
            c = self.shape[1]
            self.op("BatchNormalization", self.weight(c), self.weight(c), self.weight(c),
                    self.const(np.ones(c, np.float32)))
        else:
            self.op(kind)

    def pool(self, kind: str, k: int) -> None:
        spatial = tuple(s // k for s in self.shape[2:])
        self.op(kind, out_shape=(*self.shape[:2], *spatial), kernel_shape=[k] * len(spatial),
                strides=[k] * len(spatial))

    def head(self, units: int) -> None:
        if len(self.shape) > 2:
            self.op("GlobalAveragePool", out_shape=(*self.shape[:2], *([1] * (len(self.shape) - 2))))
            self.op("Flatten", out_shape=self.shape[:2])
        self.op("Gemm", self.weight(self.shape[1], units), self.weight(units),
                out_shape=(self.shape[0], units))
        self.op("Softmax", axis=-1)

    def save(self, path: Path, opset: int = 18) -> None:
        import onnx
        from onnx import TensorProto, helper

        graph = helper.make_graph(
            self.nodes, path.stem,
            [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in self.inputs],
            [helper.make_tensor_value_info(self.cur, TensorProto.FLOAT, None)], self.inits)
        onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)]), path)


def _conv_net(c: _Chain, widths, k, stride, acts, depthwise=False) -> None:
    for i, w in enumerate(widths):
        if depthwise:
            c.conv(c.shape[1], 3, stride if i == 0 else 1, group=c.shape[1])
            c.act(acts[i % len(acts)])
        c.conv(w, 1 if depthwise else k, 1 if depthwise else (stride if i == 0 else 1))
        c.act(acts[i % len(acts)])
    c.head(4)


def _recurrent(c: _Chain, kind: str, hidden: int, directions: int) -> None:
    f = c.shape[2]
    gates = {"LSTM": 4, "GRU": 3, "RNN": 1}[kind]
    from onnx import helper

    ins = [c.cur, c.weight(directions, gates * hidden, f),
           c.weight(directions, gates * hidden, hidden), c.weight(directions, 2 * gates * hidden)]
    out = f"{kind.lower()}_y"
    c.nodes.append(helper.make_node(kind, ins, [out, f"{out}_h"], name=out, hidden_size=hidden,
                                    direction="bidirectional" if directions == 2 else "forward"))
    c.cur = out


def _builders() -> list[tuple[str, tuple[int, ...], Any]]:
    specs: list = []
    acts = [["Relu"], ["Clip6"], ["LeakyRelu"], ["HardSwish"], ["PRelu"], ["Sigmoid", "Relu"],
            ["Clip1"], ["BatchNorm", "Relu"], ["Tanh"], ["Elu"], ["HardSigmoid"], ["Relu"]]
    convs = [((4,), 3, 1, 1), ((8, 8), 3, 1, 3), ((16, 32), 3, 2, 3), ((3, 6, 12), 5, 1, 1),
             ((32,), 1, 1, 8), ((24, 24), 3, 2, 2), ((2, 4), 3, 1, 1), ((48,), 3, 2, 3),
             ((8, 16, 16), 3, 1, 4), ((12,), 5, 2, 2), ((6, 6), 3, 1, 6), ((16, 8, 4, 2), 3, 1, 1)]
    for i, ((widths, k, s, cin), a) in enumerate(zip(convs, acts)):
        name = f"conv2d_{'_'.join(map(str, widths))}_k{k}_s{s}_c{cin}_{a[0].lower()}"
        specs.append((name, (1, cin, 16, 16), lambda c, w=widths, k=k, s=s, a=a:
                      _conv_net(c, w, k, s, a)))
    for widths, s, cin in [((8,), 1, 4), ((16, 16), 2, 8), ((12,), 1, 3), ((32, 64), 2, 16),
                           ((6, 6, 6), 1, 6), ((4,), 2, 2)]:
        specs.append((f"separable_{'_'.join(map(str, widths))}_s{s}_c{cin}", (1, cin, 16, 16),
                      lambda c, w=widths, s=s: _conv_net(c, w, 3, s, ["Relu"], depthwise=True)))
    for widths, k in [((4,), 3), ((8, 16), 5), ((16,), 1)]:
        specs.append((f"conv1d_{'_'.join(map(str, widths))}_k{k}", (1, 3, 32),
                      lambda c, w=widths, k=k: _conv_net(c, w, k, 1, ["Relu"])))
    for widths, k in [((4,), 3), ((8,), 2), ((2, 4), 3)]:
        specs.append((f"conv3d_{'_'.join(map(str, widths))}_k{k}", (1, 2, 6, 6, 6),
                      lambda c, w=widths, k=k: _conv_net(c, w, k, 1, ["Relu"])))
    for kind, k, rank in [("MaxPool", 2, 2), ("AveragePool", 2, 2), ("MaxPool", 4, 2),
                          ("AveragePool", 3, 2), ("MaxPool", 2, 3), ("AveragePool", 2, 3)]:
        shape = (1, 4) + (12,) * rank
        specs.append((f"pool{rank}d_{kind.lower()}_k{k}", shape, lambda c, kind=kind, k=k: (
            c.conv(8, 3), c.act("Relu"), c.pool(kind, k), c.head(3))))
    for ta, tb, act_b, bias in [(0, 0, False, True), (1, 0, False, True), (0, 1, False, False),
                                (1, 1, False, True), (0, 0, True, True), (1, 0, True, False)]:
        specs.append((f"gemm_ta{ta}_tb{tb}_{'actb' if act_b else 'wb'}{'_bias' if bias else ''}",
                      (6, 10) if ta else (10, 6),
                      lambda c, ta=ta, tb=tb, act_b=act_b, bias=bias: _gemm(c, ta, tb, act_b, bias)))
    for shape, act_b in [((1, 20), False), ((4, 8, 16), False), ((2, 5, 7), True), ((3, 12), True)]:
        specs.append((f"matmul_{'x'.join(map(str, shape))}_{'actb' if act_b else 'wb'}", shape,
                      lambda c, act_b=act_b: _matmul(c, act_b)))
    for kind, t, b, f, h, d in [("LSTM", 8, 1, 4, 8, 1), ("LSTM", 12, 2, 10, 16, 1),
                                ("LSTM", 5, 1, 3, 4, 2), ("LSTM", 20, 1, 40, 32, 1),
                                ("GRU", 8, 1, 4, 8, 1), ("GRU", 6, 3, 12, 16, 2),
                                ("GRU", 10, 1, 20, 24, 1), ("RNN", 8, 1, 4, 8, 1),
                                ("RNN", 16, 2, 6, 10, 2)]:
        specs.append((f"{kind.lower()}_t{t}_b{b}_f{f}_h{h}_d{d}", (t, b, f),
                      lambda c, kind=kind, h=h, d=d: _recurrent(c, kind, h, d)))
    for kind in ("split_concat", "slice", "resize_nearest", "resize_linear", "pad_transpose",
                 "div_max_min"):
        specs.append((f"movement_{kind}", (1, 4, 8, 8), lambda c, kind=kind: _movement(c, kind)))
    for cin, cout, k, s in [(4, 4, 2, 2), (8, 4, 3, 2), (3, 6, 3, 1)]:
        specs.append((f"convtranspose_c{cin}_o{cout}_k{k}_s{s}", (1, cin, 6, 6),
                      lambda c, cout=cout, k=k, s=s: _transposed(c, cout, k, s)))
    return specs


def _transposed(c: _Chain, cout: int, k: int, s: int) -> None:
    """A transposed conv between two convs (onnx-tool checks the convs, test_ops_onnx the rest)."""
    c.conv(c.shape[1], 3)
    size = (c.shape[2] - 1) * s + k
    c.op("ConvTranspose", c.weight(c.shape[1], cout, k, k), out_shape=(1, cout, size, size),
         kernel_shape=[k, k], strides=[s, s])
    c.conv(2, 3)


def _gemm(c: _Chain, ta: int, tb: int, act_b: bool, bias: bool) -> None:
    k = c.shape[0] if ta else c.shape[1]
    b_shape = (5, k) if tb else (k, 5)
    if act_b:
        c.inputs.append(("b", list(b_shape)))
        b = "b"
    else:
        b = c.weight(*b_shape)
    extra = [b, c.weight(5)] if bias else [b]
    c.op("Gemm", *extra, transA=ta, transB=tb)


def _matmul(c: _Chain, act_b: bool) -> None:
    k = c.shape[-1]
    if act_b:
        c.inputs.append(("b", [*c.shape[:-2], k, 9]))
        c.op("MatMul", "b")
    else:
        c.op("MatMul", c.weight(k, 9))
    c.op("Relu")


def _movement(c: _Chain, kind: str) -> None:
    c.conv(8, 3)
    if kind == "split_concat":
        a, b = f"{c.cur}_a", f"{c.cur}_b"
        from onnx import helper

        c.nodes.append(helper.make_node("Split", [c.cur], [a, b], name=a, axis=1, num_outputs=2))
        c.op("Concat", inputs=[b, a], axis=1)
    elif kind == "slice":
        c.op("Slice", c.const(np.array([1, 2], np.int64)), c.const(np.array([7, 6], np.int64)),
             c.const(np.array([2, 3], np.int64)))
    elif kind.startswith("resize"):
        c.op("Resize", "", c.const(np.array([1, 1, 2, 2], np.float32)),
             mode="nearest" if kind.endswith("nearest") else "linear")
    elif kind == "pad_transpose":
        c.op("Pad", c.const(np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64)))
        c.op("Transpose", perm=[0, 1, 3, 2])
    else:
        d = c.const(np.full((1, 8, 1, 1), 2.0, np.float32))
        c.op("Div", d)
        c.op("Max", c.const(np.float32(-1)))
        c.op("Min", c.const(np.float32(1)))
    c.conv(4, 3)


def onnx_zoo_names() -> list[str]:
    return [name for name, _, _ in _builders()]


def build_onnx_zoo(directory: str | Path, limit: int | None = None) -> Zoo:
    """Build (or reuse) the ONNX zoo in ``directory``."""
    from .zoo import _sample

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    out: Zoo = []
    for i, (name, shape, build) in _sample(list(enumerate(_builders())), limit):
        path = directory / f"{name}.onnx"
        if not path.is_file():
            chain = _Chain(shape, seed=i)
            build(chain)
            chain.save(path)
        out.append((name, path))
    return out


#: ONNX ops with multiply-accumulates, compared node by node with onnx-tool. Every other
#: node costs 0 MACs by the profiler's (Vela's) convention, where onnx-tool counts
#: compares, adds and exps as MACs, so those are not compared.
COMPARED = frozenset({"Conv", "Gemm", "MatMul", "LSTM", "GRU", "MaxPool", "AveragePool",
                      "QLinearConv", "QLinearMatMul", "ConvInteger", "MatMulInteger"})
#: MAC ops onnx-tool counts by another convention or not at all: the profiler's own
#: tests (test_ops_onnx.py) check these against hand-computed counts instead.
NOT_COMPARED = {
    "ConvTranspose": "onnx-tool counts output x window x Cout/group; Vela x Cin/group",
    "RNN": "onnx-tool 1.0.1 cannot infer RNN shapes",
    "Softmax": "onnx-tool counts exp/div work; Vela two passes over the input",
    "GlobalAveragePool": "onnx-tool counts it as adds and divisions; Vela one MAC per input",
    "3-D pooling": "onnx-tool 1.0.1 multiplies two of three kernel dims (the bug issue 10 "
                   "fixed in the profiler)",
}


#: Recurrent nodes: onnx-tool adds the element-wise gate products (MUL_MACS) to the gate
#: matrix products; counted with MUL_MACS = 0 so only the matrix products remain.
_RECURRENT = frozenset({"LSTM", "GRU"})


def onnx_tool_macs(path: Path) -> dict[str, tuple[str, int]]:
    """{node name: (op type, MACs)} by onnx-tool, multiply-accumulates only."""
    products = _onnx_tool_run(path, keep=("MUL_MACS", "CMP_MACS"))
    recurrent = _onnx_tool_run(path, keep=())
    return {name: (op, recurrent[name][1] if op in _RECURRENT else m)
            for name, (op, m) in products.items()}


def _onnx_tool_run(path: Path, keep: tuple[str, ...]) -> dict[str, tuple[str, int]]:
    """onnx-tool's per-node MACs with every cost constant but ``keep`` set to zero."""
    import onnx_tool
    from onnx_tool import node as tool_node

    zeroed = {k: v for k, v in vars(tool_node).items() if k.endswith("_MACS") and k not in keep}
    try:
        vars(tool_node).update(dict.fromkeys(zeroed, 0))
        graph = onnx_tool.Model(str(path), {"verbose": False}).graph
        graph.graph_reorder_nodes()
        graph.shape_infer()
        graph.profile()
        return {name: (n.op_type, round(n.macs[0])) for name, n in graph.nodemap.items()}
    finally:
        vars(tool_node).update(zeroed)


def compare_with_onnx_tool(path: Path) -> tuple[int, int, list[tuple[str, str, int, int]]]:
    """(our MACs, onnx-tool's, [(node, op, ours, theirs) that differ]) over compared nodes."""
    from sercompress.profile import profile_artifact

    profile = profile_artifact(path)
    ours = {layer.name: layer.macs for layer in profile.layers}
    theirs = onnx_tool_macs(path)
    shapes = {layer.name: layer.input_shapes for layer in profile.layers}
    rows = [(name, op, ours.get(name, 0), m) for name, (op, m) in theirs.items()
            if op in COMPARED and not (op.endswith("Pool") and len(shapes[name][0]) == 5)]
    diffs = [r for r in rows if r[2] != r[3]]
    return sum(r[2] for r in rows), sum(r[3] for r in rows), diffs
