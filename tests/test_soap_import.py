"""spyne 2.14 imports the standard cgi module, which Python 3.13 removed (legacy-cgi brings it back)."""
import importlib
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]


def test_cgi_resolves():
    assert callable(importlib.import_module("cgi").parse_header)


def test_soap_package_imports():
    soap = importlib.import_module("soap")
    assert soap.PATH == "/SOAP.svc" and callable(soap.mount)


def test_legacy_cgi_is_required_from_python_3_13_on():
    lines = (ROOT / "requirements.txt").read_text().splitlines()
    (legacy,) = [Requirement(line) for line in lines if line.startswith("legacy-cgi")]

    assert legacy.marker.evaluate({"python_version": "3.13"})
    assert not legacy.marker.evaluate({"python_version": "3.12"})
