"""The flask CLI: its names, options and output are an interface other tools build on."""
import re

import pytest

from tests.support.api import error_code


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()
    return lambda *args, **kw: runner.invoke(args=list(args), **kw)


def test_init_db_is_safe_to_run_twice(cli):
    assert cli("init-db").exit_code == 0
    assert cli("init-db").exit_code == 0


def test_flask_db_is_flask_migrate_with_its_options(cli):
    # Alembic loads only when `flask db` runs (infrastructure/schema.py); its commands still work.
    assert cli("db", "--directory", "migrations", "heads").exit_code == 0  # Alembic prints past the runner
    usage = cli("db", "--help").output
    assert "--x-arg" in usage and "upgrade" in usage


def test_create_customer_prints_a_working_api_key_last(cli, client, template_id):
    result = cli("create-customer", "new@example.com")

    assert result.exit_code == 0
    key = result.output.split()[-1]
    query = {"ContactEmail": "new@example.com", "ContactAPIkey": key}
    assert error_code(client.get("/REST.svc/Templates/", query_string=query)) == "noError"


def test_create_developer_customer_with_commission(app, cli):
    from infrastructure.extensions import db
    from orders.models import Customer

    assert cli("create-customer", "dev@example.com", "--developer", "--commission", "15").exit_code == 0
    with app.app_context():
        dev = db.session.scalar(db.select(Customer).where(Customer.email == "dev@example.com"))
        assert dev.is_developer and float(dev.commission_pct) == 15.0


def test_duplicate_customer_is_one_clear_line_and_non_zero_exit(cli):
    cli("create-customer", "dup@example.com")
    result = cli("create-customer", "dup@example.com")

    assert result.exit_code != 0
    assert result.output.strip() == "Error: a customer with e-mail dup@example.com already exists"


def test_rotate_key_replaces_the_old_key(cli, client, customer, template_id):
    result = cli("rotate-key", customer.email)
    new_key = result.output.split()[-1]

    old = client.get("/REST.svc/Templates/", query_string=customer.creds())
    new = client.get("/REST.svc/Templates/", query_string={"ContactEmail": customer.email, "ContactAPIkey": new_key})
    assert error_code(old) == "invalidCredentials"
    assert error_code(new) == "noError"


def test_create_template_prints_its_id_last_and_stores_options(app, cli):
    from infrastructure.extensions import db
    from orders.models import Template

    result = cli("create-template", "--name", "Marketplace", "--price", "1.25", "--currency-id", "2",
                 "--delivery-hours", "12", "--option", "format=jpg", "--option", "background=#ffffff")

    assert result.exit_code == 0, result.output
    template_id = int(result.output.split()[-1])
    with app.app_context():
        template = db.session.get(Template, template_id)
        assert template.options == {"format": "jpg", "background": "#ffffff"}
        assert str(template.price_amount) == "1.25" and template.currency_id == 2


@pytest.mark.parametrize("args, message", [
    (["--currency-id", "99"], "unknown currency id 99"),
    (["--price", "abc"], "price must be a number"),
    (["--delivery-hours", "0"], "delivery hours must be 1-720"),
    (["--option", "nonsense"], "is not KEY=VALUE"),
    (["--option", "format=gif"], "format"),
    (["--option", "sparkles=on"], "sparkles"),
])
def test_create_template_refuses_bad_values(cli, args, message):
    base = {"--name": "X", "--price": "1", "--currency-id": "1", "--delivery-hours": "24"}
    flat = []
    for key, value in base.items():
        if key not in args:
            flat += [key, value]
    result = cli("create-template", *flat, *args)
    assert result.exit_code != 0
    assert message in result.output


def test_seed_demo_only_seeds_an_empty_database(cli):
    first = cli("seed-demo")
    second = cli("seed-demo")

    assert "demo API key" in first.output and first.exit_code == 0
    assert "nothing seeded" in second.output


def test_seed_demo_prints_a_dashboard_login_that_opens_the_queue(cli, client):
    from tests.support.dashboard import sign_in

    output = cli("seed-demo").output
    match = re.search(r"sign in as (\S+) with password (\S+)", output)

    assert match, output
    assert sign_in(client, match.group(1), match.group(2)).status_code == 302
    assert "awaiting review" in client.get("/dashboard/").get_data(as_text=True)


def test_worker_refuses_an_unknown_queue(cli):
    result = cli("worker", "--queues", "fetch,bogus", "--burst")
    assert result.exit_code != 0 and "unknown queue(s) bogus" in result.output


def test_sweep_command_reports_what_it_queued(cli):
    result = cli("sweep")
    assert result.exit_code == 0 and result.output.startswith("re-queued 0 order(s)")
