"""Which files the wheel holds; the project's metadata is in pyproject.toml.

templates/ and static/ stay at the top of the checkout and are shipped inside the vimbadmin
package (vimbadmin/templates, vimbadmin/static), where the settings find them once installed.
pyproject.toml alone cannot map them there while still discovering the app packages.
"""

from setuptools import find_packages, setup

# Every top-level package of the checkout is an app of the project (a new app ships without
# being listed here), except the test suite and the benchmark.
APPS = find_packages(exclude=["tests", "tests.*", "bench", "bench.*"])
DATA_DIRS = {"vimbadmin.templates": "templates", "vimbadmin.static": "static"}

setup(
    packages=[*APPS, *DATA_DIRS],
    package_dir=DATA_DIRS,
    include_package_data=False,
    package_data={
        **{name: ["**/*"] for name in DATA_DIRS},
        # Compiled translations, once there are any.
        **{app: ["locale/*/LC_MESSAGES/*.mo"] for app in APPS if "." not in app},
    },
)
