"""What tokens cost: an offline price table, per model family, in USD per million tokens.

Offline on purpose: the usage log must price a year of history without the
network. The figures are Anthropic's list prices for the Claude API; a
subscription does not pay them, so for a plan user `cost_usd` is an estimate of
what the same work would have cost through the API, which is what makes usage
comparable across days and models. Long-context surcharges (Sonnet above 200k
input tokens) are not modelled.

The `[prices.models]` section of the config file comes first, so a user can fix
a price or add a model without waiting for a release. Patterns are shell-style
(`fnmatch`) and matched against the lower-cased model name; the first match wins.
"""

from __future__ import annotations

import fnmatch
import hashlib
from collections.abc import Mapping
from dataclasses import astuple, dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collectors.settings import ModelPrice


@dataclass(frozen=True)
class Price:
    """USD per million tokens."""

    input: float
    output: float
    cache_write_5m: float
    cache_write_1h: float
    cache_read: float

    @classmethod
    def simple(cls, input: float, output: float) -> Price:
        """Anthropic's usual multipliers: cache writes 1.25x (5 min) and 2x (1 h) input,
        cache reads 0.1x input."""
        return cls(input, output, input * 1.25, input * 2.0, input * 0.1)


FREE = Price(0.0, 0.0, 0.0, 0.0, 0.0)

# Most specific first. Opus 4.5 cut Opus prices by two thirds: older Opus models
# are named explicitly, and any newer "opus" falls through to the new price.
BUILTIN: tuple[tuple[str, Price], ...] = (
    ("<synthetic>", FREE),  # Claude Code's own error records: no API call
    ("claude-opus-4-20250514*", Price.simple(15, 75)),
    ("claude-opus-4-0*", Price.simple(15, 75)),
    ("claude-opus-4-1*", Price.simple(15, 75)),
    ("claude-opus-4", Price.simple(15, 75)),
    ("claude-3-opus*", Price.simple(15, 75)),
    ("*opus*", Price.simple(5, 25)),
    ("claude-3-haiku*", Price(0.25, 1.25, 0.30, 0.50, 0.03)),
    ("claude-3-5-haiku*", Price.simple(0.80, 4)),
    ("*haiku*", Price.simple(1, 5)),
    ("*sonnet*", Price.simple(3, 15)),
)


class PriceTable:
    """Prices by model name: the user's patterns, then the built-in table."""

    def __init__(self, overrides: dict[str, Price] | None = None) -> None:
        self.rules: tuple[tuple[str, Price], ...] = (
            *((pattern.lower(), price) for pattern, price in (overrides or {}).items()),
            *BUILTIN,
        )
        self.for_model = lru_cache(maxsize=256)(self._lookup)

    def _lookup(self, model: str | None) -> Price | None:
        if not model:
            return None
        name = model.lower()
        for pattern, price in self.rules:
            if fnmatch.fnmatchcase(name, pattern):
                return price
        return None

    def cost(
        self,
        model: str | None,
        input_tokens: int,
        output_tokens: int,
        cache_creation_tokens: int,
        cache_creation_1h_tokens: int,
        cache_read_tokens: int,
    ) -> float | None:
        """USD for one message; None for a model the table does not know."""
        price = self.for_model(model)
        if price is None:
            return None
        five_minute = cache_creation_tokens - cache_creation_1h_tokens
        return (
            input_tokens * price.input
            + output_tokens * price.output
            + five_minute * price.cache_write_5m
            + cache_creation_1h_tokens * price.cache_write_1h
            + cache_read_tokens * price.cache_read
        ) / 1_000_000

    def digest(self) -> str:
        """Changes whenever any price does: stored costs are recomputed then."""
        text = repr([(pattern, astuple(price)) for pattern, price in self.rules])
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def price_table(models: Mapping[str, ModelPrice]) -> PriceTable:
    """The table with the config file's `[prices.models]` in front."""
    overrides = {}
    for pattern, p in models.items():
        base = Price.simple(p.input, p.output)
        overrides[pattern] = Price(
            p.input,
            p.output,
            base.cache_write_5m if p.cache_write_5m is None else p.cache_write_5m,
            base.cache_write_1h if p.cache_write_1h is None else p.cache_write_1h,
            base.cache_read if p.cache_read is None else p.cache_read,
        )
    return PriceTable(overrides)
