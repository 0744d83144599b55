"""Hardware profiles: one TOML file per device, validated into a frozen, versioned model.

The hardware is data (as in MCT's target-platform schema): a device is added by
adding a file, never by editing code. A profile states how much flash and RAM
the inference stack may use, the runtime's own footprint inside that, the
dtypes the runtime can execute, the latency budget, and the coefficients of
the per-layer latency model (:mod:`sercompress.profile.latency`). Every figure
is cited in the profile's ``sources`` table, so a reader can tell a datasheet
number from a derived one or an estimate.

Memory convention: ``flash_bytes`` / ``ram_bytes`` are what the *whole*
inference stack (model + runtime) may occupy on the device;
``runtime_flash_bytes`` / ``runtime_ram_bytes`` are the runtime's own share,
so what is left for the model is :attr:`HardwareProfile.model_flash_bytes` /
:attr:`HardwareProfile.model_ram_bytes`. The fit check adds the runtime's share
to the model's needs and compares against the device figure.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import Field, model_validator

from ..errors import ProfileError
from ..resources import shipped_dir
from ..tomlconfig import FrozenModel, load_toml_model, parse_model, read_toml

SCHEMA_VERSION = 1

Runtime = Literal["tflm", "litert", "onnxruntime", "vela"]
DType = Literal["int8", "int16", "float16", "float32"]
DTYPES: tuple[str, ...] = get_args(DType)
FLOAT_DTYPES: frozenset[str] = frozenset({"float16", "float32"})

#: Directory of the shipped profiles (``hw_profiles/``, see :mod:`sercompress.resources`).
SHIPPED_DIR = shipped_dir("hw_profiles")

# Bounded, finite figures: `inf` / `nan` coefficients or a 4,000-digit clock would reach float
# arithmetic as OverflowError or give a latency of inf; no real device is outside these bounds.
PositiveFloat = Annotated[float, Field(gt=0, le=1e12, allow_inf_nan=False)]
NonNegativeFloat = Annotated[float, Field(ge=0, le=1e12, allow_inf_nan=False)]
PositiveInt = Annotated[int, Field(gt=0, le=2**53)]        # bytes or Hz, exact as a float
NonNegativeInt = Annotated[int, Field(ge=0, le=2**53)]
#: Extra directories to search, separated by ``os.pathsep`` (searched before the shipped ones).
PATH_ENV = "SERCOMPRESS_HW_PROFILES"


class DtypeCoefficients(FrozenModel):
    """Latency-model coefficients for one compute dtype on one device.

    MAC-heavy ops are costed by throughput (MACs per core cycle); ops that touch
    every element once (activations, adds, quantize, pooling) by cycles per element.
    """

    conv_macs_per_cycle: PositiveFloat
    depthwise_macs_per_cycle: PositiveFloat
    fully_connected_macs_per_cycle: PositiveFloat
    elementwise_cycles_per_element: NonNegativeFloat
    pooling_cycles_per_element: NonNegativeFloat


Cycles = Annotated[float, Field(ge=0, allow_inf_nan=False)]


class KernelCoefficients(FrozenModel):
    """Cycles per term of the kernel model (:mod:`.kernel_model`) for one dtype, fitted by
    ``bench/calibrate_latency.py`` on the sourced measurements in ``hw_profiles/calibration``."""

    invoke: Cycles
    layer: Cycles
    mac: Cycles
    mac1x1: Cycles
    fc_mac: Cycles
    im2col: Cycles
    requant: Cycles
    dw3x3_mac: Cycles
    dw_mac: Cycles
    pool: Cycles
    elem: Cycles


class LatencyValidation(FrozenModel):
    """The kernel model's validated error on this device for one dtype (leave-one-model-out).

    The 90 % band of an estimate is ``[ms x ratio_low, ms x ratio_high]``: the 5th and
    95th percentiles of measured / predicted over the left-out models.
    """

    models: PositiveInt
    p90_abs_error: Annotated[float, Field(ge=0, allow_inf_nan=False)]
    ratio_low: Annotated[float, Field(gt=0, allow_inf_nan=False)]
    ratio_high: Annotated[float, Field(gt=0, allow_inf_nan=False)]
    validated_terms: tuple[str, ...]
    macs_min: NonNegativeInt
    macs_max: NonNegativeInt
    method: str

    @model_validator(mode="after")
    def _ordered(self) -> LatencyValidation:
        if self.ratio_low > self.ratio_high:
            raise ValueError("ratio_low must not exceed ratio_high")
        return self

    def summary(self) -> str:
        if self.models == 1:
            return f"|error| {self.p90_abs_error:.0%} on the one held-out network"
        return f"p90 |error| {self.p90_abs_error:.0%} over {self.models} models"


class LatencyModel(FrozenModel):
    """Per-layer model: cycles = sum(MACs / rate) + sum(elements * cost) + layers * overhead.

    Devices calibrated on sourced measurements carry the kernel model instead
    (``kernel_model.<dtype>``, used when present) and its validated error
    (``validation.<dtype>``), from which every estimate's band is derived.
    """

    float_supported: bool
    layer_overhead_cycles: NonNegativeFloat
    int8: DtypeCoefficients | None = None
    int16: DtypeCoefficients | None = None
    float16: DtypeCoefficients | None = None
    float32: DtypeCoefficients | None = None
    kernel_model: dict[DType, KernelCoefficients] = Field(default_factory=dict)
    validation: dict[DType, LatencyValidation] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _float_consistent(self) -> LatencyModel:
        if not self.float_supported:
            for dt in sorted(FLOAT_DTYPES):
                if getattr(self, dt) is not None or dt in self.kernel_model:
                    raise ValueError(f"float_supported is false but coefficients for {dt} are given")
        return self

    def for_dtype(self, dtype: str) -> DtypeCoefficients | None:
        if dtype in FLOAT_DTYPES and not self.float_supported:
            return None
        return getattr(self, dtype) if dtype in DTYPES else None

    def kernels_for(self, dtype: str) -> KernelCoefficients | None:
        if dtype in FLOAT_DTYPES and not self.float_supported:
            return None
        return self.kernel_model.get(dtype)  # type: ignore[call-overload]


class VelaOptions(FrozenModel):
    """How Vela is asked to compile for this device (names from Vela's vela.ini)."""

    accelerator_config: str
    system_config: str
    memory_mode: str


class HardwareProfile(FrozenModel):
    schema_version: Literal[1]
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    description: str
    core: str
    clock_hz: PositiveInt
    flash_bytes: PositiveInt
    ram_bytes: PositiveInt                          # largest block a tensor arena can occupy
    ram_total_bytes: PositiveInt | None = None      # datasheet total, for reference
    runtime_flash_bytes: NonNegativeInt
    runtime_ram_bytes: NonNegativeInt
    runtime: Runtime
    kernels: str                                    # kernel library the figures assume
    weight_dtypes: tuple[DType, ...] = Field(min_length=1)
    activation_dtypes: tuple[DType, ...] = Field(min_length=1)
    hybrid_supported: bool = False                  # int8 weights with float activations
    latency_budget_ms: PositiveFloat
    active_power_mw: PositiveFloat | None = None
    measured: bool = False                          # latency is measured here, never estimated
    latency: LatencyModel
    vela: VelaOptions | None = None
    sources: dict[str, str]

    @model_validator(mode="after")
    def _consistent(self) -> HardwareProfile:
        if self.runtime_flash_bytes >= self.flash_bytes:
            raise ValueError("runtime_flash_bytes must be smaller than flash_bytes")
        if self.runtime_ram_bytes >= self.ram_bytes:
            raise ValueError("runtime_ram_bytes must be smaller than ram_bytes")
        if self.ram_total_bytes is not None and self.ram_bytes > self.ram_total_bytes:
            raise ValueError("ram_bytes must not exceed ram_total_bytes")
        if self.runtime == "vela" and self.vela is None:
            raise ValueError("runtime 'vela' needs a [vela] table")
        floats = FLOAT_DTYPES & (set(self.weight_dtypes) | set(self.activation_dtypes))
        if floats and not self.latency.float_supported:
            raise ValueError(f"dtypes {sorted(floats)} listed but latency.float_supported is false")
        for dt in sorted(set(self.activation_dtypes)):
            if (self.latency.for_dtype(dt) is None and self.latency.kernels_for(dt) is None
                    and not self.measured and self.runtime != "vela"):
                raise ValueError(f"activation dtype {dt} has no [latency.{dt}] coefficients")
        if self.active_power_mw is not None and "active_power_mw" not in self.sources:
            raise ValueError("active_power_mw must be cited in sources (energy = power x latency)")
        missing = [k for k in _REQUIRED_SOURCES if k not in self.sources]
        if missing:
            raise ValueError(f"sources must cite {missing}")
        return self

    @property
    def model_flash_bytes(self) -> int:
        """Flash left for the model once the runtime's own code and data are in."""
        return self.flash_bytes - self.runtime_flash_bytes

    @property
    def model_ram_bytes(self) -> int:
        """RAM left for the model's tensor arena once the runtime's own state is in."""
        return self.ram_bytes - self.runtime_ram_bytes

    def to_dict(self) -> dict[str, Any]:
        """Plain dict form (with ``schema_version``) that :meth:`from_dict` reads back."""
        return self.model_dump(mode="json")

    @classmethod
    def from_dict(cls, data: dict[str, Any], path: str | Path = "<dict>") -> HardwareProfile:
        return parse_model(cls, data, path, ProfileError)


#: Figures every profile must cite (the sources table may cite more).
_REQUIRED_SOURCES: tuple[str, ...] = (
    "clock_hz", "flash_bytes", "ram_bytes", "runtime_footprint", "latency", "latency_budget_ms",
)


def load_hw_profile(path: str | Path) -> HardwareProfile:
    """Read and validate one profile file; its ``name`` must match the file name."""
    path = Path(path)
    _check_version(path)
    hw = load_toml_model(path, HardwareProfile, ProfileError)
    if hw.name != path.stem:
        raise ProfileError(f"name '{hw.name}' does not match the file name '{path.stem}'",
                           path=path, key="name")
    return hw


def _check_version(path: Path) -> None:
    """Name the version problem before pydantic reports it as a mere literal mismatch."""
    data = read_toml(path, ProfileError)
    version = data.get("schema_version")
    if version is None:
        raise ProfileError("missing (this sercompress reads schema_version = 1)", path=path,
                           key="schema_version")
    if version != SCHEMA_VERSION:
        raise ProfileError(f"unsupported schema_version {version!r} (this sercompress reads "
                           f"{SCHEMA_VERSION})", path=path, key="schema_version")


def search_path(extra: tuple[str | Path, ...] = ()) -> tuple[Path, ...]:
    """Directories searched for ``<name>.toml``: ``extra``, then $SERCOMPRESS_HW_PROFILES, then shipped."""
    env = [p for p in os.environ.get(PATH_ENV, "").split(os.pathsep) if p]
    return tuple(Path(p) for p in (*extra, *env)) + (SHIPPED_DIR,)


def available_profiles(extra: tuple[str | Path, ...] = ()) -> dict[str, Path]:
    """Profile name -> file; a directory earlier on the search path wins."""
    found: dict[str, Path] = {}
    for directory in search_path(extra):
        if directory.is_dir():
            for f in sorted(directory.glob("*.toml")):
                found.setdefault(f.stem, f)
    return found


def get_hw_profile(name_or_path: str | Path, extra: tuple[str | Path, ...] = ()) -> HardwareProfile:
    """Load a profile by name (searched) or by path to a ``.toml`` file."""
    p = Path(name_or_path)
    if p.suffix == ".toml" or len(p.parts) > 1:  # a path; a bare word is always a name
        return load_hw_profile(p)
    known = available_profiles(extra)
    if str(name_or_path) not in known:
        raise ProfileError(f"unknown hardware profile '{name_or_path}'; known: "
                           f"{', '.join(sorted(known)) or '(none)'}", key="--hw")
    return load_hw_profile(known[str(name_or_path)])


def load_all(extra: tuple[str | Path, ...] = ()) -> dict[str, HardwareProfile]:
    return {name: load_hw_profile(path) for name, path in available_profiles(extra).items()}
