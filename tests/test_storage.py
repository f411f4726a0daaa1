"""Order files: written whole, read in part, and the same whichever store holds them (folder or S3)."""
import hashlib
import io
import stat

import pytest

from infrastructure import storage
from infrastructure.extensions import db
from orders.models import Order

KEY = "orders/zz/zz-test/file.bin"


def test_every_file_an_order_gets_is_readable_by_other_users(app, reviewable):
    # Web and workers may run as different users: a 0600 draft or final would answer 500.
    ticket = reviewable()[0]
    with app.app_context():
        order = db.session.scalar(db.select(Order).where(Order.ticket == ticket))
        paths = [order.original_path, order.mask_path, order.preview_path]
        modes = {path: stat.S_IMODE(storage.current().path(path).stat().st_mode) for path in paths}
    assert all(mode & 0o044 == 0o044 for mode in modes.values()), modes


@pytest.mark.storage
def test_a_written_file_records_the_sha256_of_its_bytes(ctx):
    assert storage.write_bytes(KEY, b"abc") == hashlib.sha256(b"abc").hexdigest()
    assert storage.read_bytes(KEY) == b"abc"
    assert storage.current().sha256(KEY) == hashlib.sha256(b"abc").hexdigest()


@pytest.mark.storage
def test_a_rewritten_file_reads_as_the_new_bytes_whole(ctx):
    storage.write_bytes(KEY, b"old bytes")
    storage.write_bytes(KEY, b"the new bytes")

    assert storage.read_bytes(KEY) == b"the new bytes"
    assert storage.info(KEY).size == len(b"the new bytes")


@pytest.mark.storage
def test_a_stream_reads_only_the_part_asked_for(ctx):
    data = bytes(range(256)) * 1000
    storage.write_bytes(KEY, data)

    with storage.open_stream(KEY) as stream:
        assert stream.read(10) == data[:10]
        stream.seek(200_000)
        assert stream.read(5) == data[200_000:200_005]
        stream.seek(-3, io.SEEK_END)
        assert stream.read() == data[-3:]


@pytest.mark.storage
def test_a_missing_file_has_no_info_and_cannot_be_read(ctx):
    assert storage.info("orders/zz/none/missing.png") is None
    assert not storage.exists("orders/zz/none/missing.png")
    with pytest.raises(storage.StorageUnavailable, match="could not read an order file"):
        storage.read_bytes("orders/zz/none/missing.png")


@pytest.mark.storage
def test_delete_removes_a_file_once(ctx):
    storage.write_bytes(KEY, b"x")

    assert storage.delete(KEY) is True
    assert storage.delete(KEY) is False
    assert not storage.exists(KEY)


@pytest.mark.storage
def test_keys_list_every_file_under_a_prefix(ctx):
    for name in ("a.png", "b/c.png"):
        storage.write_bytes(f"orders/zz/listing/{name}", b"x")
    storage.write_bytes("orders/yy/other/d.png", b"x")

    assert sorted(storage.current().keys("orders/zz/listing/")) == ["orders/zz/listing/a.png",
                                                                    "orders/zz/listing/b/c.png"]


@pytest.mark.storage
def test_a_key_cannot_leave_the_store(ctx):
    with pytest.raises(ValueError):
        storage.write_bytes("../outside.bin", b"x")
