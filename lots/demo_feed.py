"""The demo's feed: a month of referrals from three municipal sources, some wrong on purpose,
and three polare; fictitious people with valid personal numbers, the same for a given seed.

Each referral is the plain fields of an ``XADD`` on ``intake.referrals`` (exactly what
``redis-cli`` sends): no FastStream envelope.
"""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from services.intake.coordinated import INDICATOR_TEXTS

SOURCES = ("linkoping.elevhalsa", "linkoping.socialtjanst", "region.ostergotland.bup")


def luhn_digit(nine: str) -> str:
    total = 0
    for i, ch in enumerate(nine):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return str((10 - total % 10) % 10)


def personal_number(born: date, rng: random.Random) -> str:
    serial = f"{rng.randint(1, 999):03d}"
    short = born.strftime("%y%m%d") + serial
    return born.strftime("%Y%m%d") + serial + luhn_digit(short)


def demo_polare(month: str) -> list[dict[str, Any]]:
    """Three youths who walk at night with the field workers (fictitious, valid numbers),
    14 to 17 years old in ``month``."""
    rng = random.Random(4)
    year = int(month[:4])
    births = (date(year - 17, 4, 12), date(year - 16, 11, 3), date(year - 15, 6, 21))
    names = ("Alva Nattvandrare", "Theo Nattvandrare", "Maja Nattvandrare")
    return [
        {"personal_number": personal_number(born, rng), "name": name, "years_before": n % 2}
        for n, (born, name) in enumerate(zip(births, names, strict=True))
    ]


@dataclass
class DemoFeed:
    """A month of referrals from three sources, deterministic for a given seed."""

    seed: int = 2026
    count: int = 60
    rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def referral(self, n: int, on: date) -> dict[str, Any]:
        rng = self.rng
        programme = rng.choices(["network", "coordinated", "counselling"], [5, 2, 3])[0]
        child_age = rng.randint(6, 16) if programme == "coordinated" else rng.randint(1, 19)
        child_born = on - timedelta(days=365 * child_age + rng.randint(1, 300))
        persons = []
        if programme != "counselling":
            persons.append(
                {
                    "role": "child",
                    "personal_number": personal_number(child_born, rng),
                    "municipality_code": "0580",
                }
            )
        adult_role = "partner" if programme == "counselling" else "guardian"
        for _ in range(2 if programme == "counselling" else 1):
            adult_born = on - timedelta(days=365 * rng.randint(25, 55))
            persons.append(
                {
                    "role": adult_role,
                    "personal_number": personal_number(adult_born, rng),
                    "municipality_code": "0580",
                }
            )
        if programme == "counselling":
            persons.insert(
                0,
                {
                    "role": "child",
                    "personal_number": personal_number(child_born, rng),
                    "municipality_code": "0580",
                },
            )
        basis = "decision" if programme == "network" and rng.random() < 0.3 else "service"
        body: dict[str, Any] = {
            "source": rng.choice(SOURCES),
            "referral_id": f"DEMO-{on:%Y%m}-{n:05d}",
            "programme": programme,
            "basis": basis,
            "urgency": "acute" if rng.random() < 0.1 else "normal",
            "submitted_at": datetime(on.year, on.month, on.day, 9, 0).astimezone().isoformat(),
            "persons": persons,
        }
        if basis == "decision":
            body["decision_ref"] = f"BESLUT-{n:05d}"
        if programme == "coordinated":
            body["consent"] = {
                "given": True,
                "form_ref": f"SAMTYCKE-{n}",
                "given_at": on.isoformat(),
            }
            # The indicators "skall vara uppfyllda" (002 §1): a family the team takes meets
            # all five (services/intake/eligibility.py).
            body["indicators"] = list(INDICATOR_TEXTS)
        return body

    def entries(self, today: date) -> list[dict[str, str]]:
        out = []
        for n in range(self.count):
            body = self.referral(n, today)
            if n % 20 == 7:  # a coordinated referral without consent: rejected with reasons
                body.update(programme="coordinated", consent={"given": False}, indicators=[])
            out.append(referral_fields(body))
        out.append(dict(out[0]))  # the same referral sent twice: one case
        out.append(
            {"type": "SubmitReferral", "version": "1", "id": str(uuid.uuid4()), "data": "{not json"}
        )  # unreadable: a dead letter
        return out


def referral_fields(body: dict[str, Any]) -> dict[str, str]:
    return {
        "type": "SubmitReferral",
        "version": "1",
        "id": str(uuid.uuid4()),
        "data": json.dumps(body, ensure_ascii=False),
    }
