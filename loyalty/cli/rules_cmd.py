"""`loyalty rules check|simulate|test`: the rules language from the command line."""

from __future__ import annotations

from pathlib import Path

import typer

import rules
from rules.simulate import dumps, read_events

app = typer.Typer(help="Compile, check, simulate and test loyalty rules files.",
                  no_args_is_help=True)

FilesArg = typer.Argument(..., exists=True, dir_okay=False, readable=True,
                          help="Rules files read together as one program.")


def _sources(files: list[Path]) -> list[tuple[str, str]]:
    return [(str(path), path.read_text(encoding="utf-8")) for path in files]


@app.command()
def check(files: list[Path] = FilesArg) -> None:
    """Compile and lint; print diagnostics; exit 1 when there is an error."""
    diagnostics = rules.check_program(_sources(files))
    for diagnostic in diagnostics:
        typer.echo(str(diagnostic))
    errors = sum(d.severity == "error" for d in diagnostics)
    warnings = len(diagnostics) - errors
    typer.echo(f"{errors} errors, {warnings} warnings", err=True)
    raise typer.Exit(1 if errors else 0)


@app.command()
def simulate(
    files: list[Path] = FilesArg,
    events: Path = typer.Option(..., "--events", exists=True, dir_okay=False,
                                help="EVENTS.jsonl: one event a line."),
) -> None:
    """Evaluate the events in order; print one JSON result a line."""
    try:
        program = rules.compile_program(_sources(files))
    except rules.CompileError as err:
        for diagnostic in err.diagnostics:
            typer.echo(str(diagnostic), err=True)
        raise typer.Exit(1) from None
    try:
        for result in rules.simulate(program, read_events(events)):
            typer.echo(dumps(result))
    except ValueError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(1) from None


@app.command()
def test(files: list[Path] = FilesArg) -> None:
    """Run the test cases kept beside the rules (NAME.tests.json beside NAME.rules)."""
    report = rules.run_tests(files)
    for message in report.messages:
        typer.echo(message)
    typer.echo(f"{report.passed} passed, {report.failed} failed")
    raise typer.Exit(0 if report.ok and report.passed else 1)
