"""Import every module of the product, as a running server, worker and command would.

Run by `make demo` before it records the venv as installed, and by CI in a venv built from
requirements/base.txt alone: a module importing a package that base.txt does not install fails
here, with its name, instead of in front of a new user.
"""

from __future__ import annotations

import importlib
import logging
import os
import pkgutil
import sys
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("openclaw_web", "vaults", "compliance")


def main() -> int:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openclaw_web.settings")
    os.environ.setdefault("OPENCLAW_VAR_DIR", str(ROOT / "var" / "import-check"))
    import django

    django.setup()
    logging.disable(logging.INFO)  # modules that prepare stylesheets at import log each step
    failures, count = [], 0
    for package in PACKAGES:
        module = importlib.import_module(package)
        for info in pkgutil.walk_packages(module.__path__, prefix=f"{package}."):
            if info.name.endswith(".__main__"):  # runs a program when imported
                continue
            count += 1
            try:
                importlib.import_module(info.name)
            except Exception:  # every failure is reported: none hides the next
                failures.append(f"{info.name}:\n{traceback.format_exc(limit=2)}")
    for failure in failures:
        print(failure, file=sys.stderr)
    if failures:
        print(f"{len(failures)} of {count} product modules failed to import: is every package they import "
              "pinned in requirements/base.txt?", file=sys.stderr)
        return 1
    print(f"All {count} product modules import.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
