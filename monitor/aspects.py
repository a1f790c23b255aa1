"""Complaint aspects: what buyers complain about, and the severity category they map to.

The taxonomy and its labelling rules are in models/LABELS.md. A review raises any number of
aspects (praise raises none). The severity `category` is the most severe aspect: counterfeit
(level 1) > damage (2) > delay (3) > other, where every aspect without a level of its own counts
as `other`.
"""

from __future__ import annotations

from typing import Iterable
from .errors import InputError
from .schema import SEVERE_CATEGORIES

ASPECTS: tuple[str, ...] = ("counterfeit", "damage", "delay", "defect", "not_as_described",
                            "wrong_or_missing", "size_fit", "service", "price_value", "other")
# aspects that are a severity category of their own; the rest count as "other" there
SEVERE_ASPECTS: tuple[str, ...] = SEVERE_CATEGORIES
ASPECT_SEPARATOR = ";"  # in CSV cells and the store's text column

# Names for people (the dashboard, reports); the column values stay the codes above.
ASPECT_NAMES: dict[str, str] = {
    "counterfeit": "counterfeit claim", "damage": "damaged on arrival", "delay": "delivery delay",
    "defect": "stopped working / defect", "not_as_described": "not as described",
    "wrong_or_missing": "wrong or missing item", "size_fit": "size / fit",
    "service": "seller service", "price_value": "price / value", "other": "other complaint",
}


def category_of(aspects: Iterable[str]) -> str:
    """The severity category of a set of aspects: the most severe one, "other" for any other
    aspect, "none" for none."""
    present = set(aspects)
    for aspect in SEVERE_ASPECTS:
        if aspect in present:
            return aspect
    return "other" if present else "none"


def ordered(aspects: Iterable[str]) -> list[str]:
    """Known aspects in taxonomy order, each once; unknown names are refused."""
    present = set(aspects)
    unknown = present - set(ASPECTS)
    if unknown:
        raise InputError(f"unknown aspect(s): {', '.join(sorted(unknown))}; use "
                         f"{', '.join(ASPECTS)}")
    return [a for a in ASPECTS if a in present]


def join(aspects: Iterable[str]) -> str:
    """`damage;delay`: the CSV and store form."""
    return ASPECT_SEPARATOR.join(ordered(aspects))


def split(cell: str | None) -> list[str]:
    """The list form of a `;`-joined cell ("" or None: no aspect)."""
    return ordered(a.strip() for a in (cell or "").split(ASPECT_SEPARATOR) if a.strip())
