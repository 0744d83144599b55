"""Report stage: the `summary.json` schema, its renderers and the `compare` gate.

``render_report(summary, out_dir)`` writes ``summary.json``, ``variants.csv``,
``summary.md`` and a self-contained ``index.html`` (every write atomic). No
TensorFlow is imported here: `sercompress report` and `compare` start fast.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..storage import atomic_write_text
from .summary import SCHEMA_VERSION, SUMMARY_FILE, Summary, SummaryError

__all__ = ["SCHEMA_VERSION", "ReportFiles", "Summary", "SummaryError", "render_report"]


@dataclass(frozen=True)
class ReportFiles:
    summary_json: Path
    variants_csv: Path
    summary_md: Path
    index_html: Path


def render_report(summary: Summary, out_dir: str | Path) -> ReportFiles:
    """Render every report file from the summary alone (nothing is recomputed)."""
    from .conclusion import conclusion_text
    from .html import render_html
    from .tables import summary_markdown, to_csv

    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise SummaryError("the report's output path exists and is not a directory", path=out)
    files = ReportFiles(out / SUMMARY_FILE, out / "variants.csv", out / "summary.md", out / "index.html")
    for f in vars(files).values():
        if f.exists() and not f.is_file():
            raise SummaryError("exists and is not a regular file; cannot write the report there", path=f)
    # Render everything in memory first: a renderer that fails leaves no file of a half report.
    conclusion = conclusion_text(summary)
    texts = {files.summary_json: summary.to_json(), files.variants_csv: to_csv(summary),
             files.summary_md: summary_markdown(summary, conclusion),
             files.index_html: render_html(summary, conclusion)}
    out.mkdir(parents=True, exist_ok=True)
    for path, text in texts.items():
        atomic_write_text(path, text)
    return files
