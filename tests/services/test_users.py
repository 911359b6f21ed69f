from datetime import timedelta

import pytest
from sqlalchemy import select

from crm_desktop.domain.models import AuditEntry, User
from crm_desktop.domain.roles import Action, Role
from crm_desktop.domain.types import utcnow
from crm_desktop.domain.validation import ValidationError
from crm_desktop.errors import CrmError, NotPermittedError, SignInError
from crm_desktop.services import audit
from crm_desktop.services import users as U
from crm_desktop.services.context import Context

PASSWORD = "correct horse battery"


def owner(db) -> Context:
    ctx = U.single_user_context(db)
    assert ctx.role is Role.ADMIN
    return ctx


def test_new_database_is_single_user_with_an_admin_owner(db):
    assert U.sign_in_required(db) is False
    ctx = owner(db)
    assert [u.role for u in U.list_users(ctx)] == ["admin"]


def test_second_user_needs_the_owner_password_first_then_everyone_signs_in(db):
    ctx = owner(db)
    with pytest.raises(CrmError, match="Set your own password first"):
        U.add_user(ctx, "bob", "sales", PASSWORD)
    U.change_password(ctx, PASSWORD)
    U.add_user(ctx, "Bob", "sales", "another long secret")
    assert U.sign_in_required(db) is True
    with pytest.raises(SignInError):
        U.single_user_context(db)
    bob = U.sign_in(db, "BOB", "another long secret")
    assert (bob.user, bob.role) == ("bob", Role.SALES)


def test_password_rules(db):
    ctx = owner(db)
    with pytest.raises(ValidationError, match="at least 12"):
        U.change_password(ctx, "elevenchars")
    with pytest.raises(ValidationError, match="must not be the user name"):
        U.change_password(Context(db, user="longusername1", role=Role.ADMIN), "LongUserName1")
    with pytest.raises(ValidationError, match="lower-case letters"):
        U.add_user(ctx, "Bad Name!", "sales", PASSWORD)


def test_passwords_are_argon2id_and_never_stored_or_logged(db, caplog):
    ctx = owner(db)
    U.change_password(ctx, PASSWORD)
    U.add_user(ctx, "bob", "sales", "another long secret")
    with pytest.raises(SignInError):
        U.sign_in(db, "bob", "wrong password here")
    with db.read() as session:
        hashes = [u.password_hash for u in session.scalars(select(User))]
        trail = " ".join(e.values + (e.reason or "") for e in session.scalars(select(AuditEntry)))
    assert all(h.startswith("$argon2id$") for h in hashes)
    params = dict(p.split("=") for p in hashes[0].split("$")[3].split(","))
    assert int(params["m"]) >= 19456 and int(params["t"]) >= 2 and int(params["p"]) >= 1
    for secret in (PASSWORD, "another long secret", "wrong password here"):
        assert secret not in trail and secret not in caplog.text and secret not in "".join(hashes)


def test_failures_slow_down_then_lock_and_are_audited(db):
    ctx = owner(db)
    U.change_password(ctx, PASSWORD)
    U.add_user(ctx, "bob", "sales", "another long secret")
    t = utcnow()
    with pytest.raises(SignInError, match="Unknown user name or wrong password"):
        U.sign_in(db, "bob", "nope nope nope", now=t)
    with pytest.raises(SignInError, match="wait 1 seconds"):
        U.sign_in(db, "bob", "another long secret", now=t)  # too soon, even if right
    for i in range(1, 5):
        t += timedelta(seconds=2**i)
        with pytest.raises(SignInError):
            U.sign_in(db, "bob", "still wrong!!", now=t)
    with pytest.raises(SignInError, match="locked after 5 failed attempts"):
        U.sign_in(db, "bob", "another long secret", now=t + timedelta(seconds=30))
    assert U.sign_in(db, "bob", "another long secret", now=t + timedelta(minutes=16)).user == "bob"
    actions = [e.action for e in audit.entries(ctx, entity="user", entity_id="bob")]
    assert actions.count("sign-in.failed") == 5 and actions[0] == "sign-in"
    assert "sign-in.refused" in actions


def test_admin_resets_and_deactivates_but_keeps_an_admin(db):
    ctx = owner(db)
    U.change_password(ctx, PASSWORD)
    U.add_user(ctx, "bob", "marketing", "another long secret")
    U.reset_password(ctx, "bob", "a brand new secret")
    assert U.sign_in(db, "bob", "a brand new secret").role is Role.MARKETING
    with pytest.raises(CrmError, match="cannot deactivate yourself"):
        U.deactivate_user(ctx, ctx.user)
    with pytest.raises(CrmError, match="always be an active admin"):
        U.set_role(ctx, ctx.user, "sales")
    U.deactivate_user(ctx, "bob")
    with pytest.raises(SignInError):
        U.sign_in(db, "bob", "a brand new secret")
    assert {u.username: u.active for u in U.list_users(ctx)}["bob"] is False


def test_non_admins_cannot_manage_users(db):
    ctx = owner(db)
    U.change_password(ctx, PASSWORD)
    U.add_user(ctx, "bob", "manager", "another long secret")
    bob = U.sign_in(db, "bob", "another long secret")
    with pytest.raises(
        NotPermittedError, match="Not permitted: bob \\(manager\\) may not manage users"
    ):
        U.add_user(bob, "eve", "admin", "yet another secret")
    with pytest.raises(NotPermittedError):
        U.list_users(bob)
    assert bob.may(Action.ERASE) and not bob.may(Action.BACKUP)


def test_audit_chain_detects_tampering(db):
    ctx = owner(db)
    U.change_password(ctx, PASSWORD)
    U.add_user(ctx, "bob", "sales", "another long secret")
    assert audit.verify(ctx).ok
    with db.transaction() as session:
        entry = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()[1]
        entry.actor = "mallory"
        bad_id = entry.id
    result = audit.verify(ctx)
    assert (result.ok, result.first_bad_id, result.problem) == (False, bad_id, "was altered")


def test_weaker_hashes_are_upgraded_on_sign_in(db):
    from argon2 import PasswordHasher

    ctx = owner(db)
    U.change_password(ctx, PASSWORD)
    U.add_user(ctx, "bob", "sales", "another long secret")
    weak = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)  # OWASP's minimum
    with db.transaction() as session:
        bob = session.scalars(select(User).where(User.username == "bob")).one()
        bob.password_hash = weak.hash("another long secret")
    U.sign_in(db, "bob", "another long secret")
    with db.read() as session:
        upgraded = session.scalars(select(User).where(User.username == "bob")).one().password_hash
    assert "m=65536,t=3,p=4" in upgraded
    assert U.sign_in(db, "bob", "another long secret").user == "bob"
