import pytest

from sercompress.errors import ConfigError
from sercompress.runconfig import CONFIG_DIR, RunConfig, load_run_config, run_config_names


def test_quick_and_default_are_shipped():
    assert {"quick", "default"} <= set(run_config_names())


@pytest.mark.parametrize("name", run_config_names())
def test_shipped_configs_load_and_round_trip(name):
    cfg = load_run_config(name)
    assert cfg.schema_version == 1
    assert RunConfig.model_validate(cfg.model_dump()) == cfg


def test_quick_and_default_by_name():
    assert load_run_config("quick").name == "quick"
    assert load_run_config("default").compress.recipes == ("all",)


def test_unknown_name_lists_known():
    with pytest.raises(ConfigError, match="quick"):
        load_run_config("nope")


@pytest.mark.parametrize("body, key", [
    ('name = "x"\nepochz = 3\n', "epochz"),
    ('name = "x"\n[train]\nepochs = 0\n', "train.epochs"),
    ('name = "x"\n[data]\ninput_type = "wav"\n', "data.input_type"),
    ('name = "x"\nschema_version = 9\n', "schema_version"),
])
def test_bad_config_names_file_and_key(tmp_path, body, key):
    p = tmp_path / "bad.toml"
    p.write_text(body)
    with pytest.raises(ConfigError) as e:
        load_run_config(p)
    assert str(p) in str(e.value) and key in str(e.value)


def test_not_toml(tmp_path):
    p = tmp_path / "bad.toml"
    p.write_text("this is = = not toml")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_run_config(p)


# -- hostile configs: names that become paths, names of things that do not exist ----------------

QUICK = (CONFIG_DIR / "quick.toml").read_text()


@pytest.mark.parametrize("name", ["../../escaped_out", "/tmp/abs", "a/b", "..", ".hidden", "", "a" * 200])
def test_name_that_would_escape_reports_is_refused(tmp_path, name):
    p = tmp_path / "c.toml"
    p.write_text(QUICK.replace('name = "quick"', f'name = "{name}"'))
    with pytest.raises(ConfigError) as e:
        load_run_config(p)
    assert str(p) in str(e.value) and "name" in str(e.value)


@pytest.mark.parametrize("old, new, key", [
    ('hardware = ["all"]', 'hardware = ["stm32h7433"]', "profiles.hardware"),
    ('recipes = ["float32", "ptq-int8", "prune-80", "qat-int8"]', 'recipes = ["prune-8O"]', "compress.recipes"),
    ('names = ["cnn_lstm_2d"]', 'names = ["cnn_lstm"]', "baselines.names"),
])
def test_wrong_names_inside_a_config_name_the_config_file_and_key(tmp_path, old, new, key):
    """A wrong hardware name was blamed on --hw; a wrong recipe surfaced after training."""
    p = tmp_path / "c.toml"
    p.write_text(QUICK.replace(old, new))
    with pytest.raises(ConfigError) as e:
        load_run_config(p)
    msg = str(e.value)
    assert str(p) in msg and key in msg and "--hw" not in msg


def test_a_wrong_config_writes_nothing_and_the_fixed_one_then_runs_in_the_same_out(tmp_path, capsys):
    """The run-config.json written before the error made the corrected config fail on --out."""
    from sercompress.cli import main
    from sercompress.pipeline import CONFIG_FILE, claim_directory

    bad = tmp_path / "bad.toml"
    bad.write_text(QUICK.replace('hardware = ["all"]', 'hardware = ["nope"]'))
    out = tmp_path / "out"
    assert main(["run", "--config", str(bad), "--out", str(out)]) == 2
    assert "profiles.hardware" in capsys.readouterr().err
    assert not out.exists()
    # a directory that holds only a record (a run that failed at once) is taken by the fixed config
    out.mkdir()
    first = load_run_config("quick")
    claim_directory(out, first.model_copy(update={"seed": 1}).model_dump(mode="json"), CONFIG_FILE, "run")
    claim_directory(out, first.model_dump(mode="json"), CONFIG_FILE, "run")
    assert (out / CONFIG_FILE).is_file()


def test_run_out_that_is_a_file_is_refused_before_anything(tmp_path, capsys):
    from sercompress.cli import main

    target = tmp_path / "file"
    target.write_text("x")
    assert main(["run", "--config", "quick", "--out", str(target)]) == 2
    assert "--out" in capsys.readouterr().err and target.read_text() == "x"


@pytest.mark.parametrize("loader, shipped", [("baseline", "cnn_lstm_2d"), ("recipe", "prune-80")])
@pytest.mark.parametrize("name", ["..", "../x", ".hidden"])
def test_baseline_and_recipe_names_become_paths_safely(tmp_path, loader, shipped, name):
    """A baseline named '..' wrote OUT/baselines/.. = OUT (over the reference run)."""
    from sercompress.baseline import BASELINE_DIR, load_baseline
    from sercompress.compress.recipe import RECIPE_DIR, load_recipe

    src = (BASELINE_DIR if loader == "baseline" else RECIPE_DIR) / f"{shipped}.toml"
    p = tmp_path / "x.toml"
    p.write_text(__import__("re").sub(r'(?m)^name = "[^"]*"', f'name = "{name}"', src.read_text(), count=1))
    with pytest.raises(ConfigError) as e:
        (load_baseline if loader == "baseline" else load_recipe)(p)
    assert "name" in str(e.value)


def test_a_bare_name_is_a_shipped_config_even_beside_a_directory_of_that_name(tmp_path, monkeypatch):
    # `sercompress run --out default` followed by `--config default` in the same directory.
    (tmp_path / "default").mkdir()
    monkeypatch.chdir(tmp_path)
    assert load_run_config("default").name == "default"
