"""Order files: written whole, readable by the web and worker processes alike."""
import stat

from infrastructure import storage
from infrastructure.extensions import db
from orders.models import Order


def test_every_file_an_order_gets_is_readable_by_other_users(app, reviewable):
    # Web and workers may run as different users: a 0600 draft or final would answer 500.
    ticket = reviewable()[0]
    with app.app_context():
        order = db.session.scalar(db.select(Order).where(Order.ticket == ticket))
        paths = [order.original_path, order.mask_path, order.preview_path]
        modes = {path: stat.S_IMODE(storage.absolute(path).stat().st_mode) for path in paths}
    assert all(mode & 0o044 == 0o044 for mode in modes.values()), modes


def test_a_written_file_records_the_sha256_of_its_bytes(ctx):
    import hashlib

    assert storage.write_bytes("orders/zz/zz-test/file.bin", b"abc") == hashlib.sha256(b"abc").hexdigest()
    assert storage.read_bytes("orders/zz/zz-test/file.bin") == b"abc"
