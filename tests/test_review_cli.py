"""flask create-operator / set-password / disable-operator / review approve|reject."""
import pytest


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()
    return lambda *args, input=None: runner.invoke(args=list(args), input=input)


def _status(app, ticket):
    from orders.lookups import order_by_ticket

    with app.app_context():
        return order_by_ticket(ticket).status


def test_create_operator_reads_the_password_twice_from_a_pipe(app, cli):
    from orders import operators

    result = cli("create-operator", "olga", "--admin", input="correct horse battery\ncorrect horse battery\n")

    assert result.exit_code == 0, result.output
    with app.app_context():
        assert operators.login("olga", "correct horse battery", "127.0.0.1").is_admin


def test_mismatched_passwords_are_asked_again(cli):
    result = cli("create-operator", "olga", input="correct horse battery\nsomething else!\n")
    assert result.exit_code != 0
    assert "do not match" in result.output.lower() or "don't match" in result.output.lower()


def test_a_short_password_is_refused(cli):
    result = cli("create-operator", "olga", input="short\nshort\n")
    assert result.exit_code != 0 and "at least 10 characters" in result.output


def test_set_password_and_disable_operator(app, cli, make_operator):
    from orders import operators
    from orders.errors import ServiceError

    make_operator("olga")
    assert cli("set-password", "olga", input="another long secret\nanother long secret\n").exit_code == 0
    assert cli("disable-operator", "olga").exit_code == 0
    with app.app_context(), pytest.raises(ServiceError):
        operators.login("olga", "another long secret", "127.0.0.1")


def test_review_approve_sends_an_awaiting_order_to_rendering(app, cli, reviewable, make_operator):
    ticket = reviewable(1)[0]
    make_operator("olga")

    result = cli("review", "approve", ticket, "--operator", "olga")

    assert result.exit_code == 0, result.output
    assert _status(app, ticket) == 60


def test_review_reject_with_a_reason(app, cli, reviewable, make_operator):
    ticket = reviewable(1)[0]
    make_operator("olga")

    result = cli("review", "reject", ticket, "--operator", "olga", "--reason", "subjectUnclear")

    assert result.exit_code == 0, result.output
    assert _status(app, ticket) == 95


def test_review_refuses_an_order_another_operator_holds(app, cli, reviewable, make_operator):
    from orders import operators, review

    ticket = reviewable(1)[0]
    make_operator("olga"), make_operator("piet")
    with app.app_context():
        review.claim(operators.operator_by_name("piet"), ticket)

    result = cli("review", "approve", ticket, "--operator", "olga")
    assert result.exit_code != 0 and "being reviewed by piet" in result.output
    assert _status(app, ticket) == 50


def test_review_refuses_an_order_not_awaiting_review(app, cli, reviewable, make_operator):
    ticket = reviewable(1)[0]
    make_operator("olga")
    cli("review", "approve", ticket, "--operator", "olga")

    result = cli("review", "reject", ticket, "--operator", "olga", "--reason", "other", "--note", "x")
    assert result.exit_code != 0 and "not awaiting review" in result.output


def test_create_operator_senior(app, cli):
    from orders import operators

    result = cli("create-operator", "sam", "--senior", input="correct horse battery\ncorrect horse battery\n")

    assert result.exit_code == 0, result.output
    with app.app_context():
        assert operators.operator_by_name("sam").is_senior


def test_set_level_makes_an_operator_senior_and_back(app, cli, make_operator):
    from orders import operators

    make_operator("olga")
    assert cli("set-level", "olga", "senior").exit_code == 0
    with app.app_context():
        assert operators.operator_by_name("olga").is_senior
    assert cli("set-level", "olga", "operator").exit_code == 0
    with app.app_context():
        assert not operators.operator_by_name("olga").is_senior
