"""Recipe validation: every shipped file loads; each bad case names the file, key and choices."""

from __future__ import annotations

from pathlib import Path

import pytest

from sercompress.compress import recipe as R
from sercompress.compress.recipe import load_recipe, shipped_recipes
from sercompress.errors import RecipeError

REQUIRED = {"float32", "ptq-dynamic", "ptq-float16", "ptq-int8", "qat-int8", "prune-50", "prune-80",
            "prune-2of4", "cluster-16", "cluster-8", "prune80-cluster16", "prune80-qat",
            "cluster16-qat", "prune80-cluster16-qat"}


def write(tmp_path: Path, body: str, name: str = "r.toml") -> Path:
    path = tmp_path / name
    path.write_text('schema_version = 1\nname = "r"\n' + body)
    return path


def test_required_recipes_are_shipped():
    assert REQUIRED <= set(shipped_recipes())


@pytest.mark.parametrize("name", sorted(shipped_recipes()))
def test_shipped_recipe_validates_and_round_trips(name):
    recipe = load_recipe(shipped_recipes()[name])
    assert recipe.name == name
    assert R.Recipe.model_validate(recipe.model_dump(mode="json")) == recipe


def test_collaborative_recipes_use_the_matching_tfmot_scheme():
    steps = {n: load_recipe(p).steps for n, p in shipped_recipes().items()}
    assert steps["prune80-qat"][1].preserve == "sparsity"
    assert steps["cluster16-qat"][1].preserve == "clusters"
    assert steps["prune80-cluster16-qat"][2].preserve == "both"
    assert steps["prune80-cluster16"][1].preserve_sparsity is True
    assert steps["prune-2of4"][0].m_by_n == (2, 4)


def test_good_recipe_parses_every_step(tmp_path):
    path = write(tmp_path, """
[[steps]]
type = "prune"
target_sparsity = 0.6
schedule = "constant"
frequency = 3
layers = ["Conv2D"]
finetune = { epochs = 2, learning_rate = 1e-3 }
[[steps]]
type = "cluster"
clusters = 4
init = "linear"
preserve_sparsity = true
[[steps]]
type = "qat"
preserve = "both"
[[steps]]
type = "ptq"
mode = "int8"
int8_io = true
""")
    recipe = load_recipe(path)
    assert [s.type for s in recipe.steps] == ["prune", "cluster", "qat", "ptq"]
    assert recipe.steps[0].finetune.epochs == 2 and recipe.main_is_integer


@pytest.mark.parametrize("body, key, words", [
    ('[[steps]]\ntype = "distill"\n', "steps.0.type", ["prune, cluster, qat, window, ptq"]),
    ('[[steps]]\ntype = "prune"\ntarget_sparsity = 0.5\nspeed = 1\n', "steps.0", ["unknown key"]),
    ('colour = "red"\n', "colour", ["unknown key"]),
    ('[[steps]]\ntype = "prune"\ntarget_sparsity = 1.0\n', "target_sparsity", ["less than 1"]),
    ('[[steps]]\ntype = "prune"\ntarget_sparsity = -0.1\n', "target_sparsity", ["greater than or equal"]),
    ('[[steps]]\ntype = "prune"\ntarget_sparsity = 0.5\nschedule = "cubic"\n', "schedule",
     ["'polynomial'", "'constant'"]),
    ('[[steps]]\ntype = "cluster"\nclusters = 1\n', "clusters", ["greater than or equal to 2"]),
    ('[[steps]]\ntype = "cluster"\nclusters = "many"\n', "clusters", ["integer"]),
    ('[[steps]]\ntype = "cluster"\ninit = "kmeans"\n', "init", ["'kmeans++'", "'density'"]),
    ('[[steps]]\ntype = "ptq"\nmode = "int4"\n', "mode", ["'dynamic'", "'float16'", "'int8'", "'int16x8'"]),
    ('[[steps]]\ntype = "qat"\npreserve = "all"\n', "preserve", ["'sparsity'", "'clusters'"]),
    ('[[steps]]\ntype = "prune"\ntarget_sparsity = 0.5\nfinetune = { epochs = 0 }\n', "epochs", ["greater"]),
    ('[[steps]]\ntype = "prune"\n', "steps.0", ["exactly one of target_sparsity"]),
    ('[[steps]]\ntype = "ptq"\nmode = "dynamic"\nint8_io = true\n', "steps.0", ["int8_io needs"]),
    ('schema_version = 2\n', "schema_version", ["1"]),
])
def test_bad_recipe_names_file_key_and_choices(tmp_path, body, key, words):
    path = tmp_path / "bad.toml"
    path.write_text(('name = "r"\n' if "name" not in body else "") + body)
    with pytest.raises(RecipeError) as err:
        load_recipe(path)
    msg = str(err.value)
    assert str(path) in msg and err.value.key is not None and key in err.value.key, msg
    for w in words:
        assert w in msg, msg


@pytest.mark.parametrize("steps, reason", [
    ([{"type": "ptq", "mode": "int8"}, {"type": "prune", "target_sparsity": 0.5}], "nothing can follow ptq"),
    ([{"type": "qat"}, {"type": "cluster"}], "after qat only ptq"),
    ([{"type": "qat"}, {"type": "ptq", "mode": "float16"}], "after qat only ptq"),
    ([{"type": "cluster"}, {"type": "prune", "target_sparsity": 0.5}], "pruning after clustering"),
    ([{"type": "cluster", "preserve_sparsity": True}], "needs an earlier prune"),
    ([{"type": "prune", "target_sparsity": 0.5}, {"type": "cluster"}], "set preserve_sparsity"),
    ([{"type": "prune", "target_sparsity": 0.5}, {"type": "qat"}], "use preserve = 'sparsity'"),
    ([{"type": "qat", "preserve": "clusters"}], "use preserve = 'none'"),
    ([{"type": "prune", "target_sparsity": 0.5}, {"type": "prune", "target_sparsity": 0.8}], "once"),
])
def test_infeasible_sequences_are_refused_with_the_reason(tmp_path, steps, reason):
    lines = ['schema_version = 1', 'name = "seq"']
    for s in steps:
        lines.append("[[steps]]")
        lines += [f"{k} = {_toml(v)}" for k, v in s.items()]
    path = tmp_path / "seq.toml"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(RecipeError, match=reason) as err:
        load_recipe(path)
    assert err.value.path == path and err.value.key == "steps"


def test_missing_file_and_bad_toml(tmp_path):
    with pytest.raises(RecipeError, match="file not found"):
        load_recipe(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("name = \n")
    with pytest.raises(RecipeError, match="not valid TOML"):
        load_recipe(bad)


def test_epochs_scaling_rounds_up_and_caps():
    ft = R.Finetune(epochs=6)
    assert ft.scaled_epochs(1.0) == 6
    assert ft.scaled_epochs(0.34) == 3
    assert ft.scaled_epochs(0.01) == 1
    assert ft.scaled_epochs(1.0, max_epochs=2) == 2


def test_importing_compress_does_not_import_tensorflow():
    import subprocess
    import sys

    code = ("import sys, sercompress.compress, sercompress.export.verify, sercompress.cli.compress; "
            "sys.exit(1 if 'tensorflow' in sys.modules else 0)")
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def _toml(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return f'"{v}"'
    return str(v)
