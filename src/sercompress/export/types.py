"""The export stage's records: what a variant's files are shown to be.

* :class:`Parity` -- does the file compute what the Keras model computes
  (:func:`.parity.compare`);
* :class:`Verification` -- what the file's kernels show against the recipe's
  :class:`Claim` s (:func:`.verify.verify_tflite`), with per-kernel figures;
* :class:`Sizes` -- bytes on disk, gzip -9 bytes, constant bytes per dtype
  (:func:`.verify.artifact_sizes`).

They are stored as they are in ``variant.json`` and embedded in ``summary.json``.
Derived figures (``ok``, ``sparsity``, ...) are fields filled by the one function
that builds each record, so the stored form is the whole record.
"""

from __future__ import annotations

from ..records import Record


class Claim(Record):
    """What a variant says its file shows. ``None`` / ``False`` = no claim."""

    sparsity: float | None = None
    m_by_n: tuple[int, int] | None = None
    clusters: int | None = None
    integer_weights: bool = False
    #: fraction of kernel weights stored as integers (dynamic-range files keep kernels
    #: under the converter's 1024-element threshold in float, so "all" would be wrong)
    min_integer_fraction: float | None = None
    #: output channels of every covered kernel (channel pruning: the file really is narrower)
    output_channels: int | None = None
    layers: tuple[str, ...] | None = None  # Keras layer names the claim covers (None = all)


class KernelStats(Record):
    """One kernel of the file, read back from its bytes."""

    name: str
    op: str
    shape: tuple[int, ...]
    dtype: str
    size: int
    zeros: int
    sparsity: float                 # zeros / size
    max_unique_per_channel: int
    m_by_n: dict[str, bool] = {}    # "2:4" -> pattern satisfied


class ClaimCheck(Record):
    """One claim against the kernels it covers."""

    claim: Claim
    kernels: int
    sparsity: float            # zeros / weights over the covered kernels
    max_unique_per_channel: int
    problems: tuple[str, ...] = ()


class Verification(Record):
    """Every claim of a variant checked on one file, and the file's kernels."""

    artifact: str
    ok: bool                        # no problem in any check
    problems: tuple[str, ...]
    sparsity: float                 # zeros over all kernel weights of the file
    max_unique_per_channel: int     # largest count of distinct values in one output channel
    weight_dtypes: tuple[str, ...]
    checks: tuple[ClaimCheck, ...]
    kernels: tuple[KernelStats, ...]


class Sizes(Record):
    file_bytes: int
    gzip_bytes: int
    weight_bytes_by_dtype: dict[str, int]


class Parity(Record):
    """Top-1 agreement of an artifact with the Keras model on the test split."""

    artifact: str
    clips: int
    top1_agreement: float
    max_abs_diff: float  # on class probabilities
    min_agreement: float
    ok: bool             # top1_agreement >= min_agreement
