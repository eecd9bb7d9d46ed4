"""The demo population registry: Skatteverket's published test identity numbers, ages that follow the clock.

Skatteverket's published list ends with births in 2019, so no published number can belong to a child
under one year old today; the demo infant carries a region reservnummer instead (clearly not a
personnummer), with a birth date set relative to the clock.
"""

from __future__ import annotations

from datetime import date

from app.patients.registry import InMemoryRegistry, RegistryPerson
from app.people.demo_identities import demo_infant_birth_date, pick_published_number
from app.people.identity import parse_identity_number

DEMO_INFANT_RESERVNUMMER = "RES-OG-000001"

# Adults: published numbers born 1992 (ages follow the clock, all adults for decades to come).
ADULTS = {
    "anna": ("199203012381", "Anna", "Andersson"),
    "bertil": ("199205042386", "Bertil", "Berg"),
    "fredrik": ("199206152382", "Fredrik", "Dahl"),
    "gustav": ("199207232381", "Gustav", "Gran"),  # protected identity in the registry
    "helena": ("199208312380", "Helena", "Holm"),
    "ingrid": ("199209302380", "Ingrid", "Isaksson"),
    "leap": ("199202292380", "Lea", "Skottdag"),  # born 29 February
}


def _pick_near(age: int, alternatives: tuple[int, ...], today: date, used: set[str]) -> str:
    # The published list has gaps (no 2014 or 2018 births): fall back to a nearby age on the same
    # side of 13, which is what the demo person stands for (a child a guardian acts for, or not).
    for candidate in (age, *alternatives):
        try:
            return pick_published_number(candidate, today, used)
        except LookupError:
            continue
    raise LookupError(f"no published test number near age {age} on {today}")


def build_demo_registry(today: date) -> tuple[InMemoryRegistry, dict[str, str]]:
    """The demo registry for `today`, and a map of demo keys to identity numbers."""
    registry = InMemoryRegistry()
    keys: dict[str, str] = {}
    for key, (number, given, family) in ADULTS.items():
        parsed = parse_identity_number(number)
        registry.add(
            RegistryPerson(
                parsed.value,
                given,
                family,
                parsed.birth_date,
                protected=(key == "gustav"),
                mobile="070-000 00 " + number[-2:],
            )
        )
        keys[key] = parsed.value
    used = set(keys.values())
    ten = parse_identity_number(_pick_near(10, (9, 11, 8, 12), today, used))
    used.add(ten.value)
    fourteen = parse_identity_number(_pick_near(14, (15, 16, 13, 17), today, used))
    registry.add(
        RegistryPerson(ten.value, "Cecilia", "Berg", ten.birth_date, guardians=(keys["anna"], keys["bertil"]))
    )
    registry.add(
        RegistryPerson(
            fourteen.value,
            "David",
            "Dahl",
            fourteen.birth_date,
            guardians=(keys["fredrik"],),
            mobile="070-000 00 14",
        )
    )
    registry.add(
        RegistryPerson(
            DEMO_INFANT_RESERVNUMMER,
            "Ebba",
            "Andersson",
            demo_infant_birth_date(today),
            guardians=(keys["anna"], keys["bertil"]),
            reservnummer=True,
        )
    )
    keys.update(child10=ten.value, child14=fourteen.value, infant=DEMO_INFANT_RESERVNUMMER)
    return registry, keys
