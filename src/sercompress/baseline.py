"""Baseline files (`baselines/*.toml`): which larger model from the literature, built how, cited how.

A baseline is data, not code: the architecture is a registry key of
:mod:`sercompress.models`, the hyper-parameters are passed to its builder, and
the paper and the figure it reports travel with the file so that the report
can show "published" next to "measured here" without anyone retyping them.
The pipeline trains every baseline with exactly the reference's data, folds,
epochs and seed; this module only loads and validates the files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator

from .errors import ConfigError
from .outpaths import SAFE_NAME
from .resources import shipped_dir
from .tomlconfig import FrozenModel, load_toml_model

SCHEMA_VERSION = 1
BASELINE_DIR = shipped_dir("baselines")

#: TOML values a builder hyper-parameter may take (nested lists for layer specs).
HParam = int | float | bool | str | list[Any]


class PaperRef(FrozenModel):
    """Where the architecture comes from."""

    authors: tuple[str, ...] = Field(min_length=1)
    title: str = Field(min_length=1)
    venue: str = Field(min_length=1)
    year: int = Field(ge=1990, le=2100)
    url: str | None = None

    def citation(self) -> str:
        names = self.authors[0] + (" et al." if len(self.authors) > 2 else
                                   (f" and {self.authors[1]}" if len(self.authors) == 2 else ""))
        return f"{names}, {self.venue}, {self.year}"


class ReportedFigure(FrozenModel):
    """The figure the paper reports, in percent, on its own corpus and protocol."""

    metric: Literal["UA", "WA", "accuracy", "F1"]
    value: float = Field(ge=0, le=100)
    corpus: str = Field(min_length=1)
    protocol: str = ""


class BaselineSpec(FrozenModel):
    schema_version: Literal[1] = 1
    name: str = Field(pattern=SAFE_NAME)  # becomes OUT/baselines/<name>: ".." must not pass
    model: str = Field(min_length=1)
    input_type: Literal["mfcc", "spectrogram", "mel_spectrogram"] = "mfcc"
    description: str = ""
    notes: str = ""
    hparams: dict[str, HParam] = Field(default_factory=dict)
    paper: PaperRef
    reported: ReportedFigure

    @field_validator("model")
    @classmethod
    def _known_model(cls, v: str) -> str:
        from .models import MODEL_BUILDERS, _load_builtin_models

        _load_builtin_models()  # imports builder modules only; TensorFlow stays unloaded
        if v not in MODEL_BUILDERS:
            raise ValueError(f"unknown architecture '{v}' (valid choices: {sorted(MODEL_BUILDERS)})")
        return v

    @field_validator("hparams")
    @classmethod
    def _builder_takes_hparams(cls, v: dict[str, HParam], info: ValidationInfo) -> dict[str, HParam]:
        """A misspelt or mistyped knob is refused when the file is loaded, not after data preparation."""
        from .models import hparams_problem

        model = info.data.get("model")        # absent if the model name itself was refused
        problem = hparams_problem(model, v) if model else None
        if problem:
            raise ValueError(problem)
        return v

    def build(self, input_shape: tuple[int, int, int], n_classes: int):
        """The untrained Keras model of this baseline (imports TensorFlow)."""
        from .models import build_model

        return build_model(self.model, input_shape, n_classes, **self.hparams)


def load_baseline(path: str | Path) -> BaselineSpec:
    """Parse and validate one baseline file; the file stem must equal its ``name``."""
    path = Path(path)
    spec = load_toml_model(path, BaselineSpec)
    if spec.name != path.stem:
        raise ConfigError(f"name '{spec.name}' differs from the file name '{path.stem}'", path=path, key="name")
    return spec


def list_baselines(directory: str | Path = BASELINE_DIR) -> list[BaselineSpec]:
    """Every `*.toml` of a directory, sorted by name; a missing directory is an error."""
    directory = Path(directory)
    if not directory.is_dir():
        raise ConfigError("baseline directory not found", path=directory)
    return [load_baseline(p) for p in sorted(directory.glob("*.toml"))]

