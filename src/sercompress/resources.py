"""Where the shipped data folders are: recipes, baselines, hardware profiles, run configs.

The four folders live at the top level of the source tree (``compress/``,
``baselines/``, ``hw_profiles/``, ``configs/``), where a reader finds and copies
them. A wheel cannot install top-level folders next to a package, so
``setup.py`` copies them into the package at build time, as
``sercompress/_shipped/<folder>``; they are then package data, found through
:mod:`importlib.resources` wherever the wheel was installed. A source checkout
(``PYTHONPATH=src`` or the editable install ``pip install -e .``) has no such
copy and reads the top-level folders, so an edit there takes effect at once.

This is the only module that knows either location. A user's own directories
(``--hw-dir``, ``$SERCOMPRESS_HW_PROFILES``, a path given instead of a name) are
searched by the loaders before the folder returned here.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Literal, get_args

from .errors import ConfigError

Folder = Literal["compress", "baselines", "hw_profiles", "configs"]
FOLDERS: tuple[str, ...] = get_args(Folder)
#: Sub-package directory the wheel build copies the folders into (see setup.py).
PACKAGED = "_shipped"


def shipped_dir(folder: Folder) -> Path:
    """The directory holding the shipped files of ``folder``: installed package first, then checkout."""
    if folder not in FOLDERS:
        raise KeyError(f"not a shipped folder: {folder!r} (one of {FOLDERS})")
    package = files(__package__)
    # A wheel is installed unpacked, so the traversable is a real directory (a Path);
    # a zip import would not be, and is not supported.
    packaged = package / PACKAGED / folder
    if isinstance(packaged, Path) and packaged.is_dir():
        return packaged
    checkout = Path(str(package)).parent.parent / folder      # <root>/src/sercompress -> <root>
    if checkout.is_dir():
        return checkout
    raise ConfigError(f"the shipped '{folder}' folder is missing from this installation "
                      f"(looked in {packaged} and {checkout}); reinstall sercompress from a complete wheel")
