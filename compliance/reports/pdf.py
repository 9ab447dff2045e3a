"""PDF rendering with WeasyPrint from the print templates and static/css/report.css.

WeasyPrint renders about 5 pages/s and keeps ~4.5 MiB per page, so PDFs hold summaries and the
first rows of each table (the Excel workbook has every row), and render on the "pdf" queue
(compliance/reports/tasks.py) with time limits, in a worker recycled by memory.

Every PDF is archival: PDF/A-3b (fonts embedded, sRGB output intent, XMP metadata from the print
template's <title> and <meta>) and tagged (a structure tree, so screen readers and text extraction
follow headings and tables). PDF/A-3 is the part of PDF/A that allows embedded files: a report
carries its own workbook and manifest (compliance/reports/bundle.py), so one file is the evidence.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from django.template.loader import render_to_string
from weasyprint import CSS, HTML, Attachment

from compliance.reports.document import TOP_ROWS, ReportDocument
from compliance.reports.fetcher import BASE_URL, StaticOnlyFetcher, static_url
from openclaw_web import __version__

STYLESHEET = "css/report.css"
PDF_VARIANT = "pdf/a-3b"
KEYWORDS = {
    "soc2": "SOC 2, Trust Services Criteria, CC6, access review, audit evidence, 1Password",
    "iso27001": "ISO/IEC 27001:2022, Annex A, access control, audit evidence, 1Password",
    "hygiene": "vault hygiene, findings, credential rotation, audit evidence, 1Password",
}
# WeasyPrint logs every layout step at INFO; refusals (WARNING/ERROR) still show.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)


@dataclass(frozen=True)
class EmbeddedFile:
    """A file carried inside the PDF (PDF/A-3 "associated file")."""

    name: str
    content: bytes
    description: str
    # ISO 32000-2 AFRelationship: Data (the data the PDF presents), Supplement, Source, ...
    relationship: str = "Supplement"


def html_to_pdf(html: str, *, fetcher: StaticOnlyFetcher | None = None, attachments: Sequence[EmbeddedFile] = (),
                created: datetime.datetime | None = None) -> bytes:
    """Any HTML to an archival PDF through the static-only fetcher, given to HTML(), every CSS()
    and every attachment (whose content is in memory: nothing is fetched for it)."""
    fetcher = fetcher or StaticOnlyFetcher()
    stylesheet = CSS(url=static_url(STYLESHEET), url_fetcher=fetcher)
    document = HTML(string=html, base_url=BASE_URL, url_fetcher=fetcher)
    embedded = [Attachment(string=f.content, name=f.name, description=f.description, relationship=f.relationship,
                           url_fetcher=fetcher, created=created, modified=created) for f in attachments]
    return document.write_pdf(stylesheets=[stylesheet], pdf_variant=PDF_VARIANT,
                              pdf_tags=True, attachments=embedded)


def render_print_html(document: ReportDocument) -> str:
    return render_to_string("reports/print/report.html", {
        "doc": document, "top_rows": TOP_ROWS, "print": True, "product_version": __version__,
        "keywords": KEYWORDS.get(document.kind, "audit evidence"),
    })  # fmt: skip


def render_pdf(document: ReportDocument, *, fetcher: StaticOnlyFetcher | None = None,
               attachments: Sequence[EmbeddedFile] = ()) -> bytes:
    # WeasyPrint stamps attachments with local time as if it were UTC: give it the report's own time.
    created = document.generated_at.astimezone(datetime.UTC).replace(tzinfo=None)
    return html_to_pdf(render_print_html(document), fetcher=fetcher, attachments=attachments, created=created)
