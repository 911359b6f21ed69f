"""Every PDF we write, made with Qt's own PDF writer: the one module in
``reports`` that needs Qt (QtGui and QtCore, never QtWidgets).

The documents (``sar_html``, ``history``) are rich text made without Qt;
this module lays one out and paints it onto A4 pages with
:class:`QPdfWriter`, so no PDF library beyond Qt is needed. It chooses the
page breaks and paints page by page itself (instead of
``QTextDocument.print_``) so that no line or heading is cut in two, to
report progress, to stop at a Cancel between pages and to put the
document's title and "page N of M" in every footer.

The document wraps anywhere a line needs it, so long summaries, unbroken
strings and any Unicode lay out without overflowing the page (characters the
installed fonts lack show as boxes, never as a crash).

The CLI writes PDFs without a running application, so
:func:`ensure_gui_application` makes an offscreen :class:`QGuiApplication`
when there is none (text layout needs one for fonts).
"""

from __future__ import annotations

import bisect
import os
import sys
from pathlib import Path

from PySide6.QtCore import QMarginsF, QRectF, Qt
from PySide6.QtGui import (
    QAbstractTextDocumentLayout,
    QFont,
    QFontMetricsF,
    QGuiApplication,
    QPageLayout,
    QPageSize,
    QPainter,
    QPdfWriter,
    QTextDocument,
    QTextOption,
)

from crm_desktop.errors import Cancelled, CrmError
from crm_desktop.services.sar import CancelFn, Progress

RESOLUTION = 300  # dpi: text is vector anyway; this only sets layout precision
MARGINS_MM = QMarginsF(18, 16, 18, 14)
FOOTER_PT = 8

_app: QGuiApplication | None = None  # made here (CLI); kept alive for the process


def ensure_gui_application() -> None:
    """Make an offscreen QGuiApplication if the process has none (the ``crm`` CLI).

    On Linux without a display Qt would fail to start, so the offscreen
    platform is chosen unless someone picked a platform themselves.
    """
    global _app
    instance = QGuiApplication.instance()
    if instance is not None:
        if not isinstance(instance, QGuiApplication):
            raise CrmError("A PDF needs a Qt GUI application; this process has a console one.")
        return
    if (
        sys.platform.startswith(("linux", "freebsd", "openbsd", "netbsd"))
        and not os.environ.get("DISPLAY")
        and not os.environ.get("WAYLAND_DISPLAY")
    ):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    _app = QGuiApplication(["crm"])


# ------------------------------------------------------------- painting


def line_spans(doc: QTextDocument) -> list[tuple[float, float, bool]]:
    """(top, bottom, is a heading) of every laid-out line, sorted, in document coordinates."""
    layout = doc.documentLayout()
    spans = []
    block = doc.begin()
    while block.isValid():
        text_layout = block.layout()
        top = layout.blockBoundingRect(block).top()
        heading = block.blockFormat().headingLevel() > 1
        for i in range(text_layout.lineCount()):
            line = text_layout.lineAt(i)
            spans.append((top + line.y(), top + line.y() + line.height(), heading))
        block = block.next()
    spans.sort()
    return spans


def page_breaks(spans: list[tuple[float, float, bool]], page_h: float, total_h: float):
    """Where each page starts, so that no line is cut in two and no heading ends a page.

    Qt's own pagination lets a heading that follows a table straddle the
    page boundary (half on each page), so the document is laid out as one
    long page and cut here between lines instead. Lines side by side in
    table cells are all respected; a page that cannot be cut cleanly (one
    line taller than a page) is cut at its full height.
    """
    tops = [top for top, _, _ in spans]
    tallest = max((bottom - top for top, bottom, _ in spans), default=0.0)
    starts = [0.0]
    while starts[-1] + page_h < total_h:
        start = starts[-1]
        cut = start + page_h
        moved = True
        while moved:
            moved = False
            lo = bisect.bisect_left(tops, cut - tallest)
            for top, bottom, _ in spans[lo : bisect.bisect_left(tops, cut)]:
                if top < cut < bottom and top > start:
                    cut, moved = top, True
        # Keep a heading with what follows it: end the page before the heading.
        last = bisect.bisect_left(tops, cut) - 1
        while last >= 0 and spans[last][1] > cut:
            last -= 1
        if last >= 0 and spans[last][2] and spans[last][0] > start:
            cut = spans[last][0]
        if cut <= start:
            cut = start + page_h
        starts.append(cut)
    return starts


def new_writer(path: Path, title: str) -> QPdfWriter:
    """An A4 PDF writer with our margins (its width/height are the printable area)."""
    writer = QPdfWriter(str(path))
    writer.setResolution(RESOLUTION)
    writer.setPageLayout(
        QPageLayout(
            QPageSize(QPageSize.PageSizeId.A4),
            QPageLayout.Orientation.Portrait,
            MARGINS_MM,
            QPageLayout.Unit.Millimeter,
        )
    )
    writer.setTitle(title)
    writer.setCreator("CRM Desktop")
    return writer


def layout_html(html: str, device: QPdfWriter) -> QTextDocument:
    """Rich text laid out as one long page as wide as the device's printable area."""
    doc = QTextDocument()
    font = QFont("DejaVu Sans")
    font.setStyleHint(QFont.StyleHint.SansSerif)
    font.setPointSizeF(10)
    doc.setDefaultFont(font)
    option = QTextOption()
    option.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
    doc.setDefaultTextOption(option)
    # Lay out for the PDF itself, so point sizes and lengths match the page.
    doc.documentLayout().setPaintDevice(device)
    doc.setHtml(html)
    doc.setTextWidth(device.width())
    return doc


def paint_pages(
    doc: QTextDocument,
    writer: QPdfWriter,
    path: Path,
    title: str,
    progress: Progress | None = None,
    should_cancel: CancelFn | None = None,
) -> int:
    """Paint a laid-out document page by page with ``title`` and "page N of M" footers.

    Raises :class:`Cancelled` between pages when ``should_cancel()`` says so.
    """
    width, height = float(writer.width()), float(writer.height())
    footer_font = QFont(doc.defaultFont())
    footer_font.setPointSizeF(FOOTER_PT)
    metrics = QFontMetricsF(footer_font, writer)
    footer_h = metrics.height() * 2
    body_h = height - footer_h
    total_h = doc.size().height()
    starts = page_breaks(line_spans(doc), body_h, total_h)
    ends = [*starts[1:], total_h]
    pages = len(starts)
    name = metrics.elidedText(title, Qt.TextElideMode.ElideRight, width * 0.7)

    painter = QPainter()
    if not painter.begin(writer):
        raise CrmError(f"Cannot write the PDF {path.name}.")
    try:
        for page, (top, bottom) in enumerate(zip(starts, ends, strict=True)):
            if should_cancel and should_cancel():
                raise Cancelled("Cancelled; nothing was written.")
            if page:
                writer.newPage()
            painter.save()
            painter.setClipRect(QRectF(0, 0, width, bottom - top))
            painter.translate(0, -top)
            ctx = QAbstractTextDocumentLayout.PaintContext()
            ctx.clip = QRectF(0, top, width, bottom - top)
            doc.documentLayout().draw(painter, ctx)
            painter.restore()
            painter.setFont(footer_font)
            painter.setPen(Qt.GlobalColor.darkGray)
            foot = QRectF(0, body_h, width, footer_h)
            bottom_edge = Qt.AlignmentFlag.AlignBottom
            painter.drawText(foot, Qt.AlignmentFlag.AlignLeft | bottom_edge, name)
            painter.drawText(
                foot, Qt.AlignmentFlag.AlignRight | bottom_edge, f"Page {page + 1} of {pages}"
            )
            if progress:
                progress(page + 1, pages)
    finally:
        painter.end()
    return pages


def write_document(
    html: str,
    path: Path,
    title: str,
    progress: Progress | None = None,
    should_cancel: CancelFn | None = None,
) -> int:
    """Lay out ``html`` and paint it onto A4 pages at ``path``; returns the number of pages.

    ``title`` is the PDF's title and every page's footer. Raises
    :class:`Cancelled` between pages when ``should_cancel()`` says so (the
    caller's atomic write then leaves no file).
    """
    ensure_gui_application()
    writer = new_writer(path, title)
    doc = layout_html(html, writer)
    pages = paint_pages(doc, writer, path, title, progress, should_cancel)
    # Close the file now (Windows cannot rename a file that is still open).
    del doc, writer
    return pages
