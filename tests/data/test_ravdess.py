import pytest
from .conftest import write_wav

from sercompress.data import load_corpus
from sercompress.errors import DataError


def _tree(root):
    for actor in (1, 2):
        for emo in ("01", "03", "04", "05", "08"):
            write_wav(root / f"Actor_{actor:02d}" / f"03-01-{emo}-01-02-01-{actor:02d}.wav")
    write_wav(root / "Actor_01" / "01-01-05-01-02-01-01.wav")  # full-AV: not audio-only
    return root


def test_scans_audio_only_files(tmp_path):
    c = load_corpus("ravdess", _tree(tmp_path / "ravdess"))
    assert len(c.utterances) == 10
    assert c.speakers == ("actor01", "actor02")
    assert {u.label for u in c.utterances} == {"neutral", "happy", "sad", "angry", "surprised"}
    assert any("modality" in n for n in c.notes)


def test_unknown_emotion_code_names_the_file(tmp_path):
    root = _tree(tmp_path / "ravdess")
    bad = write_wav(root / "Actor_02" / "03-01-09-01-02-01-02.wav")
    with pytest.raises(DataError, match="'09'") as e:
        load_corpus("ravdess", root)
    assert e.value.path == bad
