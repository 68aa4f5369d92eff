"""`loyalty demo`: the Café Aroma programme, its rewards, staff for every role, and members."""

from datetime import datetime, timedelta

from sqlmodel import Session, select

from loyalty.clock import Clock, SystemClock
from loyalty.consent import service as consent_service
from loyalty.db import get_database
from loyalty.members import service as member_service
from loyalty.members.models import Member
from loyalty.pos import purchase as purchase_flow
from loyalty.pos.schemas import PurchaseIn
from loyalty.program import service as program_service
from loyalty.rewards import service as rewards_service
from loyalty.settings import Settings
from loyalty.staff import service as staff_service
from rules.demo import DEMO_REWARDS, demo_reward_names, demo_sources

# Demo logins only: printed by `loyalty demo`, never created outside the demo.
DEMO_STAFF = [
    ("admin", "admin@aroma.example", "aroma-admin-demo"),
    ("marketer", "marketer@aroma.example", "aroma-marketer-demo"),
    ("cashier", "cashier@aroma.example", "aroma-cashier-demo"),
    ("dpo", "dpo@aroma.example", "aroma-dpo-demo"),
]
DEMO_MEMBER = ("mia@example.org", "mia-demo-password", "Mia")
DEMO_STORES = ("berlin-mitte", "hamburg-altona")

_BASKETS = [
    ("12.40", [("cap-1", "coffee", "3.20", 2), ("cake-3", "cake", "6.00", 1)]),
    ("54.80", [("beans-1", "beans", "18.90", 2), ("lat-2", "coffee", "4.25", 4)]),
    ("7.50", [("tea-4", "tea", "3.75", 2)]),
    ("23.10", [("brk-1", "breakfast", "11.55", 2)]),
]


def load_demo(
    settings: Settings, *, clock: Clock | None = None, address: str = "http://127.0.0.1:8000"
) -> str:
    """Load the demo once (a second run changes nothing) and say how to log in."""
    clock = clock or SystemClock()
    database = get_database(settings)
    with database.session() as session:
        if staff_service.get_by_email(session, DEMO_STAFF[0][1]) is None:
            _load(session, settings, clock.now())
    with database.session() as session:
        walk_in = session.exec(select(Member).where(Member.enrolled_via == "till").limit(1)).first()
        card = walk_in.card_number if walk_in else "(none)"
        mia = member_service.authenticate(session, email=DEMO_MEMBER[0], password=DEMO_MEMBER[1])
        mia_card = mia.card_number if mia else "(none)"
    return _summary(mia_card, card, address.rstrip("/"))


def _load(session: Session, settings: Settings, now: datetime) -> None:
    staff_ids = {}
    for role, email, password in DEMO_STAFF:
        staff = staff_service.create_staff(
            session, now=now, email=email, password=password, role=role, display_name=role.title()
        )
        staff_ids[role] = staff.id
    for reward in DEMO_REWARDS:
        rewards_service.create_reward(
            session,
            now=now,
            name=str(reward["name"]),
            title=str(reward["title"]),
            cost=int(reward["cost"]),  # type: ignore[call-overload]
            stock=int(reward["stock"]) if reward.get("stock") is not None else None,  # type: ignore[call-overload]
        )
    program_service.publish(
        session, sources=demo_sources(), staff_id=staff_ids["marketer"], now=now, rewards=demo_reward_names()
    )
    email, password, name = DEMO_MEMBER
    mia = member_service.enrol(
        session, now=now - timedelta(days=120), email=email, password=password, display_name=name
    )
    mia.email_confirmed_at = now - timedelta(days=120)
    walk_in = member_service.enrol(
        session, now=now - timedelta(days=30), email=None, password=None, via="till"
    )
    assert mia.id is not None and walk_in.id is not None
    consent_service.set_consent(
        session,
        settings=settings,
        member_id=mia.id,
        purpose="personalised_offers",
        granted=True,
        source="import",
        actor="demo",
        now=now - timedelta(days=90),
        link_base=settings.base_url or "http://127.0.0.1:8000",
        method="imported",
    )
    for index, (total, items) in enumerate(_BASKETS * 2):
        member = mia if index % 3 else walk_in
        at = now - timedelta(days=60 - index * 7, hours=index)
        body = PurchaseIn(
            code=member.card_number,
            receipt_id=f"DEMO-{index + 1:04d}",
            store=DEMO_STORES[index % 2],
            total=total,  # type: ignore[arg-type]
            items=[{"sku": s, "category": c, "price": p, "quantity": q} for s, c, p, q in items],  # type: ignore[misc]
        )
        purchase_flow.book_purchase(
            session, body=body, key=f"demo-{index}", staff_id=staff_ids["cashier"], now=at, settings=settings
        )


def _summary(mia_card: str, walk_in_card: str, address: str) -> str:
    lines = [
        "Café Aroma demo loaded.",
        "",
        f"Member portal  {address}/",
        f"  member: {DEMO_MEMBER[0]} / {DEMO_MEMBER[1]}   (card {mia_card})",
        f"  walk-in card without an account: {walk_in_card}",
        f"Till           {address}/till",
        f"Admin          {address}/admin      API docs {address}/docs",
    ]
    lines += [f"  {role:<9} {email} / {password}" for role, email, password in DEMO_STAFF]
    lines.append(f"  stores: {', '.join(DEMO_STORES)}")
    return "\n".join(lines)
