"""Run configurations (`configs/*.toml`): what `sercompress run` does.

A run config names the data, the training budget, which recipes, baselines
and hardware profiles to include, and the seed. ``quick`` is sized for CI and
tests; ``default`` is the real report.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from .dataset import DataConfig
from .errors import ConfigError, SercompressError
from .outpaths import SAFE_NAME
from .resources import shipped_dir
from .tomlconfig import FrozenModel, load_toml_model
from .train import TrainConfig

SCHEMA_VERSION = 1
CONFIG_DIR = shipped_dir("configs")


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
    host_runs: int = Field(50, ge=50, le=10000)
    host_warmup: int = Field(10, ge=1, le=1000)
    #: run the real TFLite Micro interpreter on int8 files for the arena size
    tflm: bool = True


#: a sweep of more runs than this is a typo, not a plan (EMO-DB's 10 folds x 10 seeds is 100)
MAX_SWEEP_RUNS = 1000


class SweepSection(FrozenModel):
    """`sercompress sweep`: which (fold, seed) runs of this config; `run` ignores it.

    ``folds = "all"`` is every fold group of the corpus (10 speakers on EMO-DB, 5 sessions on
    IEMOCAP, 5 speaker pairs on the synthetic corpus), resolved when the corpus is scanned;
    ``seeds`` unset is the config's own ``seed``.
    """

    folds: tuple[int, ...] | Literal["all"] = "all"
    seeds: tuple[int, ...] | None = None

    @field_validator("folds", "seeds")
    @classmethod
    def _distinct(cls, v: tuple[int, ...] | str | None) -> tuple[int, ...] | str | None:
        if isinstance(v, tuple):
            if not v:
                raise ValueError("must list at least one value")
            if len(v) > MAX_SWEEP_RUNS:
                raise ValueError(f"more than {MAX_SWEEP_RUNS} values")
            if len(set(v)) != len(v):
                raise ValueError(f"repeats a value: {list(v)}")
            if min(v) < 0 or max(v) > 2**31 - 1:
                raise ValueError(f"values must be whole numbers from 0 to {2**31 - 1}")
        return v


class RunConfig(FrozenModel):
    schema_version: Literal[1] = 1
    #: becomes reports/<name> when --out is not given: a safe name, never a path
    name: str = Field(pattern=SAFE_NAME)
    description: str = ""
    #: seeds data splitting and training (overrides data.seed and train.seed)
    seed: int = 0
    data: DataConfig = DataConfig()
    train: TrainConfig = TrainConfig()
    compress: CompressSection = CompressSection()
    baselines: BaselineSection = BaselineSection()
    profiles: ProfileSection = ProfileSection()
    #: `sercompress sweep` only; a run (and each run of a sweep) has none
    sweep: SweepSection | None = None

    def for_run(self, fold: int, seed: int) -> RunConfig:
        """This config as the one run of a sweep on ``fold`` with ``seed`` (what `run` would do with
        ``data.fold = fold`` and ``seed = seed``): the seed reaches the data split and the training."""
        return self.model_copy(update={
            "seed": seed, "sweep": None,
            "data": self.data.model_copy(update={"fold": fold, "seed": seed}),
            "train": self.train.model_copy(update={"seed": seed}),
        })


def run_config_names() -> list[str]:
    """Shipped run configs (configs/*.toml, without the compare tolerance files)."""
    return sorted(p.stem for p in CONFIG_DIR.glob("*.toml") if "tolerance" not in p.stem)


def load_run_config(name_or_path: str | Path) -> RunConfig:
    """Load `quick`, `default` (shipped in configs/) or a path to a TOML file."""
    path = Path(name_or_path)
    # A bare word is always a name (as for hardware profiles): `--config default` must not
    # pick up a directory called `default` -- e.g. an earlier `--out default` -- in the cwd.
    if not path.suffix and len(path.parts) == 1:
        path = CONFIG_DIR / f"{name_or_path}.toml"
        if not path.is_file():
            known = run_config_names()
            raise ConfigError(f"unknown run config '{name_or_path}'; known: {known} or a path to a .toml file")
    cfg = load_toml_model(path, RunConfig)
    check_references(cfg, path)
    return cfg.model_copy(update={
        "data": cfg.data.model_copy(update={"seed": cfg.seed}),
        "train": cfg.train.model_copy(update={"seed": cfg.seed}),
    })


def check_references(cfg: RunConfig, path: str | Path) -> None:
    """Every recipe, baseline and hardware profile the config names exists and is valid.

    Checked when the config is loaded, before anything is written or trained: a
    typo in a recipe name used to surface after data preparation and reference
    training, and a wrong hardware name was blamed on ``--hw``. Errors name the
    config file and the key; the underlying file's own error is kept.
    """
    from .baseline import BASELINE_DIR, load_baseline
    from .compress.recipe import RECIPE_DIR, load_recipe
    from .profile.hardware import get_hw_profile

    checks = (
        ("compress.recipes", lambda: [load_recipe(p) for p in
                                      resolve_names(cfg.compress.recipes, RECIPE_DIR, "recipe")]),
        ("baselines.names", lambda: [load_baseline(p) for p in
                                     resolve_names(cfg.baselines.names, BASELINE_DIR, "baseline")]),
        ("profiles.hardware", lambda: None if cfg.profiles.hardware == ("all",) else
         [get_hw_profile(n) for n in cfg.profiles.hardware]),
    )
    for key, check in checks:
        try:
            check()
        except SercompressError as e:
            raise ConfigError(e.message if e.path is None else str(e), path=path, key=key) from None


def resolve_names(requested: tuple[str, ...], directory: Path, what: str) -> list[Path]:
    """Names (``directory/<name>.toml``) or paths; ``("all",)`` = every file, sorted."""
    if tuple(requested) == ("all",):
        return sorted(directory.glob("*.toml"))
    paths = []
    for item in requested:
        path = Path(item)
        if path.suffix != ".toml":
            path = directory / f"{item}.toml"
        if not path.is_file():
            known = sorted(p.stem for p in directory.glob("*.toml"))
            raise ConfigError(f"unknown {what} '{item}'; known: {known}")
        paths.append(path)
    return paths
