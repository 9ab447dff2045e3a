"""Every named page route of the URL conf, for the suites that walk them all."""

from __future__ import annotations

from collections.abc import Container, Iterator

from django.urls import URLPattern, URLResolver, get_resolver

Route = tuple[str, URLPattern, dict[str, object]]

DUMMY_BY_CONVERTER = {"int": 999_999, "string": "csv", "str": "csv", "slug": "x", "uuid": "00000000-0000-0000-0000-000000000000", "path": "x"}
SKIPPED_NAMESPACES = {"admin": "Django's own admin, with Django's own CSRF and permission checks"}


def walk(
    resolver: URLResolver | None = None, namespace: str = "", skipped: Container[str] = SKIPPED_NAMESPACES
) -> Iterator[Route]:
    """(name, pattern, dummy kwargs) for each named route, leaving out the namespaces in `skipped` at any depth."""
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace or ""
            if ns in skipped:
                continue
            yield from walk(entry, f"{namespace}{ns}:" if ns else namespace, skipped)
        elif entry.name:
            kwargs = {
                name: DUMMY_BY_CONVERTER[type(conv).__name__.removesuffix("Converter").lower()]
                for name, conv in entry.pattern.converters.items()
            }
            yield f"{namespace}{entry.name}", entry, kwargs


def named_routes(skipped: Container[str] = SKIPPED_NAMESPACES) -> list[Route]:
    """Every named route outside the `skipped` namespaces, sorted by name."""
    return sorted(walk(skipped=skipped), key=lambda r: r[0])


ROUTES = named_routes()
