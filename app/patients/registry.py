"""The population-registry adapter: where names, birth dates, guardianship and protection come from.

In production this is a connection to the registry (e.g. via Inera's services); the demo and the
tests use an in-memory registry with Skatteverket's published test numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Protocol


@dataclass(frozen=True)
class RegistryPerson:
    identity_number: str  # normalised: 12 digits, or a region's reservnummer
    given_name: str
    family_name: str
    birth_date: date
    guardians: tuple[str, ...] = ()  # identity numbers of the person's guardians (vårdnadshavare)
    protected: bool = False  # sekretessmarkering / skyddad folkbokföring
    mobile: str | None = None
    reservnummer: bool = False  # a region-local temporary number; its birth date comes from the record


class PopulationRegistry(Protocol):
    def lookup(self, identity_number: str) -> RegistryPerson | None:
        """The registry's record for a normalised identity number, or None."""
        ...


@dataclass
class InMemoryRegistry:
    """A registry held in memory: demo data and tests."""

    people: dict[str, RegistryPerson] = field(default_factory=dict)

    def add(self, person: RegistryPerson) -> RegistryPerson:
        self.people[person.identity_number] = person
        return person

    def lookup(self, identity_number: str) -> RegistryPerson | None:
        return self.people.get(identity_number)
