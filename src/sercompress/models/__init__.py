"""Model builders, registered by architecture name.

The reference (``light_sernet``) and the baselines of ``baselines/*.toml`` are
all built through :func:`build_model`, so every model is trained, exported and
profiled by the same code. Builders import TensorFlow lazily.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import TypeAdapter, ValidationError

from ..errors import ConfigError
from ..features import FeatureConfig
from ..tomlconfig import validation_message

#: name -> builder(input_shape, n_classes, **hyper_parameters) -> tf_keras.Model
MODEL_BUILDERS: dict[str, Callable[..., Any]] = {}


def register_model(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
        MODEL_BUILDERS[name] = fn
        return fn

    return deco


def build_model(name: str, input_shape: tuple[int, int, int], n_classes: int, **hparams: Any):
    """The untrained model; an unknown name or hyper-parameter is a :class:`ConfigError`."""
    problem = hparams_problem(name, hparams)
    if problem:
        raise ConfigError(problem, key="model" if name not in MODEL_BUILDERS else "hparams")
    return MODEL_BUILDERS[name](input_shape=tuple(input_shape), n_classes=n_classes, **hparams)


def hparams_problem(name: str, hparams: Mapping[str, Any]) -> str | None:
    """Why ``name`` cannot be built with ``hparams`` (unknown model, unknown or mistyped knob), or None.

    Checked against the builder's signature and annotations, without importing TensorFlow,
    so a baseline file is refused when it is loaded rather than after data preparation.
    """
    _load_builtin_models()
    if name not in MODEL_BUILDERS:
        return f"unknown model '{name}'; known: {sorted(MODEL_BUILDERS)}"
    builder = MODEL_BUILDERS[name]
    params = inspect.signature(builder).parameters
    knobs = sorted(set(params) - {"input_shape", "n_classes"})
    hints = typing.get_type_hints(builder)
    for key, value in hparams.items():
        if key not in knobs:
            return f"{name} has no hyper-parameter '{key}' (it takes: {', '.join(knobs) or 'none'})"
        if key in hints:
            try:
                TypeAdapter(hints[key]).validate_python(value)
            except ValidationError as e:
                where, msg = validation_message(e)
                return f"{name}: hyper-parameter '{'.'.join(filter(None, (key, where)))}': {msg}"
    return None


def light_sernet(n_classes: int, duration_s: float = 3.0, input_type: str = "mfcc"):
    """The reference network for a clip duration and input feature type."""
    shape = FeatureConfig(input_type=input_type, duration_s=duration_s).shape  # type: ignore[arg-type]
    return build_model("light_sernet", shape, n_classes)


def _load_builtin_models() -> None:
    from . import lightsernet as _ls

    register_model("light_sernet")(_ls.light_sernet_from_shape)
    try:  # baselines are added by the baselines issue
        from . import baselines as _b  # noqa: F401  (registers itself)
    except ImportError:
        pass


def count_macs(model) -> int:
    """Multiply-accumulates of a Keras model, by Arm Vela's convention.

    Conv2D / DepthwiseConv2D / Dense: one MAC per weight per output position.
    Average pooling: one accumulate per window element per output element;
    global average pooling: one per input element (Vela counts both). Bias,
    batch norm (folded at export) and activations are not counted. The
    profiler computes the same figure from the exported artifact.
    """
    macs = 0
    for layer in model.layers:
        cls = type(layer).__name__
        out = layer.output_shape
        if cls in ("Conv2D", "DepthwiseConv2D", "Dense"):
            kernel = layer.get_weights()[0]
            positions = _prod(out[1:-1])
            if cls == "Dense":
                macs += positions * kernel.shape[0] * kernel.shape[1]
            else:
                kh, kw, cin, cout = kernel.shape  # cout is the multiplier for depthwise
                macs += positions * kh * kw * cin * cout
        elif cls == "AveragePooling2D":
            macs += _prod(out[1:]) * _prod(layer.pool_size)
        elif cls == "GlobalAveragePooling2D":
            macs += _prod(layer.input_shape[1:])
    return int(macs)


def _prod(values) -> int:
    n = 1
    for v in values:
        n *= int(v)
    return n
