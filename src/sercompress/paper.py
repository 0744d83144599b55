"""The Light-SERNet paper's evaluation protocols and published figures, as data.

Aftab, Morsali, Ghaemmaghami and Champagne, *Light-SERNet: A lightweight fully
convolutional neural network for speech emotion recognition*, ICASSP 2022, evaluates
on IEMOCAP (improvised, 4 classes, 7 s) and EMO-DB (7 classes, 3 s).
``configs/paper-emodb.toml`` and ``configs/paper-iemocap.toml`` run our version of
those protocols (:data:`PROTOCOLS` says which config implements which, and a test
checks that they agree); a sweep report shows the paper's figures beside ours with
the differences listed here, so nobody reads the two as the same experiment.

Figures enter :data:`PUBLISHED` only when they were checked against the paper's text.
None was available where this module was written (no copy of the paper or of its
official code on the machine, and the repository's documents quote none of its
results), so the table is empty and :func:`published` answers ``()`` for every corpus
until someone with the paper adds them: one :class:`PublishedResult` each, whose
validation refuses a figure outside [0, 100], a record without any figure or without
its source, and a corpus without a protocol.
"""

from __future__ import annotations

from typing import get_args

from pydantic import Field, model_validator

from .data.types import IemocapFilter
from .dataset import DatasetName
from .errors import DataError
from .records import Record

CITATION = "Aftab, Morsali, Ghaemmaghami and Champagne, ICASSP 2022 (Light-SERNet)"
#: Training epochs and validation speakers of both paper configs (a test checks the files).
EPOCHS = 100
VAL_SPEAKERS = 2


class PaperProtocol(Record):
    """One of the paper's evaluation settings and how our shipped config runs it."""

    dataset: DatasetName
    #: the shipped run config (``configs/<config>.toml``) implementing it
    config: str = Field(min_length=1)
    #: the setting in the paper's terms (corpus, classes, clip length)
    setting: str = Field(min_length=1)
    classes: tuple[str, ...] = Field(min_length=2)
    #: fold groups held out one at a time (EMO-DB speakers, IEMOCAP sessions)
    folds: int = Field(ge=2)
    duration_s: float = Field(gt=0, le=60)
    epochs: int = Field(EPOCHS, ge=1)
    val_speakers: int = Field(VAL_SPEAKERS, ge=1)
    #: IEMOCAP only: which dialogues are kept
    iemocap_filter: IemocapFilter | None = None
    #: where our run differs from the paper's experiment, one sentence each
    differences: tuple[str, ...] = Field(min_length=1)


class PublishedResult(Record):
    """What the paper reports for one setting, in percent, on its own protocol.

    A figure the paper does not state is ``None``, never a guess; ``differences``
    travels with the figures so a report cannot show them without it.
    """

    dataset: DatasetName
    setting: str = Field(min_length=1)
    ua: float | None = Field(None, ge=0, le=100)
    wa: float | None = Field(None, ge=0, le=100)
    f1: float | None = Field(None, ge=0, le=100)
    #: citation and table, e.g. "<CITATION>, Table 2"
    source: str = Field(min_length=1)
    differences: tuple[str, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _has_a_figure(self) -> PublishedResult:
        if self.ua is None and self.wa is None and self.f1 is None:
            raise ValueError("a published result needs at least one of ua, wa, f1")
        if self.dataset not in PROTOCOLS:
            raise ValueError(f"no paper protocol for dataset {self.dataset!r} "
                             f"(known: {sorted(PROTOCOLS)})")
        return self


#: Differences shared by both settings.
_COMMON: tuple[str, ...] = (
    ("Model selection: the official code keeps the epoch that is best on the test fold; we keep the "
     "epoch with the best UA on validation speakers drawn from the training speakers and never look "
     "at the test fold, so our figures are expected to be lower."),
    (f"Training data: the validation speakers of each fold ({VAL_SPEAKERS} in the shipped paper configs) "
     "are taken out of training."),
    ("BatchNorm statistics are recomputed from 8 training batches before each validation "
     "(precise BN, an addition of ours; gradients are unchanged)."),
    ("Epochs: the paper's epoch count is not documented in this repository; the shipped paper configs "
     f"train {EPOCHS} epochs with the paper's optimiser and learning-rate schedule (Adam 1e-4, batch 32, x exp(-0.15) "
     "every 20 epochs after epoch 50) and cross-entropy; which loss the paper's tables used (it "
     "also describes focal loss) was not checked here."),
    ("Folds: ours are speaker-independent (one speaker or session held out per fold); how the "
     "paper built its folds and aggregated them was not checked against its text here. Our figures "
     "are the mean and standard deviation over folds of per-fold UA / WA / F1."),
)

PROTOCOLS: dict[str, PaperProtocol] = {
    "emodb": PaperProtocol(
        dataset="emodb", config="paper-emodb", setting="EMO-DB, 7 classes, 3 s",
        classes=("neutral", "happy", "sad", "angry", "bored", "disgusted", "fearful"),
        folds=10, duration_s=3.0,
        differences=_COMMON + (
            "Clips are cut to their first 3 s or zero-padded at the end (the reference features).",
        )),
    "iemocap": PaperProtocol(
        dataset="iemocap", config="paper-iemocap",
        setting="IEMOCAP improvised, 4 classes (excited merged into happy), 7 s",
        classes=("neutral", "happy", "sad", "angry"), folds=5, duration_s=7.0,
        iemocap_filter="improvised",
        differences=_COMMON + (
            ("Excited is merged into happy and only improvised dialogues are kept, as the repository "
             "reads the paper (data/iemocap.py); not re-checked against the paper's text here."),
            "Clips are cut to their first 7 s or zero-padded at the end (the reference features).",
        )),
}

#: The paper's figures, per corpus; see the module docstring for why it is empty.
PUBLISHED: dict[str, tuple[PublishedResult, ...]] = {}


def protocol(dataset: str) -> PaperProtocol | None:
    """The paper's setting on ``dataset``, or ``None`` (synthetic, RAVDESS, CREMA-D)."""
    return PROTOCOLS.get(dataset)


def published(dataset: str) -> tuple[PublishedResult, ...]:
    """The paper's figures on ``dataset``; ``()`` for a corpus without any (synthetic)."""
    if dataset not in get_args(DatasetName):
        raise DataError(f"unknown dataset {dataset!r} (valid choices: {sorted(get_args(DatasetName))})",
                        key="dataset")
    return PUBLISHED.get(dataset, ())
