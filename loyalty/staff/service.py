"""Staff accounts."""

from datetime import datetime

from sqlmodel import Session, col, select

from loyalty.auth.security import hash_password, verify_password
from loyalty.errors import Conflict, Forbidden, InvalidInput, NotAuthenticated, NotFound
from loyalty.staff.models import Role, Staff


def create_staff(
    session: Session,
    *,
    now: datetime,
    email: str,
    password: str,
    role: str,
    display_name: str | None = None,
) -> Staff:
    if role not in Role.__members__:
        raise InvalidInput(f"Unknown role {role!r}; choose one of {', '.join(Role.__members__)}.")
    if len(password) < 8:
        raise InvalidInput("A staff password needs at least 8 characters.")
    key = email.strip().lower()
    if get_by_email(session, key) is not None:
        raise Conflict("A staff account with this email already exists.", code="email_taken")
    staff = Staff(
        email=email.strip(),
        email_key=key,
        password_hash=hash_password(password),
        role=role,
        display_name=display_name,
        created_at=now,
    )
    session.add(staff)
    session.flush()
    return staff


def get_by_email(session: Session, email: str) -> Staff | None:
    return session.exec(select(Staff).where(Staff.email_key == email.strip().lower())).first()


def get_staff(session: Session, staff_id: int) -> Staff:
    staff = session.get(Staff, staff_id)
    if staff is None or not staff.active:
        raise NotFound("No such staff account.")
    return staff


def authenticate(session: Session, *, email: str, password: str) -> Staff | None:
    staff = get_by_email(session, email)
    if staff is None or not staff.active:
        return None
    return staff if verify_password(password, staff.password_hash) else None


def list_staff(session: Session) -> list[Staff]:
    return list(session.exec(select(Staff).order_by(col(Staff.id))))


def admit(role: str | None, active: bool | None, roles: tuple[str, ...]) -> None:
    """Let an account with this role in where `roles` are wanted (admins always); NotAuthenticated
    when there is no such account or it was deactivated, Forbidden for another role."""
    if role is None or not active:
        raise NotAuthenticated("The staff account no longer exists.")
    if roles and role not in roles and role != "admin":
        raise Forbidden(f"This needs one of the roles: {', '.join(roles)}.")
