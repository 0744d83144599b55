"""Fixing the symbolic input dims of an ONNX model before shape inference (``--input-shape``).

A model whose inputs have symbolic dims (a batch ``N``) has no figures until they are
fixed: one shape for a single-input model, or ``{input name: shape}`` for any number of
inputs. A static zero-length dim is a fixed dim, not a symbolic one.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import ProfileError
from .graph import InputShapes


def fix_input_shapes(path: Path, model: Any, input_shape: InputShapes | None) -> None:
    """Fail on symbolic input dims, or overwrite them with the given shapes."""
    initializers = {t.name for t in model.graph.initializer}
    inputs = {i.name: i for i in model.graph.input if i.name not in initializers}
    shapes = _shapes_by_name(path, list(inputs), input_shape)
    for name, value in inputs.items():
        dims = value.type.tensor_type.shape.dim
        if name in shapes:
            _set_dims(path, name, dims, shapes[name])
            continue
        symbolic = [d.dim_param or "?" for d in dims if not is_static(d)]
        if symbolic:
            example = ",".join(str(d.dim_value) if is_static(d) else "1" for d in dims)
            raise ProfileError(f"input '{name}' has symbolic dimensions {symbolic}; pass "
                               f"--input-shape {name}=DIMS with its real dims (e.g. "
                               f"{name}={example}) to profile it", path=path, key="input_shape")


def _shapes_by_name(path: Path, names: list[str],
                    input_shape: InputShapes | None) -> dict[str, tuple[int, ...]]:
    if input_shape is None:
        return {}
    if isinstance(input_shape, Mapping):
        unknown = sorted(set(input_shape) - set(names))
        if unknown:
            raise ProfileError(f"--input-shape names {unknown}, which are not inputs of the model "
                               f"(inputs: {names})", path=path, key="input_shape")
        return {k: tuple(int(d) for d in v) for k, v in input_shape.items()}
    if len(names) != 1:
        raise ProfileError(f"--input-shape given without a name but the model has {len(names)} "
                           f"inputs {names}: give NAME=DIMS once per input", path=path,
                           key="input_shape")
    return {names[0]: tuple(int(d) for d in input_shape)}


def _set_dims(path: Path, name: str, dims: Any, shape: tuple[int, ...]) -> None:
    if len(shape) != len(dims):
        raise ProfileError(f"--input-shape {shape} has rank {len(shape)}, input '{name}' has "
                           f"rank {len(dims)}", path=path, key="input_shape")
    for d, n in zip(dims, shape):
        if is_static(d) and d.dim_value != n:
            raise ProfileError(f"--input-shape {shape} contradicts the fixed dims of input "
                               f"'{name}'", path=path, key="input_shape")
        d.Clear()
        d.dim_value = n


def is_static(dim: Any) -> bool:
    """A fixed dim (zero-length included); symbolic dims carry a dim_param or nothing."""
    return dim.HasField("dim_value") and dim.dim_value >= 0
