"""gunicorn's settings for this app. gunicorn reads this file from the folder it starts in (scripts/run.py,
which `make run` starts, names it too), so every web machine started from the repository uses it."""

# The access and error logs with API keys in query strings replaced by *** (see the module).
logger_class = "infrastructure.gunicorn_logging.RedactingLogger"
