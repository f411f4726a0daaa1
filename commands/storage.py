"""Storage commands: move the order files to another store."""
from __future__ import annotations

import click
from flask import current_app


@click.command("storage-migrate")
@click.option("--to", "target_url", required=True, metavar="URL",
              help="The store to copy into: s3://bucket/prefix (S3_ENDPOINT_URL and AWS_* as for STORAGE_URL) "
                   "or file:///folder.")
def storage_migrate(target_url: str) -> None:
    """Copy every order file from this app's store into another, verifying each by SHA-256.

    Run it again after an interruption: files already in the target with the same SHA-256 are
    skipped. Then set STORAGE_URL to the target and restart the web and worker processes.
    """
    from tqdm import tqdm

    from infrastructure import storage
    from infrastructure.storage.migrate import copy_store, keys_to_copy

    source = storage.current()
    try:
        target = storage.from_url(target_url, current_app.config)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--to") from None
    if target.url == source.url:
        raise click.BadParameter("the target is this app's own store", param_hint="--to")
    keys = keys_to_copy(source)
    with tqdm(total=len(keys), unit="file", desc=f"{source.url} → {target.url}") as bar:
        result = copy_store(source, target, keys, step=lambda _key: bar.update())
    click.echo(f"{result.copied} copied, {result.skipped} already there, {len(result.failed)} failed")
    for key in result.failed:
        click.echo(f"  failed: {key}", err=True)
    if result.failed:
        raise SystemExit(1)
