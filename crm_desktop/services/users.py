"""Users, roles and signing in.

A new database starts in single-user mode: its owner (named after the
operating-system account) is admin and no password is asked. The owner must
set a password before a second user can be added; from then on everyone
signs in. Passwords are hashed with argon2id (at least OWASP's minimum
parameters; re-hashed on sign-in when the parameters change). Repeated
failures earn a growing delay and then a temporary lock. Every sign-in and
failure goes into the audit trail; a password never does.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import func, select
from sqlmodel import Session

from ..domain.models import AuditEntry, User
from ..domain.roles import Action, Role
from ..domain.types import utcnow
from ..domain.validation import ValidationError
from ..errors import CrmError, DatabaseError, DuplicateError, NotFoundError, SignInError
from ..persistence import pending_store
from ..persistence.db import Database
from . import audit
from .context import Context, os_user
from .results import Jsonable

MIN_PASSWORD = 12
MAX_PASSWORD = 1024
LOCK_AFTER = 5  # failures in a row
LOCK_FOR = timedelta(minutes=15)
# argon2id at or above OWASP's minimum (m=19 MiB, t=2, p=1): RFC 9106's
# second recommendation, argon2-cffi's default.
HASHER = PasswordHasher(time_cost=3, memory_cost=65536, parallelism=4)
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
BAD_SIGN_IN = "Unknown user name or wrong password."


@dataclass(frozen=True)
class UserView(Jsonable):
    username: str
    display_name: str
    role: str
    active: bool
    has_password: bool
    locked_until: datetime | None
    last_sign_in_at: datetime | None
    created_at: datetime
    record_only: bool = False  # a name on records (demo staff): never signs in


def _view(u: User) -> UserView:
    return UserView(
        u.username, u.display_name, u.role, u.active, u.password_hash is not None,
        u.locked_until, u.last_sign_in_at, u.created_at, bool(u.record_only),
    )  # fmt: skip


def normalise_username(name: str) -> str:
    text = (name or "").strip().lower()
    if not _USERNAME.match(text):
        raise ValidationError(
            {"username": "use 1-64 lower-case letters, digits, '.', '_' or '-' (e.g. jane.smith)"}
        )
    return text


def check_password(password: str, username: str) -> None:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise ValidationError({"password": f"must be at least {MIN_PASSWORD} characters"})
    if len(password) > MAX_PASSWORD:
        raise ValidationError({"password": f"must be at most {MAX_PASSWORD} characters"})
    if password.strip().lower() == username.lower():
        raise ValidationError({"password": "must not be the user name"})


def ensure_owner(db: Database) -> None:
    """Make the owner (an admin without a password) if the database has no users.

    Record-only users (demo staff) do not count: they cannot use the database.
    """
    people = select(func.count()).select_from(User).where(User.record_only.is_(False))
    with db.read() as session:  # usually there are: no write (a read-only file opens too)
        if session.scalar(people):
            return
    with db.transaction() as session:
        if session.scalar(people):
            return
        name = os_user().lower()
        try:
            name = normalise_username(name)
        except ValidationError:
            name = "owner"
        session.add(
            User(username=name, display_name=os_user(), role=Role.ADMIN.value, created_at=utcnow())
        )
        session.flush()
        audit.record(session, name, "user.created", "user", name, {"role": "admin"},
                     reason="owner of a new database")  # fmt: skip


def _sign_in_read_only(db: Database, key: str, password: str) -> Context:
    """Check the password of a database opened read-only, where nothing can be recorded.

    The attempt counters and the audit entry cannot be written; a read-only
    copy gives nothing more than the file itself would.
    """
    with db.read() as session:
        user = session.scalars(select(User).where(User.username == key)).first()
        if user is None or not user.active or user.password_hash is None:
            raise SignInError(BAD_SIGN_IN)
        try:
            HASHER.verify(user.password_hash, password or "")
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            raise SignInError(BAD_SIGN_IN) from None
        return Context(db, user=user.username, role=Role(user.role))


def sign_in_required(db: Database) -> bool:
    """True once the database has had a second user (deactivated ones count too).

    Record-only users (demo staff) do not count: they can never sign in.
    """
    ensure_owner(db)
    with db.read() as session:
        people = select(func.count()).select_from(User).where(User.record_only.is_(False))
        return (session.scalar(people) or 0) > 1


def single_user_context(db: Database) -> Context:
    """The owner's context in single-user mode."""
    ensure_owner(db)
    with db.read() as session:
        users = session.scalars(select(User).where(User.record_only.is_(False))).all()
        if len(users) != 1 or not users[0].active:
            raise SignInError("This database has several users: sign in.")
        return Context(db, user=users[0].username, role=Role(users[0].role))


#: How long recording a successful sign-in waits for another program's write.
SIGN_IN_RECORD_WAIT = 0.25


def _clean_sign_in(
    db: Database, key: str, password: str, now: datetime
) -> tuple[Context | None, str | None]:
    """The context if the password is right and nothing about the account must change.

    Else (None, the hash the password did not match, if it was checked), so
    that the full way does not spend a second hashing on the same answer.

    Checked in a read transaction, so that signing in (which ``crm`` does for
    every command, ``crm prospect list`` too) never waits for another
    program's write. A failure, a lock or a counter to reset goes the full
    way, in a write transaction.
    """
    with db.read() as session:
        user = session.scalars(select(User).where(User.username == key)).first()
        if (
            user is None
            or not user.active
            or user.password_hash is None
            or user.record_only
            or user.failed_attempts
            or (user.locked_until and user.locked_until > now)
            or (user.next_attempt_at and user.next_attempt_at > now)
        ):
            return None, None
        try:
            HASHER.verify(user.password_hash, password or "")
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return None, user.password_hash
        return Context(db, user=user.username, role=Role(user.role)), None


def record_sign_in(
    db: Database,
    username: str,
    at: datetime,
    *,
    wait: float | None = None,
    password: str | None = None,
    pending_id: str | None = None,
) -> None:
    """Record a successful sign-in (last sign-in, audit entry); DatabaseError if busy.

    ``password`` re-hashes it if the hashing parameters changed; ``pending_id``
    marks a sign-in recorded late (kept while the database was busy), which
    is written once however often it is retried.
    """
    with db.transaction(wait=wait) as session:
        user = session.scalars(select(User).where(User.username == username)).first()
        if user is None:
            return
        if pending_id is not None:
            done = session.scalars(
                select(AuditEntry.id).where(
                    AuditEntry.action == "sign-in", AuditEntry.values.contains(pending_id)
                )
            ).first()
            if done is not None:
                return
        if password is not None and HASHER.check_needs_rehash(user.password_hash):
            user.password_hash = HASHER.hash(password)
        if user.last_sign_in_at is None or user.last_sign_in_at < at:
            user.last_sign_in_at = at
        late = {"signed_in_at": at.isoformat(), "pending_id": pending_id} if pending_id else None
        audit.record(session, username, "sign-in", "user", username, late)


def sign_in(db: Database, username: str, password: str, *, now: datetime | None = None) -> Context:
    """Check a user name and password; return the signed-in context.

    A successful sign-in is recorded without keeping the person waiting: if
    another program holds the write lock, the record is kept outside the
    database and written later (see services.pending).
    """
    ensure_owner(db)
    clock = now is None  # the real time, not one given by a test
    now = now or utcnow()
    key = (username or "").strip().lower()
    if db.read_only:
        return _sign_in_read_only(db, key, password)
    ctx, refused_hash = _clean_sign_in(db, key, password, now)
    if ctx is not None:
        try:
            record_sign_in(db, ctx.user, now, wait=SIGN_IN_RECORD_WAIT, password=password)
        except DatabaseError:
            item = pending_store.Pending(
                pending_store.SIGN_IN, ctx.user, ctx.role.value, now.isoformat()
            )
            try:
                pending_store.keep(db, item)
            except CrmError:
                # Not even a file can be written: sign in by the one path that waits.
                pass
            else:
                return ctx
        else:
            return ctx
    with db.transaction() as session:
        user = session.scalars(select(User).where(User.username == key)).first()
        if user is None or not user.active or user.password_hash is None or user.record_only:
            audit.record(session, key[:100] or "?", "sign-in.failed", "user", key[:100],
                         reason="unknown, inactive, record-only or without a password")  # fmt: skip
            raise_after = SignInError(BAD_SIGN_IN)
        elif user.locked_until and user.locked_until > now:
            minutes = max(1, int((user.locked_until - now).total_seconds() // 60) + 1)
            audit.record(session, key, "sign-in.refused", "user", key, reason="locked")
            raise_after = SignInError(
                f"This account is locked after {LOCK_AFTER} failed attempts; "
                f"try again in {minutes} minute{'s' if minutes != 1 else ''}."
            )
        elif user.next_attempt_at and user.next_attempt_at > now:
            seconds = math.ceil((user.next_attempt_at - now).total_seconds())
            raise_after = SignInError(f"Too many attempts: wait {seconds} seconds and try again.")
        else:
            try:
                if refused_hash is not None and refused_hash == user.password_hash:
                    raise VerifyMismatchError  # checked a moment ago, against this same hash
                HASHER.verify(user.password_hash, password or "")
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                # The delay runs from the failure, not from the start of the
                # check (hashing alone can take most of a second).
                failed_at = utcnow() if clock else now
                user.failed_attempts += 1
                if user.failed_attempts >= LOCK_AFTER:
                    user.locked_until = failed_at + LOCK_FOR
                    user.failed_attempts = 0
                    user.next_attempt_at = None
                else:
                    # 1, 2, 4, 8 seconds before the next try is even looked at.
                    delay = timedelta(seconds=2 ** (user.failed_attempts - 1))
                    user.next_attempt_at = failed_at + delay
                audit.record(session, key, "sign-in.failed", "user", key,
                             reason="wrong password")  # fmt: skip
                raise_after = SignInError(BAD_SIGN_IN)
            else:
                if HASHER.check_needs_rehash(user.password_hash):
                    user.password_hash = HASHER.hash(password)
                user.failed_attempts = 0
                user.next_attempt_at = user.locked_until = None
                user.last_sign_in_at = now
                audit.record(session, key, "sign-in", "user", key)
                return Context(db, user=user.username, role=Role(user.role))
    # Outside the transaction: the failure itself is recorded, then refused.
    raise raise_after


def list_users(ctx: Context) -> list[UserView]:
    ctx.require(Action.MANAGE_USERS)
    with ctx.db.read() as session:
        return [_view(u) for u in session.scalars(select(User).order_by(User.username))]


def _load(session: Session, username: str) -> User:
    user = session.scalars(select(User).where(User.username == username.strip().lower())).first()
    if user is None:
        raise NotFoundError(f"No user called '{username}'.")
    return user


def add_user(
    ctx: Context, username: str, role: str, password: str, *, display_name: str | None = None
) -> UserView:
    """Add a user. The first extra user needs the owner to have a password."""
    ctx.require(Action.MANAGE_USERS)
    name = normalise_username(username)
    chosen = Role.parse(role)
    check_password(password, name)
    with ctx.db.transaction() as session:
        me = _load(session, ctx.user)
        if me.password_hash is None:
            raise CrmError(
                "Set your own password first (crm user passwd): once a second user exists, "
                "everyone signs in."
            )
        existing = session.scalars(select(User).where(User.username == name)).first()
        if existing is not None:
            what = " (a demo staff name that cannot sign in)" if existing.record_only else ""
            raise DuplicateError(f"There is already a user called '{name}'{what}.")
        user = User(
            username=name,
            display_name=(display_name or name).strip()[:200] or name,
            role=chosen.value,
            password_hash=HASHER.hash(password),
            created_at=utcnow(),
            password_changed_at=utcnow(),
        )
        session.add(user)
        session.flush()
        audit.record(session, ctx.user, "user.created", "user", name, {"role": chosen.value})
        return _view(user)


def change_password(ctx: Context, new_password: str, *, old_password: str | None = None) -> None:
    """Change your own password (the old one is needed once there is one)."""
    check_password(new_password, ctx.user)
    with ctx.db.transaction() as session:
        me = _load(session, ctx.user)
        if me.password_hash is not None:
            try:
                HASHER.verify(me.password_hash, old_password or "")
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                raise SignInError("Your current password is not correct.") from None
        me.password_hash = HASHER.hash(new_password)
        me.password_changed_at = utcnow()
        me.version += 1
        audit.record(session, ctx.user, "user.password-changed", "user", me.username)


def reset_password(ctx: Context, username: str, new_password: str) -> None:
    """An admin sets someone else's password (and unlocks them)."""
    ctx.require(Action.MANAGE_USERS)
    with ctx.db.transaction() as session:
        user = _load(session, username)
        if user.record_only:
            raise CrmError(f"'{user.username}' is a demo staff name on records; it cannot sign in.")
        check_password(new_password, user.username)
        user.password_hash = HASHER.hash(new_password)
        user.password_changed_at = utcnow()
        user.failed_attempts = 0
        user.locked_until = user.next_attempt_at = None
        user.version += 1
        audit.record(session, ctx.user, "user.password-reset", "user", user.username)


def set_role(ctx: Context, username: str, role: str) -> UserView:
    ctx.require(Action.MANAGE_USERS)
    chosen = Role.parse(role)
    with ctx.db.transaction() as session:
        user = _load(session, username)
        if user.role == Role.ADMIN.value and chosen is not Role.ADMIN:
            _keep_an_admin(session, user)
        old, user.role = user.role, chosen.value
        user.version += 1
        audit.record(session, ctx.user, "user.role-changed", "user", user.username,
                     {"role": {"old": old, "new": chosen.value}})  # fmt: skip
        return _view(user)


def deactivate_user(ctx: Context, username: str) -> UserView:
    """Stop someone signing in. Their history stays."""
    ctx.require(Action.MANAGE_USERS)
    with ctx.db.transaction() as session:
        user = _load(session, username)
        if user.username == ctx.user:
            raise CrmError("You cannot deactivate yourself.")
        if user.role == Role.ADMIN.value:
            _keep_an_admin(session, user)
        user.active = False
        user.version += 1
        audit.record(session, ctx.user, "user.deactivated", "user", user.username)
        return _view(user)


def _keep_an_admin(session: Session, leaving: User) -> None:
    admins = session.scalar(
        select(func.count())
        .select_from(User)
        .where(
            User.active,
            User.record_only.is_(False),
            User.role == Role.ADMIN.value,
            User.id != leaving.id,
        )
    )
    if not admins:
        raise CrmError("There must always be an active admin.")


def has_password(ctx: Context) -> bool:
    with ctx.db.read() as session:
        return _load(session, ctx.user).password_hash is not None


def display_name(ctx: Context) -> str:
    """The acting user's full name as people know it (the user name if none is set)."""
    with ctx.db.read() as session:
        user = session.scalars(select(User).where(User.username == ctx.user)).first()
        return (user.display_name or user.username) if user is not None else ctx.user


def sign_out(ctx: Context) -> None:
    """Record that ``ctx``'s user signed out (the caller forgets the context)."""
    with ctx.db.transaction() as session:
        audit.record(session, ctx.user, "sign-out", "user", ctx.user)


def ensure_record_only(
    session: Session, actor: str, people: Sequence[tuple[str, str, Role]], *, reason: str
) -> list[str]:
    """Add record-only users (username, display name, role) that do not exist yet.

    Inside the caller's transaction. They have no password and can never sign
    in, so a single-user database stays single-user. A name that is already
    taken (by anyone) is kept as it is. Returns the user names, in order.
    """
    names = [normalise_username(username) for username, _, _ in people]
    taken = set(session.scalars(select(User.username).where(User.username.in_(names))))
    for name, (_, display_name, role) in zip(names, people, strict=True):
        if name in taken:
            continue
        session.add(
            User(
                username=name,
                display_name=display_name,
                role=role.value,
                record_only=True,
                created_at=utcnow(),
            )
        )
        session.flush()
        audit.record(session, actor, "user.created", "user", name,
                     {"role": role.value, "record_only": True}, reason=reason)  # fmt: skip
    return names
