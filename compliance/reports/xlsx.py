"""Excel rendering (openpyxl, write-only so 100,000 rows stream without building cells in memory).

One sheet per section table, named for what it holds (a short name per table key, never a
cut-off title), row 1 the column titles (frozen, with an auto-filter, repeated on every printed
page), every sheet printed landscape and fitted to the page width, column widths from the
report's columns, dates as real Excel dates (UTC, without time zone: Excel has none), and every
string through `safe_cell` so no cell is or becomes a formula. The workbook's own properties
(title, creator, subject, keywords) say what it is when it is found in a folder.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

from compliance.reports.document import Cell, Column, ReportDocument, Table
from compliance.spreadsheet import safe_cell

MAX_SHEET_NAME = 31  # Excel refuses longer sheet names
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\']")
HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="1E3A8A")
HEADER_ALIGNMENT = Alignment(vertical="top", wrap_text=True)

# Sheet name per table key: what an auditor looks for in the tab bar.
SHEET_NAMES: dict[str, str] = {
    # SOC 2 and ISO 27001
    "key_figures": "Summary",
    "usage_coverage": "Usage data coverage",
    "authorised_users": "Production access",
    "access_inventory": "Access inventory",
    "unclassified_vaults": "Unclassified vaults",
    "inactive_user_access": "Inactive people with access",
    "over_permissioned": "Over-permissioned access",
    "accesses": "Production use per item",
    "anomalies": "Access anomalies",
    "vault_access_changes": "Vault access changes",
    "rotation": "Credential rotation",
    "violations_by_kind": "Violations by kind",
    "violations": "Violations",
    "emergency": "Emergency access",
    "reviews": "Access reviews",
    "review_changes": "Access review changes",
    "own_access_by_kind": "OpenClaw access by kind",
    "own_access_changes": "OpenClaw access changes",
    "quarters": "Quarter over quarter",
    "privileged_access": "Privileged access",
    "signin_methods": "Sign-ins by method",
    "single_factor_signins": "Sign-ins without MFA",
    "recommendations": "Recommendations",
    # vault hygiene
    "health_accounts": "Health score",
    "health_vaults": "Vault health",
    "findings_by_kind": "Findings by kind",
    "findings_by_vault": "Findings by vault",
    "findings": "Open findings",
    "cleanup": "Cleanup completed",
    # one access review's evidence
    "review_facts": "Review and sign-off",
    "review_entries": "Decisions",
    "review_actions": "Cleanup actions",
}
# The control mapping table has one key in both compliance reports; its sheet says which framework.
CONTROL_SHEETS = {"soc2": "SOC 2 criteria", "iso27001": "ISO 27001 Annex A"}
KEYWORDS = {"soc2": "SOC 2, access review, 1Password, OpenClaw",
            "iso27001": "ISO/IEC 27001:2022, Annex A, access control, 1Password, OpenClaw",
            "hygiene": "vault hygiene, 1Password, OpenClaw",
            "access_review": "access review, sign-off, 1Password, OpenClaw"}


def _fit(name: str, limit: int = MAX_SHEET_NAME) -> str:
    """Cut at a word boundary, never mid-word."""
    name = " ".join(_BAD_SHEET_CHARS.sub(" ", name).split())
    if len(name) <= limit:
        return name
    cut = name[: limit + 1].rsplit(" ", 1)[0]
    return (cut if len(cut) >= limit // 2 else name[:limit]).strip()


def _sheet_title(name: str, used: set[str]) -> str:
    base = _fit(name) or "Sheet"
    candidate, n = base, 2
    while candidate.lower() in used:
        suffix = f" {n}"
        candidate, n = _fit(base, MAX_SHEET_NAME - len(suffix)) + suffix, n + 1
    used.add(candidate.lower())
    return candidate


def sheet_name(document: ReportDocument, table: Table) -> str:
    if table.key == "controls":
        return CONTROL_SHEETS.get(document.kind, "Controls")
    return SHEET_NAMES.get(table.key, table.title)


def excel_value(value: Cell) -> Any:
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(datetime.UTC).replace(tzinfo=None)
        return value.replace(microsecond=0)
    return safe_cell(value)


def _header(ws: Any, columns: Sequence[Column]) -> list[WriteOnlyCell]:
    cells = []
    for column in columns:
        cell = WriteOnlyCell(ws, value=safe_cell(column.title))
        cell.font, cell.fill, cell.alignment = HEADER_FONT, HEADER_FILL, HEADER_ALIGNMENT
        cells.append(cell)
    return cells


def _new_sheet(wb: Workbook, name: str, used: set[str], document: ReportDocument, widths: Sequence[int]) -> Any:
    """A sheet set up for screen and paper. In write-only mode all of this must precede the first row."""
    ws = wb.create_sheet(_sheet_title(name, used))
    for index, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(index)].width = width
    ws.freeze_panes = "A2"
    ws.print_title_rows = "1:1"
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0  # as many pages down as the rows need
    ws.oddHeader.left.text = f"{document.title} · {document.period.label}".replace("&", "&&")  # "&" starts a header code
    ws.oddFooter.right.text = "Page &P of &N"
    return ws


def _write_table(ws: Any, table: Table) -> int:
    ws.append(_header(ws, table.columns))
    rows = 0
    for row in table.rows():
        ws.append([excel_value(v) for v in row])
        rows += 1
    ws.auto_filter.ref = f"A1:{get_column_letter(len(table.columns))}{rows + 1}"
    return rows


def _facts(document: ReportDocument) -> list[tuple[str, Cell]]:
    facts: list[tuple[str, Cell]] = [
        ("Report", document.title),
        ("Period", document.period.title),
        ("Period (UTC)", document.period_span),
        ("Period start (UTC)", document.period.start),
        ("Period end (UTC, exclusive)", document.period.end),
        ("Generated (UTC)", document.generated_at),
        ("Generated by", document.generator),
        ("Accounts", ", ".join(document.accounts) or "none"),
        ("Audit log chain head", document.chain_head),
    ]
    for section in document.sections:
        for kpi in section.kpis:
            facts.append((f"{section.title}: {kpi.label}", f"{kpi.value} — {kpi.note}" if kpi.note else kpi.value))
    return facts


def _cover(wb: Workbook, document: ReportDocument, used: set[str]) -> None:
    ws = _new_sheet(wb, "Cover", used, document, [34, 90])
    ws.append(_header(ws, [Column("Field"), Column("Value")]))
    facts = _facts(document)
    for label, value in facts:
        ws.append([excel_value(label), excel_value(value)])
    ws.auto_filter.ref = f"A1:B{len(facts) + 1}"


SIGN_OFF_COLUMNS = [Column("Access review", width=40), Column("Status", width=24), Column("Reviewers", width=50),
                    Column("Signed off by", width=30), Column("Signed off (UTC)", "datetime", 18),
                    Column("Second approver", width=30), Column("Second approval (UTC)", "datetime", 18)]


def _sign_offs(wb: Workbook, document: ReportDocument, used: set[str]) -> None:
    ws = _new_sheet(wb, "Sign-offs", used, document, [c.width for c in SIGN_OFF_COLUMNS])
    ws.append(_header(ws, SIGN_OFF_COLUMNS))
    for s in document.sign_offs:
        ws.append([excel_value(v) for v in (s.review, s.status, ", ".join(s.reviewers), s.signed_off_by, s.signed_off_at,
                                             s.second_approver, s.second_approved_at)])
    ws.auto_filter.ref = f"A1:{get_column_letter(len(SIGN_OFF_COLUMNS))}{len(document.sign_offs) + 1}"


def _properties(wb: Workbook, document: ReportDocument) -> None:
    props = wb.properties
    props.title = safe_cell(document.title)
    props.subject = safe_cell(f"{document.title}, {document.period.title}")
    props.creator = "OpenClaw"
    props.lastModifiedBy = "OpenClaw"
    props.keywords = KEYWORDS.get(document.kind, "OpenClaw")
    props.description = safe_cell(f"Generated {document.generated_at.astimezone(datetime.UTC):%Y-%m-%d %H:%M} UTC "
                                  f"by {document.generator}; accounts: {', '.join(document.accounts) or 'none'}")[:1000]
    props.category = "Compliance evidence"
    props.created = document.generated_at.astimezone(datetime.UTC).replace(tzinfo=None, microsecond=0)


def render_xlsx(document: ReportDocument, out: IO[bytes] | Path) -> None:
    wb = Workbook(write_only=True)
    _properties(wb, document)
    used: set[str] = set()
    _cover(wb, document, used)
    if document.sign_offs:
        _sign_offs(wb, document, used)
    for section in document.sections:
        for table in section.tables:
            ws = _new_sheet(wb, sheet_name(document, table), used, document, [c.width for c in table.columns])
            _write_table(ws, table)
    wb.save(out)
