"""PDF rendering with WeasyPrint from the print templates and static/css/report.css.

WeasyPrint renders about 5 pages/s and keeps ~4.5 MiB per page, so PDFs hold summaries and the
first rows of each table (the Excel workbook has every row), and render on the "pdf" queue
(compliance/reports/tasks.py) with time limits, in a worker recycled by memory.
"""

from __future__ import annotations

import logging

from django.template.loader import render_to_string
from weasyprint import CSS, HTML

from compliance.reports.document import TOP_ROWS, ReportDocument
from compliance.reports.fetcher import BASE_URL, StaticOnlyFetcher, static_url

STYLESHEET = "css/report.css"
# WeasyPrint logs every layout step at INFO; refusals (WARNING/ERROR) still show.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)


def html_to_pdf(html: str, *, fetcher: StaticOnlyFetcher | None = None) -> bytes:
    """Any HTML to PDF through the static-only fetcher, given to HTML() and every CSS()."""
    fetcher = fetcher or StaticOnlyFetcher()
    stylesheet = CSS(url=static_url(STYLESHEET), url_fetcher=fetcher)
    document = HTML(string=html, base_url=BASE_URL, url_fetcher=fetcher)
    return document.write_pdf(stylesheets=[stylesheet])  # type: ignore[no-any-return]


def render_print_html(document: ReportDocument) -> str:
    return render_to_string("reports/print/report.html", {"doc": document, "top_rows": TOP_ROWS, "print": True})


def render_pdf(document: ReportDocument, *, fetcher: StaticOnlyFetcher | None = None) -> bytes:
    return html_to_pdf(render_print_html(document), fetcher=fetcher)
