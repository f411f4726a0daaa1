"""Download a customer's image URL without letting the URL reach our own network.

Runs in a background job, never in a request. Every hop (the URL and each
redirect) is resolved once; every address the name resolves to must pass
``is_allowed_address``; and the connection then goes to the vetted address, so a
DNS answer that changes between the check and the connect (DNS rebinding)
cannot move it. The callback sender reuses ``vet_url`` / ``vet_host`` and, for
the same pinning, ``make_session``.
"""
from __future__ import annotations

import http.cookiejar
import ipaddress
import socket
import threading
import time
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3 import PoolManager
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool

from orders.codes import FailureReason
from orders.errors import ProcessingError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

USER_AGENT = "ClippingPathOrders-ImageFetcher/1.0 (downloads the image of a clipping-path order)"
# Without image/avif in Accept, content-negotiating CDNs answer with a format we take.
ACCEPT = "image/jpeg,image/png,image/webp,image/tiff,*/*;q=0.5"

_DEFAULT_PORTS = {"http": 80, "https": 443}
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_CHUNK_BYTES = 64 * 1024


def _networks(*cidrs: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(cidr) for cidr in cidrs)


# Refused even with allow_private: nothing on premises legitimately lives here,
# and the metadata services hand out cloud credentials.
ALWAYS_REFUSED = _networks(
    "0.0.0.0/8",  # "this network"; Linux connects 0.0.0.0 to localhost
    "169.254.0.0/16",  # link-local, incl. 169.254.169.254 metadata (AWS, GCP, Azure)
    "100.100.100.200/32",  # Alibaba Cloud metadata, inside 100.64/10
    "192.0.0.0/24",  # IETF protocol assignments (Oracle Cloud metadata 192.0.0.192)
    "192.0.2.0/24",  # documentation (TEST-NET-1)
    "198.51.100.0/24",  # documentation (TEST-NET-2)
    "203.0.113.0/24",  # documentation (TEST-NET-3)
    "192.88.99.0/24",  # deprecated 6to4 relay anycast; ipaddress calls it global
    "198.18.0.0/15",  # benchmarking
    "224.0.0.0/4",  # multicast
    "240.0.0.0/4",  # reserved, incl. 255.255.255.255 broadcast
    "::/128",  # unspecified
    "fe80::/10",  # link-local
    "fec0::/10",  # deprecated site-local
    "ff00::/8",  # multicast
    "fd00:ec2::254/128",  # AWS metadata over IPv6, inside fc00::/7
    # The next four embed an IPv4 address that a translator or relay would
    # reach for us (127.0.0.1, 169.254.169.254...); ipaddress calls most global.
    "64:ff9b::/96",  # NAT64 well-known prefix
    "64:ff9b:1::/48",  # NAT64 local-use prefix
    "2002::/16",  # 6to4
    "2001::/32",  # Teredo
    "2001::/23",  # the rest of the IETF protocol assignments
    "2001:db8::/32",  # documentation
    "3fff::/20",  # documentation (RFC 9637); ipaddress calls it global
    "5f00::/16",  # SRv6 segment identifiers; ipaddress calls it global
    "100::/64",  # discard-only
)

# Opened only by allow_private (FETCH_ALLOW_PRIVATE_NETWORKS=1): on-premises installs and tests.
PRIVATE = _networks(
    "127.0.0.0/8",
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "100.64.0.0/10",  # carrier-grade NAT
    "::1/128",
    "fc00::/7",  # unique local
)

# Only 2000::/3 is handed out for global unicast; allowing nothing else refuses
# whatever IANA reserves next without a code change here.
_IPV6_GLOBAL_UNICAST = ipaddress.ip_network("2000::/3")


def is_allowed_address(ip: str | IPAddress, allow_private: bool) -> bool:
    """May we connect to ``ip``? IPv4-mapped IPv6 (::ffff:a.b.c.d) is judged as the IPv4 address."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    address = _unwrap_mapped(address)
    if _within(address, ALWAYS_REFUSED):
        return False
    if _within(address, PRIVATE):
        return allow_private
    return _is_global_unicast(address)


def _unwrap_mapped(address: IPAddress) -> IPAddress:
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped if mapped is not None else address


def _within(address: IPAddress, networks: tuple[Any, ...]) -> bool:
    return any(address.version == net.version and address in net for net in networks)


def _is_global_unicast(address: IPAddress) -> bool:
    if address.version == 6 and address not in _IPV6_GLOBAL_UNICAST:
        return False
    # Catches whatever ipaddress knows to be special that the tables above miss.
    return address.is_global


def ports(setting: str) -> frozenset[int] | None:
    """FETCH_ALLOWED_PORTS: "80,443" -> {80, 443}; "*" -> None (any port)."""
    if setting.strip() == "*":
        return None
    return frozenset(int(part) for part in setting.split(",") if part.strip())


def vet_host(host: str, port: int, allow_private: bool) -> str:
    """Resolve ``host`` and return the address to connect to; every record must be allowed.

    One refused record refuses the host: otherwise a name with a public and a
    private record would reach the private one whenever the resolver orders it first.
    """
    addresses = _resolve(host, port)
    if not all(is_allowed_address(address, allow_private) for address in addresses):
        # The refused address itself stays out of the message: it is shown to the
        # customer, and our resolver's view of internal names is none of theirs.
        raise ProcessingError(FailureReason.BLOCKED_ADDRESS, f"{_naming(host)} a non-public address")
    return addresses[0]  # getaddrinfo already sorted them by the system's preference


def _naming(host: str) -> str:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return f"{host} resolves to"
    return f"{host} is"


def _resolve(host: str, port: int) -> list[str]:
    try:
        records = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError, ValueError):
        raise ProcessingError(FailureReason.DOWNLOAD_FAILED, f"cannot resolve {host}", retryable=True) from None
    addresses = list(dict.fromkeys(str(record[4][0]) for record in records))
    if not addresses:
        raise ProcessingError(FailureReason.DOWNLOAD_FAILED, f"{host} has no address", retryable=True)
    return addresses


def vet_url(url: str, allow_private: bool) -> None:
    """Refuse a URL that is not http(s) or whose host resolves to a refused address."""
    host, port = _host_and_port(url)
    vet_host(host, port, allow_private)


def _host_and_port(url: str) -> tuple[str, int]:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ProcessingError(FailureReason.DOWNLOAD_FAILED, "the URL is malformed") from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise ProcessingError(
            FailureReason.BLOCKED_ADDRESS, f"only http and https URLs are fetched, not {scheme or 'no scheme'}"
        )
    if not parts.hostname:
        raise ProcessingError(FailureReason.DOWNLOAD_FAILED, "the URL has no host")
    return parts.hostname, port or _DEFAULT_PORTS[scheme]


class Deadline:
    """The end of a whole download, enforced by a watchdog that cuts its connections when it comes.

    Socket timeouts bound each wait, not the sum: a server dripping a byte at a
    time (status line, headers, TLS handshake or body) satisfies every one of
    them. So each socket the download opens is watched, and when time is up the
    watchdog shuts it down, which ends any read blocked on it at once. Through a
    duplicate of the socket: TLS detaches the original object, and the duplicate
    is ours alone, so its descriptor cannot have been reused by anything else.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.ends_at = time.monotonic() + seconds
        self._watched: list[socket.socket] = []
        self._lock = threading.Lock()
        self._expired = False
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def left(self) -> float:
        return max(self.ends_at - time.monotonic(), 0.0)

    def passed(self) -> bool:
        return self._expired or time.monotonic() >= self.ends_at

    def error(self, host: str) -> ProcessingError:
        return ProcessingError(FailureReason.DOWNLOAD_FAILED, f"{host}: the download took longer than "
                                                              f"{self.seconds:g} s", retryable=True)

    def check(self, host: str) -> None:
        if self.passed():
            raise self.error(host)

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            duplicate = sock.dup()
            self._watched.append(duplicate)
            if self._expired:
                _cut(duplicate)

    def close(self) -> None:
        self._timer.cancel()
        with self._lock:
            for duplicate in self._watched:
                duplicate.close()
            self._watched.clear()

    def _expire(self) -> None:
        with self._lock:
            self._expired = True
            for duplicate in self._watched:
                _cut(duplicate)


def _cut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed by the other side


class _WatchedConnection:
    """Hands each new socket to the download's Deadline (mixed into urllib3's connection classes)."""

    def __init__(self, *args: Any, deadline: Deadline, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.deadline = deadline

    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()  # type: ignore[misc]
        self.deadline.watch(sock)
        return sock


class _WatchedHTTPConnection(_WatchedConnection, HTTPConnection):
    pass


class _WatchedHTTPSConnection(_WatchedConnection, HTTPSConnection):
    pass


class _WatchedPoolManager(PoolManager):
    """Pools whose connections are watched by ``deadline`` (``_new_pool`` is urllib3's customisation hook)."""

    _CONNECTIONS = {"http": _WatchedHTTPConnection, "https": _WatchedHTTPSConnection}

    def __init__(self, deadline: Deadline, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.deadline = deadline

    def _new_pool(self, scheme: str, host: str, port: int,
                  request_context: dict[str, Any] | None = None) -> HTTPConnectionPool:
        pool = super()._new_pool(scheme, host, port, request_context)
        pool.ConnectionCls = self._CONNECTIONS[scheme]  # type: ignore[assignment]
        pool.conn_kw["deadline"] = self.deadline
        return pool


class PinnedAddressAdapter(HTTPAdapter):
    """Vets each connection's host and connects to the vetted IP, not to a fresh DNS answer.

    The urllib3 pool key gets the vetted IP as its host, while the Host header,
    TLS SNI (``server_hostname``) and certificate check (``assert_hostname``)
    keep the original name. This is how the ``requests-hardened`` package does
    it; we do not use that package because it checks only the first DNS record
    and its private-range policy cannot be configured (we need allow_private for
    on-premises installs, with link-local and metadata refused regardless).
    """

    def __init__(self, allow_private: bool, allowed_ports: frozenset[int] | None = None,
                 deadline: Deadline | None = None) -> None:
        self.deadline = deadline  # before super().__init__, which calls init_poolmanager
        super().__init__(max_retries=0)  # the job queue decides about retries
        self.allow_private = allow_private
        self.allowed_ports = allowed_ports

    def init_poolmanager(self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any) -> None:
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)
        if self.deadline is not None:
            self.poolmanager = _WatchedPoolManager(self.deadline, num_pools=connections, maxsize=maxsize,
                                                   block=block, **pool_kwargs)

    def build_connection_pool_key_attributes(
        self, request: requests.PreparedRequest, verify: Any, cert: Any = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(request, verify, cert)
        scheme, host = host_params["scheme"], host_params["host"]
        port = host_params["port"] or _DEFAULT_PORTS.get(scheme, 80)
        if self.allowed_ports is not None and port not in self.allowed_ports:
            # Or any port would do to probe what answers where (FETCH_ALLOWED_PORTS).
            raise ProcessingError(FailureReason.BLOCKED_ADDRESS, f"port {port} is not one images are fetched from")
        host_params["host"] = vet_host(host, port, self.allow_private)
        if scheme == "https":
            pool_kwargs["server_hostname"] = host
            pool_kwargs["assert_hostname"] = host
        return host_params, pool_kwargs

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        # urllib3 would otherwise send the IP it connects to as the Host header.
        request.headers["Host"] = _host_header(request.url or "")
        return super().send(request, *args, **kwargs)


def _host_header(url: str) -> str:
    return urlsplit(url).netloc.rpartition("@")[2]


class _NoCookies(http.cookiejar.CookiePolicy):
    """A cookie set by one hop must not travel to the next (which may be another site)."""

    netscape = True
    rfc2965 = False
    hide_cookie2 = True

    def set_ok(self, cookie: http.cookiejar.Cookie, request: Any) -> bool:
        return False

    def return_ok(self, cookie: http.cookiejar.Cookie, request: Any) -> bool:
        return False

    def domain_return_ok(self, domain: str, request: Any) -> bool:
        return False

    def path_return_ok(self, path: str, request: Any) -> bool:
        return False


class _NoRedirectSession(requests.Session):
    def resolve_redirects(self, resp: requests.Response, req: requests.PreparedRequest, **kwargs: Any) -> Any:
        # Even with allow_redirects=False, requests reads a redirect's whole body
        # (no size cap, no deadline) to prepare the next hop. fetch() follows
        # redirects itself, hop by hop, so requests gets none to follow.
        return iter(())


def make_session(allow_private: bool, allowed_ports: frozenset[int] | None = None,
                 deadline: Deadline | None = None) -> requests.Session:
    """A session that connects only to vetted addresses (and, given allowed_ports, ports), without
    cookies, proxies or netrc; given a deadline, its connections are cut when the deadline comes.

    It never follows redirects: a 3xx comes back as it is, its body unread.
    """
    session = _NoRedirectSession()
    # Environment proxies would resolve the name themselves, past our vetting;
    # netrc would attach our credentials to a customer's URL.
    session.trust_env = False
    session.cookies.set_policy(_NoCookies())
    session.headers.update({"User-Agent": USER_AGENT, "Accept": ACCEPT, "Accept-Encoding": "identity"})
    adapter = PinnedAddressAdapter(allow_private, allowed_ports, deadline)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def fetch(
    url: str,
    *,
    max_bytes: int,
    allow_private: bool,
    connect_timeout: float = 5,
    read_timeout: float = 20,
    max_redirects: int = 5,
    total_timeout: float = 120,
    allowed_ports: frozenset[int] | None = None,
) -> bytes:
    """Download ``url`` and return its body, or raise ProcessingError saying why not.

    ``read_timeout`` bounds each wait for data; ``total_timeout`` bounds the
    whole download, redirects, headers and body together, so a server dripping
    a byte at a time cannot hold a worker past it.
    """
    deadline = Deadline(total_timeout)
    try:
        with make_session(allow_private, allowed_ports, deadline) as session:
            timeout = (connect_timeout, read_timeout)
            response = _open_following_redirects(session, url, timeout, max_redirects, deadline)
            with response:
                host = _host_and_port(response.url)[0]
                _check_status(response, host)
                return _read_capped(response, host, max_bytes, deadline)
    finally:
        deadline.close()


def _open_following_redirects(
    session: requests.Session, url: str, timeout: tuple[float, float], max_redirects: int, deadline: Deadline
) -> requests.Response:
    # Redirects are followed here, not by requests, so that each hop is counted
    # and fails with our reasons; the adapter vets each hop's address.
    for _ in range(max_redirects + 1):
        response = _get(session, url, timeout, deadline)
        location = response.headers.get("Location") if response.status_code in _REDIRECT_STATUSES else None
        if location is None:
            return response
        response.close()
        url = _redirect_target(response.url, location)
    host = _host_and_port(response.url)[0]
    raise ProcessingError(FailureReason.DOWNLOAD_FAILED, f"{host}: too many redirects (more than {max_redirects})")


def _redirect_target(current: str, location: str) -> str:
    try:
        return urljoin(current, location)
    except ValueError:  # e.g. an unclosed "[" where an IPv6 host should be
        host = _host_and_port(current)[0]
        raise ProcessingError(FailureReason.DOWNLOAD_FAILED, f"{host} redirected to a malformed URL") from None


def _get(session: requests.Session, url: str, timeout: tuple[float, float], deadline: Deadline) -> requests.Response:
    host = _host_and_port(url)[0]
    deadline.check(host)
    # No single wait may outlast the deadline either (the watchdog cuts sockets, not a connect in progress);
    # never 0, which would make the socket non-blocking.
    left = max(deadline.left(), 0.01)
    try:
        return session.get(url, timeout=(min(timeout[0], left), min(timeout[1], left)), stream=True,
                           allow_redirects=False)
    except requests.RequestException as exc:
        raise _request_failed(host, exc, deadline) from None


def _request_failed(host: str, exc: requests.RequestException, deadline: Deadline) -> ProcessingError:
    if deadline.passed():  # the watchdog cut the connection: say so, not what the cut looked like
        return deadline.error(host)
    if isinstance(exc, requests.Timeout):
        return ProcessingError(FailureReason.DOWNLOAD_FAILED, f"{host}: timed out", retryable=True)
    if isinstance(exc, requests.exceptions.SSLError):
        return ProcessingError(
            FailureReason.DOWNLOAD_FAILED, f"{host}: the TLS handshake or certificate check failed", retryable=True
        )
    if isinstance(exc, requests.ConnectionError):
        return ProcessingError(FailureReason.DOWNLOAD_FAILED, f"{host}: could not connect", retryable=True)
    return ProcessingError(FailureReason.DOWNLOAD_FAILED, f"{host}: {_describe(exc)}")


def _describe(exc: requests.RequestException) -> str:
    # The class name says what went wrong; str(exc) can carry urllib3 internals.
    return f"request refused ({type(exc).__name__})"


def _check_status(response: requests.Response, host: str) -> None:
    status = response.status_code
    if 200 <= status < 300:
        return
    if status in _REDIRECT_STATUSES:
        raise ProcessingError(FailureReason.DOWNLOAD_FAILED, f"{host} answered HTTP {status} without a Location")
    transient = status >= 500 or status == 429
    raise ProcessingError(FailureReason.DOWNLOAD_FAILED, f"{host} answered HTTP {status}", retryable=transient)


def _read_capped(response: requests.Response, host: str, max_bytes: int, deadline: Deadline) -> bytes:
    declared = _content_length(response)
    if declared is not None and declared > max_bytes:
        raise _too_large(host, max_bytes)
    body = bytearray()
    try:
        # Counted after any Content-Encoding is undone, so a gzip bomb hits the cap too.
        for chunk in response.iter_content(_CHUNK_BYTES):
            body += chunk
            if len(body) > max_bytes:
                raise _too_large(host, max_bytes)
            deadline.check(host)
    except requests.RequestException as exc:
        raise _read_failed(host, exc, deadline) from None
    # A body read to its end may have ended at the watchdog's cut (no length declared): not a whole file.
    deadline.check(host)
    return bytes(body)


def _read_failed(host: str, exc: requests.RequestException, deadline: Deadline) -> ProcessingError:
    if deadline.passed():
        return deadline.error(host)
    # requests reports a read timeout mid-body as a ConnectionError, a dropped
    # connection as a ChunkedEncodingError: both may pass on a later attempt.
    if isinstance(exc, (requests.ConnectionError, requests.exceptions.ChunkedEncodingError)):
        return ProcessingError(FailureReason.DOWNLOAD_FAILED, f"{host}: the connection broke or stalled",
                               retryable=True)
    return ProcessingError(FailureReason.DOWNLOAD_FAILED, f"{host}: {_describe(exc)}")


def _content_length(response: requests.Response) -> int | None:
    try:
        return int(response.headers["Content-Length"])
    except (KeyError, ValueError):
        return None  # absent or garbled: the streamed count still enforces the cap


def _too_large(host: str, max_bytes: int) -> ProcessingError:
    return ProcessingError(FailureReason.FILE_TOO_LARGE, f"{host}: the file is larger than {max_bytes} bytes")
