"""The per-process figures `cqrskit plan` divides by: measured ceilings, each
with where it comes from. The defaults ship as figures.toml, taken from
docs/benchmarks.md and the design's measurements; a file of one's own
(measured on the machines at hand) overrides the entries it names."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields
from importlib import resources
from pathlib import Path
from typing import Any

from cqrskit.core.errors import Misconfigured


@dataclass(frozen=True, slots=True)
class Figures:
    command_writes_per_s: float
    query_reads_per_s: float
    relay_messages_per_s: float
    projector_messages_per_s: float
    events_per_message: float
    postgres_commits_per_s: float
    postgres_rows_per_s: float
    postgres_reads_per_s: float
    postgres_max_connections: float
    db_pool_per_process: float
    monolith_reads_per_s: float
    monolith_writes_per_s: float
    wal_bytes_per_stored_byte: float
    redis_bytes_per_view_byte: float
    sources: dict[str, str]

    @classmethod
    def load(cls, path: Path | None = None) -> Figures:
        """The defaults, with the entries of `path` (if given) over them."""
        text = resources.files(__package__).joinpath("figures.toml").read_text()
        table = tomllib.loads(text)
        if path is not None:
            try:
                own = tomllib.loads(path.read_text())
            except (OSError, tomllib.TOMLDecodeError) as e:
                raise Misconfigured(f"cannot read figures file {path}: {e}") from e
            table |= _checked(own, path)
        return cls.from_table(table)

    @classmethod
    def from_table(cls, table: dict[str, Any]) -> Figures:
        names = [f.name for f in fields(cls) if f.name != "sources"]
        values = {name: float(table[name]["value"]) for name in names}
        sources = {name: str(table[name].get("source", "")) for name in names}
        return cls(**values, sources=sources)

    def as_dict(self) -> dict[str, dict[str, Any]]:
        return {
            name: {"value": getattr(self, name), "source": source}
            for name, source in self.sources.items()
        }


def _checked(own: dict[str, Any], path: Path) -> dict[str, Any]:
    """Refuse a name that is not a figure (a typo would silently change
    nothing) and a value that is not a positive number."""
    known = {f.name for f in fields(Figures)} - {"sources"}
    for name, entry in own.items():
        if name not in known:
            raise Misconfigured(f"{path}: unknown figure {name!r}")
        value = entry.get("value") if isinstance(entry, dict) else None
        if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
            raise Misconfigured(f"{path}: {name}.value must be a positive number")
    return own
