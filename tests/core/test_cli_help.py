"""Every option of every ``dancu`` command says what it is for (``dancu COMMAND --help``)."""

from __future__ import annotations

import argparse

import pytest
from django.core.management import get_commands, load_command_class

DANCU_COMMANDS = sorted(name for name, app in get_commands().items() if app.startswith("dancu."))
# Django's own options of every command (--verbosity, --settings, …) are Django's, with their help.
DJANGO_OPTIONS = {"-h", "--version", "-v", "--settings", "--pythonpath", "--traceback", "--no-color",
                  "--force-color", "--skip-checks"}


def _undocumented(parser: argparse.ArgumentParser, path: str) -> list[str]:
    missing = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            described = {a.dest for a in action._choices_actions if a.help}
            for name, sub in action.choices.items():
                if name not in described:
                    missing.append(f"{path} {name} (subcommand)")
                missing += _undocumented(sub, f"{path} {name}")
            continue
        if set(action.option_strings) & DJANGO_OPTIONS:
            continue
        if not action.help or action.help == argparse.SUPPRESS:
            missing.append(f"{path} {'/'.join(action.option_strings) or action.dest}")
    return missing


def test_the_project_has_its_commands() -> None:
    expected = {"demo", "serve", "population", "officer", "oidc", "eid", "load_admin_units"}
    assert expected <= set(DANCU_COMMANDS)


@pytest.mark.parametrize("name", DANCU_COMMANDS)
def test_every_option_has_a_help_text(name: str) -> None:
    command = load_command_class(get_commands()[name], name)
    parser = command.create_parser("dancu", name)
    assert command.help, f"dancu {name} has no help text"
    assert _undocumented(parser, f"dancu {name}") == []
