"""A candidate's exported file on a device, measured exactly as ``sercompress check`` does.

``check`` profiles the file (its real TensorFlow Lite Micro arena included) and
calls :func:`sercompress.assess.assess_on_device`; so does this module, and the
verdict is the same. Optuna wants one number per constraint, > 0 when violated:
the relative excess of the figure over its budget (flash and RAM: value / limit - 1;
latency: the band's *upper* end / budget - 1, since ``check`` calls a file FITS
only when that end is within budget), with its sign forced to agree with the
check's status (a MARGINAL or UNKNOWN check is violated; dtype: 0 or 1).

A streamed candidate (a window shorter than the clip) runs several inferences
per utterance, so the device's latency budget, written for one classification
of an utterance, is divided: each inference must finish within the hop (or the
stream falls behind) and all of an utterance's inferences within the budget
(:func:`stream_latency_budget_ms`). ``check --latency-budget-ms`` with that
figure gives the same verdict; the search records the command.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .record import CONSTRAINTS

#: the value of a violated check without a figure (UNKNOWN latency, unsupported dtype)
VIOLATED = 1.0
#: the least a violated check counts, so a MARGINAL with its point value within budget is still > 0
EPSILON = 1e-6


def assess_file(path: str | Path, hw: Any, cache_dir: str | Path | None = None,
                latency_budget_ms: float | None = None) -> Any:
    """``check``'s ``DeviceAssessment`` of one file on one device (no TensorFlow)."""
    from ..assess import assess_on_device
    from ..profile import measured_arena, profile_artifact

    return assess_on_device(measured_arena(profile_artifact(str(path))), hw, cache_dir=cache_dir,
                            latency_budget_ms=latency_budget_ms)


def stream_latency_budget_ms(hw: Any, stream: Any) -> float | None:
    """The per-inference budget of a streamed candidate; None (the profile's own) for a whole-clip one.

    min(hop, budget / windows per clip): keeping up with the stream, and an
    utterance's inferences together within the device's budget. A device
    without a budget still has the stream to keep up with.
    """
    if stream is None or stream.windows_per_clip <= 1:
        return None
    limits = [stream.hop_seconds * 1000.0]
    if hw.latency_budget_ms is not None:
        limits.append(hw.latency_budget_ms / stream.windows_per_clip)
    return round(min(limits), 3)


def check_command(hw: Any, artifact: str | Path, latency_budget_ms: float | None) -> str:
    """The ``sercompress check`` command whose verdict the search used."""
    budget = "" if latency_budget_ms is None else f" --latency-budget-ms {latency_budget_ms!r}"
    return f"sercompress check --hw {hw.name}{budget} {artifact}"


def constraint_values(device: Any) -> dict[str, float]:
    """One value per budget in :data:`CONSTRAINTS`; a budget the device does not set is 0 (met)."""
    checks = {c.name: c for c in device.fit.checks}
    out = {}
    for name in CONSTRAINTS:
        c = checks.get(name)
        if c is None:
            out[name] = 0.0
            continue
        value = c.value
        if name == "latency" and device.latency_high_ms is not None:
            value = device.latency_high_ms
        excess = (float(value) / float(c.limit) - 1.0) if value is not None and c.limit else None
        if c.ok:
            out[name] = min(excess, 0.0) if excess is not None else 0.0
        else:
            out[name] = max(excess, EPSILON) if excess is not None else VIOLATED
    return out


def check_text(device: Any, hw: Any) -> str:
    """What ``sercompress check --hw NAME FILE`` prints for this assessment."""
    from ..cli.check import check_text as text

    return text(device, hw.sources.get("active_power_mw"))
