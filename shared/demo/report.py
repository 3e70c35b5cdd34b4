"""The demo's report: printed as it goes (rich) and written as Markdown under ``.jalon/``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table


@dataclass
class Report:
    console: Console = field(default_factory=lambda: Console(width=120))
    lines: list[str] = field(default_factory=list)
    assets: dict[str, bytes] = field(default_factory=dict)
    #: What one chapter leaves for the next (the MRP run id, the analysis id...).
    state: dict[str, Any] = field(default_factory=dict)

    def chapter(self, title: str) -> None:
        self.console.rule(f"[bold]{title}")
        self.lines += ["", f"## {title}", ""]

    def say(self, text: str) -> None:
        self.console.print(text)
        self.lines += [text, ""]

    def table(self, title: str, columns: list[str], rows: list[list[Any]]) -> None:
        t = Table(*columns, title=title)
        for row in rows:
            t.add_row(*(str(c) for c in row))
        self.console.print(t)
        self.lines += [f"**{title}**", "", "| " + " | ".join(columns) + " |"]
        self.lines.append("|" + "---|" * len(columns))
        self.lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
        self.lines.append("")

    def attach(self, name: str, content: bytes, caption: str) -> None:
        self.assets[name] = content
        self.lines += [f"![{caption}]({name})", ""]

    def write(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        for name, content in self.assets.items():
            (folder / name).write_bytes(content)
        path = folder / "demo-report.md"
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        path.write_text("\n".join([f"# Jalon demo report ({stamp})", *self.lines, ""]))
        return path
