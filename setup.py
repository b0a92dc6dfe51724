"""Which files the wheel holds; the project's metadata is in pyproject.toml.

templates/ and static/ stay at the top of the checkout and are shipped inside the vimbadmin
package (vimbadmin/templates, vimbadmin/static), where the settings find them once installed.
pyproject.toml alone cannot map them there while still discovering the app packages.
The translations (locale/*/LC_MESSAGES/django.po) are compiled by GNU msgfmt into the wheel's
vimbadmin/locale; the .mo files are never committed.
"""

import shutil
import subprocess
from pathlib import Path

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py  # type: ignore[import-untyped,unused-ignore]

# Every top-level package of the checkout is an app of the project (a new app ships without
# being listed here), except the test suite and the benchmark.
APPS = find_packages(exclude=["tests", "tests.*", "bench", "bench.*"])
DATA_DIRS = {"vimbadmin.templates": "templates", "vimbadmin.static": "static"}
HERE = Path(__file__).resolve().parent


class BuildWithTranslations(build_py):
    """Build the packages, then compile every catalogue of locale/ into vimbadmin/locale."""

    def run(self) -> None:
        super().run()
        catalogues = sorted((HERE / "locale").glob("*/LC_MESSAGES/*.po"))
        if not catalogues:
            return
        msgfmt = shutil.which("msgfmt")
        if msgfmt is None:
            raise SystemExit("msgfmt not found: install gettext to build the translations")
        for po in catalogues:
            mo = Path(self.build_lib, "vimbadmin", "locale", po.relative_to(HERE / "locale"))
            mo = mo.with_suffix(".mo")
            mo.parent.mkdir(parents=True, exist_ok=True)
            subprocess.run([msgfmt, "--check", "-o", str(mo), str(po)], check=True)  # noqa: S603


setup(
    packages=[*APPS, *DATA_DIRS],
    package_dir=DATA_DIRS,
    include_package_data=False,
    package_data={name: ["**/*"] for name in DATA_DIRS},
    cmdclass={"build_py": BuildWithTranslations},
)
