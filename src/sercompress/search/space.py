"""The search space of ``sercompress search`` and how one point of it becomes a recipe file.

Each dimension is there for what it does on the device (measured in
``compress/README.md`` / ``bench/channels.py``):

* ``keep`` per channel group (``prune_channels``, fine-tuned from the reference):
  the three first-layer paths (``path1-3``) write the widest activations, so
  their kept fraction sets the TensorFlow Lite Micro **arena** (RAM); the LFLB
  blocks hold most weights and MACs (``lflb1`` dominates the MACs), so their
  fraction sets **flash** and **latency**. Removing whole channels shrinks all
  three on every runtime (unstructured sparsity shrinks none on TFLite Micro).
* ``window_seconds`` (``window``): Light-SERNet is fully convolutional, so the
  deployed input can be shorter than the clip; the arena scales with the
  window's frames, while a clip is classified from several windows with their
  scores pooled (latency per utterance = per-window latency x windows per clip).
* ``hop_fraction``: hop = window x fraction. 1.0 means non-overlapping windows
  (fewest inferences per utterance); 0.5 overlaps them (more evidence, twice
  the latency per utterance). It does not change RAM or flash.
* ``precision`` (``ptq``): int8 everywhere; int16 activations with int8
  weights everywhere (``int16x8``); or ``mixed``: int16 only in the blocks
  where it buys accuracy (measured on the reference, :mod:`.sensitivity`), int8
  elsewhere. int16 costs twice the activation bytes where it is used (arena)
  and a slower kernel, for less quantisation error. The int16 options are
  offered only on devices whose profile lists int16 activations.
* ``weight_sharing`` (a ``cluster`` or ``prune`` step after the channel pruning,
  fine-tuned at the recipes' gentler rate): 16 shared values per kernel, or half
  the weights zero. Offered only where the device's toolchain turns them into
  flash: Vela's weight compression on Ethos-U encodes fewer distinct values and
  runs of zeros in fewer bytes (prune-80+int8 needs 159 KB there against 492 KB
  as a TFLite Micro flatbuffer, where both store every int8 weight).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, ValidationInfo, field_validator

from ..storage import content_hash
from ..tomlconfig import FrozenModel, load_toml_model

#: the weight-sharing steps a candidate may add after its channel pruning (TOML step lines)
SHARING_STEPS: dict[str, tuple[str, ...]] = {
    "none": (),
    "cluster16": ('type = "cluster"', "clusters = 16"),
    "prune50": ('type = "prune"', "target_sparsity = 0.5"),
}

#: ``ptq`` modes a candidate may have (``mixed``: int16 in the measured blocks, int8 elsewhere)
PRECISIONS: tuple[str, ...] = ("int8", "int16x8", "mixed")

#: Light-SERNet's channel groups: the first-layer paths (arena) and the LFLB blocks (MACs, flash)
DEFAULT_GROUPS: dict[str, tuple[str, ...]] = {
    "paths": ("path1", "path2", "path3"),
    "lflb": ("lflb1", "lflb2", "lflb3", "lflb4"),
}


class SearchSpace(FrozenModel):
    """What ``--config FILE`` may set; the defaults are the space of issue 15."""

    groups: dict[str, tuple[str, ...]] = Field(default_factory=lambda: dict(DEFAULT_GROUPS))
    keep: tuple[float, ...] = (0.25, 0.375, 0.5, 0.75, 1.0)
    window_seconds: tuple[float, ...] = (1.0, 1.5, 2.0, 3.0)
    hop_fraction: tuple[float, ...] = (0.5, 1.0)
    precision: tuple[str, ...] = ("int8", "int16x8", "mixed")
    #: the int16 blocks of ``mixed`` candidates; None: the ``mixed_blocks`` blocks whose int16 lowers the
    #: reference's quantisation error most (:mod:`.sensitivity`)
    int16_blocks: tuple[str, ...] | None = Field(None, min_length=1, max_length=64)
    mixed_blocks: int = Field(2, ge=1, le=64)
    weight_sharing: tuple[str, ...] = ("none", "cluster16", "prune50")
    #: fine-tuning of a weight-sharing step (the shipped recipes' rate: the channels are already recovered)
    sharing_epochs: int = Field(3, ge=1, le=200)
    sharing_learning_rate: float = Field(1e-4, gt=0, le=1)
    channel_multiple: int = Field(4, ge=1, le=64)
    #: fine-tuning of the channel pruning, chosen on the *validation* speakers (``bench/finetune.py``
    #: on the default reference; 9 settings x 3 fine-tuning seeds, then the best ones on 5 seeds): the
    #: quarter-width 3 s int8 file's validation UA was 0.906 (0.915 0.909 0.892 0.903 0.909) at 12
    #: epochs x 3e-4 against 0.851 (0.892 0.875 0.801 0.875 0.812) at the former 6 x 1e-3, +5.5 points
    #: [+3.4, +7.5] paired (clips resampled, seeds pooled); half width +2.8 [+0.8, +4.9] (3 seeds).
    #: 20 epochs, 1e-3, a cosine decay or distillation from the reference were not better on
    #: validation. Cost: 1.6-1.7x a candidate's CPU (quarter width 13 -> 20 s, full 50 -> 86 s).
    finetune_epochs: int = Field(12, ge=1, le=200)
    learning_rate: float = Field(3e-4, gt=0, le=1)
    batch_size: int | None = Field(None, ge=1, le=4096)
    #: recipes' [parity] quantized_min_agreement (None: the recipe default)
    quantized_min_agreement: float | None = Field(None, ge=0, le=1)

    @field_validator("keep")
    @classmethod
    def _keep(cls, v: tuple[float, ...]) -> tuple[float, ...]:
        if not v or any(not 0 < k <= 1 for k in v):
            raise ValueError("keep ratios must be a non-empty list of numbers in (0, 1]")
        return v

    @field_validator("window_seconds", "hop_fraction")
    @classmethod
    def _positive(cls, v: tuple[float, ...]) -> tuple[float, ...]:
        if not v or any(not 0 < s <= 60 for s in v):
            raise ValueError("must be a non-empty list of numbers in (0, 60]")
        return v

    @field_validator("weight_sharing", "precision")
    @classmethod
    def _choices(cls, v: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        allowed = {"weight_sharing": tuple(SHARING_STEPS), "precision": PRECISIONS}[info.field_name]
        if not v or any(x not in allowed for x in v):
            raise ValueError(f"{info.field_name} must list some of {', '.join(allowed)}")
        return v

    @field_validator("groups")
    @classmethod
    def _groups(cls, v: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        if not v or any(not blocks for blocks in v.values()):
            raise ValueError("groups must name at least one group, each with at least one block")
        return v

    def precisions_for(self, hw: Any) -> tuple[str, ...]:
        """int16x8 and mixed only where the device executes int16 activations (else every such trial misfits)."""
        dtypes = tuple(getattr(hw, "activation_dtypes", ()) or ())
        return tuple(p for p in self.precision if p == "int8" or "int16" in dtypes) or ("int8",)

    def sharing_for(self, hw: Any) -> tuple[str, ...]:
        """Clustering and sparsity only where the toolchain stores them in fewer bytes (Vela)."""
        return tuple(self.weight_sharing) if getattr(hw, "runtime", None) == "vela" else ("none",)

    def windows_for(self, clip_seconds: float | None) -> tuple[float, ...]:
        """The windows no longer than the clips (a longer one is refused by the window step)."""
        if clip_seconds is None:
            return self.window_seconds
        return tuple(s for s in self.window_seconds if s <= clip_seconds + 1e-9) or (clip_seconds,)


def load_space(path: str | None) -> SearchSpace:
    return SearchSpace() if path is None else load_toml_model(path, SearchSpace)


def anchors(space: SearchSpace, hw: Any, clip_seconds: float | None) -> list[dict[str, Any]]:
    """The smallest network (fewest channels, int8, non-overlapping windows: fewest inferences) at
    every window length, shortest first: the points likeliest to fit a small device.

    Every window is there because no single window is smallest on every budget: a shorter window
    has the smaller arena and per-inference latency, but also the smaller per-inference budget
    (its hop), and a streamed clip pays for its extra inferences.
    """
    precisions = space.precisions_for(hw)
    base: dict[str, Any] = {f"keep_{g}": min(space.keep) for g in space.groups}
    base["hop_fraction"] = max(space.hop_fraction)
    base["precision"] = "int8" if "int8" in precisions else precisions[0]
    if space.sharing_for(hw) != ("none",):
        base["weight_sharing"] = space.sharing_for(hw)[0]
    return [{**base, "window_seconds": w} for w in sorted(space.windows_for(clip_seconds))]


def suggest(trial: Any, space: SearchSpace, hw: Any, clip_seconds: float | None) -> dict[str, Any]:
    """One point of the space, drawn by the Optuna ``trial`` (categorical dimensions)."""
    params: dict[str, Any] = {f"keep_{g}": trial.suggest_categorical(f"keep_{g}", list(space.keep))
                              for g in space.groups}
    params["window_seconds"] = trial.suggest_categorical("window_seconds", list(space.windows_for(clip_seconds)))
    params["hop_fraction"] = trial.suggest_categorical("hop_fraction", list(space.hop_fraction))
    params["precision"] = trial.suggest_categorical("precision", list(space.precisions_for(hw)))
    sharing = space.sharing_for(hw)
    if sharing != ("none",):  # not a parameter where it cannot help (the recipe stays the same)
        params["weight_sharing"] = trial.suggest_categorical("weight_sharing", list(sharing))
    return params


def recipe_text(params: dict[str, Any], space: SearchSpace, clip_seconds: float | None,
                int16_blocks: tuple[str, ...] = ()) -> tuple[str, str]:
    """The recipe (name, TOML text) of one point; equal points give byte-identical files.

    ``int16_blocks``: the int16 blocks of a ``mixed`` point (written into its ``ptq`` step).

    A window as long as the clip has one inference per clip whatever the hop, so
    its hop is normalised to the window (the same variant, not two).
    """
    seconds = float(params["window_seconds"])
    hop = seconds if clip_seconds is not None and seconds >= clip_seconds - 1e-9 \
        else round(seconds * float(params["hop_fraction"]), 6)
    keep = {b: float(params[f"keep_{g}"]) for g, blocks in space.groups.items() for b in blocks}
    precision = params["precision"]
    ft = f"epochs = {space.finetune_epochs}, learning_rate = {space.learning_rate!r}"
    if space.batch_size is not None:
        ft += f", batch_size = {space.batch_size}"
    body = [
        "[[steps]]", 'type = "prune_channels"',
        "keep = { " + ", ".join(f"{b} = {k!r}" for b, k in keep.items()) + " }",
        'criterion = "bn_gamma"', f"channel_multiple = {space.channel_multiple}", f"finetune = {{ {ft} }}", "",
        *_sharing_step(params.get("weight_sharing", "none"), space),
        "[[steps]]", 'type = "window"', f"seconds = {seconds!r}", f"hop_seconds = {hop!r}", "",
        "[[steps]]", 'type = "ptq"', f'mode = "{precision}"',
        *(["int8_io = true"] if precision == "int8" else []),
        *([f"int16_blocks = {list(int16_blocks)!r}".replace("'", '"')] if precision == "mixed" else []), ""]
    if precision == "mixed" and not int16_blocks:
        raise ValueError("a mixed-precision point needs its int16 blocks")
    name = "search-" + content_hash("search-recipe", body)[:12]
    head = ["# Written by `sercompress search`; reproduce with `sercompress compress --recipe THIS_FILE`.",
            "schema_version = 1", f'name = "{name}"',
            (f'description = "search candidate: channels {_keep_text(params, space)}, {seconds:g} s window, '
             f'hop {hop:g} s, {_precision_text(precision, int16_blocks)}{_sharing_text(params)}"'), ""]
    if space.quantized_min_agreement is not None:
        head += ["[parity]", f"quantized_min_agreement = {space.quantized_min_agreement!r}", ""]
    return name, "\n".join(head + body)


def _sharing_step(sharing: str, space: SearchSpace) -> list[str]:
    lines = SHARING_STEPS[sharing]
    if not lines:
        return []
    ft = f"epochs = {space.sharing_epochs}, learning_rate = {space.sharing_learning_rate!r}"
    return ["[[steps]]", *lines, f"finetune = {{ {ft} }}", ""]


def _precision_text(precision: str, int16_blocks: tuple[str, ...]) -> str:
    return f"int16 in {'+'.join(int16_blocks)}, int8 elsewhere" if precision == "mixed" else precision


def _sharing_text(params: dict[str, Any]) -> str:
    sharing = params.get("weight_sharing", "none")
    return "" if sharing == "none" else f", {sharing}"


def _keep_text(params: dict[str, Any], space: SearchSpace) -> str:
    return " ".join(f"{g}={params[f'keep_{g}']:g}" for g in space.groups)
