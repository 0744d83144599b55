"""Property: for every command that reads an untrusted file, any mutation of a real file gives
exit 0 or 2 (1 for the gates), never a traceback, bounded memory and time, no half-written output.

Cases run in process (fast; memory by tracemalloc) except ``test_memory_limited_children``,
which runs the CLI in fresh interpreters under RLIMIT_AS (1 GiB over the interpreter).
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from .conftest import fuzz_profile
from .harness import fresh, run_case
from .mutate import mutate, mutations_for
from .targets import known_cases, seed_bytes, targets

FUZZ_PROFILE = fuzz_profile()
#: Target names (fixed; the targets themselves need the session's seed files).
NAMES = [t.name for t in targets({k: __import__("pathlib").Path(k) for k in (
    "summary", "tflite", "tflite_int8", "built_tflite", "onnx", "keras_run")})
    if not t.slow or FUZZ_PROFILE != "fuzz-default"]


def _target(seeds, name):
    return next(t for t in targets(seeds) if t.name == name)


_counter = itertools.count()


@pytest.mark.parametrize("name", NAMES)
@settings(settings.get_profile(FUZZ_PROFILE))
@given(data=st.data())
def test_hostile_files(name, data, fuzz_seeds, fuzz_dir):
    target = _target(fuzz_seeds, name)
    mutation = data.draw(st.sampled_from(mutations_for(target.kind)), label="mutation")
    case_seed = data.draw(st.integers(0, 2**32 - 1), label="seed")
    seed_path, original = seed_bytes(fuzz_seeds, target.seed)
    outcome = run_case(target, seed_path, mutate(target.kind, original, mutation, case_seed),
                       fresh(fuzz_dir / f"case-{next(_counter)}"), f"{mutation}#{case_seed}")
    assert outcome.ok, f"{name} [{mutation}#{case_seed}]: {outcome.problems}"


def test_every_target_accepts_its_unmutated_seed(fuzz_seeds, fuzz_dir):
    """A target whose seed already fails would test nothing: each one reads its seed cleanly."""
    for target in targets(fuzz_seeds):
        if target.slow and FUZZ_PROFILE == "fuzz-default":
            continue
        seed_path, original = seed_bytes(fuzz_seeds, target.seed)
        outcome = run_case(target, seed_path, original, fresh(fuzz_dir / "seed-check"), "seed")
        assert outcome.ok, (target.name, outcome.problems)
        stops = {"compress --recipe FILE", "run --config FILE"}  # stop by design after reading
        assert outcome.code in ((2,) if target.name in stops else (0, 1)), (target.name, outcome.code)


def test_the_hostile_files_of_issue_12(fuzz_seeds, fuzz_dir):
    """Each file of the issue, through the command that mishandled it: exit 2, except the valid
    shared-buffer file, which must now profile (exit 0) within the bounds."""
    for name, label, data in known_cases(fuzz_seeds):
        target = _target(fuzz_seeds, name)
        seed_path, _ = seed_bytes(fuzz_seeds, target.seed)
        outcome = run_case(target, seed_path, data, fresh(fuzz_dir / "known"), label)
        assert outcome.ok, (name, label, outcome.problems)
        assert outcome.code == (0 if "shared" in label else 2), (name, label, outcome.code)


CHILD_CASES = [("profile tflite_int8", "hostile_word", 1), ("check --junit onnx", "hostile_word", 2),
               ("report SUMMARY", "json_leaf", 3), ("check --hw FILE", "toml_value", 4)]


@pytest.mark.parametrize("name, mutation, case_seed", CHILD_CASES)
def test_memory_limited_children(name, mutation, case_seed, fuzz_seeds, fuzz_dir):
    """The CLI in a fresh interpreter under RLIMIT_AS: an over-allocation is a failure, not a swap storm."""
    target = _target(fuzz_seeds, name)
    seed_path, original = seed_bytes(fuzz_seeds, target.seed)
    for k in range(1 if FUZZ_PROFILE == "fuzz-default" else 50):
        outcome = run_case(target, seed_path, mutate(target.kind, original, mutation, case_seed * 1000 + k),
                           fresh(fuzz_dir / "child"), f"{mutation}#{case_seed}", subprocess_mode=True)
        assert outcome.ok, f"{name}: {outcome.problems}"


def test_the_harness_catches_what_it_looks_for(tmp_path, monkeypatch):
    """A traceback, an over-allocation and a partial report are each reported (the suite can fail)."""
    import numpy as np

    from . import harness
    from .harness import REPORT_FILES, Target

    def boom(path, scratch):
        raise ValueError("a bug")

    def hog(path, scratch):
        return np.ones(96 << 20, dtype=np.uint8).sum()   # touches 96 MiB

    def partial(path, scratch):
        (scratch / "r").mkdir()
        (scratch / "r" / "summary.json").write_text("{}")
        (scratch / "r" / ".index.html.123.tmp").write_text("")

    monkeypatch.setattr(harness, "MEMORY_BOUND", 32 << 20)
    seed = tmp_path / "seed"
    seed.write_bytes(b"x")
    bad = run_case(Target("boom", "json", "x", call=boom), seed, b"x", fresh(tmp_path / "a"), "c")
    assert bad.traceback.startswith("ValueError") and not bad.ok
    heavy = run_case(Target("hog", "json", "x", call=hog), seed, b"x", fresh(tmp_path / "b"), "c")
    assert any(p.startswith("memory") for p in heavy.problems), heavy
    half = run_case(Target("half", "json", "x", call=partial, outputs=lambda s: (s / "r", REPORT_FILES)),
                    seed, b"x", fresh(tmp_path / "c"), "c")
    assert "temporary files" in half.half_written
