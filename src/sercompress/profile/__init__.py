"""Static profile of an exported artifact (.tflite / .onnx), without TensorFlow.

Public API:

* :func:`read_graph` -- the neutral per-layer :class:`~.graph.Graph` of a file, weights as
  NumPy arrays (int8 data kept as int8 with its scale / zero point);
* :func:`profile_artifact` -- per-layer figures and totals (:class:`~.types.StaticProfile`):
  parameters, non-zero parameters, MACs by Arm Vela's convention, weight bytes by dtype,
  file / gzip / constant bytes and the peak RAM of a TFLite-Micro-style arena plan.

Ground truth lives in :mod:`.tflm` (TFLite Micro arena) and :mod:`.vela` (Ethos-U
compiler); both run in subprocesses and are opt-in because they take seconds;
:func:`with_ground_truth` attaches them to a profile's typed ``tflm`` / ``vela`` fields.

Readers are imported lazily so that ``import sercompress.profile`` stays cheap.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from ..errors import ProfileError
from .graph import Graph, InputShapes, Layer, Tensor
from .types import LayerProfile, StaticProfile, TflmArena, VelaResult

#: Refuse larger files: a Light-SERNet artifact is under 2 MB; this is a sanity bound.
MAX_ARTIFACT_BYTES = 512 * 1024 * 1024

__all__ = [
    "Graph", "Layer", "LayerProfile", "MAX_ARTIFACT_BYTES", "StaticProfile", "Tensor", "TflmArena",
    "VelaResult",
    "default_cache_dir", "measured_arena", "profile_artifact", "read_graph", "with_ground_truth",
]


def read_graph(path: str | Path, input_shape: InputShapes | None = None) -> Graph:
    """Read a .tflite or .onnx file (chosen by content, not extension) into a Graph.

    ``input_shape`` fixes symbolic input dimensions of an ONNX file; for a TFLite file,
    whose shapes are static, it must equal the input shape. Raises :class:`ProfileError`
    naming the file for anything that is not a readable model.
    """
    path = Path(path)
    return _parse(path, _read_bytes(path), input_shape)


def profile_artifact(path: str | Path, input_shape: InputShapes | None = None) -> StaticProfile:
    """Per-layer figures and totals of an artifact (see :mod:`.static`)."""
    from concurrent.futures import ThreadPoolExecutor

    from .static import gzip_size, profile_graph

    path = Path(path)
    data = _read_bytes(path)
    # zlib releases the GIL: the gzip -9 size (~0.3 s for 10 MB) is computed on the other core
    # while the file is parsed (for ONNX, most of a cold start is importing the onnx package).
    with ThreadPoolExecutor(max_workers=1) as pool:
        gzip_bytes = pool.submit(gzip_size, data)
        graph = _parse(path, data, input_shape)
        return profile_graph(graph, data, gzip_bytes.result())


def _parse(path: Path, data: bytes, input_shape: InputShapes | None) -> Graph:
    from .tflite_reader import has_tflite_identifier, parse_tflite

    if has_tflite_identifier(data[:8]):
        graph = parse_tflite(path, data)
        shapes = [t.shape for t in graph.inputs]
        if isinstance(input_shape, Mapping):
            given = {t.name: t.shape for t in graph.inputs if t.name in input_shape}
            if given != {k: tuple(int(d) for d in v) for k, v in input_shape.items()}:
                raise ProfileError(f"--input-shape {dict(input_shape)} differs from the file's "
                                   f"fixed inputs {[(t.name, t.shape) for t in graph.inputs]}; "
                                   "TFLite shapes cannot be changed", path=path, key="input_shape")
        elif input_shape is not None and shapes != [tuple(int(d) for d in input_shape)]:
            raise ProfileError(f"--input-shape {tuple(input_shape)} differs from the file's fixed "
                               f"input shape(s) {shapes}; TFLite shapes cannot be changed",
                               path=path, key="input_shape")
        return graph
    from .onnx_reader import parse_onnx

    return parse_onnx(path, data, input_shape=input_shape)


def with_ground_truth(profile: StaticProfile, *, tflm: bool = False, vela: bool = False,
                      accelerator: str | None = None, system_config: str | None = None,
                      memory_mode: str | None = None,
                      cache_dir: str | Path | None = None) -> StaticProfile:
    """A copy of ``profile`` with TFLM's arena (``.tflm``) and/or Vela's compile (``.vela``).

    :class:`.types.TflmArena` and :class:`.types.VelaResult` are what ``fit`` and
    ``latency.estimate`` read. Both need a .tflite file (int8 for meaningful numbers).
    """
    if (tflm or vela) and profile.format != "tflite":
        raise ProfileError("TFLite Micro and Vela ground truth need a .tflite file",
                           path=profile.path)
    update = {}
    if tflm:
        from .tflm import arena_usage

        update["tflm"] = arena_usage(profile.path)
    if vela:
        from . import vela as _vela

        options = {k: v for k, v in (("accelerator", accelerator), ("system_config", system_config),
                                     ("memory_mode", memory_mode)) if v is not None}
        update["vela"] = _vela.compile(profile.path, cache_dir=cache_dir, **options)
    return profile.model_copy(update=update)


def measured_arena(profile: StaticProfile) -> StaticProfile:
    """``profile`` with TFLite Micro's real arena when the runtime can load the file.

    RAM is judged on what TFLite Micro allocates wherever it can tell (well under a
    second); a file it cannot load (ONNX, an op it lacks) keeps the estimated arena,
    and the fit says which figure it used.
    """
    if profile.format != "tflite" or profile.tflm is not None:
        return profile
    try:
        return with_ground_truth(profile, tflm=True)
    except ProfileError as e:
        return profile.model_copy(update={"tflm_error": e.message})


def default_cache_dir() -> Path:
    """``$SERCOMPRESS_CACHE_DIR`` or ``.cache`` under the working directory."""
    return Path(os.environ.get("SERCOMPRESS_CACHE_DIR", ".cache"))


def _read_bytes(path: Path) -> bytes:
    if not path.is_file():
        what = ("is a directory, not a model file" if path.is_dir() else
                "is not a regular file (a FIFO, device or socket); give a .tflite or .onnx file"
                if path.exists() else "no such file")
        raise ProfileError(what, path=path)
    size = path.stat().st_size
    if size > MAX_ARTIFACT_BYTES:
        raise ProfileError(f"file is {size:,} bytes, larger than the {MAX_ARTIFACT_BYTES:,}-byte "
                           "bound for a model artifact", path=path)
    if size < 8:
        raise ProfileError(f"file is only {size} bytes: not a TFLite or ONNX model", path=path)
    return path.read_bytes()
