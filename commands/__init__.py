"""Command-line interface (`flask --app app …`). Names and options are an interface: keep them."""
from __future__ import annotations

from flask import Flask
from flask.cli import with_appcontext

from commands.orders import (
    callbacks_cmd,
    cleanup_finals,
    create_customer,
    create_operator,
    create_template,
    disable_operator,
    init_db,
    resend_callback,
    review,
    rotate_key,
    rotate_webhook_secret,
    seed_demo,
    set_level,
    set_password,
    webhook_secret,
)
from commands.storage import storage_migrate
from commands.workers import fetch_model, segment, sweep, worker

COMMANDS = (init_db, seed_demo, create_customer, rotate_key, webhook_secret, rotate_webhook_secret, create_template,
            worker, sweep, fetch_model, segment, create_operator, set_password, set_level,
            disable_operator, review,
            callbacks_cmd, resend_callback, cleanup_finals, storage_migrate)


def register_cli(app: Flask) -> None:
    for command in COMMANDS:
        if not getattr(command.callback, "_in_app_context", False):
            command.callback = with_appcontext(command.callback)
            command.callback._in_app_context = True  # the command objects are shared by every app
        app.cli.add_command(command)
