"""Write one section of benchmarks/RESULTS.md, between its markers, atomically."""

from __future__ import annotations

from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def write_section(key: str, md: str, *, heading: str, command: str, path: Path = RESULTS) -> None:
    """Replace the text between ``<!-- key:start -->`` and ``<!-- key:end -->`` by ``md``.

    A missing section is appended under ``heading``; the file is replaced by
    rename, so a crash leaves the old one whole.
    """
    start, end = f"<!-- {key}:start -->", f"<!-- {key}:end -->"
    text = path.read_text() if path.exists() else "# Benchmark results\n"
    if start not in text:
        text += f"\n## {heading}\n\nCommand: `{command}`.\n\n{start}\n{end}\n"
    pre, rest = text.split(start, 1)
    _, post = rest.split(end, 1)
    tmp = path.with_suffix(".md.tmp")
    tmp.write_text(f"{pre}{start}\n{md}{end}{post}")
    tmp.replace(path)
