"""Colour bands and points of the health measures, as ``rules.toml`` values (RULES.md,
"Scorecards and health"; the deployment colour).

Each band set validates its order, so an admin cannot write bands no figure could fall in.
"""

from __future__ import annotations

from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

Colour = Literal["Green", "Yellow", "Orange", "Red"]
COLOURS: tuple[Colour, ...] = ("Green", "Yellow", "Orange", "Red")


class Section(BaseModel):
    """A table of an admin's TOML (``rules.toml``, ``personas.toml``): an unknown key is an
    error; values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Bands(Section):
    """Lower bounds, best first: a figure at or above ``green`` is Green, at or above ``yellow``
    Yellow, at or above ``orange`` Orange, else Red."""

    green: float
    yellow: float
    orange: float

    @model_validator(mode="after")
    def _falling(self) -> Self:
        if not self.green >= self.yellow >= self.orange:
            raise ValueError("lower bounds must fall: green >= yellow >= orange")
        return self

    def bounds(self) -> tuple[tuple[float, Colour], ...]:
        return ((self.green, "Green"), (self.yellow, "Yellow"), (self.orange, "Orange"))


class WholeBands(Bands):
    """``Bands`` of a whole-number figure (an NPS, a count of features, a score)."""

    green: int
    yellow: int
    orange: int


class DayBands(Section):
    """Upper bounds in days: at most ``green`` days Green, ``yellow`` Yellow, ``orange`` Orange,
    else Red."""

    green: int
    yellow: int
    orange: int

    @model_validator(mode="after")
    def _rising(self) -> Self:
        if not self.green <= self.yellow <= self.orange:
            raise ValueError("upper bounds must rise: green <= yellow <= orange")
        return self

    def bounds(self) -> tuple[tuple[int, Colour], ...]:
        return ((self.green, "Green"), (self.yellow, "Yellow"), (self.orange, "Orange"))


class RatioBands(Section):
    """Open tickets / threshold below ``green`` is Green, below ``yellow`` Yellow, else Orange
    (Red is the rule's condition)."""

    green: float = Field(default=0.5, ge=0)
    yellow: float = Field(default=0.75, ge=0)

    @model_validator(mode="after")
    def _rising(self) -> Self:
        if not self.green <= self.yellow:
            raise ValueError("upper bounds must rise: green <= yellow")
        return self

    def bounds(self) -> tuple[tuple[float, Colour], ...]:
        return ((self.green, "Green"), (self.yellow, "Yellow"))


class Points(Section):
    """A measure's points by colour, for the weighted overall."""

    green: int = 100
    yellow: int = 66
    orange: int = 33
    red: int = 0

    def of(self, colour: Colour) -> int:
        by_colour = {"Green": self.green, "Yellow": self.yellow, "Orange": self.orange}
        return by_colour.get(colour, self.red)  # Red
