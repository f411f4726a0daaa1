"""The README's code tables and configuration list say what the code does."""
from pathlib import Path

import pytest

from app import SETTINGS
from orders.codes import CURRENCIES, ErrorCode, FailureReason, RejectReason, Status

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


@pytest.mark.parametrize("status", list(Status), ids=lambda s: s.name)
def test_every_status_is_documented_with_its_wire_name(status):
    assert f"| {status.value} | {status.wire_name} |" in README


@pytest.mark.parametrize("code", list(ErrorCode), ids=lambda c: c.name)
def test_every_error_code_is_documented_with_its_http_status(code):
    assert f"| {code.value} | {code.http_status} |" in README


@pytest.mark.parametrize("reason", list(FailureReason), ids=lambda r: r.name)
def test_every_failure_reason_is_documented(reason):
    assert f"| {reason.value} |" in README


def test_every_currency_is_documented():
    for currency_id, code in CURRENCIES.items():
        assert f"| {currency_id} | {code} |" in README


@pytest.mark.parametrize("name", list(SETTINGS))
def test_every_setting_is_documented(name):
    assert f"| `{name}` |" in README


def test_xsd_enumerations_match_the_codes():
    schemas = Path(__file__).resolve().parents[1] / "static" / "schemas"
    common = (schemas / "common.xsd").read_text()
    assert all(f'value="{c.value}"' in common for c in ErrorCode)
    assert all(f'value="{s.value}"' in common and f'value="{s.wire_name}"' in common for s in Status)


@pytest.mark.parametrize("reason", list(RejectReason), ids=lambda r: r.name)
def test_every_reject_reason_is_documented(reason):
    assert f"| {reason.value} | {reason.label}" in README


def test_the_template_options_table_is_the_code_s_own():
    from rendering.options import markdown_table

    assert markdown_table().strip() in README


def test_every_model_variant_is_documented():
    from segmentation.variants import VARIANTS

    for name in VARIANTS:
        assert f"`{name}`" in README
