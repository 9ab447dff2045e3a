"""The canary scan itself (tests/security/canaries.py) can fail: a stored truncation, the tail of
a secret, or a piece split over lines is caught in every kind of haystack the leak tests search,
while strings of the same alphabet that are not a piece of a canary are not."""

from __future__ import annotations

import hashlib
import io
import pickle
import random
import zipfile

import pytest
from django.core import mail
from django.core.mail import EmailMessage
from weasyprint import HTML

from tests.security.canaries import HEX_WINDOW, WINDOW, CanaryScanner, artifact_contents, email_contents
from vaults.fake_op.demo_items import Canaries

_ISSUER = Canaries(random.Random(7))  # the fake organisation's own generator
CANARIES = [_ISSUER.new() for _ in range(200)]
SECRET = CANARIES[42]  # CANARY-<16 hex>-<10 alphanumerics>
SCANNER = CanaryScanner(CANARIES)

PIECES = {
    "the whole secret": SECRET,
    "its first 8 characters": SECRET[:WINDOW],
    "its first 20 characters": SECRET[:20],
    "its last 10 characters": SECRET[-10:],
    "its last 8 characters": SECRET[-WINDOW:],
    "12 hex digits from the middle": SECRET[8 : 8 + HEX_WINDOW],
    "the secret without its marker": SECRET.removeprefix("CANARY-"),
}
_rng = random.Random(11)
DECOYS = {
    "the marker alone": "CANARY-",
    "7 characters of the secret": SECRET[-7:],
    "11 hex digits of the secret": SECRET[8 : 8 + HEX_WINDOW - 1],
    "a SHA-256": hashlib.sha256(SECRET.encode()).hexdigest(),
    "a canary-shaped string under another word": f"KESTREL-{_rng.getrandbits(64):016x}-{''.join(_rng.choices('abcdefXYZ0123456789', k=10))}",
    "a random token of the same alphabet": "ops_" + "".join(_rng.choices("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", k=160)),
    "a UUID": "7f3a9c1e-0b2d-4c5e-8f6a-9b0c1d2e3f4a",
}


def _page(text: str) -> str:
    return f"<tr><td>Payments Production</td><td>{text}</td><td>2026-04-01T10:00:00Z</td></tr>"


def _xlsx(text: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as book:
        book.writestr("xl/worksheets/sheet1.xml", f'<sheetData><row><c t="inlineStr"><is><t>{text}</t></is></c></row></sheetData>')
        book.writestr("xl/sharedStrings.xml", "<sst/>")
    return buffer.getvalue()


def _pdf(text: str) -> bytes:
    return HTML(string=f"<html><body><h1>Report</h1><p>Reference: {text}</p></body></html>").write_pdf()


HAYSTACKS = {
    "a page": lambda text: _page(text),
    "a pickled Redis value": lambda text: pickle.dumps(_page(text)),
    "an Excel workbook's XML": lambda text: artifact_contents("book.xlsx", _xlsx(text)),
    "a PDF's text": lambda text: [c for c in artifact_contents("report.pdf", _pdf(text)) if "pdftotext" in c[0]],
}


def _scan(haystack: object) -> list:
    pairs = haystack if isinstance(haystack, list) else [("haystack", haystack)]
    return SCANNER.find_in_all(pairs)


@pytest.mark.parametrize("container", list(HAYSTACKS))
@pytest.mark.parametrize("piece", list(PIECES))
def test_it_finds_a_piece_of_a_secret_in_every_kind_of_haystack(piece: str, container: str) -> None:
    found = _scan(HAYSTACKS[container](PIECES[piece]))

    # "CANARY-f" is a window of several canaries; what matters is that each piece found is SECRET's.
    assert found and all(s.piece in SECRET for s in found)


@pytest.mark.parametrize("container", list(HAYSTACKS))
@pytest.mark.parametrize("decoy", list(DECOYS))
def test_it_does_not_flag_strings_of_the_same_alphabet_that_are_no_piece_of_a_secret(decoy: str, container: str) -> None:
    assert _scan(HAYSTACKS[container](DECOYS[decoy])) == []


def test_it_finds_a_secret_split_over_two_lines_of_a_narrow_pdf_column() -> None:
    html = f'<table style="width:4cm"><tr><td style="word-break:break-all">{SECRET[4:]}</td></tr></table>'
    contents = artifact_contents("narrow.pdf", HTML(string=html).write_pdf())
    text = next(c for name, c in contents if "pdftotext" in name)

    assert SECRET[4:] not in str(text)  # really split
    assert SCANNER.find_in_all(c for c in contents if "pdftotext" in c[0])


def test_it_finds_a_piece_in_a_pdf_property_that_is_not_on_the_page() -> None:
    pdf = HTML(string=f"<html><head><title>{SECRET[-12:]}</title></head><body>Nothing here</body></html>").write_pdf()
    contents = artifact_contents("titled.pdf", pdf)

    assert not SCANNER.find_in_all(c for c in contents if "pdftotext" in c[0])
    assert SCANNER.find_in_all(contents)


def test_it_opens_the_attachments_of_an_email_in_the_outbox() -> None:
    mail.outbox = []
    message = EmailMessage(subject="[OpenClaw] SOC 2 2026Q1", body="The report is attached.", to=["a@example.com"])
    message.attach("soc2.xlsx", _xlsx(SECRET[-10:]), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    message.send()
    clean = EmailMessage(subject="[OpenClaw] SOC 2 2026Q1", body=DECOYS["a SHA-256"], to=["a@example.com"])
    clean.attach("soc2.pdf", _pdf(DECOYS["a random token of the same alphabet"]), "application/pdf")
    clean.send()

    found = SCANNER.find_in_all(email_contents(mail.outbox))

    assert {s.where.split(" attachment ")[0] for s in found} == {"e-mail 0 '[OpenClaw] SOC 2 2026Q1'"}
    assert any("soc2.xlsx!xl/worksheets/sheet1.xml" in s.where for s in found)


def test_a_canary_too_short_to_search_for_is_refused() -> None:
    with pytest.raises(AssertionError):
        CanaryScanner(["CANARY"])
