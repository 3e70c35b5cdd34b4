"""The ``jalon`` command: run the embedded stack on this machine.

jalon up        start PostgreSQL, nats-server and the six services; return when all are ready
jalon down      stop everything ``up`` started (by PID)
jalon status    what runs, where, and whether it is ready
jalon api-key   print the bootstrap API key
jalon migrate   apply every service's migrations (external databases)
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from shared.runtime.stack import Stack, StackConfig

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Jalon: production planning, embedded.")
console = Console()

HomeOption = Annotated[
    Path | None, typer.Option("--home", help="Data, logs and PID files (default .jalon, or $JALON_HOME)")
]


def _progress(msg: str) -> None:
    console.print(f"  [dim]•[/dim] {msg}")


@app.command()
def up(home: HomeOption = None) -> None:
    """Start the whole stack and wait until every service is ready."""
    started = time.perf_counter()
    config = StackConfig.from_env(home)
    stack = Stack(config)
    console.print(f"[bold]Starting Jalon[/bold] in {stack.home}")
    try:
        stack.up(_progress)
    except Exception as exc:
        console.print(f"[red]start-up failed:[/red] {exc}")
        console.print(f"logs: {stack.logs_dir}")
        raise typer.Exit(1) from exc
    console.print(
        f"[green]Jalon is up[/green] in {time.perf_counter() - started:.1f} s: gateway {stack.gateway_url}"
        f"  (API docs {stack.gateway_url}/docs, key in {stack.api_key_file})"
    )


@app.command()
def down(home: HomeOption = None) -> None:
    """Stop every process ``up`` started."""
    stack = Stack.load(home)
    stack.down(_progress)
    left = [c.name for c in stack.status() if c.pid is not None]
    if left:
        console.print(f"[red]still running:[/red] {', '.join(left)}")
        raise typer.Exit(1)
    console.print("[green]Jalon is down[/green]")


@app.command()
def status(home: HomeOption = None) -> None:
    """Show each component: PID, address, state."""
    stack = Stack.load(home)
    table = Table("component", "pid", "address", "state")
    all_ready = True
    for c in stack.status():
        colour = {"ready": "green", "external": "cyan", "running": "yellow"}.get(c.state, "red")
        all_ready &= c.state in ("ready", "external")
        table.add_row(c.name, str(c.pid or "-"), c.address, f"[{colour}]{c.state}[/{colour}]")
    console.print(table)
    console.print(f"logs: {stack.logs_dir}")
    if not all_ready:
        raise typer.Exit(3)


@app.command("api-key")
def api_key(home: HomeOption = None) -> None:
    """Print the bootstrap (admin) API key."""
    print(Stack.load(home).api_key())


@app.command()
def migrate(home: HomeOption = None) -> None:
    """Apply every service's migrations to the configured PostgreSQL."""
    stack = Stack(StackConfig.from_env(home))
    stack.migrate(_progress)


@app.command()
def streams(home: HomeOption = None) -> None:
    """Create or update the JetStream streams on the configured NATS."""
    stack = Stack(StackConfig.from_env(home))
    console.print(", ".join(stack.ensure_streams()))


def main() -> None:
    app()


if __name__ == "__main__":
    main()
