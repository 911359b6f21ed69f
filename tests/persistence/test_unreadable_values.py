"""A damaged row is named by its id, never by the personal data it holds."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy.exc import DBAPIError

from crm_desktop.cli import main
from crm_desktop.domain.validation import ProspectInput, ValidationError
from crm_desktop.errors import DatabaseError
from crm_desktop.persistence import open_database
from crm_desktop.persistence.db import friendly_db_error
from crm_desktop.services import Context
from crm_desktop.services import prospects as P

EMAIL = "ada.private@example.com"


@pytest.fixture
def damaged(tmp_path):
    """A database whose prospect #2 has its email address in a date column."""
    path = tmp_path / "crm.db"
    db = open_database(path, create=True)
    ctx = Context(db, user="alice")
    P.create_prospect(ctx, ProspectInput(first_name="Bo", last_name="Kay", email="bo@example.com"))
    P.create_prospect(ctx, ProspectInput(first_name="Ada", last_name="Lovelace", email=EMAIL))
    db.dispose()
    conn = sqlite3.connect(path)
    conn.execute("UPDATE prospect SET source_date = email WHERE id = 2")
    conn.commit()
    conn.close()
    return path


def test_the_cli_names_the_row_and_not_the_address(damaged, capsys):
    code = main(["--db", str(damaged), "prospect", "show", "2"])
    captured = capsys.readouterr()
    assert code == 1
    assert "Traceback" not in captured.err
    assert EMAIL not in captured.err + captured.out
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert "cannot be read (prospect #2, source_date)" in lines[0]
    assert "may be damaged" in lines[0]


def test_the_service_error_carries_no_personal_data_not_even_as_its_cause(damaged):
    db = open_database(damaged)
    try:
        with pytest.raises(DatabaseError) as exc:
            P.find_prospect(Context(db, user="alice"), "2")
    finally:
        db.dispose()
    assert "prospect #2, source_date" in str(exc.value)
    assert EMAIL not in str(exc.value)
    assert exc.value.__cause__ is None
    assert exc.value.__suppress_context__


def test_other_rows_still_read(damaged):
    db = open_database(damaged)
    try:
        view = P.find_prospect(Context(db, user="alice"), "1")
    finally:
        db.dispose()
    assert (view.id, view.email) == (1, "bo@example.com")


def test_a_validation_error_inside_a_transaction_is_not_taken_for_damage(tmp_path):
    db = open_database(tmp_path / "crm.db", create=True)
    try:
        with pytest.raises(ValidationError), db.transaction():
            raise ValidationError({"first_name": "is required"})
    finally:
        db.dispose()


def test_a_driver_message_loses_its_detail_and_quoted_values():
    driver = Exception(
        'duplicate key value violates unique constraint "uq_prospect_email_key"\n'
        f"DETAIL:  Key (email_key)=({EMAIL}) already exists."
    )
    message = str(friendly_db_error(DBAPIError("INSERT ...", {"email": EMAIL}, driver)))
    assert EMAIL not in message
    assert message == "Database error: duplicate key value violates unique constraint …"


def test_a_quoted_value_in_a_one_line_driver_message_is_left_out():
    driver = Exception(f"invalid input syntax for type date: \"{EMAIL}\" or '{EMAIL}'")
    message = str(friendly_db_error(DBAPIError("SELECT ...", {}, driver), "crm.db"))
    assert EMAIL not in message
    assert message == "Database error (crm.db): invalid input syntax for type date: … or …"
