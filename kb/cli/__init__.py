"""The ``neuvo`` command line (a Flask CLI group); a stable interface, see DESIGN.md.

One module per command family. The group loads the app by its import path, as Flask's own CLI
does, so this package and the app factory do not import each other.
"""
from __future__ import annotations

import click
from flask.cli import FlaskGroup, ScriptInfo

from kb.cli.accounts import token_group, user_group
from kb.cli.imports import import_group
from kb.cli.mail import mail_group
from kb.cli.privacy import privacy_group
from kb.cli.setup import demo_command, init_command, reindex_command, run_command
from kb.cli.suggest import suggest_group
from kb.cli.worker import worker_command

#: The app factory, by name (what ``flask --app`` would be given).
APP_FACTORY = "kb:create_app(require_secret=False)"

COMMANDS = [init_command, demo_command, run_command, reindex_command, import_group, suggest_group, user_group,
            token_group, mail_group, worker_command, privacy_group]


class NeuvoGroup(FlaskGroup):
    """Flask's CLI group showing only Neuvo's own commands (see ``COMMANDS``) and options.

    Flask's ``--app``, ``--env-file`` and ``--debug``, its ``run``/``shell``/``routes`` and the
    commands extensions add to ``app.cli`` (Flask-Limiter's ``limiter``) are not Neuvo's
    interface; ``flask --app kb`` still offers them to a developer who wants them.
    """

    def __init__(self, **extra):  # type: ignore[no-untyped-def]
        super().__init__(**extra)
        flask_options = {"env_file", "app", "debug"}
        self.params = [p for p in self.params if p.name not in flask_options]

    def make_context(self, info_name, args, parent=None, **extra):  # type: ignore[no-untyped-def]
        if "obj" not in extra and "obj" not in self.context_settings:
            extra["obj"] = ScriptInfo(app_import_path=APP_FACTORY, set_debug_flag=False, load_dotenv_defaults=False)
        return super().make_context(info_name, args, parent=parent, **extra)

    def _load_plugin_commands(self) -> None:
        """No ``flask.commands`` entry points of other installed packages."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(command.name for command in COMMANDS if command.name)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in {command.name for command in COMMANDS}:
            return None
        return super().get_command(ctx, name)


@click.group(cls=NeuvoGroup, add_default_commands=False, add_version_option=False, load_dotenv=False)
def main() -> None:
    """Neuvo help center: database, demo data, imports, search index and suggester."""


for _command in COMMANDS:
    main.add_command(_command)


def init_app(app) -> None:  # type: ignore[no-untyped-def]
    """Register the commands on ``app.cli`` too, for ``app.test_cli_runner()`` and ``flask --app kb``."""
    for command in COMMANDS:
        app.cli.add_command(command)
