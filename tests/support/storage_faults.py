"""A store that refuses to write chosen files (see the refused_store fixture)."""
from __future__ import annotations

from pathlib import Path


class RefusedStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._blocked: list[Path] = []

    def refuse(self, relpath: str) -> None:
        squatter = self.root / relpath
        (squatter / "in-the-way").mkdir(parents=True, exist_ok=True)  # not empty: no rename may replace it
        self._blocked.append(squatter)

    def restore(self) -> None:
        for squatter in self._blocked:
            (squatter / "in-the-way").rmdir()
            squatter.rmdir()
        self._blocked.clear()
