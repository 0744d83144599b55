"""The deployed input window, and streaming evaluation of a whole clip through it.

Why: the int8 Light-SERNet needs a TensorFlow Lite Micro arena of about 424 KB
at 3 s of features (184 frames), more than a 256 KB MCU has. The network is
fully convolutional (global average pooling before the classifier), so the
same weights run on a shorter window and its activations, hence the arena,
shrink with the window. A clip is then classified by *streaming*: the model
runs on windows cut from the clip's features and their scores are pooled, so
the whole clip's evidence is kept.

The ``window`` step (:class:`~.recipe.WindowStep`, always the last step before
``ptq``) rebuilds the trained model at the window's input shape with its
weights copied unchanged (:func:`at_window`); the runner calibrates int8 on
windows of the training clips and evaluates every exported file by streaming
(:class:`Windows`):

* window and hop in frames are those an on-device streamer computes on audio
  buffers of ``seconds``, started every ``hop_seconds``: a buffer of ``s``
  seconds gives ``features.n_frames(s)`` STFT frames, and buffers ``h`` seconds
  apart start ``round(h * rate / frame_step)`` frames apart (so with
  ``hop = seconds`` the *audio* is contiguous, and the few STFT frames
  straddling two buffers belong to neither);
* windows start at frame 0 and every hop while they fit; if that leaves frames
  at the end unseen, one more window is aligned to the clip's last frame;
* a clip shorter than one window (only possible for features not cut by
  ``dataset.prepare``, which fits every clip to the configured duration) is
  padded at the end with the features of silence, as ``features.fit_length``
  pads audio with zeros (frames straddling the clip's end differ: they would
  mix audio and padding);
* pooling: the **mean of the windows' softmax scores**, argmax = the clip's
  prediction (per-clip predictions as for every variant, so paired
  differences with the 3 s float control work).

The variant record says it is streamed (:class:`StreamInfo`: frames, hop,
windows per clip): an artifact's latency is *per window*; one utterance costs
``windows_per_clip`` inferences.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field

from ..errors import RecipeError
from ..features import FeatureConfig, compute_features, n_frames
from ..records import Record
from .recipe import Recipe, WindowStep
from .registry import StepContext, register

#: windows longer than the clip by less than this are rounding, not a mistake
_SECONDS_TOLERANCE = 1e-6


class StreamInfo(Record):
    """How a windowed variant runs a clip: read it before comparing its latency with a whole-clip one."""

    seconds: float = Field(gt=0)           # the window, as the recipe asks
    hop_seconds: float = Field(gt=0)       # the hop realised in whole frames
    frames: int = Field(ge=1)              # model input frames (the artifact's input shape)
    hop_frames: int = Field(ge=1)
    clip_frames: int = Field(ge=1)         # frames of one evaluated clip
    windows_per_clip: int = Field(ge=1)    # inferences per utterance
    pooling: Literal["mean_softmax"] = "mean_softmax"


@dataclass(frozen=True)
class Windows:
    """How clips are cut for a variant: ``frames=None`` = the whole clip, one inference."""

    frames: int | None = None
    hop: int = 1
    feature_config: FeatureConfig | None = None   # for the silence padding of short clips

    def starts(self, total: int) -> tuple[int, ...]:
        """Window start frames in a clip of ``total`` frames (the last aligned to the end)."""
        if self.frames is None or total <= self.frames:
            return (0,)
        starts = list(range(0, total - self.frames + 1, self.hop))
        if starts[-1] + self.frames < total:
            starts.append(total - self.frames)
        return tuple(starts)

    def cut(self, x: np.ndarray) -> np.ndarray:
        """Clips ``[N, T, F, C]`` -> windows ``[N * K, frames, F, C]``, clip-major (K per clip)."""
        x = np.asarray(x, dtype=np.float32)
        if self.frames is None:
            return x
        if x.shape[1] < self.frames:
            x = self._padded(x)
        windows = [x[:, s:s + self.frames] for s in self.starts(x.shape[1])]
        return np.stack(windows, axis=1).reshape(-1, self.frames, *x.shape[2:])

    def pool(self, probs: np.ndarray, n_clips: int) -> np.ndarray:
        """Per-window scores ``[N * K, C]`` -> per-clip scores ``[N, C]``: the mean over each clip's K."""
        probs = np.asarray(probs, dtype=np.float32)
        if self.frames is None:
            return probs
        if len(probs) % max(n_clips, 1):
            raise ValueError(f"{len(probs)} window scores do not divide into {n_clips} clips")
        return probs.reshape(n_clips, -1, probs.shape[-1]).mean(axis=1) if n_clips else probs

    def representative(self, x: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
        """Up to ``n`` calibration inputs: windows of the training clips, drawn reproducibly."""
        from .runner import representative

        if self.frames is None:
            return representative(x, n, seed)
        return representative(self.cut(x), n, seed)

    def info(self, clip_frames: int, seconds: float, frame_step: int, sample_rate: int) -> StreamInfo | None:
        if self.frames is None:
            return None
        return StreamInfo(seconds=seconds, hop_seconds=round(self.hop * frame_step / sample_rate, 6),
                          frames=self.frames, hop_frames=self.hop, clip_frames=clip_frames,
                          windows_per_clip=len(self.starts(max(clip_frames, self.frames))))

    def _padded(self, x: np.ndarray) -> np.ndarray:
        fc = self.feature_config or FeatureConfig()
        silence = silence_frame(fc).reshape(1, 1, -1, *([1] * (x.ndim - 3)))
        pad = np.broadcast_to(silence, (len(x), self.frames - x.shape[1], *x.shape[2:]))
        return np.concatenate([x, pad.astype(np.float32)], axis=1)


def silence_frame(fc: FeatureConfig) -> np.ndarray:
    """The feature vector of a frame of zero samples (what ``fit_length``'s padding becomes)."""
    return compute_features([np.zeros(fc.frame_length, np.float32)],
                            FeatureConfig(**{**fc.to_dict(), "duration_s": fc.frame_length / fc.sample_rate}))[0, 0]


def plan(step: WindowStep, fc: FeatureConfig, path: str | Path | None = None,
         index: int | None = None) -> Windows:
    """Window and hop in frames for clips of ``fc``; a window the clips cannot hold is a :class:`RecipeError`."""
    key = f"steps.{index}.seconds" if index is not None else "seconds"
    if step.seconds > fc.duration_s + _SECONDS_TOLERANCE:
        raise RecipeError(f"a window of {step.seconds:g} s is longer than the clips ({fc.duration_s:g} s of "
                          "features); use at most the data's duration_s", path=path, key=key)
    frames = n_frames(round(step.seconds * fc.sample_rate), fc.frame_length, fc.frame_step)
    if frames < 1:
        raise RecipeError(f"a window of {step.seconds:g} s is shorter than one STFT frame "
                          f"({fc.frame_length / fc.sample_rate:g} s)", path=path, key=key)
    hop = max(1, round(step.hop * fc.sample_rate / fc.frame_step))
    return Windows(frames=frames, hop=hop, feature_config=fc)


def clip_windows(recipe: Recipe, fc: FeatureConfig | None, path: str | Path | None = None) -> Windows:
    """How ``recipe``'s files see a clip: whole, or through its window step (checked against ``fc``)."""
    step = recipe.window
    if step is None:
        return Windows()
    if fc is None:
        raise RecipeError("a window step needs the data's feature config (frames per second)", path=path)
    return plan(step, fc, path, recipe.steps.index(step))


def stream_info(recipe: Recipe, windows: Windows, fc: FeatureConfig | None, clip_frames: int) -> StreamInfo | None:
    step = recipe.window
    if step is None or fc is None:
        return None
    return windows.info(clip_frames, step.seconds, fc.frame_step, fc.sample_rate)


def feature_config_of(reference: Any, data: Any) -> FeatureConfig | None:
    """The clips' feature config: from the prepared data, else the reference's data config."""
    fc = getattr(data, "feature_config", None)
    if fc is None and getattr(reference, "data_config", None) is not None:
        fc = reference.data_config.feature_config()
    return fc


def at_window(model: Any, frames: int) -> Any:
    """``model`` rebuilt for ``frames`` input frames, with the same weights (bit for bit).

    Only a model whose weights do not depend on the input length (fully
    convolutional, global pooling) can be rebuilt; anything else (a Flatten
    before a Dense) is refused with the reason.
    """
    from ..tf_env import keras

    k = keras()
    shape = (frames, *model.input_shape[2:])
    inp = k.Input(shape=shape, name=model.input_names[0], dtype=model.inputs[0].dtype)
    try:
        new = k.models.clone_model(model, input_tensors=inp)
        new.set_weights(model.get_weights())
    except ValueError as e:
        raise RecipeError(f"the model cannot run on a {frames}-frame window: its weights depend on the "
                          f"input length (only a fully convolutional model can be windowed): {e}",
                          key="steps.window") from None
    return new


@register(WindowStep)
class Window:
    """The ``window`` step: no training, the model rebuilt at the deployed window."""

    checkpointable = False  # nothing trained: the steps before it are the checkpoints

    @staticmethod
    def apply(model: Any, step: WindowStep, ctx: StepContext) -> Any:
        if ctx.feature_config is None:
            raise RecipeError("a window step needs the data's feature config (frames per second)")
        return at_window(model, plan(step, ctx.feature_config).frames)

    @staticmethod
    def strip(model: Any) -> Any:
        return model

    @staticmethod
    def claims(step: WindowStep, model: Any) -> list[Any]:
        return []
