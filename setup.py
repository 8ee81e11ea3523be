"""Ship the SFDX metadata, the default mappings and jobs/ inside the wheel.

Both live at the repo's top level (``salesforce/``, ``mappings/``), where admins deploy and edit
them; pyproject.toml cannot include files outside the package, so the build copies them in, and
an installed ``cs-connector demo`` reads the same files as a checkout.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

PACKAGES = ("force-app", "demo-inputs")


class BuildWithMetadata(build_py):
    """Copy salesforce/<package> and mappings/ into the package's data folders."""

    def run(self) -> None:
        super().run()
        here = Path(__file__).resolve().parent
        target = Path(self.build_lib) / "connector" / "sandbox" / "salesforce" / "data" / "metadata"
        for package in PACKAGES:
            source = here / "salesforce" / package
            if source.is_dir():
                shutil.copytree(source, target / package, dirs_exist_ok=True)
        mappings = here / "mappings"
        if mappings.is_dir():
            shutil.copytree(
                mappings,
                Path(self.build_lib) / "connector" / "defaults" / "mappings",
                dirs_exist_ok=True,
            )
        jobs = here / "jobs"
        if jobs.is_dir():
            shutil.copytree(
                jobs, Path(self.build_lib) / "connector" / "defaults" / "jobs", dirs_exist_ok=True
            )


setup(cmdclass={"build_py": BuildWithMetadata})
