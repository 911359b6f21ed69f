"""The subject access pack as a PDF: its content, pagination and refusals.

QtPdf is not part of PySide6-Essentials, so the PDFs are checked from their
bytes (header, trailer, page objects) and their content from the rich text
they are painted from; pagination is checked on the laid-out document.
"""

from __future__ import annotations

import stat

import pytest
from pack_support import add_jane, assert_pdf, pdf_pages, sar_entries, set_controller
from PySide6.QtGui import QTextDocument

from crm_desktop.domain.roles import Role
from crm_desktop.domain.validation import ContactInput, ProspectInput, ValidationError
from crm_desktop.errors import Cancelled, CrmError
from crm_desktop.reports import pdf, sar_html, sar_pdf
from crm_desktop.services import audit, sar
from crm_desktop.services import correspondence as C
from crm_desktop.services import marketing as M
from crm_desktop.services import prospects as P
from crm_desktop.services.context import Context


@pytest.fixture(autouse=True)
def controller(ctx):
    set_controller(ctx)


@pytest.fixture
def jane(ctx, tmp_path, add_prospect):
    return add_jane(ctx, tmp_path, add_prospect)


def plain_text(pack: dict) -> str:
    doc = QTextDocument()
    doc.setHtml(sar_html.pack_html(pack))
    return doc.toPlainText()


def test_pdf_of_a_full_pack(ctx, jane, tmp_path, qapp):
    seen = []
    out = sar_pdf.write_pdf(
        ctx, jane, tmp_path / "jane.pdf", progress=lambda d, t: seen.append((d, t))
    )
    data = out.read_bytes()
    pages = seen[-1][1]
    assert seen[-1] == (pages, pages) and pages >= 3
    assert_pdf(data, pages)
    title = "\ufeffSubject access pack: Jane Smith".encode("utf-16-be")
    assert b"/Title (" + title + b")" in data
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    [entry] = sar_entries(ctx, jane)
    assert (entry.action, entry.values) == ("sar.created", {"format": "pdf", "file": "jane.pdf"})
    assert audit.verify(ctx).ok


def test_the_pdf_text_holds_every_section_and_value(ctx, jane, qapp):
    text = plain_text(sar.build_pack(ctx, jane))
    for n, (title, _) in enumerate(sar_html.SECTIONS, start=1):
        assert f"{n}. {title}" in text
    for value in [
        "Jane Smith", "jane.smith@oakfield.sch.uk", "07700 900123", "Oakfield Primary",
        "SEND support", "SENCo", "Lead", "Event", "BETT 2026 stand",
        "22 Jan 2026", "Legitimate interest", "School outreach", "Tell leaders about SEND tools.",
        "Email is how we reach them.", "Work addresses; easy opt-out.", "Head of SEND",
        "Ticked 'send me news' on the form", "Web form", "Does not want texts",
        "Talked about SEND.", "Demo next.", "Intro call",
        "Phone call", "Sent the brochure", "Follow-up: 30 Jan 2026, done", "Spring term",
        "Term news", "Opted out", "Added by our staff", "Online audiences", "Mailchimp",
        "24 months without contact", "Right to erasure", "Right to data portability",
        "Right to withdraw consent", "Right to object", "Right to restrict processing",
        "Right to rectification", "Information Commissioner's Office", "0303 123 1113",
        "https://ico.org.uk",
    ]:  # fmt: skip
        assert value in text, value


def test_the_history_of_changes_shows_edits_and_points_to_the_rest(ctx, jane, qapp):
    pack = sar.build_pack(ctx, jane)
    kept = pack["correspondence"][0]["id"]
    at = pack["generated_at"]
    pack["processing_log"] = [
        {"at": at, "action": "prospect.created", "actor": "alice", "reason": None,
         "values": {"role": {"old": None, "new": "SENCo"}}},
        {"at": at, "action": "prospect.edited", "actor": "bob", "reason": "Asked by phone",
         "values": {"stage": {"old": "lead", "new": "trial"}}},
        {"at": at, "action": "correspondence.logged", "actor": "alice", "reason": None,
         "values": {"entry": kept, "summary": "Talked about SEND.\nDemo next."}},
        {"at": at, "action": "correspondence.logged", "actor": "alice", "reason": None,
         "values": {"entry": 999, "summary": "An entry no longer in the log"}},
        {"at": at, "action": "consent.opted-out", "actor": "alice", "reason": None,
         "values": {"channel": "sms", "reason": "Does not want texts"}},
    ]  # fmt: skip
    text = plain_text(pack)
    log = text.split("History of changes to your record")[1]
    assert "Record created" in log and "Role: SENCo" in log
    assert "Record changed" in log and "Stage: lead → trial" in log
    assert "Reason: Asked by phone" in log
    assert log.count("Shown under “Our correspondence with you”.") == 1
    assert "Summary: An entry no longer in the log" in log  # held only there: shown
    assert "Opted out" in log and "Shown under “History of your marketing choices”." in log
    assert text.count("Demo next.") == 1  # not printed twice


def test_stored_text_is_shown_not_interpreted(ctx, add_prospect, qapp):
    pid = add_prospect("<b>Bold</b> & co", "<script>x</script>", email="b@oak.sch.uk")
    C.log_contact(ctx, pid, ContactInput(kind="note", summary="<table><tr><td>1</td></tr>"))
    text = plain_text(sar.build_pack(ctx, pid))
    assert "<b>Bold</b> & co <script>x</script>" in text
    assert "<table><tr><td>1</td></tr>" in text


def test_long_text_wraps_and_no_line_is_cut_by_a_page(ctx, add_prospect, tmp_path, qapp):
    pid = add_prospect("Long", "Texts", email="long@oak.sch.uk")
    for n in range(12):
        C.log_contact(ctx, pid, ContactInput(kind="note", summary=f"{n:02} " + "y" * 19_990))
    M.set_lawful_basis(ctx, pid, "legitimate-interest", note="z" * 5_000)
    M.opt_out(ctx, pid, "sms", reason="w" * 5_000)
    pack = sar.build_pack(ctx, pid)
    writer = pdf.new_writer(tmp_path / "probe.pdf", "probe")
    doc = sar_pdf.layout_document(pack, writer)
    assert doc.documentLayout().documentSize().width() <= writer.width() + 1
    body = writer.height() * 0.9
    spans = pdf.line_spans(doc)
    starts = pdf.page_breaks(spans, body, doc.size().height())
    assert len(starts) > 20
    for top, bottom, _ in spans:
        assert not any(top < cut < bottom for cut in starts), (top, bottom)
    out = sar_pdf.write_pdf(ctx, pid, tmp_path / "long.pdf")
    assert pdf_pages(out.read_bytes()) > 20


def test_page_breaks_respect_lines_cells_and_headings():
    lines = [(i * 10.0, i * 10.0 + 10, False) for i in range(30)]  # 300 high
    assert pdf.page_breaks(lines, 95, 300) == [0.0, 90.0, 180.0, 270.0]
    # A cell beside another, its lines offset: the cut goes above both of
    # the lines it would cross (85-97 here, then 80-90 beside it).
    cells = sorted([*lines, (85.0, 97.0, False)])
    assert pdf.page_breaks(cells, 95, 300)[1] == 80.0
    # A heading that would end the page starts the next one instead.
    headed = [(t, b, t == 80.0) for t, b, _ in lines]
    assert pdf.page_breaks(headed, 95, 300)[1] == 80.0
    # A line taller than a page is cut rather than looping for ever.
    assert pdf.page_breaks([(0.0, 500.0, False)], 100, 500) == [0, 100, 200, 300, 400]


def test_naughty_strings_do_not_break_the_pdf(ctx, naughty_strings, tmp_path, qapp):
    pid = P.create_prospect(
        ctx, ProspectInput(first_name="N", last_name="Aughty", email="n@oak.sch.uk")
    ).record.id
    for line in naughty_strings:
        try:
            C.log_contact(ctx, pid, ContactInput(kind="note", subject=line[:200], summary=line))
        except ValidationError:  # refused (control characters, blank): never stored
            continue
    assert len(C.list_correspondence(ctx, pid)) > 400
    assert_pdf(sar_pdf.write_pdf(ctx, pid, tmp_path / "all.pdf").read_bytes())
    # Every line in a name (ten at a time): in the title, the footer and the tables.
    pack = sar.build_pack(ctx, pid)
    pack["correspondence"] = pack["correspondence"][:3]
    pack["processing_log"] = pack["processing_log"][:3]
    for n in range(0, len(naughty_strings), 10):
        chunk = " ".join(naughty_strings[n : n + 10])
        pack["subject"]["first_name"] = chunk
        pack["subject"]["last_name"] = chunk[::-1]
        pack["school"] = {"name": chunk, "urn": None, "phase": None, "local_authority": None,
                          "postcode": None, "phone": None, "website": None}  # fmt: skip
        target = tmp_path / f"{n}.pdf"
        assert sar_pdf.render_pdf(pack, target) >= 1
        assert_pdf(target.read_bytes())


def test_existing_pdf_is_refused_and_untouched(ctx, jane, tmp_path, qapp):
    target = tmp_path / "jane.pdf"
    target.write_bytes(b"keep")
    with pytest.raises(CrmError, match="already exists"):
        sar_pdf.write_pdf(ctx, jane, target)
    assert target.read_bytes() == b"keep"
    assert sar_entries(ctx, jane) == []


def test_cancel_between_pages_leaves_nothing(ctx, jane, tmp_path, qapp):
    folder = tmp_path / "out"
    folder.mkdir()
    calls = []

    def cancel_after_first_page():
        calls.append(1)
        return len(calls) > 1

    with pytest.raises(Cancelled):
        sar_pdf.write_pdf(ctx, jane, folder / "jane.pdf", should_cancel=cancel_after_first_page)
    assert list(folder.iterdir()) == []
    assert sar_entries(ctx, jane) == []


@pytest.mark.parametrize("role", [Role.SALES, Role.MARKETING])
def test_pdf_refused_for_sales_and_marketing(ctx, jane, tmp_path, role, qapp):
    with pytest.raises(CrmError, match="Not permitted"):
        sar_pdf.write_pdf(Context(ctx.db, user="sam", role=role), jane, tmp_path / "x.pdf")
    assert not (tmp_path / "x.pdf").exists()
