"""Random search: the honest baseline. Every design is drawn from the space, none twice."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import numpy as np

from designs.base import Design
from engine.search.protocol import Strategy
from engine.search.spaces import SPACE_NAMES

__all__ = ["RandomSearch"]


class RandomSearch(Strategy):
    """Proposes independent random designs of the space (see ``SearchSpace.sample``).

    Parameters
    ----------
    space : SearchSpace
    seed : int
    """

    name: ClassVar[str] = "random"
    spaces: ClassVar[tuple[str, ...]] = tuple(SPACE_NAMES)

    def ask(self, n: int) -> list[Design]:
        out: list[Design] = []
        for _ in range(100):  # duplicates are rare; a tiny space may run out
            out += self._fresh(self.space.sample(max(n - len(out), 1) * 2, self.rng), n - len(out))
            if len(out) == n:
                return out
        raise ValueError(f"the {self.space.name} space ran out of new designs after {len(self.seen)}")

    def tell(self, designs: Sequence[Design], values: np.ndarray) -> None:
        """Random search learns nothing."""
