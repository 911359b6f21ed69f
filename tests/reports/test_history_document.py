"""A prospect's history as a document (Qt-free HTML) and as a PDF; the consent
ledger read the same way by the history, the marketing panel and the pack."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from history_support import build_full_history
from pack_support import assert_pdf, set_controller
from PySide6.QtGui import QTextDocument

from crm_desktop.errors import CrmError
from crm_desktop.reports import marketing_text, sar_html
from crm_desktop.reports.history import history_html
from crm_desktop.reports.history_pdf import write_history_pdf
from crm_desktop.services import history, sar
from crm_desktop.services import marketing as M
from crm_desktop.services.history import HistoryEvent

AT = datetime(2026, 3, 7, 9, 5, tzinfo=UTC)


def plain(html: str) -> str:
    doc = QTextDocument()
    doc.setHtml(html)
    return doc.toPlainText()


def test_the_history_document_escapes_what_is_stored(qapp):
    events = [
        HistoryEvent(AT, "edit", "<b>Record</b> & co", "line one\nline <two>", "<al>"),
        HistoryEvent(AT, "consent", "Opted out (SMS)", "", "bob"),
    ]
    html = history_html("Ann <Lee>", events, "All kinds")
    assert "<b>Record</b>" not in html and "&lt;b&gt;Record&lt;/b&gt; &amp; co" in html
    assert "line one<br>line &lt;two&gt;" in html
    text = plain(html)
    assert "History of Ann <Lee>" in text
    assert "All kinds · printed on" in text
    assert "<b>Record</b> & co" in text and "<al>" in text
    assert "Consent" in text and "Edit" in text  # the kinds' labels
    assert "No events." in plain(history_html("Ann", [], "Consent"))


def test_the_history_pdf_is_new_and_never_replaces_a_file(ctx, tmp_path, qapp):
    pid = build_full_history(ctx, tmp_path)
    events = history.history(ctx, pid)
    html = history_html("Hattie Bloom", events, "All kinds")
    target = tmp_path / "hattie.pdf"
    pages = []
    assert write_history_pdf(target, "Hattie Bloom", html, lambda d, t: pages.append(t)) == target
    data = target.read_bytes()
    assert_pdf(data, pages[-1])
    assert b"/Title (" + "\ufeffHistory of Hattie Bloom".encode("utf-16-be") + b")" in data
    with pytest.raises(CrmError, match="already exists"):
        write_history_pdf(target, "Hattie Bloom", html)
    assert target.read_bytes() == data


def test_the_three_readers_of_the_ledger_use_one_wording(ctx, add_prospect, qapp):
    """History, panel and pack name each entry alike and label its details alike."""
    set_controller(ctx)
    pid = add_prospect("Ann", "Lee", email="ann@oak.sch.uk")
    M.grant_consent(
        ctx,
        pid,
        "email",
        M.ConsentEvidence("web-form", "Tick to hear from us", policy_version="v2"),
    )
    M.opt_out(ctx, pid, "sms", source="phone", reason="No texts")
    M.object_to_marketing(ctx, pid, source="email-reply", reason="Stop")

    in_history = "\n".join(
        f"{e.title}\n{e.detail}" for e in history.history(ctx, pid, kinds=["consent"])
    )
    view_events = M.consent_history(ctx, pid)
    in_panel = "\n".join(marketing_text.event_text(e, {}) for e in view_events)
    in_pack = plain(sar_html.pack_html(sar.build_pack(ctx, pid)))
    for words in ("Consent given", "Opted out", "Objected to direct marketing", "Reason: "):
        assert words in in_history and words in in_panel and words in in_pack, words
    for words in ("How: Web form", "Given by: Ann Lee", "Privacy notice: v2"):
        assert words in in_history and words in in_panel and words in in_pack, words
    # Staff read "they"; the person reads "you".
    assert "They were told: Tick to hear from us" in in_history
    assert "They were told: “Tick to hear from us”" in in_panel  # quoted, may be shortened
    assert "What you were told: Tick to hear from us" in in_pack
    assert "Source: Phone" in in_history and "Source: Phone" in in_panel
    assert "How you told us: Phone" in in_pack
