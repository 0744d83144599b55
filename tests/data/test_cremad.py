import pytest
from .conftest import write_wav

from sercompress.data import load_corpus
from sercompress.errors import DataError


def _tree(root):
    for actor in (1001, 1002, 1003):
        for emo in ("ANG", "DIS", "FEA", "HAP", "NEU", "SAD"):
            write_wav(root / "AudioWAV" / f"{actor}_DFA_{emo}_XX.wav")
    return root


def test_scans_actors_and_emotions(tmp_path):
    c = load_corpus("cremad", _tree(tmp_path / "crema"))
    assert len(c.utterances) == 18
    assert c.speakers == ("1001", "1002", "1003")
    assert c.class_counts() == {"neutral": 3, "happy": 3, "sad": 3, "angry": 3, "disgusted": 3, "fearful": 3}
    four = c.with_classes(("neutral", "happy", "sad", "angry"))
    assert len(four.utterances) == 12 and four.classes == ("neutral", "happy", "sad", "angry")
    with pytest.raises(DataError, match="not in corpus"):
        c.with_classes(("neutral", "bored"))


def test_unknown_emotion_code_names_the_file(tmp_path):
    root = _tree(tmp_path / "crema")
    bad = write_wav(root / "AudioWAV" / "1001_IEO_CAL_HI.wav")
    with pytest.raises(DataError, match="'CAL'") as e:
        load_corpus("cremad", root)
    assert e.value.path == bad
