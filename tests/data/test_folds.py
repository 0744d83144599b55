from pathlib import Path

import pytest

from sercompress.data import Corpus, Utterance, make_fold, split_utterances
from sercompress.errors import DataError


def _corpus(n_speakers=6, per_group=1):
    utts = tuple(Utterance(Path(f"/c/{s}_{k}.wav"), ("a", "b")[k % 2], f"s{s}", f"g{s // per_group}")
                 for s in range(n_speakers) for k in range(4))
    return Corpus("toy", Path("/c"), ("a", "b"), utts)


@pytest.mark.parametrize("per_group", [1, 2])
def test_every_fold_is_speaker_disjoint(per_group):
    c = _corpus(8, per_group)
    assert len(c.groups) == 8 // per_group
    tested = []
    for k in range(len(c.groups)):
        f = make_fold(c, k, val_speakers=2, seed=0)
        parts = split_utterances(c, f)
        spk = {name: {u.speaker for u in utts} for name, utts in parts.items()}
        assert not spk["train"] & spk["val"] and not spk["train"] & spk["test"] and not spk["val"] & spk["test"]
        assert spk["test"] == {u.speaker for u in c.utterances if u.group == c.groups[k]}
        assert len(spk["val"]) == 2 and sum(len(v) for v in parts.values()) == len(c.utterances)
        tested += sorted(spk["test"])
    assert sorted(tested) == list(c.speakers)  # each speaker is tested exactly once


def test_validation_speakers_are_deterministic_and_seeded():
    c = _corpus(10)
    a, b = make_fold(c, 3, 2, seed=0), make_fold(c, 3, 2, seed=0)
    assert a == b
    assert {make_fold(c, 3, 2, seed=s).val_speakers for s in range(10)} != {a.val_speakers}


def test_bad_fold_and_val_counts():
    c = _corpus(4)
    with pytest.raises(DataError, match="fold 4 out of range"):
        make_fold(c, 4, 1, 0)
    with pytest.raises(DataError, match="val_speakers"):
        make_fold(c, 0, 3, 0)
