"""The shipped data folders are found through one module, from a source checkout too."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from sercompress import resources
from sercompress.resources import FOLDERS, PACKAGED, shipped_dir

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("folder", FOLDERS)
def test_checkout_folders_are_found(folder):
    """Tests run from the checkout (PYTHONPATH=src or an editable install): the top-level folder."""
    assert shipped_dir(folder) == ROOT / folder
    assert list(shipped_dir(folder).glob("*.toml"))


def test_packaged_copy_wins(tmp_path, monkeypatch):
    """An installed wheel's copy inside the package is preferred over any checkout."""
    package = tmp_path / "site" / "sercompress"
    (package / PACKAGED / "configs").mkdir(parents=True)
    monkeypatch.setattr(resources, "files", lambda _: package)
    assert shipped_dir("configs") == package / PACKAGED / "configs"


def test_missing_folder_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(resources, "files", lambda _: tmp_path / "a" / "b" / "sercompress")
    with pytest.raises(resources.ConfigError, match="shipped 'compress' folder is missing"):
        shipped_dir("compress")


def test_unknown_folder_is_a_programming_error():
    with pytest.raises(KeyError):
        shipped_dir("reports")  # type: ignore[arg-type]


def test_setup_py_copies_the_same_folders():
    """setup.py cannot import the package it builds, so it repeats two constants: keep them in step."""
    tree = ast.parse((ROOT / "setup.py").read_text())
    values = {t.id: node.value for node in tree.body if isinstance(node, ast.Assign)
              for t in node.targets if isinstance(t, ast.Name)}
    assert ast.literal_eval(values["FOLDERS"]) == FOLDERS
    packaged = values["PACKAGED"]   # Path("sercompress") / "_shipped"
    assert ast.literal_eval(packaged.right) == PACKAGED
