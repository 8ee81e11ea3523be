"""Ship the SFDX metadata inside the wheel, so an installed sandbox reads the same files.

The metadata lives at the repo's top level (``salesforce/``), where admins deploy it from;
pyproject.toml cannot include files outside the package, so the build copies them in.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

PACKAGES = ("force-app", "demo-inputs")


class BuildWithMetadata(build_py):
    """Copy salesforce/<package> into connector/sandbox/salesforce/data/metadata/."""

    def run(self) -> None:
        super().run()
        here = Path(__file__).resolve().parent
        target = Path(self.build_lib) / "connector" / "sandbox" / "salesforce" / "data" / "metadata"
        for package in PACKAGES:
            source = here / "salesforce" / package
            if source.is_dir():
                shutil.copytree(source, target / package, dirs_exist_ok=True)


setup(cmdclass={"build_py": BuildWithMetadata})
