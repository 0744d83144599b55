import pytest
from .conftest import write_wav

from sercompress.data import CorpusOptions, load_corpus
from sercompress.errors import DataError


def test_scans_speakers_and_emotions(emodb_tree):
    c = load_corpus("emodb", emodb_tree)
    assert len(c.utterances) == 12
    assert c.speakers == ("03", "08", "11")
    assert c.groups == c.speakers  # leave-one-speaker-out
    labels = {u.path.name: u.label for u in c.utterances}
    assert labels["03a00Wa.wav"] == "angry" and labels["03a01Fa.wav"] == "happy"
    assert labels["03a02Ta.wav"] == "sad" and labels["03a03Na.wav"] == "neutral"
    assert set(c.classes) == {"angry", "bored", "disgusted", "fearful", "happy", "sad", "neutral"}


def test_accepts_the_wav_dir_itself_and_skips_foreign_names(emodb_tree):
    write_wav(emodb_tree / "wav" / "readme.wav")
    c = load_corpus("emodb", emodb_tree / "wav")
    assert len(c.utterances) == 12
    assert [s.path.name for s in c.skipped] == ["readme.wav"]


def test_unknown_emotion_code_names_the_file(emodb_tree):
    bad = write_wav(emodb_tree / "wav" / "03a05Xa.wav")
    with pytest.raises(DataError, match="unknown EMO-DB emotion code 'X'") as e:
        load_corpus("emodb", emodb_tree)
    assert e.value.path == bad


def test_missing_empty_and_unrecognised_dirs(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        load_corpus("emodb", tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="is empty"):
        load_corpus("emodb", tmp_path / "empty")
    (tmp_path / "other" / "x").mkdir(parents=True)
    with pytest.raises(DataError, match="no file in the EMO-DB layout"):
        load_corpus("emodb", tmp_path / "other")
    with pytest.raises(DataError, match="--data-dir"):
        load_corpus("emodb", None)
    with pytest.raises(DataError, match="unknown dataset"):
        load_corpus("timit", tmp_path, CorpusOptions())
