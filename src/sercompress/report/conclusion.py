"""A few plain sentences, generated from the numbers, that say what the run found.

Every sentence is computed from the summary (never canned), and says so when
a comparison cannot be made (no float32 reference, no baseline, no device
fits) rather than inventing one. Accuracies carry their 95 % interval, and a
variant is called better or worse only when the paired interval of the UA
difference excludes zero (:mod:`sercompress.report.uncertainty`). A compressed
variant is judged against its same-budget control (float32 fine-tuned as long,
at the same learning rate, as its recipe: ``compress.control``), so extra
training of an under-converged reference is not reported as a gain of compression.
"""

from __future__ import annotations

from . import device_flash, uncertainty
from .select import (
    UA_KEEP_POINTS,
    best_on_smallest_device,
    comparator,
    largest_baseline,
    smallest_keeping_accuracy,
    ua,
    unfit_profiles,
)
from .summary import Summary, VariantEntry
from .tables import kib, pct_ci


def conclusion_sentences(summary: Summary, points: float = UA_KEEP_POINTS) -> list[str]:
    ref = summary.reference()
    out: list[str] = []
    if ref is None or ua(ref) is None:
        out.append("There is no evaluated float32 reference in this summary, so no variant can be "
                   "judged against it.")
    else:
        out.append(f"The float32 reference `{ref.name}` reaches UA {pct_ci(ref)} % at "
                   f"{kib(ref.sizes.gzip_bytes)} gzipped.")
        out.append(_control_sentence(summary, ref))
        out.append(_significance_sentence(summary, ref))
        pick = smallest_keeping_accuracy(summary, points)
        if pick is None:
            out.append(f"No compressed variant keeps UA within {points:g} point{'' if points == 1 else 's'} of its "
                       "same-budget control (float32 without one) while fitting any hardware profile.")
        else:
            out.append(_pick_sentence(summary, pick.name, points))
            out.append(_flash_sentence(summary, pick))
    best = best_on_smallest_device(summary)
    if best is not None:
        v, prof = best
        out.append(f"On the smallest device that anything fits, `{prof.name}`, the most accurate variant "
                   f"is `{v.name}` (UA {pct_ci(v)} %).")
    missing = unfit_profiles(summary)
    if missing:
        out.append(f"No variant fits {_join(missing)}: "
                   + "; ".join(_closest_miss(summary, p) for p in missing) + ".")
    return [s for s in out if s]


def conclusion_text(summary: Summary, points: float = UA_KEEP_POINTS) -> str:
    return " ".join(conclusion_sentences(summary, points))


def _pick_sentence(summary: Summary, name: str, points: float) -> str:
    ref = summary.reference()
    v = summary.variant(name)
    if ref is None or ua(ref) is None or ua(v) is None:
        return ""
    ratio = ref.sizes.gzip_bytes / max(v.sizes.gzip_bytes, 1)
    where = " and fits a device" if summary.profiles else ""
    base = comparator(summary, v)
    against = "" if base is ref else f" vs its same-budget control `{base.name}`"
    s = (f"The smallest variant that keeps UA within {points:g} point{'' if points == 1 else 's'} of "
         f"{'its same-budget control' if base is not ref else 'float32'}{where} is "
         f"`{v.name}`: UA {pct_ci(v)} % ({_delta(base, v)}{against}), "
         f"{kib(v.sizes.gzip_bytes)} gzipped, {ratio:.1f}x smaller than float32 gzipped")
    base = largest_baseline(summary)
    if base is not None:
        s += (f" and {base.sizes.gzip_bytes / max(v.sizes.gzip_bytes, 1):.1f}x smaller than the largest "
              f"baseline `{base.name}` (UA {pct_ci(base)} %)")
    s += "."
    gained = [f.hardware for f in v.fits if f.fits and not ((rf := ref.fit_on(f.hardware)) and rf.fits)]
    if gained:
        s += f" It fits {_join(gained)}, which float32 does not."
    elif v.fits:
        s += " It fits no device that float32 does not already fit."
    return s


def _flash_sentence(summary: Summary, v: VariantEntry) -> str:
    """The flash ``v`` takes on each device that runs it: no device stores the gzip size."""
    groups: dict[tuple[int, str], list[str]] = {}
    for f in v.fits:
        if f.model_flash is not None and device_flash.runs_on(v, f.hardware):
            groups.setdefault((f.model_flash.bytes, f.model_flash.source), []).append(f.hardware)
    refs = [r for r in (summary.reference(), device_flash.int8_reference(summary)) if r is not None and r is not v]
    parts = []
    for (size, what), names in groups.items():
        ratios = [f"; ×{r:.2f} of `{ref.name}`" for ref in refs
                  if (r := device_flash.flash_ratio(v, ref, names[0])) is not None]
        parts.append(f"{kib(size)} on {', '.join(names)} ({what}{''.join(ratios)})")
    return (f"No device stores `{v.name}` gzipped; the flash it takes is {_join_plain(parts)}."
            if parts else "")


def _delta(ref: VariantEntry, v: VariantEntry) -> str:
    """``-1.2 points [-3.0, +0.5], not significant`` (paired on the same clips when possible)."""
    d = uncertainty.difference(ref.accuracy, v.accuracy)
    if d is None:
        return f"{100 * (ua(v) - ua(ref)):+.1f} points, untested"
    verdict = ("significantly better" if d.low > 0 else "significantly worse") if d.significant \
        else "not significantly different"
    return (f"{100 * d.value:+.1f} points [{100 * d.low:+.1f}, {100 * d.high:+.1f}], {verdict}"
            + ("" if d.paired else ", unpaired"))


def _control_sentence(summary: Summary, ref: VariantEntry) -> str:
    """How much fine-tuning float32 alone moves UA: what a reader must not credit to compression."""
    parts = [f"`{c.name}` {_delta(ref, c)}" for c in summary.variants if c.family == "control" and c.accuracy]
    if not parts:
        return ""
    return ("Fine-tuning float32 alone as long as the recipes do (the same-budget controls) changes UA by: "
            + "; ".join(parts) + ".")


def _significance_sentence(summary: Summary, ref: VariantEntry) -> str:
    """Which variants differ from their comparator beyond noise (paired interval of the UA difference).

    Compressed variants against their same-budget control, the others against float32.
    """
    better, worse, same, untested = [], [], [], []
    for v in summary.variants:
        base = comparator(summary, v)
        if v is ref or v.family == "control" or v.accuracy is None:
            continue
        d = uncertainty.difference(base.accuracy, v.accuracy)
        vs = "" if base is ref else f" vs `{base.name}`"
        if d is None:
            untested.append(v.name)
        elif d.significant:
            (better if d.low > 0 else worse).append(f"`{v.name}` ({100 * d.value:+.1f} pt{vs})")
        else:
            same.append(v.name)
    parts = []
    if worse:
        parts.append(f"significantly worse in UA: {_join_plain(worse)}")
    if better:
        parts.append(f"significantly better: {_join_plain(better)}")
    if same:
        parts.append(f"{len(same)} variant{'' if len(same) == 1 else 's'} within noise "
                     "(95 % interval of the UA difference includes zero)")
    if untested:
        parts.append(f"no per-clip data to test {_join(untested)}")
    return ("Against its same-budget control for a compressed variant, float32 otherwise (paired on the same "
            "test clips where both kept per-clip predictions), " + "; ".join(parts) + ".") if parts else ""


def _closest_miss(summary: Summary, profile: str) -> str:
    """Name the variant that misses this profile by the fewest budgets, and why."""
    misses = [(v, f) for v in summary.variants if (f := v.fit_on(profile)) is not None]
    if not misses:
        return f"{profile}: no variant was checked"
    v, f = min(misses, key=lambda vf: (len(vf[1].failed_budgets or vf[1].reasons), vf[0].sizes.gzip_bytes))
    why = "; ".join(f.reasons) or ", ".join(f.failed_budgets) or "no reason recorded"
    return f"on {profile} even `{v.name}` misses ({why})"


def _join(items: list[str]) -> str:
    return _join_plain([f"`{i}`" for i in items])


def _join_plain(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
