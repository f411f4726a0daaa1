"""Schema migrations (Flask-Migrate over Alembic), loaded only by the commands that migrate.

Importing Alembic costs about a quarter of a second, which every web process, worker and
`flask segment` would otherwise pay at start for commands it never runs: `flask db …` is
registered as a group that loads Flask-Migrate's own when it is used, and `init-db` binds it.
"""
from __future__ import annotations

from pathlib import Path

import click
from flask import Flask
from flask.cli import ScriptInfo

from infrastructure.extensions import db

MIGRATIONS_DIR = Path(__file__).resolve().parents[1] / "migrations"


def bind(app: Flask) -> None:
    """Flask-Migrate on ``app``: what flask_migrate.upgrade and migrations/env.py read."""
    if "migrate" not in app.extensions:
        from flask_migrate import Migrate

        Migrate(app, db, directory=str(MIGRATIONS_DIR))


class LazyMigrateGroup(click.Group):
    """`flask db …`: stands in for Flask-Migrate's command group until that is run, then hands over.

    make_context is where click parses a command's own options: from there on the real group
    (its -d/-x options, its callback, its subcommands and help) does everything.
    """

    def make_context(self, info_name: str | None, args: list[str], parent: click.Context | None = None,
                     **extra) -> click.Context:
        info = parent.ensure_object(ScriptInfo) if parent is not None else ScriptInfo()
        bind(info.load_app())
        from flask_migrate.cli import db as group

        return group.make_context(info_name, args, parent=parent, **extra)


db_group = LazyMigrateGroup("db", help="Perform database migrations (Flask-Migrate).")
