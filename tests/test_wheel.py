"""The wheel works on its own: built, installed non-editable into a fresh virtualenv, run elsewhere.

A source checkout finds the shipped recipes, baselines, hardware profiles and run
configs at the top of the tree; an installed wheel must carry them as package data
(``setup.py`` copies them, :mod:`sercompress.resources` finds them). This test
builds the sdist and, from it, the wheel (as ``python -m build`` does, so
``MANIFEST.in`` is exercised too), installs the wheel into a new virtualenv and
runs the console script from a directory outside the checkout with ``PYTHONPATH``
unset. Nothing is downloaded: the build uses the installed setuptools
(``--no-build-isolation``), the wheel is installed with ``--no-deps --no-index``,
and the dependencies (TensorFlow, pydantic, ...) are made visible to the new
environment by a ``.pth`` file naming the project virtualenv's site-packages.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

import pytest

from sercompress.resources import FOLDERS, PACKAGED

ROOT = Path(__file__).resolve().parents[1]
#: What a source distribution starts from (the rest is declared by MANIFEST.in / pyproject).
TREE = ("src", *FOLDERS, "pyproject.toml", "setup.py", "MANIFEST.in", "README.md")


def _run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, f"{cmd} exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


def _copy_tree(tmp: Path) -> Path:
    """The files a source distribution starts from, copied so that no build output lands in the checkout."""
    tree = tmp / "tree"
    for name in TREE:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, tree / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", PACKAGED))
        else:
            shutil.copy2(src, tree / name)
    return tree


def _build(tmp: Path) -> Path:
    """sdist from a copy of the tree, then the wheel from the unpacked sdist; returns the wheel."""
    tree = _copy_tree(tmp)
    backend = "from setuptools import build_meta as b; import sys; print(b.build_{}(sys.argv[1]))"
    sdist = _run([sys.executable, "-c", backend.format("sdist"), str(tmp / "dist")], tree).stdout.split()[-1]
    with tarfile.open(tmp / "dist" / sdist) as tar:
        tar.extractall(tmp / "sdist", filter="data")
    unpacked = tmp / "sdist" / sdist.removesuffix(".tar.gz")
    wheel = _run([sys.executable, "-c", backend.format("wheel"), str(tmp / "dist")], unpacked).stdout.split()[-1]
    return tmp / "dist" / wheel


def _venv(tmp: Path, *install: str) -> Path:
    """A fresh virtualenv seeing the project's dependencies, with ``pip install *install`` run in it."""
    venv = tmp / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], tmp)
    python = venv / "bin" / "python"
    purelib = _run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], tmp)
    # Not a site dir of the new venv, so the project's editable-install .pth is not run.
    (Path(purelib.stdout.strip()) / "project-deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
    _run([str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
          "--ignore-installed", "--disable-pip-version-check", *install], tmp)
    return venv


def _tiny_tflite(path: Path) -> None:
    """A small int8 conv net. Converted in this process: the suite has usually loaded TensorFlow already."""
    import numpy as np

    from sercompress.export.tflite import to_tflite
    from sercompress.tf_env import keras

    k = keras()
    x = k.Input((32, 16, 1))
    y = k.layers.Conv2D(8, 3, padding="same", activation="relu")(x)
    y = k.layers.GlobalAveragePooling2D()(y)
    model = k.Model(x, k.layers.Dense(4, activation="softmax")(y))
    rep = np.random.default_rng(0).standard_normal((8, 32, 16, 1)).astype(np.float32)
    path.write_bytes(to_tflite(model, "int8", representative=rep, int8_io=True))


@pytest.mark.slow  # one TensorFlow start-up in a subprocess (info) and a conversion: ~10 s of CPU
def test_wheel_installs_and_runs_outside_the_checkout(tmp_path):
    wheel = _build(tmp_path)
    names = zipfile.ZipFile(wheel).namelist()
    for folder in FOLDERS:   # every shipped TOML file is in the wheel, sub-folders' too
        for f in (ROOT / folder).rglob("*.toml"):
            assert f"sercompress/{PACKAGED}/{f.relative_to(ROOT).as_posix()}" in names, f
    venv = _venv(tmp_path, str(wheel))
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "SERCOMPRESS_HW_PROFILES")}
    python, cli = venv / "bin" / "python", venv / "bin" / "sercompress"

    code = "import sercompress.resources as r; print(r.files('sercompress'), r.shipped_dir('hw_profiles'))"
    where = _run([str(python), "-c", code], outside, env)
    package, profiles = where.stdout.split()
    assert Path(package).is_relative_to(venv), "the wheel's copy must be imported, not the checkout"
    assert Path(profiles) == Path(package) / PACKAGED / "hw_profiles"

    info = json.loads(_run([str(cli), "info", "--json"], outside, env).stdout)
    assert info["model"] == "light_sernet" and info["params"] > 0 and info["macs"] > 0

    model = outside / "tiny_int8.tflite"
    _tiny_tflite(model)
    check = _run([str(cli), "check", model.name, "--hw", "stm32h743", "--json"], outside, env)
    result = json.loads(check.stdout)
    assert result["fits"] is True
    assert len(result["results"]) == 1 and "stm32h743" in check.stdout, result

    code = ("from sercompress.compress import shipped_recipes; "
            "from sercompress.runconfig import load_run_config; "
            "print(len(shipped_recipes()), load_run_config('quick').name)")
    recipes = _run([str(python), "-c", code], outside, env)
    assert recipes.stdout.split() == [str(len(list((ROOT / "compress").glob("*.toml")))), "quick"]


def test_editable_install_reads_the_checkout(tmp_path):
    """``pip install -e .`` (the Makefile's install): no copy is made, the top-level folders are read."""
    tree = _copy_tree(tmp_path)
    venv = _venv(tmp_path, "--no-build-isolation", "-e", str(tree))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    code = "import sercompress.resources as r; print(*(r.shipped_dir(f) for f in r.FOLDERS))"
    where = _run([str(venv / "bin" / "python"), "-c", code], tmp_path, env)
    assert where.stdout.split() == [str(tree / f) for f in FOLDERS]
    assert not list(tree.rglob(PACKAGED)), "an editable install must not copy the folders into src/"
