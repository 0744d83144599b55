"""Hand-built summaries: the report and compare tests need no training or conversion."""

from __future__ import annotations

import pytest

from sercompress.assess import DeviceAssessment
from sercompress.export.types import Sizes, Verification
from sercompress.fit import Check, DeviceFit
from sercompress.metrics import Metrics
from sercompress.profile.types import HostLatency, LatencyEstimate
from sercompress.report.summary import (
    Artifact,
    HardwareBudget,
    LayerFigure,
    MachineInfo,
    PublishedFigure,
    RunInfo,
    Summary,
    VariantEntry,
)

CLASSES = ("angry", "happy", "neutral", "sad")
PROFILES = (
    HardwareBudget(name="big_mcu", flash_bytes=2_000_000, ram_bytes=1_000_000, latency_ms=500.0),
    HardwareBudget(name="tiny_mcu", flash_bytes=300_000, ram_bytes=200_000, latency_ms=200.0),
)


def check(name: str, value: float, limit: float | None) -> Check:
    unit = "ms" if name == "latency" else "bytes"
    if limit is None:  # no limit: always satisfied
        return Check(name=name, ok=True, value=value, limit=None, margin=None, unit=unit, reason="no limit")
    ok = value <= limit
    return Check(name=name, ok=ok, value=value, limit=limit, margin=limit - value, unit=unit,
                 reason="within" if ok else f"{value:g} > {limit:g}")


def device(name: str, checks: tuple[Check, ...], latency: float | None,
           source: str = "estimated") -> DeviceAssessment:
    """One artifact on one device, as the assessment records it."""
    return DeviceAssessment(
        hardware=name,
        latency=LatencyEstimate(hardware=name, source=source, ms=latency, cycles=None, reason="test"),
        fit=DeviceFit(artifact="m.tflite", hardware=name, fits=all(c.ok for c in checks), checks=checks))


def fit(profile: HardwareBudget, flash: int, ram: int, latency: float) -> DeviceAssessment:
    checks = (check("flash", flash, profile.flash_bytes), check("ram", ram, profile.ram_bytes),
              check("latency", latency, profile.latency_ms))
    return device(profile.name, checks, latency)


def host(runtime: str, median_ms: float, p90_ms: float) -> HostLatency:
    return HostLatency(path="m", runtime=runtime, threads=1, runs=50, warmup=5, median_ms=median_ms,
                       p90_ms=p90_ms, min_ms=median_ms, max_ms=p90_ms, mean_ms=median_ms, iqr_ms=0.0,
                       spread=p90_ms / median_ms, peak_rss_bytes=1, baseline_rss_bytes=1)


def verification(sparsity: float) -> Verification:
    return Verification(artifact="m.tflite", ok=True, problems=(), sparsity=sparsity,
                        max_unique_per_channel=0, weight_dtypes=("int8",), checks=(), kernels=())


def variant(name: str, family: str, dtype: str, ua: float, gzip: int, ram: int, latency: float,
            profiles=PROFILES, layers: bool = False, **kw) -> VariantEntry:
    confusion = [[8, 1, 1, 0], [1, 7, 1, 1], [0, 1, 9, 0], [1, 0, 2, 7]]
    lay = tuple(LayerFigure(name=f"l{i}", op="CONV_2D", macs=1_000_000 * (i + 1), ram_bytes=10_000 * (i + 1))
                for i in range(5)) if layers else None
    return VariantEntry(
        name=name, family=family, recipe=kw.pop("recipe", None),
        artifact=Artifact(path=f"{name}/model.tflite", format="tflite", dtype=dtype),
        accuracy=Metrics(ua=ua, wa=ua + 0.01, f1=ua - 0.01, confusion=confusion, classes=CLASSES, n=40,
                         recall=(ua,) * len(CLASSES)),
        sizes=Sizes(file_bytes=int(gzip * 1.1), gzip_bytes=gzip, weight_bytes_by_dtype={dtype: gzip}),
        params=462_468, nonzero_params=kw.pop("nonzero", 462_468), macs=160_228_480, peak_ram_bytes=ram,
        host_latency=(host("litert", latency / 10, latency / 9), host("onnxruntime", latency / 12, latency / 11)),
        verification=verification(kw.pop("sparsity", 0.0)),
        fits=tuple(fit(p, int(gzip * 1.1), ram, latency) for p in profiles), layers=lay, **kw,
    )


def make_summary(profiles=PROFILES, variants=None) -> Summary:
    if variants is None:
        variants = (
            variant("float32", "reference", "float32", 0.70, 1_700_000, 900_000, 400.0, profiles, layers=True),
            variant("ptq_int8", "compressed", "int8", 0.695, 420_000, 190_000, 150.0, profiles,
                    recipe="ptq_int8"),
            variant("prune50_int8", "compressed", "int8", 0.69, 250_000, 190_000, 120.0, profiles,
                    layers=True, recipe="prune50_int8", sparsity=0.5, nonzero=231_234),
            variant("prune80_int8", "compressed", "int8", 0.60, 150_000, 190_000, 110.0, profiles,
                    recipe="prune80_int8", sparsity=0.8, nonzero=92_494),
            variant("vgg_cnn", "baseline", "float32", 0.72, 12_000_000, 3_000_000, 2_000.0, profiles,
                    recipe="vgg_cnn",
                    published=PublishedFigure(citation="Popova et al., 2018", metric="accuracy", value=71.0,
                                              corpus="RAVDESS")),
        )
    run = RunInfo(config_name="unit", config={"name": "unit", "seed": 0}, dataset="synthetic",
                  classes=CLASSES, seed=0, fold=0, package_versions={"sercompress": "0.1.0"},
                  machine=MachineInfo(cpu_model="test cpu", cores=2, platform="linux", python="3.11"),
                  timings_s={"train": 12.5, "compress": 30.0})
    return Summary(run=run, profiles=tuple(profiles), variants=tuple(variants))


@pytest.fixture
def summary() -> Summary:
    return make_summary()
