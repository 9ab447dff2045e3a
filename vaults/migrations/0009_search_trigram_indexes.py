"""One search over items, vaults, people, groups and findings (issue #15): pg_trgm and one GIN
trigram index per searched document.

Each kind of hit has a search document, an IMMUTABLE SQL function of its own row, so the index is
on exactly the expression `vaults/search.py` queries (`document %> word`):
- item: title, tags and the hosts of its stored (already redacted) URLs, never a field or a value;
- vault: name and description; person: name and e-mail; group: name;
- finding: the engine's search text (kind label, item title, vault, category; the title when it
  has none), open findings only (a partial index: the search shows open findings, as the list does).

PostgreSQL only: on SQLite (the demo) every operation here does nothing, and `vaults/search.py`
uses its Python fallback. No model state changes.
"""

from __future__ import annotations

from typing import Any

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

FUNCTIONS = {
    # One expression, no sub-select, so PostgreSQL inlines it (~1 µs a row instead of ~12 µs with
    # jsonb_array_elements sub-selects: measured on 100,000 items). Tags as their JSON text; each
    # URL reduced to its host (`"https://dash.stripe.com/x"` -> `dash.stripe.com`).
    "openclaw_item_search_doc(text, jsonb, jsonb)": r"""
        CREATE OR REPLACE FUNCTION openclaw_item_search_doc(title text, tags jsonb, urls jsonb) RETURNS text
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT lower(coalesce(title, '') || ' ' ||
          coalesce(jsonb_path_query_array(tags, '$[*] ? (@.type() == "string")')::text, '') || ' ' ||
          coalesce(regexp_replace(jsonb_path_query_array(urls, '$[*].href ? (@.type() == "string")')::text,
                                  '"(?:[A-Za-z][A-Za-z0-9+.-]*://)?([^/:?#@"]*)[^"]*"', '\1', 'g'), ''))
        $$""",
    "openclaw_vault_search_doc(text, text)": """
        CREATE OR REPLACE FUNCTION openclaw_vault_search_doc(name text, description text) RETURNS text
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT lower(coalesce(name, '') || ' ' || coalesce(description, '')) $$""",
    "openclaw_person_search_doc(text, text)": """
        CREATE OR REPLACE FUNCTION openclaw_person_search_doc(name text, email text) RETURNS text
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT lower(coalesce(name, '') || ' ' || coalesce(email, '')) $$""",
    "openclaw_group_search_doc(text)": """
        CREATE OR REPLACE FUNCTION openclaw_group_search_doc(name text) RETURNS text
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT lower(coalesce(name, '')) $$""",
    # The engine's search text already holds the kind, the item's title and the vault: the title
    # again would only lengthen every trigram comparison (~25 µs a finding).
    "openclaw_finding_search_doc(text, text)": """
        CREATE OR REPLACE FUNCTION openclaw_finding_search_doc(title text, search_text text) RETURNS text
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT lower(coalesce(nullif(search_text, ''), title, '')) $$""",
}

INDEXES = {
    "search_item_doc_trgm": 'ON "vaults_item" USING gin (openclaw_item_search_doc("title", "tags", "urls") gin_trgm_ops)',
    "search_vault_doc_trgm": 'ON "vaults_vault" USING gin (openclaw_vault_search_doc("name", "description") gin_trgm_ops)',
    "search_person_doc_trgm": 'ON "vaults_opuser" USING gin (openclaw_person_search_doc("name", "email") gin_trgm_ops)',
    "search_group_doc_trgm": 'ON "vaults_opgroup" USING gin (openclaw_group_search_doc("name") gin_trgm_ops)',
    "search_finding_doc_trgm": 'ON "findings_finding" USING gin (openclaw_finding_search_doc("title", "search_text") gin_trgm_ops) '
    "WHERE \"status\" = 'open'",
}


def create(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for sql in FUNCTIONS.values():
        schema_editor.execute(sql)
    for name, definition in INDEXES.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} {definition}")


def drop(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")
    for signature in FUNCTIONS:
        schema_editor.execute(f"DROP FUNCTION IF EXISTS {signature}")


class Migration(migrations.Migration):
    dependencies = [
        ("vaults", "0008_item_usage_daily"),
        ("findings", "0005_h6_reused_secret_kind"),
    ]

    operations = [
        TrigramExtension(),
        migrations.RunPython(create, drop),
    ]
