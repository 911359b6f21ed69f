"""The import wizard's first three pages: the file, the column mapping, the preview.

They only look: every read goes through ``services.imports.inspect_file``
on a worker thread (a :class:`~crm_desktop.ui.common.reads.Reader`), so a
huge or slow file never freezes the window, and a file the reader refuses
(``ContactFileError``) is said on the page, in its own words. Nothing is
written to the database before the Import button on the next page.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Slot
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
    QWizardPage,
)

from crm_desktop.domain.contact_mapping import LAYOUTS
from crm_desktop.errors import CrmError
from crm_desktop.services import imports
from crm_desktop.services.context import Context
from crm_desktop.ui.common import messages
from crm_desktop.ui.common.reads import Reader
from crm_desktop.ui.imports.import_models import (
    MappingModel,
    PreviewModel,
    TargetDelegate,
    outcome_counts,
    shortened,
)

PREVIEW_ROWS = 20
FILE_FILTERS = (
    "Contact files (*.csv *.tsv *.txt *.xlsx *.vcf *.vcard);;CSV files (*.csv *.tsv *.txt);;"
    "Excel workbooks (*.xlsx);;vCards (*.vcf *.vcard);;All files (*)"
)
FOLDER_PURPOSE = "import contacts"
# "Read as": fmt values of services.imports, in the order offered.
READ_AS = (
    ("auto", "Detect automatically"),
    ("csv", "CSV or text file"),
    ("xlsx", "Excel workbook (.xlsx)"),
    ("vcard", "vCard (.vcf)"),
    ("google", "Google Contacts export (CSV)"),
    ("outlook", "Outlook contacts export (CSV)"),
    ("mailchimp", "Mailchimp audience export (CSV)"),
)
FORMAT_NAMES = {"csv": "CSV text file", "xlsx": "Excel workbook", "vcard": "vCard"}
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "vertical bar"}
ENCODING_NAMES = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8 (with byte-order mark)",
    "utf-16": "UTF-16 (Excel “Unicode Text”)",
    "utf-16-le": "UTF-16",
    "utf-16-be": "UTF-16",
    "cp1252": "Windows-1252 (Western European)",
    "windows-1252": "Windows-1252 (Western European)",
    "latin-1": "ISO-8859-1 (Latin-1)",
    "ascii": "ASCII",
}
MAPPING_SOURCE = {
    "layout": "The columns of a {layout} export are known, so they are mapped for you.",
    "remembered": "Mapped as you mapped the last file with these same columns.",
    "suggested": "Suggested from the column names: check each one, and change any that is wrong.",
    "given": "Mapped as you chose.",
}


def hint_label(text: str, parent: QWidget) -> QLabel:
    label = QLabel(text, parent)
    label.setObjectName("hint")
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    return label


def error_label(parent: QWidget, name: str) -> QLabel:
    label = QLabel(parent)
    label.setObjectName(name)
    label.setProperty("formError", True)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.hide()
    return label


def value_label(parent: QWidget, name: str) -> QLabel:
    label = QLabel(parent)
    label.setObjectName(name)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def encoding_name(encoding: str | None) -> str:
    if not encoding:
        return ""
    return ENCODING_NAMES.get(encoding.lower(), encoding.upper())


def size_text(size: int) -> str:
    if size < 1024:
        return f"{size:,} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:,.1f} KB"
    return f"{size / (1024 * 1024):,.1f} MB"


def local_file(event: QDragEnterEvent | QDropEvent) -> str | None:
    """The one local file a drag carries, else None."""
    urls = event.mimeData().urls() if event.mimeData().hasUrls() else []
    files = [u.toLocalFile() for u in urls if u.isLocalFile()]
    return files[0] if len(files) == 1 and Path(files[0]).is_file() else None


class FilePage(QWizardPage):
    """Step 1: choose the file; what it is (format, layout, encoding, delimiter, sheet)."""

    def __init__(self, ctx: Context, parent=None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._preview: imports.ImportPreview | None = None
        self._reading: tuple[str, str, str | None] | None = None
        self.setTitle("Choose the file")
        self.setSubTitle(
            "A CSV or Excel file from a spreadsheet, an export from Google Contacts, Outlook "
            "or Mailchimp, or vCards from a phone. You can also drop a file here."
        )
        self.setAcceptDrops(True)

        self.path_edit = QLineEdit(self)
        self.path_edit.setObjectName("importPath")
        self.path_edit.setPlaceholderText("Choose a file, or type or paste its path")
        self.path_edit.editingFinished.connect(self._path_typed)
        self.choose_button = QPushButton("C&hoose…", self)
        self.choose_button.setObjectName("chooseFile")
        self.choose_button.setAutoDefault(False)
        self.choose_button.clicked.connect(self.choose_file)
        path_row = QHBoxLayout()
        path_row.addWidget(self.path_edit, 1)
        path_row.addWidget(self.choose_button)

        self.read_as = QComboBox(self)
        self.read_as.setObjectName("readAs")
        for fmt, text in READ_AS:
            self.read_as.addItem(text, fmt)
        self.read_as.currentIndexChanged.connect(lambda _i: self.inspect())
        self.sheet = QComboBox(self)
        self.sheet.setObjectName("sheet")
        self.sheet.activated.connect(lambda _i: self.inspect())
        self.sheet_label = QLabel("&Sheet:", self)
        self.sheet_label.setBuddy(self.sheet)

        self.error = error_label(self, "fileError")
        self.status = hint_label("", self)
        self.status.setObjectName("fileStatus")
        self.format_value = value_label(self, "detectedFormat")
        self.layout_value = value_label(self, "detectedLayout")
        self.encoding_value = value_label(self, "detectedEncoding")
        self.delimiter_value = value_label(self, "detectedDelimiter")
        self.columns_value = value_label(self, "detectedColumns")
        self.review_mapping = QCheckBox("&Review the column mapping anyway", self)
        self.review_mapping.setObjectName("reviewMapping")

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        file_label = QLabel("&File:", self)
        file_label.setBuddy(self.path_edit)
        form.addRow(file_label, path_row)
        read_label = QLabel("Read &as:", self)
        read_label.setBuddy(self.read_as)
        form.addRow(read_label, self.read_as)
        form.addRow(self.sheet_label, self.sheet)
        self._form = form
        details = QFormLayout()
        details.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        details.addRow("Format:", self.format_value)
        details.addRow("Layout:", self.layout_value)
        details.addRow("Encoding:", self.encoding_value)
        details.addRow("Delimiter:", self.delimiter_value)
        details.addRow("Columns:", self.columns_value)
        self._details_form = details
        self.details = QWidget(self)
        self.details.setObjectName("fileDetails")
        self.details.setLayout(details)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.status)
        layout.addSpacing(6)
        layout.addWidget(self.details)
        layout.addWidget(self.review_mapping)
        layout.addStretch(1)
        self._reader = Reader(self, cover=None)
        self._show_preview(None)

    # ------------------------------------------------------------ values

    @property
    def preview(self) -> imports.ImportPreview | None:
        """What the file turned out to be (None until read, or if refused)."""
        return self._preview

    def path(self) -> Path | None:
        text = self.path_edit.text().strip()
        return Path(os.path.expanduser(text)) if text else None

    def fmt(self) -> str:
        return self.read_as.currentData()

    def sheet_name(self) -> str | None:
        return (self.sheet.currentText() or None) if self.sheet.count() else None

    @property
    def reading(self) -> bool:
        return self._reader.pending

    def set_path(self, path: str | Path) -> None:
        """Read ``path`` (as if chosen), from the first sheet."""
        self.path_edit.setText(str(path))
        self.sheet.clear()
        self.inspect()

    @Slot()
    def choose_file(self) -> None:
        chosen = messages.open_file(
            self, "Import contacts from", FILE_FILTERS, purpose=FOLDER_PURPOSE
        )
        if chosen:
            self.set_path(chosen)

    def inspect(self) -> None:
        """Read the file's start on a worker; the details appear when it is read."""
        path = self.path()
        if path is None:
            self._reader.cancel()
            self._show_preview(None)
            return
        key = (str(path), self.fmt(), self.sheet_name())
        if key == self._reading and (self._reader.pending or self._preview is not None):
            return
        self._reading = key
        self._preview = None
        self.error.hide()
        self.status.setText(f"Reading {shortened(path.name)}…")
        self.details.setEnabled(False)
        self.completeChanged.emit()
        ctx, fmt, sheet = self._ctx, self.fmt(), self.sheet_name()
        self._reader.read(
            lambda: imports.inspect_file(ctx, path, fmt=fmt, sheet=sheet, limit=PREVIEW_ROWS),
            self._read,
            failed=self._refused,
        )

    # ------------------------------------------------------------- QWizardPage

    def initializePage(self) -> None:
        self.path_edit.setFocus(Qt.FocusReason.OtherFocusReason)

    def isComplete(self) -> bool:
        return self._preview is not None and not self._reader.pending

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if local_file(event):
            event.acceptProposedAction()

    def dragMoveEvent(self, event) -> None:
        if local_file(event):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        path = local_file(event)
        if path:
            event.acceptProposedAction()
            self.set_path(path)

    # ----------------------------------------------------------- private

    @Slot()
    def _path_typed(self) -> None:
        if self.path_edit.isModified():
            self.path_edit.setModified(False)
            self.sheet.clear()
            self.inspect()

    def _read(self, preview: imports.ImportPreview) -> None:
        self._preview = preview
        self.status.clear()
        self._show_preview(preview)
        self.completeChanged.emit()

    def _refused(self, error: CrmError) -> bool:
        self._preview = None
        self._show_preview(None)
        self.status.clear()
        self.error.setText(str(error))  # the reader's sentence names the file and what to do
        self.error.show()
        self.completeChanged.emit()
        return True

    def _show_preview(self, preview: imports.ImportPreview | None) -> None:
        self.details.setEnabled(preview is not None)
        self.details.setVisible(preview is not None)
        table = preview.table if preview is not None else None
        is_xlsx = table is not None and table.format == "xlsx" and len(table.sheets) > 1
        self._form.setRowVisible(self.sheet, is_xlsx)
        if table is None:
            self.review_mapping.hide()
            return
        if is_xlsx:
            self.sheet.blockSignals(True)
            self.sheet.clear()
            self.sheet.addItems(table.sheets)
            self.sheet.setCurrentText(table.sheet or table.sheets[0])
            self.sheet.blockSignals(False)
        self.format_value.setText(
            f"{FORMAT_NAMES.get(table.format, table.format)}, {size_text(table.size)}"
        )
        if preview.layout == "vcard":
            self.layout_value.setText("vCards: names, addresses, organisation and title are read")
        elif preview.layout and self.fmt() == preview.layout:
            self.layout_value.setText(
                f"Read as a {LAYOUTS.get(preview.layout, preview.layout)} export, as you chose"
            )
        elif preview.layout:
            self.layout_value.setText(
                f"{LAYOUTS.get(preview.layout, preview.layout)} export recognised"
            )
        elif preview.mapping_source == "remembered":
            self.layout_value.setText("The same columns as a file imported before")
        else:
            self.layout_value.setText("Not a known layout: you choose what each column is")
        csv_like = table.format == "csv"
        self._details_form.setRowVisible(self.encoding_value, csv_like and bool(table.encoding))
        self._details_form.setRowVisible(self.delimiter_value, csv_like and bool(table.delimiter))
        self.encoding_value.setText(encoding_name(table.encoding))
        delimiter = table.delimiter or ""
        self.delimiter_value.setText(DELIMITER_NAMES.get(delimiter, repr(delimiter)))
        n = len(table.headers)
        first = (shortened(h, 40) for h in table.headers[:8])
        shown = ", ".join(first) + (f" and {n - 8:,} more" if n > 8 else "")
        self.columns_value.setText(f"{n:,}: {shown}" if n else "none")
        known = preview.mapping_source == "layout" and not preview.mapping_problem
        self.review_mapping.setVisible(known)
        if not known:
            self.review_mapping.setChecked(False)


class MappingPage(QWizardPage):
    """Step 2: what each column of the file is imported as."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setTitle("What is in each column")
        self.setSubTitle(
            "Choose the field each column is imported as; columns set to “not imported” "
            "are left out. Several email or phone columns are all kept."
        )
        self.model = MappingModel(self)
        self.model.dataChanged.connect(self._changed)
        self.table = QTableView(self)
        self.table.setObjectName("mappingTable")
        self.table.setModel(self.model)
        self.table.setItemDelegateForColumn(MappingModel.TARGET, TargetDelegate(self.table))
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.AllEditTriggers)
        self.table.setTabKeyNavigation(False)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 14)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(MappingModel.NUMBER, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(MappingModel.HEADER, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(MappingModel.SAMPLES_COLUMN, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(MappingModel.TARGET, QHeaderView.ResizeMode.Fixed)
        header.resizeSection(MappingModel.HEADER, 200)
        header.resizeSection(MappingModel.TARGET, 200)
        self.source_label = hint_label("", self)
        self.source_label.setObjectName("mappingSource")
        self.warning = error_label(self, "mappingWarning")
        self._initial: dict[int, str] = {}
        layout = QVBoxLayout(self)
        layout.addWidget(self.source_label)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.warning)

    def initializePage(self) -> None:
        preview = self.wizard().file_page.preview
        if preview is None:
            return
        mapping = self.wizard().mapping_for(preview)
        self._initial = dict(preview.mapping)
        rows = [row.cells for row in preview.rows]
        self.model.set_columns(preview.table.headers, rows, mapping)
        previous: QWidget = self.table
        for row in range(self.model.rowCount()):
            self.table.openPersistentEditor(self.model.index(row, MappingModel.TARGET))
            combo = self.combo(row)
            if combo is not None:  # Tab goes down the column of combo boxes
                QWidget.setTabOrder(previous, combo)
                previous = combo
        layout_name = LAYOUTS.get(preview.layout or "", preview.layout or "")
        self.source_label.setText(
            MAPPING_SOURCE.get(preview.mapping_source, "").format(layout=layout_name)
        )
        self._changed()
        # Once the view has laid the combo boxes out (a hidden one takes no focus).
        QTimer.singleShot(0, self._focus_first)

    def _focus_first(self) -> None:
        first = self.combo(0) if self.model.rowCount() else None
        if first is not None and self.isVisible():
            first.setFocus(Qt.FocusReason.OtherFocusReason)

    def cleanupPage(self) -> None:
        # Back: the choices are kept for this file (the wizard remembers them).
        self.wizard().keep_mapping(self.model.mapping())

    def validatePage(self) -> bool:
        self.wizard().keep_mapping(self.model.mapping())
        return True

    def isComplete(self) -> bool:
        return bool(self.model.mapping()) and self.problem() is None

    def combo(self, column: int) -> QComboBox:
        """The "Import as" combo box of the file's column ``column`` (0-based)."""
        return self.table.indexWidget(self.model.index(column, MappingModel.TARGET))

    def problem(self) -> str | None:
        """Why the file cannot be imported with this mapping (the service's own check)."""
        preview = self.wizard().file_page.preview if self.wizard() is not None else None
        if preview is None:
            return None
        return imports.mapping_problem(preview.table.headers, self.model.mapping())

    def _changed(self, *_args) -> None:
        problem = self.problem()
        self.warning.setText(problem or "")
        self.warning.setVisible(bool(problem))
        self.completeChanged.emit()


class PreviewPage(QWizardPage):
    """Step 3: the first rows as they will be imported, each with its outcome."""

    def __init__(self, ctx: Context, parent=None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._preview: imports.ImportPreview | None = None
        self.setTitle("Preview")
        self.setSubTitle(
            f"The first {PREVIEW_ROWS} rows as they will be imported. Rejected rows are "
            "not imported: they go to a rejects file with the reason, to fix and import again."
        )
        self.model = PreviewModel(self)
        self.table = QTableView(self)
        self.table.setObjectName("previewTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setTabKeyNavigation(False)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(PreviewModel.NUMBER, QHeaderView.ResizeMode.ResizeToContents)
        for column in (PreviewModel.NAME, PreviewModel.EMAIL, PreviewModel.SCHOOL):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
            header.resizeSection(column, 150)
        header.resizeSection(PreviewModel.ROLE, 110)
        header.setStretchLastSection(True)
        self.summary = value_label(self, "previewSummary")
        self.note = hint_label(
            "“Update” means someone with the same email address is already here; "
            "“Opted out” means the address is suppressed, or its owner opted out or "
            "objected: they are never made marketable by an import.",
            self,
        )
        self.error = error_label(self, "previewError")
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.error)
        layout.addWidget(self.note)
        self._reader = Reader(self, cover=self.table)

    @property
    def preview(self) -> imports.ImportPreview | None:
        return self._preview

    @property
    def reading(self) -> bool:
        return self._reader.pending

    def initializePage(self) -> None:
        wizard = self.wizard()
        path, fmt, sheet, mapping = wizard.path(), wizard.fmt(), wizard.sheet(), wizard.mapping()
        self._preview = None
        self.model.set_rows([])
        self.error.hide()
        self.summary.setText("Reading the first rows…")
        ctx = self._ctx
        self._reader.read(
            lambda: imports.inspect_file(
                ctx, path, fmt=fmt, sheet=sheet, mapping=mapping, limit=PREVIEW_ROWS
            ),
            self._read,
            failed=self._failed,
        )
        self.completeChanged.emit()
        self.table.setFocus(Qt.FocusReason.OtherFocusReason)

    def isComplete(self) -> bool:
        return self._preview is not None and not self._reader.pending

    def _read(self, preview: imports.ImportPreview) -> None:
        self._preview = preview
        self.model.set_rows(preview.rows)
        n = len(preview.rows)
        if n == 0:
            self.summary.setText("The file has no rows to import after its header.")
        else:
            first = f"The first {n:,} rows" if n == PREVIEW_ROWS else f"All {n:,} rows"
            self.summary.setText(f"{first}: {outcome_counts(self.model.outcomes())}.")
        self.completeChanged.emit()

    def _failed(self, error: CrmError) -> bool:
        self.summary.clear()
        self.error.setText(f"The file could not be read again: {error}")
        self.error.show()
        self.completeChanged.emit()
        return True
