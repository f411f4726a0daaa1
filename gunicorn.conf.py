"""gunicorn's settings for this app. gunicorn reads this file from the folder it starts in (scripts/run.py,
which `make run` starts, names it too), so every web machine started from the repository uses it."""
import os
from pathlib import Path

# The access and error logs with API keys in query strings replaced by *** (see the module), written as
# LOG_FORMAT says: gunicorn's own lines, or JSON.
logger_class = "infrastructure.gunicorn_logging.RedactingLogger"

# Prometheus multiprocess mode: every worker writes its metrics into one folder and GET /metrics, whichever
# worker answers it, sums them all. Without it each scrape would see one random worker's counters. The
# variable must be set before the app is imported (prometheus_client decides at import), so here, in the
# master. A launcher that sets it (scripts/run.py) prepares the folder itself; otherwise we do, once.
_OWN_METRICS_FOLDER = not os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if _OWN_METRICS_FOLDER:
    _instance = Path(os.environ.get("INSTANCE_DIR") or Path(__file__).resolve().parent / "instance")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(_instance / "metrics")


def on_starting(server: object) -> None:
    # The app's own loggers write in LOG_FORMAT too: set up in the master, so every worker forked from it has it.
    from infrastructure.log_format import configure, parse_format

    configure(parse_format(os.environ.get("LOG_FORMAT") or "text"))
    if _OWN_METRICS_FOLDER:
        from infrastructure.metrics_folder import prepare_folder

        prepare_folder(os.environ["PROMETHEUS_MULTIPROC_DIR"])


def child_exit(server: object, worker: object) -> None:
    from infrastructure.metrics_folder import process_ended

    process_ended(worker.pid)
