"""The first two pages of the export wizard: channel and campaign, then filters.

They only gather what the user wants (an :class:`ExportRequest`); who may be
contacted is decided by ``services.exports``, never here. The filter lists
that come from the database (interests, job roles in use, regions, owners)
are read on a worker (:mod:`~crm_desktop.ui.common.reads`).
"""

from __future__ import annotations

from datetime import date, timedelta

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QRadioButton,
    QVBoxLayout,
    QWidget,
    QWizardPage,
)

from crm_desktop.domain.enums import JOB_ROLES, Channel, SchoolPhase, Stage
from crm_desktop.domain.validation import clean_text
from crm_desktop.services import interests as interest_service
from crm_desktop.services import prospects as prospect_service
from crm_desktop.services import schools as school_service
from crm_desktop.services.context import Context
from crm_desktop.services.exports import ExportFilters
from crm_desktop.ui.common.date_field import DateField
from crm_desktop.ui.common.reads import LOADING_TEXT, Reader

MAX_CAMPAIGN = 200
MAX_PURPOSE = 5_000
DEFAULT_CONTACT_WINDOW_DAYS = 90

PERSONALISED_HINT = (
    "Unticked, the file holds names and addresses only. Ticked, it also holds each "
    "person's interests, job role and school, so the message can be tailored to them. "
    "That is profiling: people who have refused personalised marketing are left out."
)

# Mnemonics: Alt+B, Alt+N and Alt+F belong to the wizard's Back, Next and Finish.
CHANNEL_TEXT = {
    Channel.EMAIL: "&Email",
    Channel.SMS: "&SMS",
    Channel.PHONE: "&Phone",
    Channel.ONLINE: "&Online audiences",
}
CHANNEL_HINT = {
    Channel.EMAIL: "An email address for each person.",
    Channel.SMS: "A UK mobile number for each person.",
    Channel.PHONE: "A phone number for each person, for calls.",
    Channel.ONLINE: "Email and phone, to match people in an ads or social audience.",
}


# Each filter: what "no filter" says, and how a filter is named in a sentence.
ANY = {
    "interest": "Any interest",
    "role": "Any role",
    "stage": "Any stage",
    "school_phase": "Any phase or type",
    "region": "Any region",
    "owner": "Any owner",
}
FILTER_NOUN = {
    "interest": "interest",
    "role": "job role",
    "stage": "stage",
    "school_phase": "school phase or type",
    "region": "region",
    "owner": "owner",
}


def filter_choices(ctx: Context | None) -> dict[str, list[tuple[object, str]]]:
    """Each filter's (value, label) choices; with no ``ctx``, those needing no database."""
    roles = sorted({*JOB_ROLES, *(prospect_service.list_roles(ctx) if ctx else ())}, key=str.lower)
    regions = (
        {s.local_authority for s in school_service.list_schools(ctx) if s.local_authority}
        if ctx
        else set()
    )
    return {
        "interest": (
            [(i, name) for i, name, _n in interest_service.list_interests(ctx)] if ctx else []
        ),
        "role": [(r, r) for r in roles],
        "stage": [(s.value, s.label) for s in Stage],
        "school_phase": [(p.value, p.label) for p in SchoolPhase],
        "region": [(r, r) for r in sorted(regions, key=str.lower)],
        "owner": [(o, o) for o in prospect_service.list_owners(ctx)] if ctx else [],
    }


def _sentence(field: str, message: str) -> str:
    text = f"{field} {message}" if message.startswith(("is ", "must ", "contains ")) else message
    return text if text.endswith(".") else text + "."


class ErrorRows:
    """Error messages on their own form rows, hidden (taking no space) until shown."""

    def __init__(self, form: QFormLayout) -> None:
        self._form = form
        self._rows: dict[QLabel, int] = {}

    def add(self, label: QLabel) -> None:
        self._form.addRow("", label)
        row = self._form.rowCount() - 1
        self._rows[label] = row
        self._form.setRowVisible(row, False)
        label.show()

    def show(self, label: QLabel, text: str) -> None:
        label.setText(text)
        self._form.setRowVisible(self._rows[label], True)

    def hide(self, label: QLabel) -> None:
        label.clear()
        self._form.setRowVisible(self._rows[label], False)

    def shown(self, label: QLabel) -> bool:
        return bool(label.text())


def error_label(parent: QWidget, name: str) -> QLabel:
    label = QLabel(parent)
    label.setObjectName(name)
    label.setProperty("fieldError", True)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.hide()
    return label


def hint_label(text: str, parent: QWidget) -> QLabel:
    label = QLabel(text, parent)
    label.setObjectName("hint")
    label.setWordWrap(True)
    return label


class ChannelPage(QWizardPage):
    """Step 1: the channel and the campaign (name, purpose, personalised)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTitle("Channel and campaign")
        self.setSubTitle("Which channel is this list for, and what is the campaign?")

        self.channel_buttons: dict[Channel, QRadioButton] = {}
        self._channel_group = QButtonGroup(self)
        channel_box = QGroupBox("Channel", self)
        grid = QFormLayout(channel_box)
        for channel in Channel:
            button = QRadioButton(CHANNEL_TEXT[channel], channel_box)
            button.setObjectName(f"channel_{channel.value}")
            self.channel_buttons[channel] = button
            self._channel_group.addButton(button)
            hint = hint_label(CHANNEL_HINT[channel], channel_box)
            grid.addRow(button, hint)
        self.channel_buttons[Channel.EMAIL].setChecked(True)

        self.campaign_edit = QLineEdit(self)
        self.campaign_edit.setObjectName("campaign")
        self.campaign_edit.setMaxLength(MAX_CAMPAIGN)
        self.campaign_edit.setPlaceholderText("Required, e.g. Spring term newsletter")
        self.campaign_edit.textChanged.connect(self._campaign_changed)
        self.campaign_error = error_label(self, "error_campaign")

        self.purpose_edit = QPlainTextEdit(self)
        self.purpose_edit.setObjectName("purpose")
        self.purpose_edit.setTabChangesFocus(True)
        self.purpose_edit.setPlaceholderText(
            "Optional: what the campaign is for. It is kept with the export record."
        )
        self.purpose_edit.setFixedHeight(self.fontMetrics().lineSpacing() * 4 + 12)
        self.purpose_error = error_label(self, "error_purpose")

        self.personalised_check = QCheckBox("Pe&rsonalised campaign", self)
        self.personalised_check.setObjectName("personalised")
        personalised = QWidget(self)
        personalised_layout = QVBoxLayout(personalised)
        personalised_layout.setContentsMargins(0, 0, 0, 0)
        personalised_layout.setSpacing(2)
        personalised_layout.addWidget(self.personalised_check)
        personalised_layout.addWidget(hint_label(PERSONALISED_HINT, personalised))
        personalised_layout.addStretch(1)

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self._errors = ErrorRows(form)
        campaign_label = QLabel("&Campaign name:", self)
        campaign_label.setBuddy(self.campaign_edit)
        form.addRow(campaign_label, self.campaign_edit)
        self._errors.add(self.campaign_error)
        purpose_label = QLabel("P&urpose:", self)
        purpose_label.setBuddy(self.purpose_edit)
        form.addRow(purpose_label, self.purpose_edit)
        self._errors.add(self.purpose_error)
        form.addRow("", personalised)

        layout = QVBoxLayout(self)
        layout.addWidget(channel_box)
        layout.addLayout(form)
        layout.addStretch(1)

    # ------------------------------------------------------------ values

    def channel(self) -> Channel:
        return next(c for c, b in self.channel_buttons.items() if b.isChecked())

    def set_channel(self, channel: Channel) -> None:
        self.channel_buttons[channel].setChecked(True)

    def campaign(self) -> str:
        return self.campaign_edit.text().strip()

    def purpose(self) -> str | None:
        return self.purpose_edit.toPlainText().strip() or None

    def personalised(self) -> bool:
        return self.personalised_check.isChecked()

    # ------------------------------------------------------------- QWizardPage

    def showEvent(self, event: QShowEvent) -> None:
        # The channel defaults to email; the name is what everyone has to type.
        super().showEvent(event)
        self.campaign_edit.setFocus(Qt.FocusReason.OtherFocusReason)

    def isComplete(self) -> bool:
        return bool(self.campaign())

    def validatePage(self) -> bool:
        """The checks the service makes, shown under the fields before moving on."""
        ok = True
        for edit, label, field, kwargs in (
            (self.campaign_edit, self.campaign_error, "Campaign name", {"max_len": MAX_CAMPAIGN}),
            (
                self.purpose_edit,
                self.purpose_error,
                "Purpose",
                {"max_len": MAX_PURPOSE, "multiline": True},
            ),
        ):
            text = edit.text() if isinstance(edit, QLineEdit) else edit.toPlainText()
            try:
                clean_text(text, required=edit is self.campaign_edit, **kwargs)
            except ValueError as exc:
                self._errors.show(label, _sentence(field, str(exc)))
                if ok:
                    edit.setFocus(Qt.FocusReason.OtherFocusReason)
                ok = False
            else:
                self._errors.hide(label)
        return ok

    @Slot()
    def _campaign_changed(self) -> None:
        self._errors.hide(self.campaign_error)
        self.completeChanged.emit()


class FiltersPage(QWizardPage):
    """Step 2: who to consider (:class:`ExportFilters`); "Any" leaves a filter off."""

    def __init__(self, ctx: Context, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._today = date.today()
        self.setTitle("Who to consider")
        self.setSubTitle(
            "Narrow the list, or leave a filter on “Any”. Whatever you choose, "
            "people who may not be contacted on this channel are left out."
        )
        self.combos: dict[str, QComboBox] = {}
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for name, text in (
            ("interest", "&Interest:"),
            ("role", "Job &role:"),
            ("stage", "S&tage:"),
            ("school_phase", "School &phase/type:"),
            ("region", "Re&gion (local authority):"),
            ("owner", "O&wner:"),
        ):
            combo = QComboBox(self)
            combo.setObjectName(f"filter_{name}")
            combo.setMaxVisibleItems(20)
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
            )
            combo.setMinimumContentsLength(24)
            self.combos[name] = combo
            label = QLabel(text, self)
            label.setBuddy(combo)
            form.addRow(label, combo)

        # Mnemonics: Alt+B is the wizard's Back, so "befor&e".
        self.since_check = QCheckBox("On or &after", self)
        self.since_check.setObjectName("since_check")
        self.since_date = self._date_edit("since_date", -DEFAULT_CONTACT_WINDOW_DAYS)
        self.until_check = QCheckBox("On or befor&e", self)
        self.until_check.setObjectName("until_check")
        self.until_date = self._date_edit("until_date", 0)
        dates = QGridLayout()
        dates.setContentsMargins(0, 0, 0, 0)
        for row, (check, edit) in enumerate(
            ((self.since_check, self.since_date), (self.until_check, self.until_date))
        ):
            check.toggled.connect(edit.setEnabled)
            check.toggled.connect(self._dates_changed)
            edit.dateChanged.connect(self._dates_changed)
            dates.addWidget(check, row, 0)
            dates.addWidget(edit, row, 1)
        dates.setColumnStretch(2, 1)
        form.addRow("Last contacted:", dates)
        self._errors = ErrorRows(form)
        self.dates_error = error_label(self, "error_dates")
        self._errors.add(self.dates_error)
        # A choice made (set_filter) before the lists arrived that they no longer offer.
        self.choices_error = error_label(self, "error_choices")
        self._errors.add(self.choices_error)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(
            hint_label(
                "The last-contacted dates are optional: tick one or both to use them. "
                "With a date set, people never contacted are not considered.",
                self,
            )
        )
        layout.addStretch(1)
        self._pending: dict[str, object] = {}  # set_filter() while the lists are read
        for combo in self.combos.values():
            combo.activated.connect(lambda _index: self._errors.hide(self.choices_error))
        self._reader = Reader(self, cover=None, error_title="Could not read the filter lists")
        self._fill_choices(filter_choices(None))
        self.reload_choices()

    def _date_edit(self, name: str, offset_days: int) -> DateField:
        edit = DateField(self, value=self._today + timedelta(days=offset_days))
        edit.setObjectName(name)
        edit.setEnabled(False)
        return edit

    def reload_choices(self) -> None:
        """Fill the lists from the database (interests, roles, regions, owners in use).

        They are read on a worker; meanwhile each list offers "Any" and what
        needs no database (stages, phases, the usual job roles), and keeps
        what is chosen in it. If they cannot be read, that is said, and the
        lists stay as they are.
        """
        ctx = self._ctx
        self._reader.read(lambda: filter_choices(ctx), self._fill_choices, failed=self._not_read)

    @property
    def choices_loaded(self) -> bool:
        return not self._reader.pending

    def _fill_choices(self, choices: dict[str, list[tuple[object, str]]]) -> None:
        """Put ``choices`` in the lists, keeping what each has chosen."""
        lost = []
        for name, combo in self.combos.items():
            current = combo.currentData()
            combo.clear()
            combo.addItem(ANY[name], None)
            for value, label in choices[name]:
                combo.addItem(label, value)
            index = combo.findData(current) if current is not None else 0
            if index < 0 and name in self._pending:
                lost.append(FILTER_NOUN[name])
            combo.setCurrentIndex(max(index, 0))
        if self.choices_loaded:
            self._pending.clear()
        if lost:
            self._errors.show(
                self.choices_error,
                f"The {' and the '.join(lost)} chosen for this export "
                f"{'is' if len(lost) == 1 else 'are'} no longer on the list: "
                "“Any” is chosen instead.",
            )

    def _not_read(self, _error) -> bool:
        # The message says why; a choice made meanwhile stays chosen (and
        # filters), under a name saying its list could not be read.
        for name in self._pending:
            combo = self.combos[name]
            combo.setItemText(combo.findData(self._pending[name]), "Chosen (list not read)")
        self._pending.clear()
        return False

    def set_filter(self, name: str, value: object) -> None:
        """Choose ``value`` in filter ``name`` (for callers that start from a selection).

        While the lists are being read, a value they do not offer yet is
        chosen as "Loading…" (and :meth:`filters` has it); it takes its name
        when the lists arrive, or, if they do not offer it, "Any" is chosen
        and the page says so.
        """
        combo = self.combos[name]
        index = combo.findData(value)
        if index < 0 and not self.choices_loaded:
            combo.addItem(LOADING_TEXT, value)
            index = combo.count() - 1
            self._pending[name] = value
        if index < 0:
            raise ValueError(f"{value!r} is not offered in the {name} filter")
        combo.setCurrentIndex(index)

    def filters(self) -> ExportFilters:
        def value(name: str):
            return self.combos[name].currentData()

        return ExportFilters(
            interest_id=value("interest"),
            role=value("role"),
            stage=value("stage"),
            school_phase=value("school_phase"),
            region=value("region"),
            owner=value("owner"),
            last_contact_from=self.since_date.date() if self.since_check.isChecked() else None,
            last_contact_to=self.until_date.date() if self.until_check.isChecked() else None,
        )

    def initializePage(self) -> None:
        self.combos["interest"].setFocus(Qt.FocusReason.OtherFocusReason)

    def validatePage(self) -> bool:
        for check, edit in (
            (self.since_check, self.since_date),
            (self.until_check, self.until_date),
        ):
            if check.isChecked() and not edit.check():
                edit.setFocus(Qt.FocusReason.OtherFocusReason)
                return False
        f = self.filters()
        if f.last_contact_from and f.last_contact_to and f.last_contact_from > f.last_contact_to:
            self._errors.show(
                self.dates_error, "The “on or before” date is earlier than the “on or after” date."
            )
            self.until_date.setFocus(Qt.FocusReason.OtherFocusReason)
            return False
        return True

    @Slot()
    def _dates_changed(self) -> None:
        self._errors.hide(self.dates_error)
