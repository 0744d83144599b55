"""Where int16 activations buy accuracy: the per-block quantisation error of the reference's files.

The search's ``mixed`` precision puts int16 activations (int8 weights) in a few blocks
and int8 everywhere else (:mod:`sercompress.export.mixed`). Which blocks is measured,
not guessed: the reference is converted once to int8 and once to int16x8, and for each
block the file with only that block in int16 is run (LiteRT) on training clips; its
error is the mean absolute difference of its class probabilities from the float
model's. The blocks whose int16 lowers that error the most, and only blocks that lower
it at all, are the mixed candidates' int16 blocks.

Why the reference's blocks serve its channel-pruned candidates: the candidates keep the
reference's blocks and its weights' ranking, and a search measures this once (about
half a minute on one core) instead of per candidate. The table is in ``search.json`` so
a reader sees why those blocks; the result is cached in the store by the reference's
weights and data.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from ..records import Record
from ..storage import atomic_write_text, content_hash

#: training clips the errors are measured on (a probe, not a calibration: the converter calibrates on 200)
PROBE_CLIPS = 64
SENSITIVITY_VERSION = 1
#: a cached measurement is a few hundred bytes; anything far larger is not one
MAX_CACHE_BYTES = 1 << 20


class BlockError(Record):
    block: str
    error: float                        # mean |p - p_float| with only this block in int16


class Int16Sensitivity(Record):
    """The measurement behind the mixed candidates' int16 blocks."""

    probe_clips: int
    int8_error: float                   # every block int8
    int16_error: float                  # every block int16
    blocks: tuple[BlockError, ...]      # lowest error first
    chosen: tuple[str, ...]             # the int16 blocks of the search's mixed candidates


def int16_sensitivity(reference: Any, data: Any, store: Path, count: int) -> Int16Sensitivity:
    """The per-block errors of ``reference`` and the ``count`` blocks that gain most (cached in ``store``)."""
    key = content_hash("int16-sensitivity", SENSITIVITY_VERSION, reference.weights_sha256,
                       reference.record.get("data_fingerprint"), PROBE_CLIPS)
    path = Path(store) / "sensitivity" / f"{key}.json"
    measured = _cached(path)
    if measured is None:
        measured = measure(reference, data)
        atomic_write_text(path, measured.model_dump_json(indent=1))
    gaining = [b.block for b in measured.blocks if b.error < measured.int8_error]
    return measured.model_copy(update={"chosen": tuple(gaining[:count])})


def _cached(path: Path) -> Int16Sensitivity | None:
    """The stored measurement; None when there is none or it does not parse (measured again)."""
    from pydantic import ValidationError

    if not path.is_file() or path.stat().st_size > MAX_CACHE_BYTES:
        return None
    try:
        return Int16Sensitivity.model_validate_json(path.read_bytes())
    except ValidationError:
        return None


def measure(reference: Any, data: Any) -> Int16Sensitivity:
    from ..compress.runner import representative
    from ..export.mixed import op_blocks, splice
    from ..export.runtime import predict_keras
    from ..export.tflite import MAX_REPRESENTATIVE, convert_once

    model = reference.fresh_model()
    rep = representative(data.train.x, MAX_REPRESENTATIVE)
    probe = rep[:PROBE_CLIPS]
    int8 = convert_once(model, "int8", rep, int8_io=True)
    int16 = convert_once(model, "int16x8", rep)
    expected = predict_keras(model, probe)
    blocks = list(dict.fromkeys(op_blocks(int8)))
    with tempfile.TemporaryDirectory(prefix="sercompress-sensitivity-") as tmp:
        def error(file: bytes) -> float:
            return _error(file, probe, expected, Path(tmp))

        rows = sorted((BlockError(block=b, error=error(splice(int8, int16, [b]))) for b in blocks),
                      key=lambda r: (r.error, r.block))
        return Int16Sensitivity(probe_clips=len(probe), int8_error=error(int8),
                                int16_error=error(splice(int8, int16, blocks)), blocks=tuple(rows), chosen=())


def _error(file: bytes, x: np.ndarray, expected: np.ndarray, tmp: Path) -> float:
    from ..export.runtime import run_tflite

    path = tmp / "probe.tflite"
    path.write_bytes(file)
    return float(np.abs(run_tflite(path, x) - expected).mean())
