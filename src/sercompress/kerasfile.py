"""Validate a ``.keras`` file's config tree before Keras sees it.

``tf_keras.models.load_model(..., safe_mode=True)`` refuses lambdas, but it
still imports whatever module a config names (``"module": "this"`` printed the
Zen of Python during ``compress --from``) and builds layers of any size the
config asks for (a Dense layer of 2**27 units took 7.8 GB before failing). So
the zip and its ``config.json`` are read here first, without TensorFlow:

* members: only ``config.json``, ``metadata.json``, ``model.weights.h5`` (and
  ``assets/``), each at most ``MAX_MEMBER_BYTES`` uncompressed (a zip bomb is
  refused from the directory, before inflating);
* every ``module`` is Keras / tf_keras or this package; every ``class_name``
  is on the allowlist below (the layers, initializers and regularizers our
  models use and their close relatives); lambdas, ``TFOpLambda`` (calls any
  ``tf.*`` function by name), ``builtins`` functions and type specs are refused;
* sizes are bounded: widths (``units``, ``filters``, heads), window sizes and
  shapes have hard caps, and a lower bound of the parameter count (each layer's
  weights at 2 bytes, fan-in 1 where unknown) must fit in the weight file the
  zip actually carries: a config cannot ask for more weights than it stores.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .errors import RunError, SercompressError
from .jsonfile import parse_json

CONFIG = "config.json"
WEIGHTS = "model.weights.h5"
MEMBERS = frozenset({CONFIG, "metadata.json", WEIGHTS})
MAX_MEMBER_BYTES = 256 * 1024 * 1024
MAX_CONFIG_BYTES = 4 * 1024 * 1024
MAX_WIDTH = 2**20             # units, filters, heads, key dims
MAX_WINDOW = 4096             # one kernel / pool / stride / dilation dimension
MAX_DIM = 2**24               # one dimension of an input or reshape target
MAX_INPUT_ELEMENTS = 2**28    # one example's input elements
MIN_WEIGHT_BYTES = 2          # float16: the smallest dtype a saved variable can have

MODULE_ROOTS = ("keras", "tf_keras", "sercompress")
MODEL_CLASSES = frozenset({"Functional", "Sequential", "Model"})
LAYER_CLASSES = frozenset({
    "InputLayer", "Conv1D", "Conv2D", "DepthwiseConv2D", "SeparableConv2D", "Dense",
    "BatchNormalization", "LayerNormalization", "Dropout", "SpatialDropout2D", "Activation",
    "ReLU", "ELU", "LeakyReLU", "Softmax", "Add", "Multiply", "Subtract", "Average",
    "Concatenate", "Flatten", "Reshape", "Permute", "ZeroPadding2D", "AveragePooling1D",
    "AveragePooling2D", "MaxPooling1D", "MaxPooling2D", "GlobalAveragePooling1D",
    "GlobalAveragePooling2D", "GlobalMaxPooling1D", "GlobalMaxPooling2D", "LSTM", "GRU",
    "Bidirectional", "TimeDistributed", "MultiHeadAttention",
})
OTHER_CLASSES = frozenset({
    # initializers, regularizers, constraints, dtype policies, keras-serialized values
    "GlorotUniform", "GlorotNormal", "HeNormal", "HeUniform", "LecunNormal", "LecunUniform",
    "Zeros", "Ones", "Constant", "RandomNormal", "RandomUniform", "TruncatedNormal",
    "Orthogonal", "Identity", "VarianceScaling", "L1", "L2", "L1L2", "MaxNorm", "NonNeg",
    "UnitNorm", "MinMaxNorm", "Policy", "DTypePolicy", "function", "__numpy__", "__tensor__",
    "__bytes__",
})
KNOWN_CLASSES = MODEL_CLASSES | LAYER_CLASSES | OTHER_CLASSES
_WIDTH_KEYS = ("units", "filters", "num_heads", "key_dim", "value_dim", "depth_multiplier")
_WINDOW_KEYS = ("kernel_size", "pool_size", "strides", "dilation_rate")
_SHAPE_KEYS = ("batch_input_shape", "batch_shape", "target_shape")


def check_keras_file(path: str | Path, error: type[SercompressError] = RunError) -> None:
    """Raise ``error`` naming the file unless it is a .keras zip whose config is safe to build."""
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as zf:
            infos = {i.filename: i for i in zf.infolist()}
            _check_members(path, infos, error)
            config = parse_json(zf.read(CONFIG).decode("utf-8"), path, error)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, UnicodeDecodeError, OSError, EOFError) as e:
        raise error(f"not a readable .keras file ({type(e).__name__}: {e})", path=path) from None
    weight_bytes = infos[WEIGHTS].file_size if WEIGHTS in infos else 0
    try:
        check_config(config, weight_bytes)
    except ValueError as e:
        raise error(f"unsafe or invalid model config: {e}", path=path, key=CONFIG) from None


def _check_members(path: Path, infos: dict[str, zipfile.ZipInfo], error: type[SercompressError]) -> None:
    if CONFIG not in infos:
        raise error(f"not a .keras file: no {CONFIG} inside", path=path)
    for name, info in infos.items():
        if name not in MEMBERS and not name.startswith("assets/"):
            raise error(f"unexpected member '{name}' in the .keras zip", path=path)
        if info.file_size > MAX_MEMBER_BYTES:
            raise error(f"member '{name}' inflates to {info.file_size:,} bytes, more than the "
                        f"{MAX_MEMBER_BYTES:,} allowed", path=path)
    if infos[CONFIG].file_size > MAX_CONFIG_BYTES:
        raise error(f"{CONFIG} is larger than {MAX_CONFIG_BYTES:,} bytes", path=path)


def check_config(config: Any, weight_bytes: int) -> None:
    """``ValueError`` for a module, class or size this package would never have written."""
    if not isinstance(config, dict) or config.get("class_name") not in MODEL_CLASSES:
        raise ValueError(f"top level must be a Keras model ({', '.join(sorted(MODEL_CLASSES))})")
    params = 0
    for node in _objects(config):
        _check_object(node)
        if node.get("class_name") in LAYER_CLASSES and isinstance(node.get("config"), dict):
            params += _layer_params(node)
    if params * MIN_WEIGHT_BYTES > weight_bytes:
        raise ValueError(f"the layers need at least {params:,} parameters but the weight file holds "
                         f"{weight_bytes:,} bytes")


def _objects(tree: Any) -> Iterator[dict[str, Any]]:
    """Every dict of the tree that names a class or a module, iteratively (depth is bounded)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if "class_name" in node or "module" in node:
                yield node
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def _check_object(node: dict[str, Any]) -> None:
    module, cls = node.get("module"), node.get("class_name")
    if module is not None:
        if not isinstance(module, str) or not any(module == r or module.startswith(r + ".")
                                                  for r in MODULE_ROOTS):
            raise ValueError(f"module {module!r} is not Keras or sercompress")
    if cls is not None and (not isinstance(cls, str) or cls not in KNOWN_CLASSES):
        raise ValueError(f"class {cls!r} is not a known layer or Keras object (lambdas and "
                         "custom code are not loaded)")
    if cls == "function" and not isinstance(node.get("config"), str):
        raise ValueError("a function reference must be a name")
    registered = node.get("registered_name")
    if registered is not None and (not isinstance(registered, str) or
                                   (registered not in KNOWN_CLASSES and registered != cls
                                    and not registered.startswith("sercompress>"))):
        raise ValueError(f"registered name {registered!r} is not a known class")


def _layer_params(node: dict[str, Any]) -> int:
    """Check one layer's sizes; return a lower bound of its parameter count."""
    cfg, cls = node["config"], node["class_name"]
    for key in _WIDTH_KEYS:
        if key in cfg:
            _int(cfg[key], 1, MAX_WIDTH, f"{cls}.{key}")
    for key in _WINDOW_KEYS:
        if key in cfg and cfg[key] is not None:
            for v in cfg[key] if isinstance(cfg[key], list) else [cfg[key]]:
                _int(v, 1, MAX_WINDOW, f"{cls}.{key}")
    for key in _SHAPE_KEYS:
        if key in cfg and cfg[key] is not None:
            _shape(cfg[key], f"{cls}.{key}")
    built = node.get("build_config")
    built = built.get("input_shape") if isinstance(built, dict) else None
    last = built[-1] if isinstance(built, list) and built else None
    last = None if isinstance(last, list) else last  # a merge layer: a list of shapes
    fan_in = _int(last, 1, MAX_DIM, f"{cls}.build_config.input_shape") if last is not None else 1
    units = cfg.get("units") or cfg.get("filters") or 0
    if cls in ("Conv1D", "Conv2D", "SeparableConv2D", "Dense"):
        ks = cfg.get("kernel_size") or 1
        window = 1
        for v in ks if isinstance(ks, list) else [ks]:
            window *= v
        return units * (window * fan_in // _groups(cfg) + 1)
    if cls in ("LSTM", "GRU"):
        return (4 if cls == "LSTM" else 3) * units * (units + fan_in + 1)
    if cls == "MultiHeadAttention":
        return 4 * cfg.get("num_heads", 1) * cfg.get("key_dim", 1) * fan_in
    if cls in ("BatchNormalization", "LayerNormalization"):
        return 2 * fan_in
    return 0


def _groups(cfg: dict[str, Any]) -> int:
    g = cfg.get("groups", 1)
    return g if isinstance(g, int) and not isinstance(g, bool) and g >= 1 else 1


def _int(v: Any, lo: int, hi: int, what: str) -> int:
    if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
        raise ValueError(f"{what} = {v!r} is not an integer in [{lo}, {hi}]")
    return v


def _shape(shape: Any, what: str) -> None:
    if not isinstance(shape, list) or len(shape) > 8:
        raise ValueError(f"{what} must be a list of at most 8 dims")
    n = 1
    for d in shape:
        if d is None or d == -1:
            continue
        n *= _int(d, 1, MAX_DIM, what)
    if n > MAX_INPUT_ELEMENTS:
        raise ValueError(f"{what} = {shape} has more than {MAX_INPUT_ELEMENTS:,} elements")
