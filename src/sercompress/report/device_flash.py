"""What a compression buys on each device: the flash its runtime stores, next to the gzip size.

A gzip ratio is not flash saved. No runtime here stores a gzipped model: TFLite
Micro and LiteRT keep the flatbuffer as it is, so the zeros of pruning and the
shared values of clustering cost as many bytes as any other weight and only the
gzip size shrinks; Vela's weight encoder does turn them into a smaller optimised
model on Ethos-U. The figure per (variant, device) is the assessment's own
(:attr:`~sercompress.assess.DeviceAssessment.model_flash`, from
:func:`sercompress.fit.flash_used`, the one rule ``check`` applies), compared
with the float32 reference and the int8 reference (``ptq-int8``) *on that
device*. Nothing is recomputed; a summary written before the figure was kept
shows none.
"""

from __future__ import annotations

from ..fit import Resource
from .summary import Summary, VariantEntry

#: The recipe whose variant is the int8 reference: the reference quantised after training, no
#: other step (``compress/ptq-int8.toml``).
INT8_RECIPE = "ptq-int8"

NOTE = ("Flash is what each device's runtime stores, runtime excluded: TFLite Micro and LiteRT keep "
        "the flatbuffer as is, so pruning's zeros and clustering's shared values take as many bytes as "
        "any other weight (only the gzip size shrinks); on Ethos-U, Vela's weight encoder turns them into "
        "a smaller optimised model. Ratios (×) are to the float32 and the int8 reference on the same "
        "device; a gzip ratio is a download size, not flash saved.")
NOT_RECORDED = ("This summary was written before the flash per device was recorded: re-run to see what "
                "each device stores.")


def int8_reference(summary: Summary) -> VariantEntry | None:
    """The reference quantised to int8 after training (the ``ptq-int8`` recipe's entry)."""
    return next((v for v in summary.variants if v.family == "compressed" and v.recipe == INT8_RECIPE
                 and v.artifact.dtype == "int8"), None)


def flash_on(v: VariantEntry, profile: str) -> Resource | None:
    """``v``'s flash on ``profile`` as its assessment recorded it (None: not recorded)."""
    f = v.fit_on(profile)
    return f.model_flash if f is not None else None


def runs_on(v: VariantEntry, profile: str) -> bool:
    """Whether ``profile``'s runtime can run ``v`` at all (a flash saving there means nothing else)."""
    f = v.fit_on(profile)
    return f is not None and f.latency.source != "unsupported"


def flash_ratio(v: VariantEntry, ref: VariantEntry | None, profile: str) -> float | None:
    """Flash of ``v`` over flash of ``ref`` on one device; None unless both run there."""
    if ref is None or not (runs_on(v, profile) and runs_on(ref, profile)):
        return None
    mine, theirs = flash_on(v, profile), flash_on(ref, profile)
    return None if mine is None or theirs is None or not theirs.bytes else mine.bytes / theirs.bytes


def gzip_ratio(v: VariantEntry, ref: VariantEntry | None) -> float | None:
    return None if ref is None or not ref.sizes.gzip_bytes else v.sizes.gzip_bytes / ref.sizes.gzip_bytes


def recorded(summary: Summary) -> bool:
    return any(f.model_flash is not None for v in summary.variants for f in v.fits)


def label(summary: Summary, profile: str) -> str:
    """What counts as flash on ``profile``: its most frequent label among variants that run there."""
    labels = [u.source for v in summary.variants if runs_on(v, profile)
              and (u := flash_on(v, profile)) is not None]
    return max(sorted(set(labels)), key=labels.count) if labels else "not recorded"


#: The CSV's columns of the flash of one (variant, device) and the variant's gzip ratios.
CSV_COLUMNS = ("device_flash_bytes", "device_flash_what", "device_flash_vs_float32", "device_flash_vs_int8",
               "gzip_vs_float32", "gzip_vs_int8")


def csv_columns(summary: Summary, v: VariantEntry, profile: str | None) -> dict[str, object]:
    f32, i8 = summary.reference(), int8_reference(summary)
    used = flash_on(v, profile) if profile else None
    return dict(zip(CSV_COLUMNS, (
        used.bytes if used else None, used.source if used else "",
        *(_round(flash_ratio(v, ref, profile)) if profile else None for ref in (f32, i8)),
        *(_round(gzip_ratio(v, ref)) for ref in (f32, i8))), strict=True))


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 4)
