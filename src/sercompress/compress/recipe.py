"""Compression recipes: a named sequence of steps, validated before anything trains.

A recipe file (``compress/*.toml``) is parsed by :mod:`sercompress.tomlconfig`
into a frozen, versioned :class:`Recipe`. Each step is a typed config selected
by its ``type`` key (``prune``, ``cluster``, ``qat``, ``ptq``, ``prune_channels``); the runner looks
the technique up by the config's *class* (see :mod:`.registry`), never by
string. Besides per-field checks (ranges, choices, unknown keys) the recipe
refuses step orders tfmot cannot do, with the reason, at load time:

* nothing may follow ``ptq`` (it is the conversion itself);
* only ``ptq`` with ``mode = "int8"`` may follow ``qat`` (a QAT model is
  wrapped in quantize layers that prune / cluster cannot wrap again, and
  its learnt ranges only mean something in a full-integer file);
* ``prune`` may not follow ``cluster`` (re-pruning would move weights off
  their centroids);
* only ``ptq`` may follow ``window`` (training runs on whole clips; the
  window is how the trained model is deployed), and ``window`` cannot follow
  ``qat`` (rebuilding quantize-wrapped layers at a new shape is not supported);
* ``prune_channels`` only as the first step (it rebuilds the model from the
  reference's weights; fine-tuning it after prune / cluster would undo them);
* every technique at most once;
* ``cluster.preserve_sparsity`` and ``qat.preserve`` must match the earlier
  steps: preserving what is not there is a no-op we refuse, and *not*
  preserving what is there would silently undo it.

Example::

    schema_version = 1
    name = "prune-80"
    [[steps]]
    type = "prune"
    target_sparsity = 0.8
    finetune = { epochs = 8, learning_rate = 1e-4 }
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from ..errors import RecipeError
from ..outpaths import SAFE_NAME
from ..resources import shipped_dir
from ..tomlconfig import FrozenModel, parse_model, read_toml

SCHEMA_VERSION = 1
RECIPE_DIR = shipped_dir("compress")
DEFAULT_LAYERS: tuple[str, ...] = ("Conv2D", "Dense")


class Finetune(FrozenModel):
    """Fine-tuning after wrapping a model: scaled by the caller's ``epochs_scale``."""

    epochs: int = Field(4, ge=1, le=1000)
    learning_rate: float = Field(1e-4, gt=0, lt=1)
    batch_size: int = Field(32, ge=1, le=1024)

    def scaled_epochs(self, scale: float = 1.0, max_epochs: int | None = None) -> int:
        """Epochs after CI scaling: rounded up, at least 1, at most ``max_epochs``."""
        epochs = max(1, math.ceil(self.epochs * scale))
        return min(epochs, max_epochs) if max_epochs else epochs


class PruneStep(FrozenModel):
    """Magnitude pruning (tfmot ``prune_low_magnitude``), unstructured or M:N."""

    type: Literal["prune"] = "prune"
    target_sparsity: float | None = Field(None, ge=0.0, lt=1.0)
    m_by_n: tuple[int, int] | None = None
    schedule: Literal["polynomial", "constant"] = "polynomial"
    initial_sparsity: float = Field(0.0, ge=0.0, lt=1.0)
    #: when pruning starts / reaches the target, as fractions of the fine-tuning steps
    begin: float = Field(0.0, ge=0.0, le=1.0)
    end: float = Field(0.7, gt=0.0, le=1.0)
    #: or as absolute optimizer steps (override the fractions)
    begin_step: int | None = Field(None, ge=0)
    end_step: int | None = Field(None, ge=1)
    #: optimizer steps between mask updates; None = half an epoch's steps
    frequency: int | None = Field(None, ge=1)
    #: Keras layer class names or layer names to prune
    layers: tuple[str, ...] = DEFAULT_LAYERS
    finetune: Finetune = Finetune()

    @model_validator(mode="after")
    def _consistent(self) -> PruneStep:
        if (self.target_sparsity is None) == (self.m_by_n is None):
            raise ValueError("give exactly one of target_sparsity (unstructured) or m_by_n "
                             "(structured, e.g. [2, 4])")
        if self.m_by_n is not None:
            m, n = self.m_by_n
            if not 0 < m < n <= 64:
                raise ValueError(f"m_by_n = [{m}, {n}] needs 0 < m < n <= 64")
        if self.begin >= self.end:
            raise ValueError(f"begin ({self.begin}) must be before end ({self.end})")
        if self.begin_step is not None and self.end_step is not None and self.begin_step >= self.end_step:
            raise ValueError(f"begin_step ({self.begin_step}) must be before end_step ({self.end_step})")
        if self.target_sparsity is not None and self.initial_sparsity > self.target_sparsity:
            raise ValueError("initial_sparsity must not exceed target_sparsity")
        if not self.layers:
            raise ValueError("layers must name at least one layer class or layer")
        return self

    @property
    def claimed_sparsity(self) -> float:
        if self.m_by_n is not None:
            return self.m_by_n[0] / self.m_by_n[1]
        return float(self.target_sparsity or 0.0)


class ClusterStep(FrozenModel):
    """Weight clustering (tfmot ``cluster_weights``): ``clusters`` shared values per kernel."""

    type: Literal["cluster"] = "cluster"
    clusters: int = Field(16, ge=2, le=256)
    init: Literal["kmeans++", "linear", "density", "random"] = "kmeans++"
    preserve_sparsity: bool = False
    layers: tuple[str, ...] = DEFAULT_LAYERS
    finetune: Finetune = Finetune()


class QatStep(FrozenModel):
    """Quantization-aware training, tfmot 8-bit default scheme or a collaborative one."""

    type: Literal["qat"] = "qat"
    preserve: Literal["none", "sparsity", "clusters", "both"] = "none"
    finetune: Finetune = Finetune()


class PtqStep(FrozenModel):
    """TFLite converter post-training quantisation; always the last step.

    ``mode = "mixed"`` is per-block precision: int16 activations (int8 weights) in the
    blocks named by ``int16_blocks``, int8 everywhere else (:mod:`sercompress.export.mixed`).
    A block is a layer's name up to its first ``_`` (Light-SERNet: ``path1``-``path3``,
    ``paths``, ``lflb1``-``lflb4``, ``head``, ``gap``, ``classifier``); names are checked
    against the model before anything trains.
    """

    type: Literal["ptq"] = "ptq"
    mode: Literal["dynamic", "float16", "int8", "int16x8", "mixed"]
    #: int8 only: make the input and output tensors int8 as well (MCU deployment)
    int8_io: bool = False
    #: mixed only: the blocks computed with int16 activations
    int16_blocks: tuple[str, ...] = Field((), max_length=64)

    @model_validator(mode="after")
    def _io(self) -> PtqStep:
        if self.int8_io and self.mode != "int8":
            raise ValueError(f"int8_io needs mode = 'int8', not '{self.mode}'")
        if (self.mode == "mixed") != bool(self.int16_blocks):
            raise ValueError("mode = 'mixed' needs int16_blocks = [\"block\", ...], and int16_blocks "
                             f"need mode = 'mixed' (not '{self.mode}')")
        if len(set(self.int16_blocks)) != len(self.int16_blocks):
            raise ValueError(f"int16_blocks names a block twice: {list(self.int16_blocks)}")
        return self


class ChannelPruneStep(FrozenModel):
    """Structured pruning: whole output channels of convolutions removed, a physically smaller model.

    ``keep`` is the fraction of each convolution's output channels kept: one ratio
    for every block (``keep = 0.5``) or per block (``keep = {path1 = 0.5, lflb4 = 0.75}``,
    blocks not named keep all). A block is a Conv2D layer's name up to its first
    ``_`` (Light-SERNet: path1-3, lflb1-4, head) or the layer's full name; names are
    checked against the model before anything trains (see :mod:`.channels`).
    """

    type: Literal["prune_channels"] = "prune_channels"
    keep: float | dict[str, float]
    #: how channels are ranked: |BatchNorm gamma| of the BN after the conv (L1 where none follows), or L1
    criterion: Literal["bn_gamma", "l1"] = "bn_gamma"
    #: round each kept count up to a multiple of this (e.g. 4 or 8: SIMD-friendly CMSIS-NN widths)
    channel_multiple: int = Field(1, ge=1, le=64)
    finetune: Finetune = Finetune()

    @field_validator("keep", mode="before")
    @classmethod
    def _ratios(cls, value: object) -> object:
        def bad(v: object) -> bool:
            return isinstance(v, bool) or not isinstance(v, int | float) or not 0.0 < v <= 1.0

        if isinstance(value, dict):
            if not value:
                raise ValueError("keep = {} names no block; give a ratio or {block = ratio, ...}")
            wrong = {k: v for k, v in value.items() if bad(v)}
            if wrong:
                raise ValueError(f"keep ratios must be numbers in (0, 1] (a kept fraction of the "
                                 f"channels); got {wrong}")
        elif bad(value):
            raise ValueError(f"keep must be a number in (0, 1] (the kept fraction of the channels) "
                             f"or a table {{block = ratio}}; got {value!r}")
        return value

    def ratio_for(self, block: str, layer: str) -> float:
        """The kept fraction of one conv, named by its block or its full layer name."""
        if isinstance(self.keep, dict):
            return float(self.keep.get(layer, self.keep.get(block, 1.0)))
        return float(self.keep)


class WindowStep(FrozenModel):
    """The deployed input window: the model rebuilt at ``seconds`` of features, the same weights.

    Light-SERNet is fully convolutional, so a shorter window runs the reference's
    weights unchanged and shrinks the activation arena with it; a whole clip is
    classified by streaming: windows every ``hop_seconds`` (the last one aligned
    to the clip's end), their softmax scores averaged (:mod:`.window`). Frames
    are computed from the data's feature config when the recipe runs, where a
    window longer than the clips is refused.
    """

    type: Literal["window"] = "window"
    seconds: float = Field(gt=0, le=60)
    #: start-to-start distance of consecutive windows; None = ``seconds`` (no overlap)
    hop_seconds: float | None = Field(None, gt=0, le=60)

    @model_validator(mode="after")
    def _hop(self) -> WindowStep:
        if self.hop_seconds is not None and self.hop_seconds > self.seconds:
            raise ValueError(f"hop_seconds ({self.hop_seconds}) must not exceed seconds ({self.seconds}): "
                             "frames between windows would never be seen")
        return self

    @property
    def hop(self) -> float:
        return self.seconds if self.hop_seconds is None else self.hop_seconds


Step = Annotated[PruneStep | ClusterStep | QatStep | WindowStep | PtqStep | ChannelPruneStep,
                 Field(discriminator="type")]
STEP_TYPES: tuple[str, ...] = ("prune", "cluster", "qat", "window", "ptq", "prune_channels")
_PYDANTIC_PREFIX = "Value error, "


class ParityFloors(FrozenModel):
    """Top-1 agreement floors between the Keras model and its exported files."""

    float_min_agreement: float = Field(0.99, ge=0.0, le=1.0)
    quantized_min_agreement: float = Field(0.90, ge=0.0, le=1.0)


class Recipe(FrozenModel):
    schema_version: Literal[1] = 1
    name: str = Field(pattern=SAFE_NAME)
    description: str = ""
    steps: tuple[Step, ...] = ()
    #: also write model_int8.tflite when the main file is not full-integer
    int8_deployment: bool = True
    #: re-estimate batch-norm statistics on the training split after each fine-tuned step (QAT included)
    recalibrate_batchnorm: bool = True
    #: representative samples from the training split for int8 calibration
    representative_samples: int = Field(200, ge=1, le=2000)
    parity: ParityFloors = ParityFloors()

    @model_validator(mode="after")
    def _feasible(self) -> Recipe:
        problem = sequence_problem(self.steps)
        if problem:
            raise ValueError(problem)
        return self

    @property
    def ptq(self) -> PtqStep | None:
        return next((s for s in self.steps if isinstance(s, PtqStep)), None)

    @property
    def window(self) -> WindowStep | None:
        return next((s for s in self.steps if isinstance(s, WindowStep)), None)

    @property
    def training_steps(self) -> tuple[PruneStep | ClusterStep | QatStep | ChannelPruneStep, ...]:
        return tuple(s for s in self.steps if not isinstance(s, (PtqStep, WindowStep)))

    @property
    def has_qat(self) -> bool:
        return any(isinstance(s, QatStep) for s in self.steps)

    @property
    def main_is_integer(self) -> bool:
        """Is the main .tflite already an integer-activation file?"""
        ptq = self.ptq
        return self.has_qat or (ptq is not None and ptq.mode in ("int8", "int16x8", "mixed"))


def sequence_problem(steps: tuple[Step, ...]) -> str | None:
    """Why tfmot / the converter cannot run these steps in this order (None = fine)."""
    seen: list[str] = []
    for i, step in enumerate(steps):
        where = f"step {i + 1} ({step.type})"
        if step.type in seen:
            return f"{where}: each technique may appear once"
        if isinstance(step, ChannelPruneStep) and seen:
            return (f"{where}: prune_channels rebuilds the model from the reference's weights and "
                    "must be the first step")
        if "ptq" in seen:
            return f"{where}: nothing can follow ptq, the conversion to TFLite"
        if "window" in seen and not isinstance(step, PtqStep):
            return (f"{where}: only ptq may follow window (fine-tuning trains on whole clips; "
                    "the window is how the trained model is deployed)")
        if "qat" in seen and not (isinstance(step, PtqStep) and step.mode == "int8"):
            return (f"{where}: after qat only ptq with mode = 'int8' is possible (tfmot cannot "
                    "wrap quantize layers again; the learnt ranges need a full-integer file)")
        if isinstance(step, PruneStep) and "cluster" in seen:
            return f"{where}: pruning after clustering would move weights off their centroids; prune first"
        if isinstance(step, ClusterStep) and step.preserve_sparsity != ("prune" in seen):
            return (f"{where}: preserve_sparsity = true needs an earlier prune step"
                    if step.preserve_sparsity else
                    f"{where}: after a prune step set preserve_sparsity = true, or clustering undoes the sparsity")
        if isinstance(step, QatStep):
            needed = {(False, False): "none", (True, False): "sparsity",
                      (False, True): "clusters", (True, True): "both"}["prune" in seen, "cluster" in seen]
            if step.preserve != needed:
                return (f"{where}: preserve = '{step.preserve}' does not match the earlier steps "
                        f"{seen or '(none)'}; use preserve = '{needed}'")
        seen.append(step.type)
    return None


def load_recipe(path: str | Path) -> Recipe:
    """Parse and validate a recipe file; :class:`RecipeError` names the file, key and choices."""
    data = read_toml(path, RecipeError)
    _check_step_types(data, path)
    try:
        return parse_model(Recipe, data, path, RecipeError)
    except RecipeError as e:
        if not e.message.startswith(_PYDANTIC_PREFIX):
            raise
        # cross-field checks: drop pydantic's prefix and its ".<tag>" in the key
        key = ".".join(p for p in (e.key or "steps").split(".") if p not in STEP_TYPES)
        raise RecipeError(e.message[len(_PYDANTIC_PREFIX):], path=path, key=key) from None


def shipped_recipes(directory: str | Path = RECIPE_DIR) -> dict[str, Path]:
    """name -> path of every recipe file in ``compress/``."""
    return {p.stem: p for p in sorted(Path(directory).glob("*.toml"))}


def resolve_recipe(name_or_path: str | Path) -> Path:
    """A path, or the name of a shipped recipe (``prune-80``)."""
    path = Path(name_or_path)
    if path.is_file():
        return path
    shipped = shipped_recipes()
    if str(name_or_path) in shipped:
        return shipped[str(name_or_path)]
    raise RecipeError(f"no such recipe file; shipped recipes: {sorted(shipped)}", path=path)


def _check_step_types(data: dict, path: str | Path) -> None:
    """A clearer message than pydantic's for a missing / unknown step type."""
    steps = data.get("steps", [])
    if not isinstance(steps, list):
        raise RecipeError("must be an array of tables ([[steps]])", path=path, key="steps")
    for i, step in enumerate(steps):
        if not isinstance(step, dict):
            raise RecipeError("must be a table", path=path, key=f"steps.{i}")
        if step.get("type") not in STEP_TYPES:
            raise RecipeError(f"unknown step type {step.get('type')!r} (valid choices: "
                              f"{', '.join(STEP_TYPES)})", path=path, key=f"steps.{i}.type")
