"""Hostile summaries: validated before any report file is written; output paths checked first."""

from __future__ import annotations

import json
import time

import pytest

from .conftest import make_summary

from sercompress.cli import main
from sercompress.report.summary import MAX_CLASSES


def _summary_with_confusion(tmp_path, confusion, classes=None):
    data = json.loads(make_summary().to_json())
    acc = data["variants"][0]["accuracy"]
    acc["confusion"] = confusion
    if classes is not None:
        acc["classes"] = classes
    path = tmp_path / "in" / "summary.json"
    path.parent.mkdir()
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize("confusion, classes, match", [
    ([[8, 1, 1, 0], [1, 7], [0, 1, 9, 0], [1, 0, 2, 7]], None, "not square"),
    ([[1] * 300 for _ in range(300)], [f"c{i}" for i in range(300)], f"more than {MAX_CLASSES} classes"),
    ([[1, 2], [3, 4]], None, "2 x 2 but there are 4 classes"),
    ([[-1, 0, 0, 0]] * 4, None, "negative"),
])
def test_bad_confusion_is_refused_and_nothing_is_written(tmp_path, capsys, confusion, classes, match):
    """A ragged matrix wrote summary.json/.csv/.md then failed before index.html; a 300 x 300 one
    took 67 s and 1 GB to render."""
    src = _summary_with_confusion(tmp_path, confusion, classes)
    out = tmp_path / "out"
    start = time.process_time()
    assert main(["report", str(src), "--out", str(out)]) == 2
    assert time.process_time() - start < 5
    err = capsys.readouterr().err
    assert match in err and "confusion" in err and str(src) in err
    assert not out.exists() or not any(out.iterdir())


def test_report_renders_everything_before_writing_anything(tmp_path, monkeypatch):
    """A renderer that fails leaves no partial report behind."""
    from sercompress.report import html

    def broken(*a, **k):
        raise RuntimeError("renderer bug")

    monkeypatch.setattr(html, "render_html", broken)
    with pytest.raises(RuntimeError):
        from sercompress.report import render_report

        render_report(make_summary(), tmp_path / "out")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_report_out_existing_file_is_refused_before_rendering(tmp_path, capsys):
    make_summary().save(tmp_path)
    target = tmp_path / "taken"
    target.write_text("keep me")
    assert main(["report", str(tmp_path), "--out", str(target)]) == 2
    assert "--out" in capsys.readouterr().err and target.read_text() == "keep me"


def test_check_junit_directory_is_refused_before_profiling(tmp_path, capsys):
    from tests.fuzz.tflite_build import shaped_model

    model = tmp_path / "m.tflite"
    model.write_bytes(shaped_model([1, 8, 8, 3]))
    (tmp_path / "junit").mkdir()
    assert main(["check", str(model), "--hw", "stm32h743", "--junit", str(tmp_path / "junit")]) == 2
    err = capsys.readouterr().err
    assert "--junit" in err and "not a regular file" in err
    assert main(["check", str(model), "--hw", "stm32h743", "--junit", str(tmp_path / "j.xml")]) == 0
    assert (tmp_path / "j.xml").read_text().startswith("<?xml")


def test_too_many_variants_is_refused_before_rendering(tmp_path, capsys):
    """1,500 variants took 27 s CPU and 1.2 GB to render; more than MAX_VARIANTS is refused."""
    from sercompress.report.summary import MAX_VARIANTS

    data = json.loads(make_summary().to_json())
    data["variants"] = data["variants"][:1] * (MAX_VARIANTS + 1)
    src = tmp_path / "summary.json"
    src.write_text(json.dumps(data))
    assert main(["report", str(src), "--out", str(tmp_path / "out")]) == 2
    assert "variants" in capsys.readouterr().err and not (tmp_path / "out").exists()
