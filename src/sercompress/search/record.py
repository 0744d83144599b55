"""Typed records of a search: one per trial, the front and the choice per device (``search.json``)."""

from __future__ import annotations

from typing import Literal

from ..records import Record
from .sensitivity import Int16Sensitivity

SEARCH_SCHEMA_VERSION = 2
#: the record's file in a search's output directory
SEARCH_FILE = "search.json"
#: the budgets a candidate must meet on a device, in the order of Optuna's constraint vector
CONSTRAINTS: tuple[str, ...] = ("flash", "ram", "latency", "dtype")


class TrialRecord(Record):
    """One candidate on one device, every figure measured on its exported file."""

    number: int
    params: dict[str, float | str]
    recipe: str                         # OUT/trials/<name>.toml
    variant_dir: str
    artifact: str                       # the checked (main, integer) .tflite
    artifact_sha256: str
    val_ua: float                       # UA of that file on the validation speakers: what the study ranks by
    test_ua: float                      # on the test clips (streamed if windowed): reported, never ranked by
    windows_per_clip: int
    latency_ms: float | None            # per inference (one window), the device's estimate
    latency_high_ms: float | None       # upper end of its 90 % band
    latency_budget_ms: float | None     # per inference: the device's, or a streamed candidate's share of it
    latency_per_utterance_ms: float | None
    flash_bytes: int | None             # model + runtime, as `check` counts it
    ram_bytes: int | None               # TFLite Micro arena (measured) + runtime
    verdict: str
    constraints: dict[str, float]       # > 0: violated (relative excess over the budget)
    feasible: bool


class ControlComparison(Record):
    """The chosen variant's UA against the float control fine-tuned with the same budget."""

    control: str                        # e.g. float32@6ep-lr0.001-b32
    control_ua: float
    ua_difference: float                # chosen - control, paired on the same test clips
    low: float
    high: float
    level: float
    unit: str
    significant: bool


class DeviceSearch(Record):
    hardware: str
    trials: tuple[TrialRecord, ...]
    front: tuple[int, ...]              # trial numbers on the Pareto front (val UA up, latency down), feasible only
    chosen: int | None                  # highest validation UA among the feasible; tie: lower latency per utterance
    chosen_recipe: str | None = None    # OUT/<hw>/chosen-recipe.toml (or OUT/chosen-recipe.toml for one device)
    check_command: str | None = None    # the `sercompress check` command of the chosen file (its budget)
    check: str | None = None            # what that command prints
    comparison: ControlComparison | None = None
    #: against the reference as trained (its float32 file, not fine-tuned): what the user ships today
    vs_reference: ControlComparison | None = None


class SearchResult(Record):
    schema_version: Literal[2] = SEARCH_SCHEMA_VERSION
    reference: str
    seed: int
    n_trials: int
    sampler: str
    validation_clips: int               # clips of the validation speakers the study ranks by
    objectives: tuple[str, ...] = ("maximize validation UA of the exported file",
                                   "minimize latency per utterance (per-window estimate x windows per clip)")
    devices: tuple[DeviceSearch, ...]
    wall_time_s: float
    #: the int16 blocks of the mixed-precision candidates, and the measurement that chose them (if measured)
    int16_blocks: tuple[str, ...] = ()
    int16_sensitivity: Int16Sensitivity | None = None
