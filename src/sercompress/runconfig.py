"""Run configurations (`configs/*.toml`): what `sercompress run` does.

A run config names the data, the training budget, which recipes, baselines
and hardware profiles to include, and the seed. ``quick`` is sized for CI and
tests; ``default`` is the real report.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from .errors import ConfigError
from .tomlconfig import FrozenModel, load_toml_model

SCHEMA_VERSION = 1
CONFIG_DIR = Path(__file__).resolve().parents[2] / "configs"


class DataSection(FrozenModel):
    dataset: str = "synthetic"
    data_dir: str | None = None
    input_type: Literal["mfcc", "spectrogram", "mel_spectrogram"] = "mfcc"
    duration_s: float = Field(3.0, gt=0, le=60)
    fold: int = Field(0, ge=0)
    #: synthetic corpus only: utterances per (speaker, emotion); None = generator default
    synthetic_per_class: int | None = Field(None, ge=2, le=500)


class TrainSection(FrozenModel):
    epochs: int = Field(30, ge=1, le=1000)
    batch_size: int = Field(32, ge=1, le=1024)
    learning_rate: float = Field(1e-4, gt=0, lt=1)
    loss: Literal["cross_entropy", "focal"] = "cross_entropy"


class CompressSection(FrozenModel):
    #: recipe names (files `compress/<name>.toml`) or paths; ["all"] = every file in compress/
    recipes: tuple[str, ...] = ("all",)
    #: multiplies every recipe's fine-tuning epochs (rounded up, at least 1)
    epochs_scale: float = Field(1.0, gt=0, le=10)


class BaselineSection(FrozenModel):
    #: baseline names (files `baselines/<name>.toml`); ["all"] = every file
    names: tuple[str, ...] = ("all",)
    #: epochs for baselines; None = same as the reference (the fair comparison)
    epochs: int | None = Field(None, ge=1, le=1000)


class ProfileSection(FrozenModel):
    #: hardware profile names; ["all"] = every file in hw_profiles/
    hardware: tuple[str, ...] = ("all",)
    host_runs: int = Field(50, ge=10, le=10000)
    host_warmup: int = Field(10, ge=1, le=1000)
    #: run the real TFLite Micro interpreter on int8 files for the arena size
    tflm: bool = True


class RunConfig(FrozenModel):
    schema_version: Literal[1] = 1
    name: str
    description: str = ""
    seed: int = 0
    data: DataSection = DataSection()
    train: TrainSection = TrainSection()
    compress: CompressSection = CompressSection()
    baselines: BaselineSection = BaselineSection()
    profiles: ProfileSection = ProfileSection()


def load_run_config(name_or_path: str | Path) -> RunConfig:
    """Load `quick`, `default` (shipped in configs/) or a path to a TOML file."""
    path = Path(name_or_path)
    if not path.suffix and not path.exists():
        path = CONFIG_DIR / f"{name_or_path}.toml"
        if not path.is_file():
            known = sorted(p.stem for p in CONFIG_DIR.glob("*.toml"))
            raise ConfigError(f"unknown run config '{name_or_path}'; known: {known} or a path to a .toml file")
    return load_toml_model(path, RunConfig)
