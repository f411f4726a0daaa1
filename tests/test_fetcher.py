"""What the fetcher does with real HTTP on loopback (the image_server fixture).

Downloads from the loopback server need allow_private=True, as on an on-premises
install; the tests that the loopback server is refused use allow_private=False.
Made-up host names are answered by the fake_dns fixture below; every other name
and the IP literals urllib3 connects to go to the real resolver.
"""
from __future__ import annotations

import ipaddress
import shutil
import socket
import subprocess
import time
from io import BytesIO

import pytest
import requests
from PIL import Image

from infrastructure import fetcher
from infrastructure.fetcher import PinnedAddressAdapter, fetch, is_allowed_address, make_session, vet_host, vet_url
from infrastructure.images import check_image
from orders.codes import FailureReason
from orders.errors import ProcessingError
from tests.support.image_server import ImageServer, Reply

MB = 1024 * 1024


def image_bytes(image_format: str) -> bytes:
    buffer = BytesIO()
    Image.new("RGB", (12, 8), "orange").save(buffer, image_format)
    return buffer.getvalue()


def failure(url: str, **options: object) -> ProcessingError:
    options = {"max_bytes": MB, "allow_private": True, **options}
    with pytest.raises(ProcessingError) as caught:
        fetch(url, **options)  # type: ignore[arg-type]
    return caught.value


class FakeDNS:
    def __init__(self) -> None:
        self.answers: dict[str, list[list[str]]] = {}
        self.lookups: list[str] = []

    def add(self, host: str, *addresses: str) -> None:
        self.answers[host] = [list(addresses)]

    def rebind(self, host: str, first: str, then: str) -> None:
        """Answer ``first`` once, ``then`` ever after: a DNS-rebinding attacker's name server."""
        self.answers[host] = [[first], [then]]

    def answer(self, host: str) -> list[str]:
        self.lookups.append(host)
        queue = self.answers[host]
        return queue.pop(0) if len(queue) > 1 else queue[0]


@pytest.fixture
def fake_dns(monkeypatch: pytest.MonkeyPatch) -> FakeDNS:
    dns = FakeDNS()
    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):  # noqa: A002 (socket's own names)
        if host not in dns.answers:
            return real_getaddrinfo(host, port, family, type, proto, flags)
        if not dns.answers[host][0]:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [_record(address, port) for address in dns.answer(host)]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return dns


def _record(address: str, port: int) -> tuple:
    if ipaddress.ip_address(address).version == 6:
        return (socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, port, 0, 0))
    return (socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))


# --- images that arrive ---------------------------------------------------------


@pytest.mark.parametrize("image_format", ["JPEG", "PNG", "WEBP", "TIFF"])
def test_an_image_is_downloaded_byte_for_byte(image_server, image_format: str) -> None:
    data = image_bytes(image_format)
    url = image_server.serve_bytes(f"/photo.{image_format.lower()}", data, f"image/{image_format.lower()}")

    downloaded = fetch(url, max_bytes=MB, allow_private=True)

    assert downloaded == data
    assert check_image(downloaded, max_pixels=10**6).format == image_format


def test_a_body_without_content_length_is_read_to_the_end(image_server) -> None:
    data = image_bytes("PNG") * 20
    url = image_server.serve_chunked("/chunked", data, chunk_size=100)

    assert fetch(url, max_bytes=MB, allow_private=True) == data


def test_a_text_file_named_jpg_and_served_as_image_jpeg_is_not_an_image(image_server) -> None:
    url = image_server.serve_bytes("/photo.jpg", b"just some text\n", "image/jpeg")
    downloaded = fetch(url, max_bytes=MB, allow_private=True)

    with pytest.raises(ProcessingError) as caught:
        check_image(downloaded, max_pixels=10**6)

    assert caught.value.reason is FailureReason.NOT_AN_IMAGE


def test_the_server_sees_the_fetchers_user_agent(image_server) -> None:
    url = image_server.serve_bytes("/photo.png", image_bytes("PNG"))

    fetch(url, max_bytes=MB, allow_private=True)

    [seen] = image_server.seen("/photo.png")
    assert seen.headers["user-agent"] == fetcher.USER_AGENT


# --- redirects ------------------------------------------------------------------


def test_a_redirect_is_followed_to_the_image(image_server) -> None:
    data = image_bytes("PNG")
    image_server.serve_bytes("/final.png", data)
    url = image_server.redirect("/moved", image_server.url("/final.png"), status=301)

    assert fetch(url, max_bytes=MB, allow_private=True) == data


def test_a_relative_redirect_is_followed(image_server) -> None:
    data = image_bytes("PNG")
    image_server.serve_bytes("/images/final.png", data)
    url = image_server.redirect("/images/moved", "final.png", status=307)

    assert fetch(url, max_bytes=MB, allow_private=True) == data


def _chain(image_server, hops: int) -> str:
    image_server.serve_bytes("/end.png", image_bytes("PNG"))
    for hop in range(hops):
        target = "/end.png" if hop == hops - 1 else f"/hop{hop + 1}"
        image_server.redirect(f"/hop{hop}", image_server.url(target))
    return image_server.url("/hop0")


def test_five_redirects_are_followed(image_server) -> None:
    assert fetch(_chain(image_server, 5), max_bytes=MB, allow_private=True) == image_bytes("PNG")


def test_more_than_five_redirects_fail_the_download_for_good(image_server) -> None:
    error = failure(_chain(image_server, 6))

    assert error.reason is FailureReason.DOWNLOAD_FAILED
    assert "too many redirects" in error.message
    assert not error.retryable
    assert image_server.seen("/end.png") == []


def test_a_redirects_body_is_not_read(image_server) -> None:
    # A redirect declaring a gigabyte and then stalling: reading it would hang or fill memory.
    image_server.serve_bytes("/final.png", image_bytes("PNG"))
    location = image_server.url("/final.png")
    headers = {"Location": location, "Content-Length": str(10**9)}
    url = image_server.add("/moved", Reply(status=302, headers=headers, stall=10))
    started = time.monotonic()

    assert fetch(url, max_bytes=MB, allow_private=True) == image_bytes("PNG")
    assert time.monotonic() - started < 3


def test_a_session_from_make_session_hands_back_a_redirect_unfollowed(image_server) -> None:
    url = image_server.redirect("/moved", image_server.url("/final.png"))

    with make_session(allow_private=True) as session:
        response = session.get(url, timeout=5)

    assert response.status_code == 302
    assert image_server.seen("/final.png") == []


def test_cookies_set_during_a_redirect_are_not_sent_to_the_next_hop(image_server) -> None:
    image_server.serve_bytes("/final.png", image_bytes("PNG"))
    url = image_server.redirect("/login", image_server.url("/final.png"), headers={"Set-Cookie": "session=secret"})

    fetch(url, max_bytes=MB, allow_private=True)

    [seen] = image_server.seen("/final.png")
    assert "cookie" not in seen.headers


@pytest.mark.parametrize(
    "metadata_url",
    ["http://169.254.169.254/latest/meta-data/", "http://[fd00:ec2::254]/latest/meta-data/",
     "http://100.100.100.200/latest/meta-data/"],
)
def test_a_redirect_to_cloud_metadata_is_blocked_even_on_private_networks(image_server, metadata_url: str) -> None:
    url = image_server.redirect("/innocent.jpg", metadata_url)

    error = failure(url, allow_private=True)

    assert error.reason is FailureReason.BLOCKED_ADDRESS
    assert not error.retryable


def test_a_redirect_to_a_file_url_is_blocked(image_server) -> None:
    url = image_server.redirect("/innocent.jpg", "file:///etc/passwd")

    assert failure(url).reason is FailureReason.BLOCKED_ADDRESS


def test_a_redirect_to_a_malformed_url_fails_the_download_for_good(image_server) -> None:
    url = image_server.redirect("/innocent.jpg", "http://[not-an-address/")

    error = failure(url)

    assert (error.reason, error.retryable) == (FailureReason.DOWNLOAD_FAILED, False)


# --- addresses that are refused ----------------------------------------------------


def test_localhost_is_blocked_on_public_networks(image_server) -> None:
    url = image_server.serve_bytes("/photo.png", image_bytes("PNG")).replace("127.0.0.1", "localhost")

    error = failure(url, allow_private=False)

    assert error.reason is FailureReason.BLOCKED_ADDRESS
    assert image_server.requests == []


def test_a_loopback_ip_url_is_blocked_on_public_networks(image_server) -> None:
    url = image_server.serve_bytes("/photo.png", image_bytes("PNG"))

    error = failure(url, allow_private=False)

    assert error.reason is FailureReason.BLOCKED_ADDRESS
    assert image_server.requests == []


@pytest.mark.parametrize("url", ["ftp://example.com/photo.jpg", "file:///etc/passwd", "gopher://example.com/"])
def test_urls_other_than_http_and_https_are_refused(url: str) -> None:
    error = failure(url)

    assert error.reason is FailureReason.BLOCKED_ADDRESS
    assert not error.retryable


def test_a_name_with_one_private_record_among_public_ones_is_blocked(fake_dns: FakeDNS) -> None:
    fake_dns.add("mixed.example.test", "93.184.216.34", "10.1.2.3")

    assert failure("http://mixed.example.test/a.jpg", allow_private=False).reason is FailureReason.BLOCKED_ADDRESS


def test_a_name_resolving_to_ipv4_mapped_loopback_is_blocked(fake_dns: FakeDNS) -> None:
    fake_dns.add("mapped.example.test", "::ffff:127.0.0.1")

    assert failure("http://mapped.example.test/a.jpg", allow_private=False).reason is FailureReason.BLOCKED_ADDRESS


def test_the_name_is_resolved_once_so_a_rebinding_answer_cannot_move_the_connection(
    image_server, fake_dns: FakeDNS
) -> None:
    fake_dns.rebind("rebind.example.test", first="127.0.0.1", then="169.254.169.254")
    url = image_server.serve_bytes("/photo.png", image_bytes("PNG")).replace("127.0.0.1", "rebind.example.test")

    assert fetch(url, max_bytes=MB, allow_private=True) == image_bytes("PNG")
    assert fake_dns.lookups == ["rebind.example.test"]


def test_the_server_sees_the_original_host_and_port_in_the_host_header(image_server, fake_dns: FakeDNS) -> None:
    fake_dns.add("images.example.test", "127.0.0.1")
    url = image_server.serve_bytes("/photo.png", image_bytes("PNG")).replace("127.0.0.1", "images.example.test")

    fetch(url, max_bytes=MB, allow_private=True)

    [seen] = image_server.seen("/photo.png")
    assert seen.headers["host"] == f"images.example.test:{image_server.port}"


# --- https ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A self-signed certificate for secure.example.test, made with the openssl command."""
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = str(folder / "cert.pem"), str(folder / "key.pem")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=secure.example.test",
         "-addext", "subjectAltName=DNS:secure.example.test"],
        check=True, capture_output=True,
    )
    return cert, key


@pytest.fixture
def https_server(certificate: tuple[str, str]):
    server = ImageServer(tls=certificate)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_https_is_checked_against_the_name_in_the_url_not_the_ip(https_server, certificate, fake_dns) -> None:
    fake_dns.add("secure.example.test", "127.0.0.1")
    data = image_bytes("PNG")
    url = https_server.serve_bytes("/photo.png", data).replace("127.0.0.1", "secure.example.test")

    with make_session(allow_private=True) as session:
        response = session.get(url, verify=certificate[0], timeout=5)

    assert response.content == data
    assert https_server.seen("/photo.png")[0].headers["host"] == f"secure.example.test:{https_server.port}"


def test_https_refuses_a_certificate_made_out_to_another_name(https_server, certificate, fake_dns) -> None:
    fake_dns.add("other.example.test", "127.0.0.1")
    url = https_server.serve_bytes("/photo.png", image_bytes("PNG")).replace("127.0.0.1", "other.example.test")

    with make_session(allow_private=True) as session, pytest.raises(requests.exceptions.SSLError):
        session.get(url, verify=certificate[0], timeout=5)


def test_an_https_certificate_that_cannot_be_verified_fails_the_download(https_server, fake_dns) -> None:
    fake_dns.add("secure.example.test", "127.0.0.1")
    url = https_server.serve_bytes("/photo.png", image_bytes("PNG")).replace("127.0.0.1", "secure.example.test")

    error = failure(url)

    assert error.reason is FailureReason.DOWNLOAD_FAILED
    assert "TLS" in error.message


# --- size limit -------------------------------------------------------------------


def test_a_file_over_the_limit_is_too_large(image_server) -> None:
    url = image_server.serve_bytes("/big.png", b"x" * 5000)

    error = failure(url, max_bytes=4999)

    assert error.reason is FailureReason.FILE_TOO_LARGE
    assert not error.retryable


def test_a_file_of_exactly_the_limit_is_downloaded(image_server) -> None:
    url = image_server.serve_bytes("/exact.png", b"x" * 5000)

    assert len(fetch(url, max_bytes=5000, allow_private=True)) == 5000


def test_a_declared_length_over_the_limit_is_refused_before_the_body_arrives(image_server) -> None:
    url = image_server.add("/huge.png", Reply(headers={"Content-Length": str(10**9)}, stall=10))
    started = time.monotonic()

    error = failure(url, max_bytes=MB)

    assert error.reason is FailureReason.FILE_TOO_LARGE
    assert time.monotonic() - started < 3


def test_a_file_over_the_limit_without_content_length_is_too_large(image_server) -> None:
    url = image_server.serve_chunked("/big.png", b"x" * 50_000, chunk_size=1000)

    assert failure(url, max_bytes=20_000).reason is FailureReason.FILE_TOO_LARGE


# --- slow, broken and unhappy servers -----------------------------------------------


def test_a_server_slower_than_the_read_timeout_fails_for_now(image_server) -> None:
    url = image_server.serve_slowly("/slow.png", delay=10, body=b"late")
    started = time.monotonic()

    error = failure(url, read_timeout=0.3)

    assert (error.reason, error.retryable) == (FailureReason.DOWNLOAD_FAILED, True)
    assert time.monotonic() - started < 3


def test_a_body_that_stalls_past_the_read_timeout_fails_for_now(image_server) -> None:
    url = image_server.add("/stalls.png", Reply(body=b"x" * 100, stall=10))

    error = failure(url, read_timeout=0.3)

    assert (error.reason, error.retryable) == (FailureReason.DOWNLOAD_FAILED, True)


def test_a_server_dripping_bytes_past_the_total_timeout_fails_for_now(image_server) -> None:
    url = image_server.serve_chunked("/drip.png", b"x" * 20, chunk_size=1, interval=0.1)

    error = failure(url, read_timeout=2, total_timeout=0.4)

    assert (error.reason, error.retryable) == (FailureReason.DOWNLOAD_FAILED, True)
    assert "took longer than 0.4 s" in error.message


def test_a_body_dripped_a_byte_at_a_time_is_cut_off_at_the_total_timeout(image_server) -> None:
    # 50 bytes with Content-Length, one every 0.2 s: each read gets data in time, the whole would take 10 s.
    url = image_server.serve_dripping("/drip.png", b"x" * 50, interval=0.2)
    started = time.monotonic()

    error = failure(url, read_timeout=5, total_timeout=1)

    assert (error.reason, error.retryable) == (FailureReason.DOWNLOAD_FAILED, True)
    assert "took longer than 1 s" in error.message
    assert time.monotonic() - started < 3


def test_headers_dripped_a_byte_at_a_time_are_cut_off_at_the_total_timeout(image_server) -> None:
    # The status line and headers alone are ~100 bytes: 10 s at 0.1 s a byte.
    url = image_server.serve_dripping("/drip-head.png", b"x", interval=0.1, headers_too=True)
    started = time.monotonic()

    error = failure(url, read_timeout=5, total_timeout=1)

    assert (error.reason, error.retryable) == (FailureReason.DOWNLOAD_FAILED, True)
    assert "took longer than 1 s" in error.message
    assert time.monotonic() - started < 3


def test_redirect_hops_count_against_the_one_total_timeout(image_server) -> None:
    final = image_server.serve_slowly("/final.png", delay=0.6, body=image_bytes("PNG"))
    url = image_server.add("/moved", Reply(status=302, headers={"Location": final}, delay=0.6))
    started = time.monotonic()

    error = failure(url, read_timeout=5, total_timeout=1)

    assert "took longer than 1 s" in error.message
    assert time.monotonic() - started < 3


def test_an_image_served_in_time_still_downloads_under_a_total_timeout(image_server) -> None:
    url = image_server.serve_bytes("/quick.png", image_bytes("PNG"), "image/png")

    assert fetch(url, max_bytes=MB, allow_private=True, total_timeout=1) == image_bytes("PNG")


def test_a_refused_connection_fails_for_now() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]

    error = failure(f"http://127.0.0.1:{closed_port}/photo.png")

    assert (error.reason, error.retryable) == (FailureReason.DOWNLOAD_FAILED, True)


def test_an_unresolvable_host_fails_for_now(fake_dns: FakeDNS) -> None:
    fake_dns.add("gone.example.test")  # no records: the resolver says the name is unknown

    error = failure("http://gone.example.test/photo.png")

    assert (error.reason, error.retryable) == (FailureReason.DOWNLOAD_FAILED, True)


@pytest.mark.parametrize("status", [400, 403, 404, 410])
def test_a_client_error_status_fails_for_good(image_server, status: int) -> None:
    url = image_server.serve_status("/photo.png", status)

    error = failure(url)

    assert (error.reason, error.retryable) == (FailureReason.DOWNLOAD_FAILED, False)
    assert f"HTTP {status}" in error.message


@pytest.mark.parametrize("status", [429, 500, 502, 503])
def test_a_server_error_or_rate_limit_status_fails_for_now(image_server, status: int) -> None:
    url = image_server.serve_status("/photo.png", status)

    error = failure(url)

    assert (error.reason, error.retryable) == (FailureReason.DOWNLOAD_FAILED, True)


def test_an_error_message_names_the_host_and_carries_no_traceback(fake_dns: FakeDNS) -> None:
    fake_dns.add("gone.example.test")

    message = failure("http://gone.example.test/photo.png").message

    assert "gone.example.test" in message
    assert "Traceback" not in message and "\n" not in message


# --- the pieces the callback sender reuses ------------------------------------------


def test_vet_url_refuses_a_url_pointing_at_cloud_metadata() -> None:
    with pytest.raises(ProcessingError) as caught:
        vet_url("http://169.254.169.254/latest/meta-data/", allow_private=True)

    assert caught.value.reason is FailureReason.BLOCKED_ADDRESS


def test_vet_url_refuses_a_name_resolving_to_a_private_address(fake_dns: FakeDNS) -> None:
    fake_dns.add("intranet.example.test", "192.168.10.20")

    with pytest.raises(ProcessingError) as caught:
        vet_url("https://intranet.example.test/callback", allow_private=False)

    assert caught.value.reason is FailureReason.BLOCKED_ADDRESS
    assert "192.168" not in caught.value.message  # our resolver's view stays ours


def test_vet_url_lets_a_public_address_through() -> None:
    assert vet_url("https://93.184.216.34/callback", allow_private=False) is None


def test_vet_host_returns_the_address_to_connect_to(fake_dns: FakeDNS) -> None:
    fake_dns.add("cdn.example.test", "2606:4700::6810:84e5", "104.16.132.229")

    assert vet_host("cdn.example.test", 443, allow_private=False) == "2606:4700::6810:84e5"


def test_https_keeps_the_name_for_sni_and_the_certificate_check(fake_dns: FakeDNS) -> None:
    fake_dns.add("secure.example.test", "93.184.216.34")
    request = requests.Request("GET", "https://secure.example.test/photo.jpg").prepare()

    host_params, pool_kwargs = PinnedAddressAdapter(allow_private=False).build_connection_pool_key_attributes(
        request, verify=True
    )

    assert host_params["host"] == "93.184.216.34"
    assert pool_kwargs["server_hostname"] == pool_kwargs["assert_hostname"] == "secure.example.test"


# --- the address table -------------------------------------------------------------

REFUSED_ALWAYS = [
    "0.0.0.0", "0.1.2.3",  # this network
    "169.254.0.1", "169.254.169.254", "::ffff:169.254.169.254",  # link-local, metadata
    "100.100.100.200", "::ffff:100.100.100.200",  # Alibaba metadata
    "192.0.0.1", "192.0.0.9", "192.0.0.192",  # IETF protocol assignments
    "192.0.2.1", "198.51.100.7", "203.0.113.9",  # documentation
    "192.88.99.1",  # 6to4 relay anycast
    "198.18.0.1", "198.19.255.254",  # benchmarking
    "224.0.0.1", "239.255.255.250",  # multicast
    "240.0.0.1", "255.255.255.255",  # reserved, broadcast
    "::", "::ffff:0.0.0.0",  # unspecified
    "fe80::1", "fe80::1%eth0", "febf:ffff::1",  # link-local
    "ff02::1",  # multicast
    "fd00:ec2::254",  # AWS metadata over IPv6
    "64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe", "64:ff9b:1::a00:1",  # NAT64
    "2002:7f00:1::1", "2002:a9fe:a9fe::1",  # 6to4
    "2001::1", "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
    "2001:2::1",  # benchmarking, IETF protocol assignments
    "2001:db8::1", "3fff::1", "3fff:fff:ffff::1",  # documentation
    "5f00::1",  # SRv6
    "100::1",  # discard-only
    "::7f00:1",  # IPv4-compatible ::127.0.0.1 (deprecated)
    "fec0::1",  # site-local (deprecated)
    "not an address", "",
]

PRIVATE_ONLY = [
    "127.0.0.1", "127.255.255.254", "::ffff:127.0.0.1",  # loopback
    "10.0.0.1", "::ffff:10.0.0.1", "172.16.0.1", "172.31.255.254", "192.168.1.1", "::ffff:192.168.1.1",  # RFC 1918
    "100.64.0.1", "100.127.255.254",  # carrier-grade NAT
    "::1",  # loopback
    "fc00::1", "fd12:3456:789a::1", "fd00:ec2::253",  # unique local
]

PUBLIC = [
    "93.184.216.34", "8.8.8.8", "1.1.1.1", "::ffff:8.8.8.8",
    "172.32.0.1", "100.128.0.1", "11.0.0.1", "169.255.0.1",  # just outside the private blocks
    "2606:4700:4700::1111", "2a00:1450:4001:800::200e", "2001:4860:4860::8888",
]


@pytest.mark.parametrize("allow_private", [False, True])
@pytest.mark.parametrize("address", REFUSED_ALWAYS)
def test_link_local_metadata_and_special_addresses_are_always_refused(address: str, allow_private: bool) -> None:
    assert is_allowed_address(address, allow_private) is False


@pytest.mark.parametrize("address", PRIVATE_ONLY)
def test_loopback_and_private_addresses_are_refused_on_public_networks(address: str) -> None:
    assert is_allowed_address(address, allow_private=False) is False


@pytest.mark.parametrize("address", PRIVATE_ONLY)
def test_loopback_and_private_addresses_are_allowed_on_private_networks(address: str) -> None:
    assert is_allowed_address(address, allow_private=True) is True


@pytest.mark.parametrize("allow_private", [False, True])
@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_are_allowed(address: str, allow_private: bool) -> None:
    assert is_allowed_address(address, allow_private) is True


def test_an_ip_address_object_is_judged_like_its_text() -> None:
    assert is_allowed_address(ipaddress.ip_address("127.0.0.1"), allow_private=False) is False
