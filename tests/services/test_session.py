"""The one open-then-sign-in sequence, with the questions a person answers faked (no Qt)."""

from __future__ import annotations

import pytest

from crm_desktop.errors import DatabaseMissingError, PasswordRequiredError, SignInError
from crm_desktop.persistence import open_database
from crm_desktop.services import session, users
from crm_desktop.services.context import Context
from crm_desktop.services.session import PASSWORD_TRIES, Stopped

PASSWORD = "correct horse battery"


@pytest.fixture
def opened(monkeypatch) -> list:
    """Every database the sequence opens, each with ``disposed`` telling if it was closed."""
    databases: list = []

    def spy(spec, **kwargs):
        database = open_database(spec, **kwargs)
        database.disposed = False
        dispose = database.dispose

        def record():
            database.disposed = True
            dispose()

        database.dispose = record
        databases.append(database)
        return database

    monkeypatch.setattr(session, "open_database", spy)
    return databases


def never(*args):
    raise AssertionError(f"not to be asked: {args}")


def team_database(path) -> None:
    """A database with two users, so opening it needs someone to sign in."""
    db = open_database(path, create=True)
    try:
        owner = users.single_user_context(db)
        users.change_password(owner, PASSWORD)
        users.add_user(owner, "bob", "sales", "another long secret")
    finally:
        db.dispose()


# ------------------------------------------------------------- opening


def test_a_single_user_database_opens_as_its_owner_without_a_question(tmp_path, opened):
    open_database(tmp_path / "crm.db", create=True).dispose()
    ctx = session.open_and_sign_in(
        tmp_path / "crm.db", sign_in=never, confirm_create=never, ask_password=never
    )
    assert isinstance(ctx, Context)
    try:
        assert ctx.db is opened[0] and not ctx.db.disposed
        assert ctx.user == users.single_user_context(ctx.db).user
    finally:
        ctx.db.dispose()


def test_a_missing_database_is_refused_without_a_way_to_ask(tmp_path, opened):
    missing = tmp_path / "folder" / "typo.db"
    with pytest.raises(DatabaseMissingError, match="No database at"):
        session.open_and_sign_in(missing, sign_in=never)
    assert not (tmp_path / "folder").exists()


def test_declining_to_create_a_missing_database_stops_at_opening(tmp_path, opened):
    missing = tmp_path / "folder" / "typo.db"
    asked: list[DatabaseMissingError] = []
    result = session.open_and_sign_in(
        missing, sign_in=never, confirm_create=lambda exc: asked.append(exc) or False
    )
    assert result is Stopped.AT_OPENING
    assert [str(exc.location) for exc in asked] == [str(missing)]
    assert not (tmp_path / "folder").exists() and opened == []


def test_agreeing_creates_it_and_create_needs_no_question(tmp_path, opened):
    first = tmp_path / "folder" / "new.db"
    ctx = session.open_and_sign_in(first, sign_in=never, confirm_create=lambda exc: True)
    assert isinstance(ctx, Context) and first.stat().st_size > 0
    ctx.db.dispose()
    second = tmp_path / "other" / "new.db"
    ctx = session.open_and_sign_in(second, sign_in=never, create=True, confirm_create=never)
    assert isinstance(ctx, Context) and second.exists()
    ctx.db.dispose()


# ------------------------------------------------------------ passwords


def fake_server(monkeypatch, right: str, tmp_path) -> list:
    """A server that wants ``right``; returns the passwords it was given."""
    given: list = []

    def server(spec, *, create, password):
        given.append(password)
        if password != right:
            raise PasswordRequiredError("refused (db).", refused=password is not None)
        return open_database(tmp_path / "crm.db", create=True)

    monkeypatch.setattr(session, "open_database", server)
    return given


URL = "postgresql+psycopg://crm:typed-secret@db/crm"


def test_the_password_is_asked_for_where_masked_and_tried_until_right(tmp_path, monkeypatch):
    given = fake_server(monkeypatch, "right", tmp_path)
    asked: list[tuple[bool, str]] = []
    answers = iter(["wrong", "right"])

    def ask(refusal, where):
        asked.append((refusal.refused, where))
        return next(answers)

    ctx = session.open_and_sign_in(URL, sign_in=never, ask_password=ask)
    assert isinstance(ctx, Context)
    ctx.db.dispose()
    assert given == [None, "wrong", "right"]
    assert asked == [
        (False, "postgresql+psycopg://crm:***@db/crm"),
        (True, "postgresql+psycopg://crm:***@db/crm"),
    ]


def test_no_password_given_stops_at_opening(tmp_path, monkeypatch):
    given = fake_server(monkeypatch, "right", tmp_path)
    assert session.open_and_sign_in(URL, sign_in=never, ask_password=lambda *a: None) is (
        Stopped.AT_OPENING
    )
    assert given == [None]


def test_after_the_last_try_the_refusal_is_raised(tmp_path, monkeypatch):
    given = fake_server(monkeypatch, "right", tmp_path)
    with pytest.raises(PasswordRequiredError, match="refused"):
        session.open_and_sign_in(URL, sign_in=never, ask_password=lambda *a: "wrong")
    assert given == [None] + ["wrong"] * PASSWORD_TRIES


def test_without_a_way_to_ask_the_first_refusal_is_raised(tmp_path, monkeypatch):
    given = fake_server(monkeypatch, "right", tmp_path)
    with pytest.raises(PasswordRequiredError):
        session.open_and_sign_in(URL, sign_in=never)
    assert given == [None]


# ------------------------------------------------------------ signing in


def test_a_team_database_asks_who_signs_in(tmp_path, opened):
    team_database(tmp_path / "crm.db")
    seen: list = []

    def sign_in(db):
        seen.append(db)
        return users.sign_in(db, "bob", "another long secret")

    ctx = session.open_and_sign_in(tmp_path / "crm.db", sign_in=sign_in, check_owner=never)
    assert isinstance(ctx, Context)
    try:
        assert seen == [opened[0]] and ctx.user == "bob" and not ctx.db.disposed
    finally:
        ctx.db.dispose()


def test_cancelling_the_sign_in_stops_there_and_closes_the_database(tmp_path, opened):
    team_database(tmp_path / "crm.db")
    result = session.open_and_sign_in(tmp_path / "crm.db", sign_in=lambda db: None)
    assert result is Stopped.AT_SIGN_IN
    assert [db.disposed for db in opened] == [True]


def test_a_failed_sign_in_is_raised_and_closes_the_database(tmp_path, opened):
    team_database(tmp_path / "crm.db")
    with pytest.raises(SignInError):
        session.open_and_sign_in(
            tmp_path / "crm.db", sign_in=lambda db: users.sign_in(db, "bob", "not the password")
        )
    assert [db.disposed for db in opened] == [True]


def test_check_owner_sees_the_owner_and_may_refuse(tmp_path, opened):
    open_database(tmp_path / "crm.db", create=True).dispose()
    seen: list[str] = []
    ctx = session.open_and_sign_in(
        tmp_path / "crm.db", sign_in=never, check_owner=lambda owner: seen.append(owner.user)
    )
    assert isinstance(ctx, Context) and seen == [ctx.user]
    ctx.db.dispose()

    class Refused(Exception):
        pass

    def refuse(owner):
        raise Refused(owner.user)

    with pytest.raises(Refused):
        session.open_and_sign_in(tmp_path / "crm.db", sign_in=never, check_owner=refuse)
    assert opened[-1].disposed


def test_acting_context_alone_signs_in_without_opening(tmp_path):
    team_database(tmp_path / "crm.db")
    db = open_database(tmp_path / "crm.db")
    try:
        assert session.acting_context(db, lambda d: None) is None
        ctx = session.acting_context(db, lambda d: users.sign_in(d, "bob", "another long secret"))
        assert ctx is not None and ctx.user == "bob"
    finally:
        db.dispose()
