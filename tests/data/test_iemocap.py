import pytest
from .conftest import iemocap_tree, write_wav

from sercompress.data import CorpusOptions, load_corpus
from sercompress.errors import DataError

LABELS = {
    "Ses0{s}F_impro01": [("F000", "neu"), ("M000", "exc"), ("F001", "fru"), ("M001", "ang")],
    "Ses0{s}F_script01_1": [("F000", "sad"), ("M000", "hap")],
}


def _tree(root, sessions=(1, 2)):
    return iemocap_tree(root, LABELS, sessions)


def test_improvised_four_classes_exc_merged(tmp_path):
    c = load_corpus("iemocap", _tree(tmp_path / "iemocap"))
    assert c.classes == ("neutral", "happy", "sad", "angry")
    by_name = {u.path.stem: u for u in c.utterances}
    assert set(by_name) == {f"Ses0{s}F_impro01_{u}" for s in (1, 2) for u in ("F000", "M000", "M001")}
    assert by_name["Ses01F_impro01_M000"].label == "happy"  # exc -> hap
    assert by_name["Ses01F_impro01_M000"].speaker == "Ses01M"
    assert by_name["Ses01F_impro01_F000"].speaker == "Ses01F"
    assert c.groups == ("Ses01", "Ses02")  # leave-one-session-out
    assert any("fru" in n for n in c.notes)


@pytest.mark.parametrize("which, n", [("scripted", 4), ("all", 10)])
def test_filters(tmp_path, which, n):
    c = load_corpus("iemocap", _tree(tmp_path / "iemocap"), CorpusOptions(iemocap_filter=which))
    assert len(c.utterances) == n


def test_missing_wav_is_skipped_and_unknown_label_is_an_error(tmp_path):
    root = _tree(tmp_path / "iemocap")
    (root / "Session2/sentences/wav/Ses02F_impro01/Ses02F_impro01_F000.wav").unlink()
    c = load_corpus("iemocap", root)
    assert len(c.utterances) == 5 and len(c.skipped) == 1
    label_file = root / "Session1/dialog/EmoEvaluation/Ses01F_impro01.txt"
    label_file.write_text(label_file.read_text() + "[9.0 - 9.5]\tSes01F_impro01_F009\tzzz\t[1, 1, 1]\n")
    with pytest.raises(DataError, match="'zzz'") as e:
        load_corpus("iemocap", root)
    assert e.value.path == label_file


def test_no_sessions_is_an_error(tmp_path):
    write_wav(tmp_path / "x" / "a.wav")
    with pytest.raises(DataError, match="no file in the IEMOCAP layout"):
        load_corpus("iemocap", tmp_path / "x")
