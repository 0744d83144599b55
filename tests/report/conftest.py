"""Hand-built summaries: the report and compare tests need no training or conversion."""

from __future__ import annotations

import pytest

from sercompress.report.summary import (
    Accuracy,
    Artifact,
    FitCheck,
    HardwareBudget,
    HostLatency,
    LayerFigure,
    MachineInfo,
    ProfileFit,
    PublishedFigure,
    RunInfo,
    Sizes,
    Summary,
    VariantEntry,
    Verification,
)

CLASSES = ("angry", "happy", "neutral", "sad")
PROFILES = (
    HardwareBudget(name="big_mcu", flash_bytes=2_000_000, ram_bytes=1_000_000, latency_ms=500.0),
    HardwareBudget(name="tiny_mcu", flash_bytes=300_000, ram_bytes=200_000, latency_ms=200.0),
)


def check(name: str, value: float, limit: float | None) -> FitCheck:
    if limit is None:  # no limit: always satisfied
        return FitCheck(name=name, ok=True, value=value)
    return FitCheck(name=name, ok=value <= limit, value=value, limit=limit, margin=limit - value)


def fit(profile: HardwareBudget, flash: int, ram: int, latency: float) -> ProfileFit:
    checks = (check("flash", flash, profile.flash_bytes), check("ram", ram, profile.ram_bytes),
              check("latency", latency, profile.latency_ms))
    reasons = tuple(f"{c.name}: {c.value:g} > {c.limit:g}" for c in checks if not c.ok)
    return ProfileFit(profile=profile.name, fits=not reasons, flash_bytes=flash, ram_bytes=ram,
                      latency_ms=latency, latency_source="estimated", reasons=reasons, checks=checks)


def variant(name: str, family: str, dtype: str, ua: float, gzip: int, ram: int, latency: float,
            profiles=PROFILES, layers: bool = False, **kw) -> VariantEntry:
    confusion = [[8, 1, 1, 0], [1, 7, 1, 1], [0, 1, 9, 0], [1, 0, 2, 7]]
    lay = tuple(LayerFigure(name=f"l{i}", op="CONV_2D", macs=1_000_000 * (i + 1), ram_bytes=10_000 * (i + 1))
                for i in range(5)) if layers else None
    return VariantEntry(
        name=name, family=family, recipe=kw.pop("recipe", None),
        artifact=Artifact(path=f"{name}/model.tflite", format="tflite", dtype=dtype),
        accuracy=Accuracy(ua=ua, wa=ua + 0.01, f1=ua - 0.01, confusion=confusion, classes=CLASSES, n=40),
        sizes=Sizes(file_bytes=int(gzip * 1.1), gzip_bytes=gzip, weight_bytes_by_dtype={dtype: gzip}),
        params=462_468, nonzero_params=kw.pop("nonzero", 462_468), macs=160_228_480, peak_ram_bytes=ram,
        host_latency=(HostLatency(runtime="litert", median_ms=latency / 10, p90_ms=latency / 9),
                      HostLatency(runtime="onnxruntime", median_ms=latency / 12, p90_ms=latency / 11)),
        verification=Verification(sparsity=kw.pop("sparsity", 0.0), max_unique_values=None),
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
