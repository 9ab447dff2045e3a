"""Every named page route of the URL conf, for the suites that walk them all."""

from __future__ import annotations

from collections.abc import Iterator

from django.urls import URLPattern, URLResolver, get_resolver

DUMMY_BY_CONVERTER = {"int": 999_999, "string": "csv", "str": "csv", "slug": "x", "uuid": "00000000-0000-0000-0000-000000000000", "path": "x"}
SKIPPED_NAMESPACES = {"admin": "Django's own admin, with Django's own CSRF and permission checks"}


def walk(resolver: URLResolver | None = None, namespace: str = "") -> Iterator[tuple[str, URLPattern, dict[str, object]]]:
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace or ""
            if ns in SKIPPED_NAMESPACES:
                continue
            yield from walk(entry, f"{namespace}{ns}:" if ns else namespace)
        elif entry.name:
            kwargs = {
                name: DUMMY_BY_CONVERTER[type(conv).__name__.removesuffix("Converter").lower()]
                for name, conv in entry.pattern.converters.items()
            }
            yield f"{namespace}{entry.name}", entry, kwargs


ROUTES = sorted(walk(), key=lambda r: r[0])
