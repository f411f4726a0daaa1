"""Order, customer, template, operator, review and callback commands."""
from __future__ import annotations

from typing import Any

import click
from flask import current_app

from orders import customers, templates
from orders.errors import ServiceError


class _ServiceCommand(click.Command):
    """Service errors become one clear line and exit code 1, not a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ServiceError as exc:
            raise click.ClickException(exc.message) from None


@click.command("init-db", cls=_ServiceCommand)
def init_db() -> None:
    """Bring the database to the newest schema (safe to run again)."""
    from flask_migrate import upgrade

    from infrastructure import schema

    schema.bind(current_app)
    upgrade(directory=str(schema.MIGRATIONS_DIR))
    click.echo("database is at the newest schema")


@click.command("seed-demo", cls=_ServiceCommand)
def seed_demo() -> None:
    """Create a demo customer and template when the database is empty."""
    demo = customers.seed_demo()
    if demo is None:
        click.echo("database already has customers; nothing seeded")
        return
    click.echo(f"demo customer: {demo.email}")
    click.echo(f"demo template id: {demo.template_id}")
    if demo.admin_password:
        click.echo(f"dashboard (/dashboard/): sign in as {demo.admin_name} with password {demo.admin_password} "
                   "(shown once; flask --app app set-password admin changes it)")
    click.echo(f"demo API key (shown once): {demo.api_key}")


@click.command("create-customer", cls=_ServiceCommand)
@click.argument("email")
@click.option("--developer", is_flag=True, help="A developer partner earning commission.")
@click.option("--commission", "commission", default=None, help="Commission percent (default 10).")
def create_customer(email: str, developer: bool, commission: str | None) -> None:
    """Create a customer; prints its API key as the last word."""
    customer, api_key = customers.create_customer(email, developer=developer, commission_pct=commission)
    kind = "developer customer" if customer.is_developer else "customer"
    click.echo(f"created {kind} {customer.email}; API key (shown once): {api_key}")


@click.command("rotate-key", cls=_ServiceCommand)
@click.argument("email")
def rotate_key(email: str) -> None:
    """Give a customer a new API key; the old one stops working. Prints the key last."""
    click.echo(f"new API key for {email.lower()} (shown once): {customers.rotate_key(email)}")


@click.command("webhook-secret", cls=_ServiceCommand)
@click.argument("email")
def webhook_secret(email: str) -> None:
    """Print the secret a customer's callback receiver verifies signatures with."""
    click.echo(customers.webhook_secret(email))


@click.command("rotate-webhook-secret", cls=_ServiceCommand)
@click.argument("email")
def rotate_webhook_secret(email: str) -> None:
    """Give a customer a new callback signing secret (the old one also signs for 24 h). Prints it last."""
    click.echo(f"new signing secret for {email.lower()} (the old one also signs for 24 h): "
               f"{customers.rotate_webhook_secret(email)}")


def _options(values: tuple[str, ...]) -> dict[str, str]:
    from rendering.options import key_value_lines  # not at the top: see dashboard/forms.py

    try:
        return key_value_lines(values)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--option") from None


@click.command("create-template", cls=_ServiceCommand)
@click.option("--name", required=True)
@click.option("--price", required=True, help="Amount, e.g. 0.95")
@click.option("--currency-id", required=True, type=int, help="See the README's currency table.")
@click.option("--delivery-hours", required=True, type=int)
@click.option("--option", "option", multiple=True, help="KEY=VALUE template option (see the README); repeatable.")
def create_template(name: str, price: str, currency_id: int, delivery_hours: int, option: tuple[str, ...]) -> None:
    """Create a template; prints its id as the last word."""
    template = templates.create_template(
        name=name, price=price, currency_id=currency_id, delivery_hours=delivery_hours, options=_options(option)
    )
    click.echo(f"created template {template.name!r}: {template.id}")


def _password() -> str:
    # prompt() reads lines from a pipe too, so `printf 'pw\npw\n' | flask create-operator x` works.
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


@click.command("create-operator", cls=_ServiceCommand)
@click.argument("name")
@click.option("--admin", is_flag=True, help="May also manage customers, templates, operators and see stats.")
@click.option("--senior", is_flag=True, help="Level senior: hard drafts first, checks QA samples, never sampled.")
def create_operator(name: str, admin: bool, senior: bool) -> None:
    """Create a dashboard account; asks for the password twice."""
    from orders import operators

    operator = operators.create_operator(name, _password(), admin=admin, senior=senior)
    click.echo(f"created {operator.role} {operator.name}" + (" (senior)" if senior else ""))


@click.command("set-level", cls=_ServiceCommand)
@click.argument("name")
@click.argument("level", type=click.Choice(["operator", "senior"]))
def set_level(name: str, level: str) -> None:
    """Make an operator a senior, or an operator again (admins count as senior whatever their level)."""
    from orders import operators

    operators.set_level(name, level)
    click.echo(f"{name} is now {level}")


@click.command("set-password", cls=_ServiceCommand)
@click.argument("name")
def set_password(name: str) -> None:
    """Set an operator's password (and lift a login lock)."""
    from orders import operators

    operators.set_password(name, _password())
    click.echo(f"password of {name} changed")


@click.command("disable-operator", cls=_ServiceCommand)
@click.argument("name")
def disable_operator(name: str) -> None:
    """Stop an operator from logging in."""
    from orders import operators

    operators.set_active(name, False)
    click.echo(f"{name} can no longer log in")


@click.group("review")
def review() -> None:
    """Approve or reject orders from scripts, as an operator."""


@review.command("approve", cls=_ServiceCommand)
@click.argument("ticket")
@click.option("--operator", "operator_name", required=True)
def review_approve(ticket: str, operator_name: str) -> None:
    """Approve an order awaiting review (or held by this operator)."""
    from orders import operators
    from orders import review as reviews

    operator = operators.operator_by_name(operator_name)
    order = reviews.claim_and_approve(operator, ticket)
    click.echo(f"approved {order.ticket}: {order.status_enum.wire_name}")


@review.command("reject", cls=_ServiceCommand)
@click.argument("ticket")
@click.option("--operator", "operator_name", required=True)
@click.option("--reason", required=True,
              help="notProductPhoto, subjectUnclear, resolutionTooLow, unsupportedContent, other")
@click.option("--note", default="", help="Free text; required with --reason other.")
def review_reject(ticket: str, operator_name: str, reason: str, note: str) -> None:
    """Reject an order awaiting review (or held by this operator) with a named reason."""
    from orders import operators
    from orders import review as reviews

    operator = operators.operator_by_name(operator_name)
    order = reviews.claim_and_reject(operator, ticket, reason, note)
    click.echo(f"rejected {order.ticket}: {order.failure_reason}")


@click.command("callbacks", cls=_ServiceCommand)
@click.argument("ticket")
def callbacks_cmd(ticket: str) -> None:
    """List the callback attempts of an order, then where its callback stands."""
    from orders import callbacks

    attempts, state = callbacks.attempts_of(ticket), callbacks.state_of(ticket)
    if not attempts:
        click.echo("no callback attempts")
    for n, attempt in enumerate(attempts, 1):
        answer = f"HTTP {attempt.http_status}" if attempt.http_status is not None else attempt.error
        click.echo(f"{n}. {attempt.at:%Y-%m-%d %H:%M:%S} status {attempt.status_id} -> {answer} "
                   f"({attempt.duration_ms:.0f} ms){'  ok' if attempt.ok else ''}")
        if attempt.error_detail:
            click.echo(f"   {attempt.error_detail}")
    click.echo(f"callback: {state}")


@click.command("resend-callback", cls=_ServiceCommand)
@click.argument("ticket")
def resend_callback(ticket: str) -> None:
    """Send an order's callback again."""
    from orders import callbacks

    callbacks.resend(ticket)
    click.echo(f"callback of {ticket} queued")


@click.command("cleanup-finals", cls=_ServiceCommand)
def cleanup_finals() -> None:
    """Delete finished images older than FINAL_RETENTION_DAYS."""
    from orders.finals import cleanup_finals as cleanup

    click.echo(f"deleted {cleanup()} file(s)")
