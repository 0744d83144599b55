"""Collect stage results into the report's :class:`~sercompress.report.summary.Summary`.

The pipeline hands over what each stage returned (variant records, artifact
assessments, hardware profiles, baseline specs); this module picks the records
of one artifact and embeds them as they are, so every number in the summary is
one a stage measured on the exported file.
"""

from __future__ import annotations

import os
import platform
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from .assess import ArtifactAssessment
from .compress.variant import VariantResult
from .fit import ram_used
from .metrics import Metrics
from .profile.types import StaticProfile
from .report.summary import (
    Artifact,
    HardwareBudget,
    LayerFigure,
    MachineInfo,
    PublishedFigure,
    VariantEntry,
)

#: Packages whose versions decide the figures; recorded in every summary.
TRACKED_PACKAGES = ("sercompress", "tensorflow", "tf-keras", "tensorflow-model-optimization", "tf2onnx",
                    "onnx", "onnxruntime", "ai-edge-litert", "tflite-micro", "ethos-u-vela", "numpy")


@dataclass(frozen=True)
class ArtifactRow:
    """One row of the report: an artifact of a variant (or baseline) and its assessment."""

    name: str
    family: str                    # reference | compressed | baseline | control
    recipe: str
    variant: VariantResult
    kind: str                      # "tflite" | "tflite_int8"
    assessment: ArtifactAssessment
    published: PublishedFigure | None = None
    control: str | None = None     # the row that is its same-budget control (compressed rows)


def entry(row: ArtifactRow, relative_to: Path) -> VariantEntry:
    v, a, static = row.variant, row.assessment, row.assessment.static
    path = _rel(a.path, relative_to)
    verification = v.verification.get(row.kind)
    if verification is not None:  # verified where it was made (the store): name the run's own copy
        verification = verification.model_copy(update={"artifact": path})
    return VariantEntry(
        name=row.name, family=row.family, recipe=row.recipe,
        artifact=Artifact(path=path, format="tflite", dtype=deployment_dtype(static)),
        accuracy=_without_probabilities(v.accuracy.get(row.kind)),
        sizes=v.sizes[row.kind],  # type: ignore[index]
        params=static.params, nonzero_params=static.nonzero_params, macs=static.macs,
        peak_ram_bytes=ram_used(static, None).bytes,
        host_latency=tuple(a.host.values()),
        verification=verification,
        fits=tuple(a.devices.values()),
        layers=tuple(LayerFigure(name=layer.name or f"{layer.op}_{layer.index}", op=layer.op,
                                 macs=layer.macs, ram_bytes=layer.activation_bytes)
                     for layer in static.layers),
        published=row.published,
        notes=tuple(n for n in (_onnx_note(v, row.kind),) if n),
        control=row.control,
        windows_per_clip=v.stream.windows_per_clip if v.stream else 1,
    )


def _without_probabilities(acc: Metrics | None) -> Metrics | None:
    """The summary keeps per-clip ids, speakers, labels and predicted classes; the probabilities
    stay in the variant's record (they would triple the summary's size)."""
    if acc is None or acc.predictions is None:
        return acc
    return acc.model_copy(update={"predictions": acc.predictions.model_copy(update={"probabilities": ()})})


def deployment_dtype(static: StaticProfile) -> str:
    """float32 / float16 / dynamic_int8 / int8 / int16x8 / int8+int16x8 (per-block mixed),
    read from the file's tensors."""
    weights, acts = set(static.weight_dtypes), set(static.activation_dtypes)
    if "int16" in acts:
        return "int8+int16x8" if "int8" in acts else "int16x8"
    if "int8" in acts and "float32" not in acts - {"int8"}:
        return "int8"
    if "int8" in weights:
        return "dynamic_int8"
    if "float16" in weights:
        return "float16"
    return "float32"


def budget(hw: Any) -> HardwareBudget:
    return HardwareBudget(name=hw.name, description=hw.description, flash_bytes=hw.flash_bytes,
                          ram_bytes=hw.ram_bytes, latency_ms=hw.latency_budget_ms)


def machine() -> MachineInfo:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return MachineInfo(cpu_model=cpu, cores=os.cpu_count() or 1, platform=platform.platform(),
                       python=sys.version.split()[0])


def package_versions() -> dict[str, str]:
    out = {}
    for name in TRACKED_PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def published(spec: Any) -> PublishedFigure:
    return PublishedFigure(citation=spec.paper.citation(),
                           metric=spec.reported.metric, value=spec.reported.value, corpus=spec.reported.corpus)


def _onnx_note(variant: VariantResult, kind: str) -> str | None:
    if kind == "tflite" and variant.onnx_error:
        return f"no ONNX export: {variant.onnx_error}"
    return None


def _rel(path: str, root: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)
