"""Template placeholders are plain names replaced by plain text: no attribute access, no tags."""

from __future__ import annotations

from compliance.tickets import placeholders
from compliance.tickets.payloads import adf_document


def test_known_names_are_replaced_and_everything_else_stays_as_typed():
    text = placeholders.render("{title} {0.__class__} {{ 7*7 }} {% now 'Y' %} {unknown}", {"title": "T"})

    assert text == "T {0.__class__} {{ 7*7 }} {% now 'Y' %} {unknown}"


def test_a_value_is_never_itself_expanded():
    assert placeholders.render("{title}", {"title": "{link}", "link": "https://x"}) == "{link}"


def test_a_summary_is_one_line_without_control_characters_and_at_most_255_characters():
    summary = placeholders.summary_text("{title}", {"title": "a\r\nb\x07\tc " + "x" * 400})

    assert summary.startswith("a b c ") and len(summary) == 255 and summary.endswith("…")


def test_unknown_placeholders_are_listed_once_and_sorted():
    assert placeholders.unknown_placeholders("{b} {a} {b} {title}") == ["a", "b"]


def test_adf_has_no_empty_text_nodes_and_links_the_openclaw_page():
    doc = adf_document("First line\nSee https://oc/x\n\n\nLast", "https://oc/x")

    assert [p["content"] for p in doc["content"]] == [
        [{"type": "text", "text": "First line"}, {"type": "hardBreak"}, {"type": "text", "text": "See "},
         {"type": "text", "text": "https://oc/x", "marks": [{"type": "link", "attrs": {"href": "https://oc/x"}}]}],
        [{"type": "text", "text": "Last"}],
    ]  # fmt: skip
