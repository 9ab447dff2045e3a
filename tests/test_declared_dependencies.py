"""Every package the product imports is pinned directly in requirements/base.txt.

A module that arrives only through the test requirements (or as another package's dependency)
works in every developer's venv and breaks `make demo` for a new user — it happened with
MarkupSafe. This reads the product's source, not a venv, so it fails the moment such an import
is written. (CI also imports every product module in a venv built from base.txt alone.)
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

REPO_ROOT = Path(__file__).resolve().parent.parent
PRODUCT_PACKAGES = ("openclaw_web", "vaults", "compliance")
FIRST_PARTY = {*PRODUCT_PACKAGES, "tests", "bench", "manage"}

# Dotted paths in settings are imports too, just not written as `import`.
SETTINGS_LISTS = ("INSTALLED_APPS", "MIDDLEWARE", "AUTHENTICATION_BACKENDS")
# Backends that import a third-party client behind Django's own module.
BACKEND_CLIENTS = {
    "django.core.cache.backends.redis.RedisCache": "redis",
    "openclaw_web.cache_backend.ReusedClientRedisCache": "redis",
}


def _product_files() -> Iterator[Path]:
    yield REPO_ROOT / "manage.py"
    for package in PRODUCT_PACKAGES:
        yield from (REPO_ROOT / package).rglob("*.py")


def imported_top_level_modules(source: str) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def _settings_modules() -> set[str]:
    names = {path.split(".")[0] for key in SETTINGS_LISTS for path in getattr(settings, key)}
    for cache in settings.CACHES.values():
        if cache["BACKEND"] in BACKEND_CLIENTS:
            names.add(BACKEND_CLIENTS[cache["BACKEND"]])
    # The production cache backend even when this run is configured without it.
    names.update(BACKEND_CLIENTS.values())
    return names


def third_party_modules() -> set[str]:
    names = set().union(*(imported_top_level_modules(path.read_text()) for path in _product_files()))
    names |= _settings_modules()
    return {n for n in names if n not in sys.stdlib_module_names and n not in FIRST_PARTY}


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def declared_in_base() -> set[str]:
    declared = set()
    for line in (REPO_ROOT / "requirements" / "base.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        match = re.match(r"([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*==\s*\S+", line)
        assert match, f"requirements/base.txt: {line!r} is not pinned with =="
        declared.add(normalise(match.group(1)))
    return declared


def test_the_source_scan_sees_imports_of_every_form() -> None:
    source = "import a.b\nfrom c.d import e\nfrom . import f\nfrom .g import h\ndef x():\n    import lazy\n"
    assert imported_top_level_modules(source) == {"a", "c", "lazy"}


def test_every_imported_package_is_pinned_in_base_requirements() -> None:
    distributions = importlib.metadata.packages_distributions()
    declared = declared_in_base()
    missing = {}
    for module in sorted(third_party_modules()):
        owners = distributions.get(module)
        if not owners:
            pytest.fail(f"`{module}` is imported by the product but no installed distribution provides it")
        if not any(normalise(owner) in declared for owner in owners):
            missing[module] = owners
    assert not missing, (
        "imported by the product but not pinned in requirements/base.txt (a new user's `make demo` fails): "
        + ", ".join(f"{m} (from {'/'.join(o)})" for m, o in missing.items())
    )


def test_a_package_only_in_the_test_requirements_would_be_caught() -> None:
    # pytest is installed here (test requirements) but must never count as a base dependency.
    assert "pytest" in importlib.metadata.packages_distributions()
    assert normalise("pytest") not in declared_in_base()
