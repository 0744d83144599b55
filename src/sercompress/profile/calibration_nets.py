"""The sourced calibration networks, rebuilt layer by layer for the kernel latency model.

Each :class:`Sample` is one published measurement (``hw_profiles/calibration/``, copied with
its source from the project's calibration collection) with the network's layers as
:class:`~.kernel_model.KernelLayer` records: EdgeMark's 18 models parsed from the layer
lists in the rows' notes (the parsed MACs must equal the rows' MAC column), the TFLM
examples (person_detect, micro_speech, sine) and the CMSIS-NN paper's CIFAR-10 CNN built
from their published architectures, and ESP-NN's per-kernel cycle counts.
:mod:`.kernel_calibration` fits and validates the model on them.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from ..resources import shipped_dir
from .kernel_model import KernelLayer

#: The sourced rows this fit uses (a copy of the shared collection's rows, sources kept).
DATA_DIR = shipped_dir("hw_profiles") / "calibration"


@dataclass(frozen=True)
class Sample:
    name: str                 # model name; leave-one-out leaves out every row of a model
    family: str               # cortex-m | cortex-m7 | esp32s3
    dtype: str                # int8 | float32
    clock_hz: float
    measured_cycles: float
    layers: tuple[KernelLayer, ...]
    invoke: bool = True       # a whole TFLM invoke (False: one kernel call)
    source: str = ""

    @property
    def macs(self) -> int:
        return sum(k.macs for k in self.layers)


# --------------------------------------------------------------------------- layer lists

_CONV = re.compile(r"conv(\d+)x(\d+)/s\d+ (\d+)->(\d+) out (\d+)x(\d+) \(([\d,]+)\)")
_FC = re.compile(r"FC (\d+)->(\d+) \(([\d,]+)\)")
_POOL = re.compile(r"maxpool(\d+)/s\d+ -> (\d+)x(\d+)x(\d+)")
_GAP = re.compile(r"GAP (\d+)x(\d+)x(\d+)->\d+")
_FLAT = re.compile(r"flatten \d+")


def _int(text: str) -> int:
    return int(text.replace(",", ""))


def conv(kh: int, kw: int, cin: int, cout: int, oh: int, ow: int) -> KernelLayer:
    out = oh * ow * cout
    return KernelLayer("conv", out * kh * kw * cin, out, cout, 0, kh * kw)


def depthwise(kh: int, kw: int, cin: int, cout: int, oh: int, ow: int,
              macs: int | None = None) -> KernelLayer:
    out = oh * ow * cout
    return KernelLayer("depthwise", macs if macs is not None else out * kh * kw, out, cout, 0,
                       kh * kw, cin)


def fc(cin: int, cout: int) -> KernelLayer:
    return KernelLayer("fully_connected", cin * cout, cout, cout, cin, 1)


def pool(in_elements: int, out_elements: int) -> KernelLayer:
    return KernelLayer("pooling", 0, out_elements, 1, in_elements, 1)


def elementwise(elements: int) -> KernelLayer:
    return KernelLayer("elementwise", 0, elements, 1, elements, 1)


FREE = KernelLayer("free")


def parse_layers(notes: str) -> tuple[KernelLayer, ...]:
    """An EdgeMark row's layer list (``layers (...): conv3x3/s2 1->4 out 14x14 (7,056); ...``)."""
    head, _, rest = notes.partition("):")
    body = rest.split(". MACs")[0]
    layers: list[KernelLayer] = []
    for item in (s.strip() for s in body.split(";")):
        if m := _CONV.fullmatch(item):
            kh, kw, cin, cout, oh, ow, macs = m.groups()
            layer = conv(int(kh), int(kw), int(cin), int(cout), int(oh), int(ow))
            if layer.macs != _int(macs):
                raise ValueError(f"conv '{item}': {layer.macs} MACs computed")
        elif m := _FC.fullmatch(item):
            layer = fc(int(m.group(1)), int(m.group(2)))
            if layer.macs != _int(m.group(3)):
                raise ValueError(f"FC '{item}': {layer.macs} MACs computed")
        elif m := _POOL.fullmatch(item):
            k, h, w, c = (int(g) for g in m.groups())
            layer = pool(h * w * c * k * k, h * w * c)
        elif m := _GAP.fullmatch(item):
            h, w, c = (int(g) for g in m.groups())
            layer = pool(h * w * c, c)
        elif _FLAT.fullmatch(item):
            layer = FREE
        else:
            raise ValueError(f"unrecognised layer '{item}'")
        layers.append(layer)
    if "output softmax" in head or "output sigmoid" in head:
        layers.append(elementwise(layers[-1].out_elements))
    return tuple(layers)


def person_detect() -> tuple[KernelLayer, ...]:
    """TFLM person_detect: MobileNetV1 alpha 0.25 on 96x96x1, 2 classes (7.16 M MACs)."""
    layers = [depthwise(3, 3, 1, 8, 48, 48)]  # first 3x3 conv 1->8 stored as depthwise x8
    size, cin = 48, 8
    for cout, stride in ((16, 1), (32, 2), (32, 1), (64, 2), (64, 1), (128, 2), *((128, 1),) * 5,
                         (256, 2), (256, 1)):
        size //= stride
        layers += [depthwise(3, 3, cin, cin, size, size), conv(1, 1, cin, cout, size, size)]
        cin = cout
    return (*layers, pool(3 * 3 * 256, 256), conv(1, 1, 256, 2, 1, 1), FREE, elementwise(2))


def micro_speech() -> tuple[KernelLayer, ...]:
    """TFLM micro_speech 'tiny_conv': depthwise 10x8 /2, multiplier 8 on 49x40x1; FC 4000->4."""
    return (depthwise(10, 8, 1, 8, 25, 20), FREE, fc(4000, 4), elementwise(4))


def sine() -> tuple[KernelLayer, ...]:
    return (fc(1, 16), fc(16, 16), fc(16, 1))


def cifar10_cmsis_nn() -> tuple[KernelLayer, ...]:
    """The CMSIS-NN paper's CIFAR-10 CNN (32-32-64 channels, 5x5 convs, 3x3/2 pools)."""
    return (conv(5, 5, 3, 32, 32, 32), pool(32 * 32 * 32 * 9 // 4, 16 * 16 * 32),
            conv(5, 5, 32, 32, 16, 16), pool(16 * 16 * 32 * 9 // 4, 8 * 8 * 32),
            conv(5, 5, 32, 64, 8, 8), pool(8 * 8 * 64 * 9 // 4, 4 * 4 * 64), FREE, fc(1024, 10))


#: ESP-NN per-kernel ticks (esp-nn README 'Kernelwise performance', commit d45b843c,
#: ESP32-S3 at 240 MHz, optimized kernels): (name, layer, ticks).
ESP_NN_KERNELS: tuple[tuple[str, KernelLayer, float], ...] = (
    ("esp-nn conv1x1 10x10x64->64", conv(1, 1, 64, 64, 10, 10), 331_008),
    ("esp-nn conv1x1 8x8x16->16", conv(1, 1, 16, 16, 8, 8), 39_022),
    ("esp-nn conv3x3 10x10x3->8x8x64", conv(3, 3, 3, 64, 8, 8), 394_842),
    ("esp-nn dw3x3 18x18x16", depthwise(3, 3, 16, 16, 16, 16), 184_176),
    ("esp-nn dw5x5 x8 12x12x4", depthwise(5, 5, 4, 32, 12, 12, macs=89_888), 372_435),
    ("esp-nn fc 271->3", fc(271, 3), 1_078),
)


# --------------------------------------------------------------------------- samples

def load_samples(path: str | Path | None = None) -> list[Sample]:
    """Every calibration sample: the CSV rows (rebuilt per layer) and the ESP-NN kernels."""
    with Path(path or DATA_DIR / "mcu_latency.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    samples: list[Sample] = []
    named = {"person_detect": person_detect, "micro_speech": micro_speech, "sine": sine}
    for row in rows:
        dtype = "float32" if row["dtype"].startswith("float32") else "int8"
        clock = float(row["clock_mhz"]) * 1e6
        measured = float(row["latency_ms"]) * clock / 1e3
        src = row["source"].split(";")[0]
        model = row["model"]
        if model.startswith("EdgeMark"):
            layers = parse_layers(row["notes"])
            if sum(k.macs for k in layers) != _int(row["macs"]):
                raise ValueError(f"{model}: parsed MACs differ from the row's {row['macs']}")
            samples.append(Sample(model.split(" (")[0], "cortex-m", dtype, clock, measured,
                                  layers, True, src))
        elif row["core"] == "Cortex-M33":
            key = next(k for k in named if model.startswith(k))
            samples.append(Sample(f"{key} (M33)", "cortex-m", dtype, clock, measured, named[key](),
                                  True, src))
        elif model.startswith("CIFAR-10"):
            samples.append(Sample("CIFAR-10 CNN (M7)", "cortex-m7", dtype, clock, measured,
                                  cifar10_cmsis_nn(), True, src))
    for name, layer, ticks in ESP_NN_KERNELS:
        samples.append(Sample(name, "esp32s3", "int8", 240e6, ticks, (layer,), False,
                              "espressif/esp-nn README.md @d45b843c"))
    samples.append(Sample("person_detect (ESP32-S3)", "esp32s3", "int8", 240e6, 54e-3 * 240e6,
                          person_detect(), True, "espressif/esp-tflite-micro README.md @01a78d0a"))
    return samples
