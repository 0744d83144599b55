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


def test_speech_by_default_song_on_request(tmp_path):
    from sercompress.data import CorpusOptions

    root = _tree(tmp_path / "ravdess")
    for emo in ("01", "03", "04"):
        write_wav(root / "Actor_01" / f"03-02-{emo}-01-02-01-01.wav")   # vocal channel 02: song
    speech = load_corpus("ravdess", root)
    assert len(speech.utterances) == 10 and any("another vocal channel" in n for n in speech.notes)
    song = load_corpus("ravdess", root, CorpusOptions(ravdess_channel="song"))
    assert len(song.utterances) == 3 and all("-02-" in u.path.name for u in song.utterances)
    assert len(load_corpus("ravdess", root, CorpusOptions(ravdess_channel="both")).utterances) == 13


def test_channel_enters_the_data_identity_of_ravdess_only():
    from sercompress.dataset import DataConfig

    assert "ravdess_channel" not in DataConfig().identity()
    assert DataConfig(dataset="ravdess", ravdess_channel="song").identity()["ravdess_channel"] == "song"
