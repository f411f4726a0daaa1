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


def test_creating_the_app_loads_nothing_only_some_commands_or_pages_use(tmp_path):
    # Every worker and every `flask segment` creates the app: Alembic (flask db, init-db), spyne
    # (the first SOAP request), pygal (the stats page) and the renderer (render jobs) would cost
    # each of them a second or so at start between them.
    script = ("import sys; from app import create_app; create_app(); "
              "print(sorted(m for m in ('alembic', 'spyne', 'pygal', 'rendering.render') if m in sys.modules))")
    env = {"PATH": "", "INSTANCE_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}",
           "REDIS_URL": "redis://127.0.0.1:1/0", "SECRET_KEY": "test"}
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[-2] == "[]"
