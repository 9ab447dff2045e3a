"""Statistics on the findings' search document, for the findings list search (issue #17), and the
document folded as the list's search always folded case.

The document was `lower(search text)`; the list compared `UPPER(search text)` with `UPPER(word)`,
and the two fold some letters differently: upper() makes the Greek final ς and σ one letter, the
Turkish ı and i one, the micro sign µ and μ one; lower() keeps each pair apart, so "ΠΡΟΣ" missed
"προσβαση" and "kasim" missed "kasım". The document is now `lower(upper(...))` (and the words
are folded the same way), which finds what the old rule found; the global search shares it.
Replacing an indexed function's body leaves the index built from the old one: it is rebuilt here.

The list's search (vaults/findings/search.py) matches `document LIKE '%word%'` on the expression
the global search indexes (`openclaw_finding_search_doc`, migration vaults 0009). Without
statistics on that expression PostgreSQL guesses every such LIKE matches 0.5% of the rows, so
"db password prod" (62,301 of 244,000 open findings) looked rare: it read the matches of every
word through the trigram index and sorted them (0.76 s for the first page). With them it sees
common words and walks the list's sort index until the page is full (5-7 ms), and still takes
the trigram index for a rare word. The partial trigram index's own statistics cannot serve: the
planner ignores a partial index's.

PostgreSQL only (statistics on an expression need PostgreSQL 14); nothing on SQLite. The ANALYZE
fills them at once rather than at autovacuum's next visit. No model state changes.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

STATISTICS = "finding_search_doc_stats"

FOLDED = """
    CREATE OR REPLACE FUNCTION openclaw_finding_search_doc(title text, search_text text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT lower(upper(coalesce(nullif(search_text, ''), title, ''))) $$"""
LOWERED = FOLDED.replace("lower(upper(coalesce(nullif(search_text, ''), title, '')))", "lower(coalesce(nullif(search_text, ''), title, ''))")


def create(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FOLDED)
    schema_editor.execute("REINDEX INDEX search_finding_doc_trgm")
    schema_editor.execute(
        f'CREATE STATISTICS IF NOT EXISTS {STATISTICS} ON (openclaw_finding_search_doc("title", "search_text")) '
        'FROM "findings_finding"'
    )
    schema_editor.execute('ANALYZE "findings_finding"')


def drop(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP STATISTICS IF EXISTS {STATISTICS}")
    schema_editor.execute(LOWERED)
    schema_editor.execute("REINDEX INDEX search_finding_doc_trgm")


class Migration(migrations.Migration):
    dependencies = [
        ("findings", "0009_keyset_sort_indexes"),
        ("vaults", "0009_search_trigram_indexes"),  # the document function
    ]

    operations = [migrations.RunPython(create, drop)]
