"""Roles and what each may do. Deny by default; checked in the service layer.

The GUI hides what a role may not do, but the services refuse it anyway, so
the GUI, the CLI and any script get the same answer.
"""

from __future__ import annotations

from enum import StrEnum

from .enums import Labelled


class Role(Labelled):
    SALES = "sales"
    MARKETING = "marketing"
    MANAGER = "manager"
    ADMIN = "admin"


class Action(StrEnum):
    VIEW = "view prospects and schools"
    EDIT_RECORDS = "create, edit and delete prospects and schools"
    IMPORT_CONTACTS = "import contacts from files"
    LOG_CONTACT = "log correspondence"
    MANAGE_FOLLOWUPS = "manage follow-ups"
    RECORD_OPT_OUT = "record opt-outs and objections"
    MANAGE_CONSENT = "change consent and lawful basis"
    MANAGE_SUPPRESSION = "manage the suppression list"
    MERGE_PROSPECTS = "merge duplicate prospects"
    EXPORT = "export campaign lists"
    SYNC_EMAIL_TOOL = "import unsubscribes from the email tool"
    DATA_SUBJECT_REQUESTS = "handle data-subject requests"
    ERASE = "erase a person"
    RESTRICT = "restrict processing"
    VIEW_AUDIT = "view the audit trail"
    RETENTION_REVIEW = "review retention"
    MANAGE_USERS = "manage users and roles"
    MANAGE_SETTINGS = "change settings and load demo data"
    BACKUP = "back up and restore the database"


_SALES = frozenset(
    {
        Action.VIEW,
        Action.EDIT_RECORDS,
        # Whoever may create prospects may bring them in from a file.
        Action.IMPORT_CONTACTS,
        Action.LOG_CONTACT,
        Action.MANAGE_FOLLOWUPS,
        Action.RECORD_OPT_OUT,
    }
)
# Merging moves consent records and the lawful basis between records, which
# only marketing (and above) may change.
_MARKETING = _SALES | {
    Action.MANAGE_CONSENT,
    Action.MERGE_PROSPECTS,
    Action.MANAGE_SUPPRESSION,
    Action.EXPORT,
    Action.SYNC_EMAIL_TOOL,
}
_MANAGER = _MARKETING | {
    Action.DATA_SUBJECT_REQUESTS,
    Action.ERASE,
    Action.RESTRICT,
    Action.VIEW_AUDIT,
    Action.RETENTION_REVIEW,
}
# Admin also holds every other right: a new local database's single user is
# its admin and must be able to do everything.
_ADMIN = _MANAGER | {Action.MANAGE_USERS, Action.MANAGE_SETTINGS, Action.BACKUP}

PERMISSIONS: dict[Role, frozenset[Action]] = {
    Role.SALES: _SALES,
    Role.MARKETING: frozenset(_MARKETING),
    Role.MANAGER: frozenset(_MANAGER),
    Role.ADMIN: frozenset(_ADMIN),
}


def may(role: Role | str, action: Action) -> bool:
    return action in PERMISSIONS[Role(role)]
