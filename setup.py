"""Build hook: ship the top-level data folders inside the package.

Everything else is declared in pyproject.toml. The recipes, baselines, hardware
profiles and run configs live at the top of the source tree (``compress/``,
``baselines/``, ``hw_profiles/``, ``configs/``); a wheel can only carry files
inside a package, so the build copies them to ``sercompress/_shipped/<folder>``,
where :mod:`sercompress.resources` finds them. An editable install gets no copy:
it reads the top-level folders of the checkout directly.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
#: Keep in step with sercompress.resources.FOLDERS and PACKAGED (a wheel test checks both).
FOLDERS = ("compress", "baselines", "hw_profiles", "configs")
PACKAGED = Path("sercompress") / "_shipped"
SUFFIXES = (".toml", ".md")


class BuildPyWithShippedData(build_py):
    """``build_py`` that also copies the shipped TOML folders into the built package."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib) / PACKAGED
        shutil.rmtree(target, ignore_errors=True)  # a file removed from the tree must not linger in build/
        for folder in FOLDERS:  # sub-folders too (compress/search/: recipes outside the default run)
            for src in sorted((ROOT / folder).rglob("*")):
                if src.is_file() and src.suffix in SUFFIXES:
                    dst = target / src.relative_to(ROOT)
                    self.mkpath(str(dst.parent))
                    self.copy_file(str(src), str(dst))


setup(cmdclass={"build_py": BuildPyWithShippedData})
