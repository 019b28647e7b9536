"""A practice's URLs point at the public internet, never into our network (P6).

A URL a practice sets (callback, booking, review, map, photo) must be https, carry no
credentials, name a host that is not an address trick (`localhost`, `.internal`, a bare
number such as 2130706433, which resolvers read as 127.0.0.1) and, once resolved, every
address must be a global unicast one: no loopback, link-local (169.254.0.0/16, the
instance metadata service), private, shared, reserved, multicast, or IPv6 forms of them
(`::1`, `fe80::`, `fc00::/7`, `::ffff:10.0.0.1`).

The callback client resolves the host itself, checks every address at each call (DNS
may change after configuration) and connects to the checked address only; it never
follows a redirect.
"""

from __future__ import annotations

import http.client
import ipaddress
import re
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

MAX_URL_LENGTH = 2048
LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".home.arpa", ".lan", ".intranet", ".corp")
_NUMERIC_HOST = re.compile(r"^(0x[0-9a-f]+|[0-9]+)(\.(0x[0-9a-f]+|[0-9]+))*\.?$", re.IGNORECASE)

Resolver = Callable[..., list[tuple[Any, ...]]]


class UnsafeUrlError(ValueError):
    """A URL that does not point at a public https address, and why."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str  # path and query, what the request line carries


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return bool(ip.is_global) and not ip.is_multicast


def parse(url: str, *, loopback_http: bool = False) -> Target:
    """The URL's parts if its form is acceptable; UnsafeUrlError otherwise. With
    `loopback_http` (the local stack only), http://127.0.0.1:<port> is accepted too."""
    if not isinstance(url, str) or not url or len(url) > MAX_URL_LENGTH:
        raise UnsafeUrlError(f"must be a URL of at most {MAX_URL_LENGTH} characters")
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    local = loopback_http and parts.scheme == "http" and host == "127.0.0.1"
    if parts.scheme != "https" and not local:
        raise UnsafeUrlError("must be an https URL")
    if parts.username or parts.password:
        raise UnsafeUrlError("must not carry a user name or password")
    if not host:
        raise UnsafeUrlError("must name a host")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise UnsafeUrlError("has an invalid port") from exc
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if local:
        return Target(parts.scheme, host, port, path)
    try:
        literal = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        literal = None
    if literal is not None:
        if not is_public(str(literal)):
            raise UnsafeUrlError("must not point at a private, loopback or link-local address")
    elif _NUMERIC_HOST.match(host):
        raise UnsafeUrlError("must not use a numeric host name")
    elif host == "localhost" or host.endswith(LOCAL_SUFFIXES) or "." not in host.strip("."):
        raise UnsafeUrlError("must name a public host")
    return Target(parts.scheme, host, port, path)


def resolve(target: Target, resolver: Resolver = socket.getaddrinfo) -> list[str]:
    """The host's addresses, all public; UnsafeUrlError if any is not (or none)."""
    try:
        infos = resolver(target.host, target.port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeUrlError("its host does not resolve") from exc
    addresses = sorted({str(info[4][0]) for info in infos})
    if not addresses:
        raise UnsafeUrlError("its host does not resolve")
    private = [a for a in addresses if not is_public(a)]
    if private:
        raise UnsafeUrlError("its host resolves to a private, loopback or link-local address")
    return addresses


def check(url: str, *, resolver: Resolver | None = None, loopback_http: bool = False) -> Target:
    """The form, and (given a resolver) the addresses: what configuration checks."""
    target = parse(url, loopback_http=loopback_http)
    if resolver is not None and not (loopback_http and target.host == "127.0.0.1"):
        resolve(target, resolver)
    return target


class _PinnedHTTPS(http.client.HTTPSConnection):
    """Connects to one checked address while speaking TLS (SNI, certificate) for the
    host name: a DNS answer that changes between check and connect cannot redirect us."""

    def __init__(self, host: str, address: str, port: int, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes


def post(
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    timeout_s: float = 5.0,
    max_body: int = 64 * 1024,
    resolver: Resolver = socket.getaddrinfo,
    loopback_http: bool = False,
) -> Answer:
    """POST to a practice's URL: checked at this call, no redirects followed, at most
    `max_body` bytes of the answer read, `timeout_s` for connecting and each read."""
    target = parse(url, loopback_http=loopback_http)
    connection: http.client.HTTPConnection
    if target.scheme == "http":  # the local stack's own endpoints (loopback_http)
        connection = http.client.HTTPConnection(target.host, target.port, timeout=timeout_s)
    else:
        address = resolve(target, resolver)[0]
        connection = _PinnedHTTPS(target.host, address, target.port, timeout_s)
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
        return Answer(response.status, response.read(max_body))
    finally:
        connection.close()
