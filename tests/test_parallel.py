"""The work units a run computes in worker processes: what waits for what, and in which order."""

from __future__ import annotations

from pathlib import Path

import pytest

from sercompress.baseline import BASELINE_DIR
from sercompress.cli import main
from sercompress.executors import open_executor
from sercompress.parallel import (
    Unit,
    compute_ahead,
    plan,
    priorities,
    with_absolute_paths,
    worker_count,
)
from sercompress.progress import Progress
from sercompress.runconfig import load_run_config, resolve_names
from sercompress.workunits import RECIPE_DIR


@pytest.fixture(scope="module")
def units() -> dict[str, Unit]:
    config = load_run_config("default")
    recipes = resolve_names(config.compress.recipes, RECIPE_DIR, "recipe")
    baselines = resolve_names(config.baselines.names, BASELINE_DIR, "baseline")
    return {u.name: u for u in plan(config, recipes, baselines)}


def test_recipes_wait_for_the_recipe_that_trains_their_shared_prefix(units):
    assert set(units["recipe:prune80-qat"].after) == {"reference", "recipe:prune-80"}
    assert set(units["recipe:prune80-cluster16"].after) == {"reference", "recipe:prune-80"}
    assert set(units["recipe:prune80-cluster16-qat"].after) == {"reference", "recipe:prune-80",
                                                                "recipe:prune80-cluster16"}
    assert set(units["recipe:cluster16-qat"].after) == {"reference", "recipe:cluster-16"}
    # a QAT step leaves no checkpoint: nothing waits for a QAT recipe, and it waits for no other one
    assert not any(a.startswith("recipe:") and "qat" in a for u in units.values() for a in u.after)
    assert units["recipe:qat-int8"].after == ("reference",)
    assert units["controls"].after == ("reference",)
    assert all(not u.after for n, u in units.items() if n.startswith("baseline:")) and not units["reference"].after


def test_a_later_recipe_costs_only_the_steps_it_adds(units):
    # prune80-cluster16-qat resumes after the 6 + 3 epochs others train: only its 3 QAT epochs remain
    assert units["recipe:prune80-cluster16-qat"].cost < units["recipe:prune-80"].cost


def test_the_reference_starts_first_because_every_recipe_waits_for_it(units):
    prio = priorities(list(units.values()))
    assert max(prio, key=prio.get) == "reference"


def test_a_prefix_names_every_unit_and_what_it_waits_for(units):
    """A sweep schedules the units of several configurations together: names must not collide."""
    config = load_run_config("default").model_copy(update={"seed": 7})
    recipes = resolve_names(config.compress.recipes, RECIPE_DIR, "recipe")
    prefixed = plan(config, recipes, [], prefix="fold1-seed7/")
    assert [u.name for u in prefixed] == [f"fold1-seed7/{n}" for n in units if not n.startswith("baseline:")]
    assert all(a.startswith("fold1-seed7/") for u in prefixed for a in u.after)
    assert all(u.config == with_absolute_paths(config) for u in prefixed)
    assert Path(prefixed[0].config.data.cache_dir).is_absolute()  # a worker may run in another directory
    for u in prefixed:  # the same dependencies as without a prefix
        plain = units[u.name.removeprefix("fold1-seed7/")]
        assert tuple(a.removeprefix("fold1-seed7/") for a in u.after) == plain.after


def test_worker_count_follows_the_cores():
    assert worker_count(None, cpus=2) == 2
    assert worker_count(None, cpus=1) == 1
    assert worker_count(8, cpus=2) == 2
    assert worker_count(1, cpus=16) == 1


@pytest.mark.slow
def test_a_unit_failing_in_a_worker_is_named_and_does_not_stop_the_others(tmp_path):
    """The sequential pass redoes (and reports) what failed in a worker; the pool itself never raises."""
    config = load_run_config("quick")
    broken = Unit("baseline:missing", "baseline", config, (str(tmp_path / "missing.toml"),))
    also_broken = Unit("baseline:empty", "baseline", config, (str(tmp_path / "empty.toml"),),
                       after=("baseline:missing",))
    (tmp_path / "empty.toml").write_text("")
    lines: list[str] = []
    progress = Progress(quiet=True)
    progress.event = lambda kind, message, **data: lines.append(message)  # type: ignore[method-assign]
    with open_executor("local", 2) as executor:
        failed = compute_ahead([broken, also_broken], tmp_path / "store", executor, progress)
    assert failed == ["baseline:missing", "baseline:empty"]
    assert any("baseline:missing failed in a worker" in m for m in lines)


@pytest.mark.parametrize("value", ["0", "-1", "two", "100000"])
def test_workers_flag_is_checked(value, capsys):
    with pytest.raises(SystemExit) as e:
        main(["run", "--workers", value, "--out", str(Path("never-created"))])
    assert e.value.code == 2 and "--workers" in capsys.readouterr().err
    assert not Path("never-created").exists()
