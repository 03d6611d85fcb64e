"""Small helpers shared by command modules (reporting counts, progress bars)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from typing import TypeVar

import typer

T = TypeVar("T")


def progress(items: Iterable[T], *, total: int | None = None, desc: str = "", unit: str = "rec",
             enabled: bool = True) -> Iterator[T]:
    """A tqdm progress bar on stderr (hidden when ``enabled`` is False or stderr is not a TTY)."""
    from tqdm import tqdm

    yield from tqdm(items, total=total, desc=desc, unit=unit, disable=None if enabled else True,
                    dynamic_ncols=True, file=None)


def report(title: str, counts: Counter[str] | dict[str, int], problems: Iterable[str] = (),
           max_problems: int = 20) -> None:
    """Print a final count summary (and the first problems) to stderr."""
    problems = list(problems)
    parts = ", ".join(f"{k} {v}" for k, v in counts.items())
    typer.echo(f"{title}: {parts}", err=True)
    for line in problems[:max_problems]:
        typer.echo(f"  {line}", err=True)
    if len(problems) > max_problems:
        typer.echo(f"  … and {len(problems) - max_problems} more", err=True)
