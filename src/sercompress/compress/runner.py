"""The variant task: one recipe applied to the trained reference, exported and checked.

``run_recipe`` starts from ``reference.fresh_model()``, applies each step
(wrap, fine-tune, strip), converts the result to TFLite (the recipe's PTQ
mode) and ONNX, adds an int8 deployment form when the main file is not
integer, and then measures everything *on the files*: parity with the Keras
model, accuracy on the test split (LiteRT), the compression the file really
shows (sparsity, distinct values, dtypes) and sizes. A broken export or a file
that does not show its claim raises :class:`ArtifactError`.

Outputs live in ``OUT/<recipe-name>-<hash>/`` where the hash covers the recipe
content, reference weights, data fingerprint (data + feature config), package
version and epoch scaling. Every file is written atomically, ``DONE`` last; a
finished variant is reused after its artifact hashes are checked, a corrupted
one is recomputed (its files; the training steps resume from their weight
checkpoints), and an interrupted one resumes from the last finished training
step.

Step checkpoints (stripped weights after each training step) live in
``steps_dir`` (default ``OUT/steps/``) keyed by the chain of steps up to
them (:func:`step_keys`): recipes that share a prefix share its checkpoints,
so ``prune80-cluster16-qat`` starts from the weights ``prune-80`` produced.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np

from .. import __version__
from ..errors import ArtifactError, RecipeError, RunError
from ..export.verify import Claim
from ..predictions import ClipPredictions, clip_id
from ..progress import Progress
from ..storage import (
    STORE_WAIT_S,
    atomic_path,
    atomic_write_bytes,
    content_hash,
    directory_lock,
    is_done,
    mark_done,
    sha256_file,
)
from .batchnorm import recalibrate_batchnorm
from .recipe import Recipe, load_recipe
from .registry import StepContext, technique_for
from .variant import (
    ARTIFACT_FILES,
    ReferenceInfo,
    StepRecord,
    VariantResult,
    load_variant,
    save_variant,
)
from .window import clip_windows, feature_config_of, stream_info

#: bump when what a step checkpoint holds changes
STEP_SCHEMA_VERSION = 1
#: Version of what a variant's *files* depend on (part of the directory hash). The
#: record's own format is ``variant.VARIANT_SCHEMA_VERSION``: a record of another
#: version is recomputed in place from the step checkpoints, without retraining.
VARIANT_KEY_VERSION = 4  # 2: BatchNorm re-estimated after QAT steps too; 3: TFLite from the frozen function; 4: integer files get the smallest-arena branch order (export/oporder.py)


def variant_key(recipe: Recipe, reference: Any, epochs_scale: float, max_epochs: int | None) -> str:
    """Hash of everything that determines a variant's files and figures."""
    return content_hash("variant", VARIANT_KEY_VERSION, recipe.model_dump(mode="json"),
                        reference.weights_sha256, reference.record.get("data_fingerprint"),
                        __version__, float(epochs_scale), max_epochs)


def run_recipe(recipe: Recipe | str | Path, reference: Any, out_root: str | Path, *,
               epochs_scale: float = 1.0, max_epochs: int | None = None,
               progress: Progress | None = None, data: Any = None,
               steps_dir: str | Path | None = None) -> VariantResult:
    """Run one recipe on a trained reference (``train.TrainedReference``), resumably.

    ``epochs_scale`` / ``max_epochs`` shrink every step's fine-tuning for quick
    runs (part of the variant hash). ``data`` may pass the reference's
    prepared splits to avoid preparing them once per recipe. ``steps_dir``
    holds the step checkpoints, keyed by chain prefix and shared by every
    recipe run with the same one (default ``OUT/steps``).
    """
    recipe_path = None
    if not isinstance(recipe, Recipe):
        recipe_path = str(recipe)
        recipe = load_recipe(recipe)
    if not epochs_scale > 0:
        raise ValueError(f"epochs_scale must be > 0, got {epochs_scale}")
    progress = progress or Progress()
    clip_windows(recipe, feature_config_of(reference, data), recipe_path)  # a bad window: before any work
    key = variant_key(recipe, reference, epochs_scale, max_epochs)
    vdir = Path(out_root) / f"{recipe.name}-{key}"
    # A bad claim (an unknown block) is refused before anything is written; a finished variant
    # needs none (working the claims out builds a model: 0.3 s for every reuse of a variant)
    claims = None if is_done(vdir) else recipe_claims(recipe, reference, recipe_path)
    with directory_lock(vdir, wait_s=STORE_WAIT_S):  # another process making it: wait, reuse
        if is_done(vdir):
            try:
                result = load_variant(vdir)
                progress.info(f"{recipe.name}: finished variant found in {vdir}; reused")
                return result
            except (ArtifactError, RunError) as e:
                progress.info(f"{recipe.name}: finished variant is corrupted ({e}); recomputing")
                clear_outputs(vdir)
        t0 = time.perf_counter()
        data = data if data is not None else reference.data()
        with progress.stage(f"compress {recipe.name}"):
            steps_root = Path(steps_dir) if steps_dir is not None else Path(out_root) / "steps"
            model, steps = _apply_steps(recipe, reference, data, steps_root, epochs_scale,
                                        max_epochs, progress)
            if claims is None:  # it was finished when we looked, and is not any more
                claims = recipe_claims(recipe, reference, recipe_path)
            result = export_and_measure(recipe, recipe_path, model, claims, steps, data, reference, vdir,
                                         key, epochs_scale, t0)
        save_variant(result)
        mark_done(vdir, {"key": key})
        log_result(result, progress)
        return result


# --------------------------------------------------------------------------- steps

def recipe_claims(recipe: Recipe, reference: Any, recipe_path: str | None = None) -> list[Claim]:
    """What the files must show, resolved on the reference model before anything is written.

    A step that does not fit the model (a layer or block name it lacks) is a
    :class:`RecipeError` here, naming the recipe file when there is one.
    """
    if not recipe.steps:
        return []
    model = reference.fresh_model()
    try:
        return [c for step in recipe.steps for c in technique_for(step).claims(step, model)]
    except RecipeError as e:
        if e.path is not None or recipe_path is None:
            raise
        raise RecipeError(e.message, path=recipe_path, key=e.key) from None


def step_keys(recipe: Recipe, reference: Any, epochs_scale: float, max_epochs: int | None) -> list[str]:
    """One key per step: the hash of the chain up to and including it.

    Two recipes that start with the same steps (``prune-80`` and
    ``prune80-cluster16``) get the same keys for those steps, so the second
    one loads the first one's checkpoint instead of training it again. The
    key covers what determines the weights after the step: the reference
    weights, the data, every step config so far, the epoch scaling, the
    batch-norm recalibration switch and the package version.
    """
    keys, chain = [], []
    for step in recipe.steps:
        chain.append(step.model_dump(mode="json"))
        keys.append(content_hash("step", STEP_SCHEMA_VERSION, chain, reference.weights_sha256,
                                 reference.record.get("data_fingerprint"), __version__,
                                 float(epochs_scale), max_epochs, recipe.recalibrate_batchnorm))
    return keys


def step_checkpoint(steps_dir: Path, step: Any, key: str) -> Path:
    return steps_dir / f"{step.type}-{key}.weights.h5"


def _apply_steps(recipe: Recipe, reference: Any, data: Any, steps_dir: Path, epochs_scale: float,
                 max_epochs: int | None, progress: Progress):
    """Apply every step in order, starting after the longest chain prefix already checkpointed."""
    from ..tf_env import seed_everything
    from ..train import TrainConfig, fit

    def fit_fn(model, *, epochs, learning_rate, batch_size, callbacks=()):
        return fit(model, data, TrainConfig.finetune(epochs, learning_rate, batch_size),
                   callbacks=callbacks, select_best=False, progress=progress)

    ctx = StepContext(fit=fit_fn, train_size=len(data.train.y), epochs_scale=epochs_scale,
                      max_epochs=max_epochs, feature_config=getattr(data, "feature_config", None))
    keys = step_keys(recipe, reference, epochs_scale, max_epochs)
    model, done = _resume(reference, recipe, keys, steps_dir, progress)
    steps: list[StepRecord] = []
    for i, (step, key) in enumerate(zip(recipe.steps, keys, strict=True), start=1):
        tech = technique_for(step)
        epochs = ctx.epochs(step.finetune) if hasattr(step, "finetune") else 0
        steps.append(StepRecord(type=step.type, epochs=epochs, key=key, reused=i <= done))
        if i <= done:
            continue
        if epochs:
            progress.info(f"{recipe.name}: step {i} ({step.type}), {epochs} fine-tuning epoch(s)")
        seed_everything(i)  # wrap-time randomness (cluster init) must not depend on what ran before
        model = tech.strip(tech.apply(model, step, ctx))
        if epochs and recipe.recalibrate_batchnorm:  # after QAT too: its file folds these statistics
            recalibrate_batchnorm(model, data.train.x)
        if epochs and getattr(tech, "checkpointable", True):
            with atomic_path(step_checkpoint(steps_dir, step, key)) as tmp:
                model.save_weights(str(tmp))
    return model, steps


def _resume(reference: Any, recipe: Recipe, keys: list[str], steps_dir: Path,
            progress: Progress) -> tuple[Any, int]:
    """The model after the latest checkpointed step, and the number of steps it covers (0 = none).

    Only a run of checkpointable steps from the start can be resumed (a QAT
    model's weights do not fit the plain model). A step that changes the
    model's shape (``restructure``) is rebuilt untrained before its weights
    are loaded. A damaged checkpoint is removed and the next earlier one tried.
    """
    prefix = 0
    for step in recipe.steps:
        if not getattr(technique_for(step), "checkpointable", True):
            break
        prefix += 1
    for i in range(prefix, 0, -1):
        step = recipe.steps[i - 1]
        ckpt = step_checkpoint(steps_dir, step, keys[i - 1])
        if not ckpt.is_file():
            continue
        try:
            model = _shaped_as_after(reference.fresh_model(), recipe.steps[:i])
            model.load_weights(str(ckpt))
        except Exception as e:  # noqa: BLE001  (h5py / Keras errors on a damaged file: retrain)
            progress.info(f"{recipe.name}: checkpoint {ckpt.name} unreadable ({e}); training again")
            ckpt.unlink(missing_ok=True)
            continue
        progress.info(f"{recipe.name}: steps 1-{i} resumed from {ckpt.name}")
        return model, i
    return reference.fresh_model(), 0


def _shaped_as_after(model: Any, steps: tuple[Any, ...]) -> Any:
    """``model`` rebuilt in the shape it has after ``steps`` (weights still to be loaded)."""
    for step in steps:
        restructure = getattr(technique_for(step), "restructure", None)
        if restructure is not None:
            model = restructure(model, step)
    return model


# --------------------------------------------------------------------------- export + measure

def export_and_measure(recipe: Recipe, recipe_path: str | None, model: Any, claims: list[Claim],
                        steps: list[StepRecord], data: Any, reference: Any, vdir: Path, key: str,
                        epochs_scale: float, t0: float) -> VariantResult:
    from ..export.onnx import to_onnx
    from ..export.parity import check_artifact
    from ..export.runtime import predict_keras
    from ..export.tflite import to_tflite
    from ..export.verify import artifact_sizes, verify_tflite
    from ..metrics import classification_metrics

    fc = getattr(data, "feature_config", None)
    windows = clip_windows(recipe, fc, recipe_path)  # whole clips unless the recipe has a window step
    rep = windows.representative(data.train.x, recipe.representative_samples)
    ptq = recipe.ptq
    files: dict[str, Path] = {}
    files["tflite"] = atomic_write_bytes(vdir / ARTIFACT_FILES["tflite"], to_tflite(
        model, ptq.mode if ptq else None, rep, int8_io=ptq.int8_io if ptq else False,
        int16_blocks=ptq.int16_blocks if ptq else ()))
    onnx_error = None
    try:
        files["onnx"] = atomic_write_bytes(vdir / ARTIFACT_FILES["onnx"], to_onnx(model))
    except ArtifactError as e:  # recorded, not fatal: e.g. a fake-quant op tf2onnx cannot map
        onnx_error = e.message
    if recipe.int8_deployment and not recipe.main_is_integer:
        files["tflite_int8"] = atomic_write_bytes(vdir / ARTIFACT_FILES["tflite_int8"],
                                                  to_tflite(model, "int8", rep, int8_io=True))

    # Parity is per model input (window); accuracy per clip, the windows' scores pooled (window.py).
    x, y = windows.cut(data.test.x), data.test.y
    keras_probs = predict_keras(model, x)
    floors = _parity_floors(recipe)
    parity, accuracy, verification = {}, {}, {}
    root = getattr(getattr(data, "corpus", None), "root", None)
    clips = ([clip_id(p, root) for p in data.test.paths], data.test.speakers, y)
    for kind, path in files.items():
        p, probs = check_artifact(keras_probs, path, x, floors[kind])
        parity[kind], probs = p, windows.pool(probs, len(y))
        if kind.startswith("tflite"):  # with its per-clip predictions: every comparison can be paired
            pred = ClipPredictions.from_arrays(*clips, probs)
            accuracy[kind] = classification_metrics(y, pred.predicted, data.classes).model_copy(
                update={"predictions": pred})
            extra = [Claim(integer_weights=True)] if kind == "tflite_int8" else []
            verification[kind] = verify_tflite(path, [*claims, *extra])
    accuracy["keras"] = classification_metrics(y, windows.pool(keras_probs, len(y)).argmax(-1), data.classes)
    return VariantResult(
        name=recipe.name, recipe_path=recipe_path, directory=vdir, key=key,
        artifacts={k: p.name for k, p in files.items()},
        artifact_sha256={k: sha256_file(p) for k, p in files.items()}, accuracy=accuracy,
        parity=parity, verification=verification,
        sizes={k: artifact_sizes(p) for k, p in files.items()},
        wall_time_s=round(time.perf_counter() - t0, 2), onnx_error=onnx_error, steps=tuple(steps),
        epochs_scale=epochs_scale, recipe=recipe,
        stream=stream_info(recipe, windows, fc, int(data.test.x.shape[1])),
        reference=ReferenceInfo(run_dir=str(reference.run_dir), weights_sha256=reference.weights_sha256,
                                data_fingerprint=reference.record.get("data_fingerprint"),
                                keras_test_ua=reference.metrics.ua))


def representative(x: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    """Up to ``n`` calibration samples from the training split, drawn reproducibly."""
    idx = np.random.default_rng(seed).permutation(len(x))[:n]
    return np.asarray(x[np.sort(idx)], dtype=np.float32)


def _parity_floors(recipe: Recipe) -> dict[str, float]:
    """Float files are held to the float floor; anything quantised to the looser one."""
    ptq = recipe.ptq
    main_float = not recipe.has_qat and (ptq is None or ptq.mode == "float16")
    f, q = recipe.parity.float_min_agreement, recipe.parity.quantized_min_agreement
    return {"tflite": f if main_float else q, "onnx": q if recipe.has_qat else f, "tflite_int8": q}


def clear_outputs(vdir: Path) -> None:
    """Remove a corrupted variant's outputs, keeping the lock we hold."""
    for p in vdir.iterdir():
        if p.name == ".lock":
            continue
        if p.is_dir():
            shutil.rmtree(p)
        else:
            p.unlink()


def log_result(result: VariantResult, progress: Progress) -> None:
    main, size = result.accuracy["tflite"], result.sizes["tflite"]
    progress.info(f"{result.name}: TFLite UA {main.ua:.3f} WA {main.wa:.3f}; {size.file_bytes:,} B "
                  f"({size.gzip_bytes:,} B gzip); {result.wall_time_s:.0f} s")
