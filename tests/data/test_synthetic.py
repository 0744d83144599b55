import json

import numpy as np
import pytest

from sercompress.data import CorpusOptions, load_corpus
from sercompress.data import synthetic as S
from sercompress.errors import DataError


def test_same_seed_same_audio_other_seed_other_audio():
    spec = S.SyntheticSpec(n_speakers=4, per_emotion=2)
    spk = S.make_speakers(spec)
    a = S.synthesize(spec, spk[1], "angry", 1, 1)
    b = S.synthesize(spec, spk[1], "angry", 1, 1)
    assert a.dtype == np.float32 and np.array_equal(a, b)
    other = S.SyntheticSpec(n_speakers=4, per_emotion=2, seed=1)
    c = S.synthesize(other, S.make_speakers(other)[1], "angry", 1, 1)
    assert not (a.shape == c.shape and np.array_equal(a, c))
    assert np.max(np.abs(a)) <= 1.0 and np.all(np.isfinite(a))


def test_speakers_alternate_gender_with_distinct_voices():
    spk = S.make_speakers(S.SyntheticSpec())
    assert len(spk) == 10 and len({s.name for s in spk}) == 10
    assert [s.female for s in spk] == [True, False] * 5
    assert min(s.f0 for s in spk if s.female) > max(s.f0 for s in spk if not s.female)
    assert min(s.vtl for s in spk if s.female) > max(s.vtl for s in spk if not s.female)
    assert {S.group_of(i) for i in range(10)} == {f"pair0{k}" for k in range(1, 6)}


def test_emotions_move_pitch_and_level_as_documented():
    """Averaged over utterances, angry is louder and higher than sad (the documented correlates)."""
    spec = S.SyntheticSpec(n_speakers=4, per_emotion=6, snr_db=(40.0, 40.0), gain_db=0.0)
    spk = S.make_speakers(spec)[1]
    rms = {e: np.mean([np.sqrt(np.mean(S.synthesize(spec, spk, e, k, 1) ** 2)) for k in range(6)])
           for e in ("sad", "neutral", "angry")}
    assert rms["sad"] < rms["neutral"] < rms["angry"]
    assert S.PROFILES["angry"].f0_scale > S.PROFILES["neutral"].f0_scale > S.PROFILES["sad"].f0_scale


def test_corpus_is_generated_once_into_the_cache(tmp_path):
    opts = CorpusOptions(synthetic_speakers=4, synthetic_per_emotion=1, cache_dir=tmp_path)
    c = load_corpus("synthetic", None, opts)
    assert c.synthetic and len(c.utterances) == 16 and c.classes == ("neutral", "happy", "sad", "angry")
    assert c.groups == ("pair01", "pair02") and any("SYNTHETIC" in n for n in c.notes)
    manifest = c.root / "manifest.json"
    assert json.loads(manifest.read_text())["synthetic"] is True
    stamp = manifest.stat().st_mtime_ns
    again = load_corpus("synthetic", None, opts)
    assert again.utterances == c.utterances and manifest.stat().st_mtime_ns == stamp


def test_spec_validation():
    with pytest.raises(DataError, match="synthetic_speakers"):
        S.SyntheticSpec(n_speakers=3)



def test_concurrent_publication_keeps_the_first_corpus(tmp_path, monkeypatch):
    """A generator finishing second must not replace a directory others may be reading."""
    import shutil

    spec = S.SyntheticSpec(n_speakers=4, per_emotion=1)
    target = tmp_path / "synthetic" / spec.digest
    real_generate = S.generate

    def racing_generate(spec_, directory):
        real_generate(spec_, directory)
        shutil.copytree(directory, target)  # the other process publishes first
        (target / "DONE").write_text("{}")

    monkeypatch.setattr(S, "generate", racing_generate)
    inode = None

    def remember(*_):
        nonlocal inode
        inode = (target / "manifest.json").stat().st_ino

    monkeypatch.setattr(S, "mark_done", lambda d, info=None: ((d / "DONE").write_text("{}"), remember()))
    assert S.corpus_dir(spec, tmp_path) == target
    assert (target / "manifest.json").stat().st_ino == inode  # theirs, untouched
    assert [p.name for p in target.parent.iterdir()] == [spec.digest]  # our copy cleaned up


def test_test_fold_speakers_can_get_more_clips_without_changing_the_others():
    from sercompress.data.synthetic import SyntheticSpec

    base = SyntheticSpec(per_emotion=8)
    big = SyntheticSpec(per_emotion=8, group_per_emotion=(1, 50))
    assert [big.clips_per_emotion(i) for i in range(6)] == [8, 8, 50, 50, 8, 8]
    assert base.digest != big.digest
    # Unset, the hash is the one of corpora generated before the option existed.
    from dataclasses import asdict

    from sercompress.data.synthetic import GENERATOR_VERSION
    from sercompress.storage import content_hash

    fields = asdict(base)
    del fields["group_per_emotion"]
    assert base.digest == content_hash(GENERATOR_VERSION, fields)


def test_generation_on_several_processes_writes_the_same_files(tmp_path, monkeypatch):
    """Speakers are written in parallel for a large corpus: the files must not depend on it."""
    spec = S.SyntheticSpec(n_speakers=4, per_emotion=2, seed=3)
    S.generate(spec, tmp_path / "one")
    monkeypatch.setattr(S, "PARALLEL_MIN_CLIPS", 1)
    monkeypatch.setattr(S.os, "cpu_count", lambda: 2)
    S.generate(spec, tmp_path / "two")
    one = sorted(p.relative_to(tmp_path / "one") for p in (tmp_path / "one").rglob("*") if p.is_file())
    two = sorted(p.relative_to(tmp_path / "two") for p in (tmp_path / "two").rglob("*") if p.is_file())
    assert one == two and len(one) == 4 * 4 * 2 + 1
    assert all((tmp_path / "one" / p).read_bytes() == (tmp_path / "two" / p).read_bytes() for p in one)
