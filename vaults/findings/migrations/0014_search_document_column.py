"""The findings' search document as a stored column (issue #17: a short word under 100 ms).

Until now both searches matched `openclaw_finding_search_doc(title, search_text)` (migrations
vaults 0009 and findings 0010), an expression PostgreSQL recomputed for every row it checked. A
word of three letters or more goes through the trigram index; a shorter one ("qa", "db" alone)
has no trigram and is checked against every open finding, folding each document again: 170 ms
for "qa" at 134,000 open findings, 48 ms on the stored column (EXPLAIN ANALYZE, bench_perf).

The column holds the same text: lower(upper(search text, or the title when it is empty)). The
trigram index moves from the expression to the column (same name, same rows: open findings),
and the extended statistics on the expression give way to the column's own (ANALYZE). Adding a
stored generated column rewrites the table: ~6 s at 244,000 findings.
"""

from __future__ import annotations

from typing import Any

import django.db.models.functions.comparison
import django.db.models.functions.text
from django.db import migrations, models

INDEX = "search_finding_doc_trgm"
STATISTICS = "finding_search_doc_stats"
ON_EXPRESSION = (
    f'CREATE INDEX IF NOT EXISTS {INDEX} ON "findings_finding" USING gin '
    "(openclaw_finding_search_doc(\"title\", \"search_text\") gin_trgm_ops) WHERE \"status\" = 'open'"
)
ON_COLUMN = (
    f'CREATE INDEX IF NOT EXISTS {INDEX} ON "findings_finding" USING gin ("search_document" gin_trgm_ops) '
    "WHERE \"status\" = 'open'"
)


def _postgresql(schema_editor: Any) -> bool:
    return bool(schema_editor.connection.vendor == "postgresql")


def drop_expression_index(apps: Any, schema_editor: Any) -> None:
    if _postgresql(schema_editor):
        schema_editor.execute(f"DROP STATISTICS IF EXISTS {STATISTICS}")
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


def restore_expression_index(apps: Any, schema_editor: Any) -> None:
    if _postgresql(schema_editor):
        schema_editor.execute(ON_EXPRESSION)
        schema_editor.execute(
            f'CREATE STATISTICS IF NOT EXISTS {STATISTICS} ON (openclaw_finding_search_doc("title", "search_text")) '
            'FROM "findings_finding"'
        )
        schema_editor.execute('ANALYZE "findings_finding"')


def index_column(apps: Any, schema_editor: Any) -> None:
    if _postgresql(schema_editor):
        schema_editor.execute(ON_COLUMN)
        schema_editor.execute('ANALYZE "findings_finding"')


def drop_column_index(apps: Any, schema_editor: Any) -> None:
    if _postgresql(schema_editor):
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("findings", "0013_usage_log_by_item_ids"),
    ]

    operations = [
        migrations.RunPython(drop_expression_index, restore_expression_index),
        migrations.AddField(
            model_name="finding",
            name="search_document",
            field=models.GeneratedField(
                db_persist=True,
                expression=django.db.models.functions.text.Lower(
                    django.db.models.functions.text.Upper(
                        django.db.models.functions.comparison.Coalesce(
                            django.db.models.functions.comparison.NullIf("search_text", models.Value("")),
                            "title",
                            models.Value(""),
                        )
                    )
                ),
                output_field=models.TextField(),
            ),
        ),
        migrations.RunPython(index_column, drop_column_index),
    ]
