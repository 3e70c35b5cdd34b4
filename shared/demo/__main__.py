"""Run the demo against the stack that ``jalon up`` started (``make demo`` does both)."""

from __future__ import annotations

import sys
import time

import httpx

from shared.demo.chapters import CHAPTERS, DemoFailed
from shared.demo.report import Report
from shared.runtime.stack import Stack


def main() -> int:
    stack = Stack.load()
    report = Report()
    started = time.perf_counter()
    with httpx.Client(
        base_url=stack.gateway_url,
        headers={"Authorization": f"Bearer {stack.api_key()}"},
        timeout=120,
    ) as client:
        for chapter in CHAPTERS:
            try:
                chapter(client, report)
            except DemoFailed as exc:
                report.say(f"[red]demo failed:[/red] {exc}")
                report.write(stack.home / "demo")
                return 1
    report.chapter("Done")
    report.say(f"The whole demo took {time.perf_counter() - started:.1f} s.")
    path = report.write(stack.home / "demo")
    report.console.print(f"Report written to [bold]{path}[/bold]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
