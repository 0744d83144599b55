"""The profiler's records: static profile, its ground truth, host latency, latency estimate.

Each concept has one frozen record (:class:`~sercompress.records.Record`) that the
profiler returns and every later stage (fit, assess, collect, the report) takes as
is. Ground truth is typed: a static profile carries ``tflm`` (TFLite Micro's
measured arena) and ``vela`` (Arm Vela's compile) when they were run, ``None``
otherwise -- no reader guesses keys of a dict nobody wrote.
"""

from __future__ import annotations

from typing import Literal

from ..records import Record

LatencySource = Literal["estimated", "vela", "measured", "unknown", "unsupported"]


class LayerProfile(Record):
    index: int
    op: str
    raw_op: str
    name: str
    dtype: str                      # weight dtype if the layer has weights, else activation dtype
    activation_dtype: str
    input_shapes: tuple[tuple[int, ...], ...]
    output_shapes: tuple[tuple[int, ...], ...]
    params: int
    nonzero_params: int
    macs: int
    effective_macs: int             # MACs when multiplications by zero weights are skipped
    input_elements: int
    output_elements: int
    activation_bytes: int           # bytes of the layer's outputs
    known: bool = True              # False for an unknown op (its figures are not zero-filled)


class TflmArena(Record):
    """TFLite Micro's own allocation of the model (:mod:`.tflm`)."""

    total_bytes: int   # what a deployment must reserve as tensor arena
    head_bytes: int    # the planned, non-persistent part (activations, scratch)
    tail_bytes: int    # persistent part (eval tensors, node structs, op data)


class VelaResult(Record):
    """Arm Vela's compile summary of an int8 .tflite for one Ethos-U configuration (:mod:`.vela`)."""

    accelerator: str
    system_config: str
    memory_mode: str
    clock_hz: float
    cycles: int
    inference_ms: float            # cycles at the NPU clock, as Vela estimates
    sram_bytes: int
    flash_bytes: int               # off-chip + on-chip flash Vela places the model in
    macs: int
    cpu_op_count: int
    npu_op_count: int
    cpu_fallback_ops: tuple[str, ...]  # "OP_TYPE 'output tensor'" of ops left to the CPU
    dram_bytes: int = 0            # off-chip DRAM (weights live there in Dedicated_Sram mode)
    #: size of the optimised .tflite Vela writes (command stream, encoded weights, CPU ops): the
    #: file the device stores; 0 in records written before it was kept
    optimised_bytes: int = 0


class StaticProfile(Record):
    path: str
    format: Literal["tflite", "onnx"]
    file_bytes: int
    gzip_bytes: int
    layers: tuple[LayerProfile, ...]
    params: int
    nonzero_params: int
    macs: int
    effective_macs: int
    weight_bytes_by_dtype: dict[str, int]
    constant_bytes: int             # all constant data (weights, biases, quant params)
    peak_ram_bytes: int             # tensor-arena plan of the activations (TFLM's head)
    input_shapes: tuple[tuple[int, ...], ...]
    weight_dtypes: tuple[str, ...]
    activation_dtypes: tuple[str, ...]
    unknown_ops: tuple[str, ...] = ()  # format names of the ops without a cost
    #: layers whose op is unknown: when > 0, ``macs`` / ``effective_macs`` are lower bounds
    unknown_op_count: int = 0
    tflm: TflmArena | None = None   # ground truth, when TFLite Micro was run on the file
    vela: VelaResult | None = None  # ground truth, when Vela compiled the file
    #: whole TFLM arena estimated from the graph (plan + persistent tail, :mod:`.persistent`)
    arena_estimate_bytes: int = 0
    tflm_error: str = ""            # why TFLite Micro could not load the file, when it was tried

    @property
    def macs_are_lower_bound(self) -> bool:
        return self.unknown_op_count > 0

    def to_dict(self) -> dict:
        return self.model_dump(mode="json")


class HostLatency(Record):
    """Latency measured on this machine (:mod:`.host`): figures of >= 50 timed runs."""

    path: str
    runtime: Literal["litert", "onnxruntime"]
    threads: int
    runs: int
    warmup: int
    median_ms: float
    p90_ms: float
    min_ms: float
    max_ms: float
    mean_ms: float
    iqr_ms: float
    spread: float               # p90 / median: 1.0 is a perfectly quiet machine
    peak_rss_bytes: int         # the measuring subprocess's high-water mark
    baseline_rss_bytes: int     # its RSS after importing the runtime, before loading the model
    samples_ms: tuple[float, ...] = ()   # dropped (figures only) where records are stored

    def figures(self) -> HostLatency:
        """The record without its raw samples: what the assessment cache and summary keep."""
        return self.model_copy(update={"samples_ms": ()})

    def to_dict(self, samples: bool = False) -> dict:
        return self.model_dump(mode="json", exclude=None if samples else {"samples_ms"})


class LayerLatency(Record):
    index: int
    name: str
    op: str
    op_class: str
    dtype: str
    macs: int
    elements: int
    cycles: float
    ms: float


class LatencyBand(Record):
    """90 % band of an estimate, derived from the device's validated error (never chosen)."""

    low_ms: float
    high_ms: float
    basis: str                  # "p90 |error| 17 % over 18 models, leave-one-model-out"
    outside: str = ""           # why the model is outside the calibration range ("" inside)
    op_mix_outside: bool = False  # kernels no validation model used carry > 10 % of the cycles


class LatencyEstimate(Record):
    """How long an artifact takes on one device, and where the figure comes from.

    ``source``: "estimated" (the per-layer model), "vela" (Vela's cycle count, the
    result in ``vela``), "measured" (on this machine, the measurement in ``measured``)
    "unknown" (the device runs every op, but some have no cost: no figure, ``reason`` names
    them) or "unsupported" (the device cannot run it: no figure, ``reason`` says why).
    """

    hardware: str
    source: LatencySource
    ms: float | None
    cycles: float | None
    reason: str
    layers: tuple[LayerLatency, ...] = ()
    energy_mj: float | None = None
    measured: HostLatency | None = None
    vela: VelaResult | None = None
    band: LatencyBand | None = None   # for estimates from a calibrated kernel model

    @property
    def energy_band_mj(self) -> tuple[float, float] | None:
        """Energy at the band's ends (active power x latency), when both are known."""
        if self.band is None or self.energy_mj is None or not self.ms:
            return None
        per_ms = self.energy_mj / self.ms
        return self.band.low_ms * per_ms, self.band.high_ms * per_ms

    @property
    def supported(self) -> bool:
        return self.source != "unsupported"

    def without_layers(self) -> LatencyEstimate:
        """The totals only: what the assessment cache and summary keep."""
        return self.model_copy(update={"layers": ()})

    def to_dict(self) -> dict:
        return self.model_dump(mode="json")
