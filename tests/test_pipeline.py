"""`sercompress run` end to end on the quick config, the report files, resume, and the CI gate.

One quick run (session fixture) is shared by the tests; it is also compared with
the committed CI reference `reports/ci-reference/summary.json`, which is how
`make test` gates the project's own changes.
"""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sercompress.cli import main
from sercompress.errors import RunError
from sercompress.pipeline import run
from sercompress.progress import Progress
from sercompress.report.summary import Summary
from sercompress.runconfig import load_run_config
from sercompress.storage import DONE_MARKER

ROOT = Path(__file__).resolve().parents[1]
CI_REFERENCE = ROOT / "reports" / "ci-reference" / "summary.json"
CI_TOLERANCE = ROOT / "configs" / "ci-tolerance.toml"

pytestmark = [pytest.mark.slow, pytest.mark.integration]


def run_quick(out: Path, store: Path) -> dict:
    """`sercompress run --config quick` in a fresh process, exactly as `make ci-reference` runs it.

    A fresh process matters: TensorFlow's random-op seeds depend on what the process
    created before, so only a run from a clean start reproduces the committed reference.
    """
    proc = subprocess.run([sys.executable, "-m", "sercompress", "run", "--config", "quick", "--out", str(out),
                           "--store", str(store), "--quiet", "--json"], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


@pytest.fixture(scope="session")
def store(tmp_path_factory) -> Path:
    """The tests' own store: a user's store must neither feed nor receive their work."""
    return tmp_path_factory.mktemp("store")


@pytest.fixture(scope="session")
def quick_run(tmp_path_factory, store):
    out = tmp_path_factory.mktemp("quick") / "run"
    outcome = run_quick(out, store)
    assert outcome["failures"] == []
    return out


def test_quick_run_writes_every_report_file(quick_run):
    summary = Summary.load(quick_run / "summary.json")  # validates against the schema
    names = {v.name for v in summary.variants}
    assert {"float32", "ptq-int8", "prune-80", "prune-80+int8"} <= names
    assert any(v.family == "baseline" for v in summary.variants)
    assert summary.reference() is not None and summary.reference().name == "float32"
    assert {p.name for p in summary.profiles} >= {"nrf52840", "stm32h743", "host"}
    for v in summary.variants:
        assert v.accuracy is not None and 0 <= v.accuracy.ua <= 1
        assert v.sizes.file_bytes > 0 and v.macs > 0
        assert {f.hardware for f in v.fits} == {p.name for p in summary.profiles}
    rows = (quick_run / "variants.csv").read_text().splitlines()
    assert len(rows) == 1 + len(summary.variants) * len(summary.profiles)
    assert "| " in (quick_run / "summary.md").read_text()
    html = (quick_run / "index.html").read_text()
    assert html.count("data:image/png;base64,") >= 4
    assert "<script src=" not in html and "http://" not in html.split("<body", 1)[1].split("</body>")[0].replace(
        "http://www.w3.org", "")


def test_figures_come_from_the_artifacts(quick_run):
    summary = Summary.load(quick_run / "summary.json")
    ref, int8 = summary.variant("float32"), summary.variant("ptq-int8")
    # Keras counts 462,468 incl. 4 batch-norm figures per channel (3,456); the converter folds
    # batch norm into the convolutions, adding a bias to the 768 channels of bias-free convs.
    assert ref.params == int8.params == 462_468 - 3_456 + 768
    assert ref.macs == int8.macs == 160_228_488  # Arm Vela's count on the exported file
    assert int8.artifact.dtype == "int8" and ref.artifact.dtype == "float32"
    assert ref.sizes.file_bytes / int8.sizes.file_bytes > 3.5
    pruned = summary.variant("prune-80")
    assert pruned.verification.sparsity is not None and pruned.verification.sparsity >= 0.75
    assert pruned.sizes.gzip_bytes < ref.sizes.gzip_bytes


def _fine_tuning_epochs(run_dir: Path, v) -> int:
    """Total fine-tuning epochs recorded by the variant's own record (variant.json beside its file)."""
    record = json.loads((run_dir / v.artifact.path).parent.joinpath("variant.json").read_text())
    return sum(step["epochs"] for step in record["steps"])


def test_every_compressed_variant_has_a_same_budget_control(quick_run):
    summary = Summary.load(quick_run / "summary.json")
    compressed = [v for v in summary.variants if v.family == "compressed"]
    assert compressed and any(_fine_tuning_epochs(quick_run, v) for v in compressed)
    for v in compressed:
        control, epochs = summary.control_of(v), _fine_tuning_epochs(quick_run, v)
        assert control is not None, v.name
        if epochs == 0:  # PTQ: the reference is its own same-budget control
            assert control is summary.reference(), v.name
        else:
            assert control.family == "control" and control.name.startswith(f"float32@{epochs}ep"), v.name
            assert _fine_tuning_epochs(quick_run, control) == epochs and control.artifact.dtype == "float32"
        assert control.accuracy.predictions.same_clips(v.accuracy.predictions)  # paired
    md = (quick_run / "summary.md").read_text()
    assert "UA vs float32, pt [95 % CI]" in md and "UA vs same-budget control, pt [95 % CI]" in md
    pruned = next(line for line in md.splitlines() if line.startswith("| prune-80 |"))
    assert pruned.count(" [") >= 5 and "vs `float32@" in pruned  # UA, both deltas, WA, F1 with intervals
    assert "same-budget control" in summary_conclusion(quick_run)
    rows = list(csv.DictReader((quick_run / "variants.csv").open()))
    assert all(r["dua_vs_control"] and r["dua_vs_reference"] for r in rows if r["variant"] == "prune-80")


def summary_conclusion(run_dir: Path) -> str:
    md = (run_dir / "summary.md").read_text()
    return md.split("## Conclusion", 1)[1].split("## ", 1)[0]


def _work_files(run_dir: Path) -> dict[Path, int]:
    """Every file of the reference and the variants, with its modification time."""
    files = [*(run_dir / "reference").iterdir(), *(run_dir / "variants").rglob("*")]
    return {p: p.stat().st_mtime_ns for p in files if p.is_file()}


def test_rerun_only_rerenders(quick_run, store, tmp_path):
    # Judged by what was (not) rewritten, not by wall time: a loaded machine is slow, not wrong.
    before = _work_files(quick_run)
    run_quick(quick_run, store)
    assert _work_files(quick_run) == before


def test_interrupted_run_resumes_only_the_missing_work(quick_run, store, tmp_path):
    resumed = tmp_path / "resumed"
    shutil.copytree(quick_run, resumed)
    # What a kill during compression leaves: a variant without its DONE marker, no summary.
    variant = next(p for p in (resumed / "variants").iterdir() if p.name.startswith("prune-80-"))
    (variant / DONE_MARKER).unlink()
    (resumed / "summary.json").unlink()
    reference_mtime = (resumed / "reference" / "model.keras").stat().st_mtime_ns
    run_quick(resumed, store)
    assert (variant / DONE_MARKER).is_file() and (resumed / "summary.json").is_file()
    assert (resumed / "reference" / "model.keras").stat().st_mtime_ns == reference_mtime
    a, b = Summary.load(quick_run), Summary.load(resumed)
    assert b.variant("prune-80").accuracy == a.variant("prune-80").accuracy  # deterministic


def test_second_run_elsewhere_reuses_the_store_and_is_self_contained(quick_run, store, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    run_quick(elsewhere, store)
    # Nothing retrained: the reference and every variant file are the store's entries (same inode).
    for path in _work_files(quick_run):
        twin = elsewhere / path.relative_to(quick_run)
        assert twin.is_file() and twin.samefile(path), twin
    a, b = Summary.load(quick_run), Summary.load(elsewhere)
    assert [v.accuracy for v in a.variants] == [v.accuracy for v in b.variants]
    for v in b.variants:  # every file the report names is inside the run directory
        assert (elsewhere / v.artifact.path).is_file() and not Path(v.artifact.path).is_absolute()
    model = elsewhere / "reference" / "model.keras"
    assert model.is_file() and model.stat().st_nlink >= 2  # a hard link to the store's copy, not a second copy


def test_directory_of_another_config_is_refused(quick_run):
    other = load_run_config("quick").model_copy(update={"seed": 1})
    with pytest.raises(RunError, match="different configuration"):
        run(other, quick_run, progress=Progress(quiet=True))


def test_report_rerenders_without_tensorflow(quick_run, tmp_path):
    copy = tmp_path / "copy"
    copy.mkdir()
    shutil.copy(quick_run / "summary.json", copy / "summary.json")
    code = ("import sys; from sercompress.cli import main; rc = main(['report', sys.argv[1]]); "
            "print('TF' if 'tensorflow' in sys.modules else 'noTF'); sys.exit(rc)")
    out = subprocess.run([sys.executable, "-c", code, str(copy)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith("noTF")
    assert {"index.html", "variants.csv", "summary.md"} <= {p.name for p in copy.iterdir()}


def test_ci_gate_against_committed_reference(quick_run, capsys):
    """The project's own CI gate: this run against the committed reference summary.

    Paired on the quick config's 400 test clips; a UA drop fails only when it is beyond
    `configs/ci-tolerance.toml`'s points AND significant, so a few clips flipping on another
    CPU of the same kind do not fail `make test` (measured by bench/gate.py)."""
    assert CI_REFERENCE.is_file(), "regenerate with: make ci-reference"
    rc = main(["compare", str(quick_run), "--against", str(CI_REFERENCE), "--tolerance", str(CI_TOLERANCE)])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "unpaired" not in out  # the committed reference keeps its per-clip predictions


def test_compare_flags_a_ua_drop(quick_run, tmp_path, capsys):
    """A variant that loses 10 % of its correct test clips is flagged, paired on the same clips."""
    from sercompress.metrics import classification_metrics

    data = json.loads((quick_run / "summary.json").read_text())
    for v in data["variants"]:
        if v["name"] == "ptq-int8":
            acc, p = v["accuracy"], v["accuracy"]["predictions"]
            pred = list(p["predicted"])
            right = [i for i, (t, q) in enumerate(zip(p["labels"], pred)) if t == q]
            for i in right[::10]:
                pred[i] = (pred[i] + 1) % p["n_classes"]
            p["predicted"] = pred
            m = classification_metrics(p["labels"], pred, acc["classes"])
            acc.update(ua=m.ua, wa=m.wa, f1=m.f1, confusion=m.confusion)
    worse = tmp_path / "summary.json"
    worse.write_text(json.dumps(data))
    assert main(["compare", str(worse), "--against", str(quick_run / "summary.json"),
                 "--tolerance", str(CI_TOLERANCE)]) == 1
    out = capsys.readouterr().out
    assert "ptq-int8: ua_pct" in out and "paired" in out
