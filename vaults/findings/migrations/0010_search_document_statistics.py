"""Statistics on the findings' search document, for the findings list search (issue #17).

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


def create(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f'CREATE STATISTICS IF NOT EXISTS {STATISTICS} ON (openclaw_finding_search_doc("title", "search_text")) '
        'FROM "findings_finding"'
    )
    schema_editor.execute('ANALYZE "findings_finding"')


def drop(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP STATISTICS IF EXISTS {STATISTICS}")


class Migration(migrations.Migration):
    dependencies = [
        ("findings", "0009_keyset_sort_indexes"),
        ("vaults", "0009_search_trigram_indexes"),  # the document function
    ]

    operations = [migrations.RunPython(create, drop)]
