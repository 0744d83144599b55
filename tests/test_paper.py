"""The paper-protocol configs express the paper's settings; the published-figure records hold."""

from __future__ import annotations

from typing import get_args

import pytest
from pydantic import ValidationError

from sercompress import paper
from sercompress.data import load_corpus, make_fold
from sercompress.dataset import DatasetName
from sercompress.errors import DataError
from sercompress.runconfig import load_run_config

from .data.conftest import iemocap_tree, write_wav

EMODB_SPEAKERS = ("03", "08", "09", "10", "11", "12", "13", "14", "15", "16")

#: per session: an improvised dialogue (every code the 4-class setting meets) and a scripted one
IEMOCAP_DIALOGS = {
    "Ses0{s}F_impro02": [("F000", "neu"), ("M000", "exc"), ("F001", "hap"), ("M001", "sad"),
                         ("F002", "ang"), ("M002", "fru"), ("F003", "xxx")],
    "Ses0{s}M_script01_1": [("F000", "ang"), ("M000", "exc"), ("F001", "neu")],
}


def _corpus(config: str, root):
    cfg = load_run_config(config).data.model_copy(update={"data_dir": str(root)})
    return cfg, load_corpus(cfg.dataset, cfg.data_dir, cfg.corpus_options()).with_classes(cfg.classes)


def _emodb_tree(root):
    for i, spk in enumerate(EMODB_SPEAKERS):
        for j, code in enumerate("WLEAFTN"):
            write_wav(root / "wav" / f"{spk}a0{j}{code}a.wav", seconds=0.05, seed=i)
    return root


def _iemocap_tree(root):
    return iemocap_tree(root, IEMOCAP_DIALOGS, sessions=range(1, 6), seconds=0.05)


@pytest.mark.parametrize("dataset", sorted(paper.PROTOCOLS))
def test_paper_configs_load_and_match_their_protocol(dataset):
    proto = paper.PROTOCOLS[dataset]
    cfg = load_run_config(proto.config)
    assert cfg.name == proto.config and cfg.data.dataset == dataset
    assert cfg.data.classes == proto.classes
    assert cfg.data.duration_s == proto.duration_s
    assert cfg.data.val_speakers == proto.val_speakers and cfg.train.epochs == proto.epochs
    assert cfg.data.data_dir is None          # the user's --data-dir
    if proto.iemocap_filter is not None:
        assert cfg.data.iemocap_filter == proto.iemocap_filter
    # the paper's recipe
    assert (cfg.train.learning_rate, cfg.train.batch_size, cfg.train.loss) == (1e-4, 32, "cross_entropy")
    assert cfg.train.decay is not None and cfg.train.select_on == "val_ua"
    # the full protocol: every fold of the corpus
    assert cfg.sweep is not None and cfg.sweep.folds == "all" and cfg.sweep.seeds == (0,)


def test_emodb_protocol_ten_speaker_folds(tmp_path):
    cfg, corpus = _corpus("paper-emodb", _emodb_tree(tmp_path / "emodb"))
    assert corpus.classes == paper.PROTOCOLS["emodb"].classes
    assert set(corpus.class_counts().values()) == {10}
    assert corpus.groups == EMODB_SPEAKERS and len(corpus.groups) == paper.PROTOCOLS["emodb"].folds
    held_out = []
    for k in range(len(corpus.groups)):
        fold = make_fold(corpus, k, cfg.val_speakers, cfg.seed)
        assert len(fold.test_speakers) == 1 and len(fold.val_speakers) == 2 and len(fold.train_speakers) == 7
        assert not set(fold.test_speakers) & (set(fold.val_speakers) | set(fold.train_speakers))
        held_out += fold.test_speakers
    assert sorted(held_out) == list(EMODB_SPEAKERS)   # each speaker is the test fold exactly once
    with pytest.raises(DataError, match="out of range"):
        make_fold(corpus, 10, cfg.val_speakers, cfg.seed)


def test_iemocap_protocol_merges_excited_keeps_improvised_five_session_folds(tmp_path):
    cfg, corpus = _corpus("paper-iemocap", _iemocap_tree(tmp_path / "iemocap"))
    labels = {u.path.stem: u.label for u in corpus.utterances}
    for s in range(1, 6):
        assert labels[f"Ses0{s}F_impro02_M000"] == "happy"      # excited -> happy
        assert labels[f"Ses0{s}F_impro02_F001"] == "happy"      # happy stays happy
    assert not any("script" in stem for stem in labels)        # scripted dialogues dropped
    assert not any(stem.endswith(("M002", "F003")) for stem in labels)  # fru, xxx dropped
    assert corpus.class_counts() == {"neutral": 5, "happy": 10, "sad": 5, "angry": 5}
    assert corpus.groups == tuple(f"Ses0{s}" for s in range(1, 6))
    for k in range(paper.PROTOCOLS["iemocap"].folds):
        fold = make_fold(corpus, k, cfg.val_speakers, cfg.seed)
        session = f"Ses0{k + 1}"
        assert fold.test_group == session and fold.test_speakers == (f"{session}F", f"{session}M")
        assert len(fold.val_speakers) == 2 and len(fold.train_speakers) == 6
        assert not any(s.startswith(session) for s in fold.val_speakers + fold.train_speakers)


@pytest.mark.parametrize("dataset", get_args(DatasetName))
def test_published_records_are_well_formed(dataset):
    results = paper.published(dataset)
    assert isinstance(results, tuple)
    for r in results:
        assert isinstance(r, paper.PublishedResult) and r.dataset == dataset
        assert r.differences == paper.PROTOCOLS[dataset].differences
        assert paper.CITATION in r.source
        assert paper.PublishedResult.model_validate(r.model_dump()) == r
    if dataset not in paper.PROTOCOLS:
        assert results == () and paper.protocol(dataset) is None


def test_published_unknown_dataset_is_an_error():
    with pytest.raises(DataError, match="unknown dataset"):
        paper.published("timit")


def _result(**kw):
    base = {"dataset": "emodb", "setting": paper.PROTOCOLS["emodb"].setting, "ua": 50.0,
            "source": f"{paper.CITATION}, Table 0", "differences": paper.PROTOCOLS["emodb"].differences}
    return paper.PublishedResult(**{**base, **kw})


def test_published_result_validation():
    assert _result(wa=51.5, f1=None).f1 is None
    with pytest.raises(ValidationError, match="at least one of ua, wa, f1"):
        _result(ua=None)
    with pytest.raises(ValidationError, match="less than or equal to 100"):
        _result(ua=101.0)
    with pytest.raises(ValidationError, match="no paper protocol"):
        _result(dataset="synthetic")
    with pytest.raises(ValidationError):
        _result(differences=())
    with pytest.raises(ValidationError):
        _result(source="")
    with pytest.raises(ValidationError):   # frozen
        _result().ua = 1.0  # type: ignore[misc]
