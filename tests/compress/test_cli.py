"""`sercompress compress`: bad input is one line on stderr and exit 2, before anything trains."""

from __future__ import annotations

from sercompress.cli import main


def test_unknown_recipe_name_lists_the_shipped_ones(tmp_path, capsys):
    code = main(["compress", "--recipe", "prune-99", "--from", str(tmp_path), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2 and "prune-80" in err and len(err.strip().splitlines()) == 1


def test_invalid_recipe_file_is_refused_before_the_reference_is_loaded(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text('schema_version = 1\nname = "b"\n[[steps]]\ntype = "cluster"\nclusters = 1\n')
    code = main(["compress", "--recipe", str(bad), "--from", str(tmp_path / "missing"), "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and str(bad) in err and "clusters" in err


def test_from_directory_without_a_reference_is_a_clear_error(tmp_path, capsys):
    code = main(["compress", "--recipe", "float32", "--from", str(tmp_path), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2 and str(tmp_path) in err and "Traceback" not in err


def test_epochs_scale_must_be_positive(tmp_path, capsys):
    code = main(["compress", "--recipe", "float32", "--from", str(tmp_path), "--out", str(tmp_path),
                 "--epochs-scale", "0"])
    assert code == 2 and "--epochs-scale" in capsys.readouterr().err
