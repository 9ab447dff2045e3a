"""Small tools for report tests: a recording HTTP server, text of a PDF, a tiny document."""

from __future__ import annotations

import datetime
import http.server
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from compliance.reports.document import Column, ReportDocument, Section, table
from compliance.reviews.periods import parse_period


@contextmanager
def recording_http_server() -> Iterator[tuple[str, list[str]]]:
    """An HTTP server on 127.0.0.1 that records every request path it receives."""
    seen: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


def pdf_pages(path: Path) -> int:
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    return int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))


def tiny_document(rows: list[tuple]) -> ReportDocument:
    columns = [Column("Text", width=40), Column("When", "datetime", 18)]
    section = Section(key="s", title="Hostile cells", tables=[table("t", "Hostile cells", columns, rows)])
    return ReportDocument(kind="soc2", title="Test", period=parse_period("2026Q1"),
                          generated_at=datetime.datetime(2026, 4, 1, tzinfo=datetime.UTC), generator="test",
                          chain_head="0" * 64, accounts=["Acme"], sections=[section])
