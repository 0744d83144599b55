import pytest

from sercompress.errors import ConfigError
from sercompress.runconfig import RunConfig, load_run_config, run_config_names


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
