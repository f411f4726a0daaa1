"""The layers stay visible: protocols above services above infrastructure above the pure libraries."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_no_lower_layer_imports_a_higher_one():
    # import-linter reads its contract from pyproject.toml; lazy imports inside functions count too.
    result = subprocess.run([str(Path(sys.executable).with_name("lint-imports")), "--no-cache"], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
