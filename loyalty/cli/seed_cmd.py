"""`loyalty seed members --count N`: many synthetic members and known staff, for load tests.

Seeded rows are deterministic (member i has card `card_number_for(i)` and email
`email_for(i)`), so a load generator can address them without reading the database. Members are
written with bulk INSERTs in batches and one password hash shared by all of them: hashing
100,000 passwords with argon2 would take longer than the load test itself.
"""

from datetime import datetime
from typing import Any

import typer
from sqlalchemy import func, insert, select
from sqlmodel import Session

from loyalty.auth.security import hash_password
from loyalty.clock import SystemClock
from loyalty.db import Database, get_database
from loyalty.members.cards import luhn_check_digit
from loyalty.members.models import Member
from loyalty.settings import get_settings
from loyalty.staff import service as staff_service

app = typer.Typer(help="Synthetic data for load tests and benchmarks.", no_args_is_help=True)

# Synthetic accounts only: these passwords are printed on purpose and protect no real person.
SEED_MEMBER_PASSWORD = "seeded-member-pw"
SEED_STAFF_PASSWORD = "seeded-staff-pw"
SEED_STAFF = (
    ("cashier@seed.example", "cashier"),
    ("marketer@seed.example", "marketer"),
    ("admin@seed.example", "admin"),
)
SEED_ENROLMENT = "seed"
BATCH = 5_000
# Card numbers 79 + 10-digit index + check digit. A real card (random digits) lands on one of
# them only by rare chance; the unique index then fails that batch loudly rather than merging.
_CARD_BODY = "79"


def card_number_for(index: int) -> str:
    """The printed card number of seeded member `index` (0-based), Luhn-valid."""
    body = f"{_CARD_BODY}{index:010d}"
    return body + luhn_check_digit(body)


def email_for(index: int) -> str:
    return f"member{index}@seed.example"


def seeded_count(session: Session) -> int:
    query = select(func.count()).select_from(Member).where(Member.enrolled_via == SEED_ENROLMENT)  # type: ignore[arg-type]
    return int(session.execute(query).scalar_one())


def seed_members(database: Database, *, count: int, now: datetime, with_email: bool = True) -> range:
    """Add `count` members after those already seeded; returns the indexes added.

    `with_email=False` skips emails and passwords (the till only needs cards), which makes the
    rows smaller; the Member user of the load test needs logins.
    """
    password_hash = hash_password(SEED_MEMBER_PASSWORD) if with_email else None
    table = Member.__table__  # type: ignore[attr-defined]
    with database.session() as session:
        start = seeded_count(session)
    indexes = range(start, start + count)
    for batch_start in range(indexes.start, indexes.stop, BATCH):
        rows: list[dict[str, Any]] = []
        for index in range(batch_start, min(batch_start + BATCH, indexes.stop)):
            email = email_for(index) if with_email else None
            rows.append(
                {
                    "email": email,
                    "email_key": email,
                    "password_hash": password_hash,
                    "display_name": f"Member {index}",
                    "card_number": card_number_for(index),
                    "status": "active",
                    "tier": None,
                    "enrolled_via": SEED_ENROLMENT,
                    "joined_at": now,
                }
            )
        # One transaction per batch keeps SQLite's writer lock short for a server running beside.
        with database.session() as session:
            session.execute(insert(table), rows)
    return indexes


def seed_staff(database: Database, *, now: datetime) -> list[tuple[str, str]]:
    """The known staff accounts (created once; existing ones are left as they are)."""
    created = []
    with database.session() as session:
        for email, role in SEED_STAFF:
            if staff_service.get_by_email(session, email) is None:
                staff_service.create_staff(
                    session, now=now, email=email, password=SEED_STAFF_PASSWORD, role=role,
                    display_name=f"Seeded {role}",
                )
            created.append((email, role))
    return created


@app.command()
def members(
    count: int = typer.Option(1000, "--count", "-n", min=1, help="How many members to add"),
    no_email: bool = typer.Option(False, "--no-email", help="Cards only, no logins (smaller, faster)"),
) -> None:
    """Add COUNT synthetic members with cards, plus cashier, marketer and admin staff."""
    database = get_database(get_settings())
    now = SystemClock().now()
    staff = seed_staff(database, now=now)
    added = seed_members(database, count=count, now=now, with_email=not no_email)
    typer.echo(f"seeded members #{added.start}..#{added.stop - 1} ({len(added)} new)")
    typer.echo(f"  cards: {card_number_for(added.start)} .. {card_number_for(added.stop - 1)}")
    if not no_email:
        typer.echo(
            f"  logins: {email_for(added.start)} .. {email_for(added.stop - 1)}, "
            f"password {SEED_MEMBER_PASSWORD!r} (synthetic accounts)"
        )
    for email, role in staff:
        typer.echo(f"  staff {role}: {email}, password {SEED_STAFF_PASSWORD!r} (synthetic account)")
