"""Indexes for keyset pages of the findings list (vaults/findings/keyset.py, issue #17 item 3).

Each sort the list offers reads the page after a cursor as an index range with LIMIT; the
severity sort has its index since 0003 (finding_open_order_idx). These add the other three and the API's, partial
on open findings like 0003's (the list's default status, and the rows that change least: a
findings run inserts a row into each index only for a new finding). Measured at 134k open
findings (bench/bench_findings_list.py): a page 500 deep from 150-380 ms (OFFSET + COUNT(*)) to a
few ms per sort.

Plain SQL (valid on PostgreSQL and SQLite) with no model state: the model is unchanged.
"""

from django.db import migrations

INDEXES = [
    ("finding_open_kind_order_idx", 'ON "findings_finding" ("kind", "severity_rank" DESC, "title", "id") WHERE "status" = \'open\''),
    ("finding_open_first_seen_idx", 'ON "findings_finding" ("first_seen", "id") WHERE "status" = \'open\''),
    ("finding_open_title_idx", 'ON "findings_finding" ("title", "id") WHERE "status" = \'open\''),
    # The API's fixed order (openclaw_web/api/findings.py): its cursor's "rank below, or rank equal
    # and id above" then walks this index instead of sorting every open finding (1.8 s at page 500).
    ("finding_open_rank_id_idx", 'ON "findings_finding" ("severity_rank" DESC, "id") WHERE "status" = \'open\''),
]


class Migration(migrations.Migration):
    dependencies = [("findings", "0008_lifecycle_kinds")]
    operations = [
        migrations.RunSQL(f"CREATE INDEX IF NOT EXISTS {name} {definition}", f"DROP INDEX IF EXISTS {name}")
        for name, definition in INDEXES
    ]
