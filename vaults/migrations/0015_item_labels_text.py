"""The labels of an item's fields as one stored string, read by the findings rules (issue #17).

Six rules build each item finding's search text from the item's field labels
(vaults/findings/jsonsql.py `JSONLabelsText`). Computed in each rule's query, that was one
`string_agg` over `jsonb_array_elements` per item per rule: ~0.85 s of every rule query that reads
all 100,000 items of bench/bench_findings.py, against ~0.09 s for the same query without it. Stored
once per item here, a rule reads a short string.

PostgreSQL only: a stored generated column, so no writer can leave it stale, over an IMMUTABLE
function holding the one definition of the text (an entry's "label" when it is an object, the
entry itself when it is a string, '' otherwise; joined by single spaces in list order; a value that
is not a list counts as an empty one). The column is not in Django's model: INSERTs and UPDATEs
name their columns and never write it. On SQLite (the demo) the rules keep computing the text in
each query. Adding the column rewrites vaults_item once (a few seconds at 100,000 items).
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

FUNCTION = """
CREATE FUNCTION openclaw_labels_text(labels jsonb) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT COALESCE((
    SELECT string_agg(CASE jsonb_typeof(e.value) WHEN 'object' THEN COALESCE(e.value->>'label', '')
                      WHEN 'string' THEN e.value #>> '{}' ELSE '' END, ' ' ORDER BY e.n)
    FROM jsonb_array_elements(CASE WHEN jsonb_typeof(labels) = 'array' THEN labels ELSE '[]'::jsonb END)
         WITH ORDINALITY AS e(value, n)
), '')
$$
"""
COLUMN = (
    "ALTER TABLE vaults_item ADD COLUMN field_labels_text text "
    "GENERATED ALWAYS AS (openclaw_labels_text(field_labels)) STORED"
)


def forward(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(FUNCTION)
        cursor.execute(COLUMN)


def backward(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("ALTER TABLE vaults_item DROP COLUMN IF EXISTS field_labels_text")
        cursor.execute("DROP FUNCTION IF EXISTS openclaw_labels_text(jsonb)")


class Migration(migrations.Migration):
    dependencies = [
        ("vaults", "0014_usage_tag_rollups"),
    ]

    operations = [migrations.RunPython(forward, backward)]
