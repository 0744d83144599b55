import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from sercompress.cli import main
from sercompress.dataset import DataConfig, prepare
from sercompress.errors import DataError


def _wav(path: Path, seconds=0.4, sr=16000, channels=1, seed=0, silent=False):
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(seconds * sr)) / sr
    x = 0.0 * t if silent else 0.2 * np.sin(2 * np.pi * (120 + 15 * seed) * t)
    sf.write(path, np.stack([x, x], 1) if channels == 2 else x, sr, subtype="PCM_16")
    return path


@pytest.fixture
def emodb(tmp_path):
    """Five speakers x four emotions, plus the damage real copies carry."""
    root = tmp_path / "emodb"
    for i, spk in enumerate(["03", "08", "09", "10", "11"]):
        for j, code in enumerate("WFTN"):
            _wav(root / "wav" / f"{spk}a0{j}{code}a.wav", seed=4 * i + j)
    _wav(root / "wav" / "03b01Wb.wav", sr=44100, channels=2)  # repaired, kept
    bad = _wav(root / "wav" / "08b01Wb.wav")
    bad.write_bytes(bad.read_bytes()[:2000])  # truncated
    _wav(root / "wav" / "09b01Wb.wav", silent=True)  # all zeros
    return root


@pytest.fixture(scope="module")
def synthetic_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("cache")


def _small(cache, **kw):
    return DataConfig(cache_dir=str(cache), synthetic_speakers=4, synthetic_per_emotion=2, val_speakers=1, **kw)


def test_prepare_synthetic_shapes_and_disjoint_splits(synthetic_cache):
    d = prepare(_small(synthetic_cache))
    assert d.classes == ("neutral", "happy", "sad", "angry") and d.input_shape == (184, 40, 1)
    for split in (d.train, d.val, d.test):
        assert split.x.dtype == np.float32 and split.x.shape[1:] == (184, 40, 1)
        assert split.y.dtype == np.int64 and len(split.speakers) == len(split.paths) == len(split)
    assert (len(d.train), len(d.val), len(d.test)) == (8, 8, 16)
    sets = [set(s.speakers) for s in (d.train, d.val, d.test)]
    assert not (sets[0] & sets[1] or sets[0] & sets[2] or sets[1] & sets[2])
    assert len(d.summary_lines()) == 7 and "SYNTHETIC" in d.summary_lines()[0]


def test_second_call_hits_the_cache_without_tensorflow(synthetic_cache):
    first = prepare(_small(synthetic_cache, input_type="mel_spectrogram"))
    again = prepare(_small(synthetic_cache, input_type="mel_spectrogram"))
    assert first.features.computed == 32 and again.features == type(again.features)(computed=0, cached=32)
    assert again.fingerprint == first.fingerprint and np.array_equal(again.train.x, first.train.x)
    assert prepare(_small(synthetic_cache, fold=1)).fingerprint != first.fingerprint
    code = ("import sys; from sercompress.dataset import DataConfig, prepare; "
            f"d = prepare(DataConfig(cache_dir={str(synthetic_cache)!r}, synthetic_speakers=4, "
            "synthetic_per_emotion=2, val_speakers=1, input_type='mel_spectrogram')); "
            "print(d.features.cached, 'tensorflow' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["32", "False"]


def test_bad_files_are_skipped_and_reported(emodb, tmp_path, caplog):
    d = prepare(DataConfig(dataset="emodb", data_dir=str(emodb), cache_dir=str(tmp_path / "c"), val_speakers=1))
    skipped = {s.path.name: s.reason for s in d.skipped}
    assert set(skipped) == {"08b01Wb.wav", "09b01Wb.wav"}
    assert "truncated" in skipped["08b01Wb.wav"] and "zeros" in skipped["09b01Wb.wav"]
    assert "08b01Wb.wav" in caplog.text
    assert len(d.train) + len(d.val) + len(d.test) == 21  # 20 + the resampled stereo file
    assert "skipped  2 file(s)" in "\n".join(d.summary_lines())


def test_class_subset_and_all_bad_files(emodb, tmp_path):
    d = prepare(DataConfig(dataset="emodb", data_dir=str(emodb), cache_dir=str(tmp_path / "c"),
                           classes=("sad", "angry"), val_speakers=1))
    assert d.classes == ("sad", "angry") and set(d.test.y.tolist()) == {0, 1}
    for f in (emodb / "wav").iterdir():
        f.write_bytes(b"RIFF")
    with pytest.raises(DataError, match="no usable audio"):
        prepare(DataConfig(dataset="emodb", data_dir=str(emodb), cache_dir=str(tmp_path / "c2")))


def test_cli_json_and_errors(emodb, tmp_path, capsys):
    rc = main(["data", "--dataset", "emodb", "--data-dir", str(emodb), "--fold", "2",
               "--cache-dir", str(tmp_path / "c"), "--json"])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0 and out["fold"]["test_speakers"] == ["09"] and len(out["skipped"]) == 2
    assert out["input_shape"] == [184, 40, 1]
    assert main(["data", "--dataset", "emodb", "--data-dir", str(tmp_path / "missing")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["data", "--duration", "0"]) == 2
    assert "--duration" in capsys.readouterr().err
