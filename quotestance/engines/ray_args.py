"""The checks of ``--engine ray``'s options, without importing Ray: the command line runs them
before anything starts, and ``ray_data.run`` again for callers of the API."""

from __future__ import annotations

import math
import re

# auto, HOST:PORT or ray://HOST:PORT; HOST a name, an IPv4 address or [an IPv6 address]
_ADDRESS = re.compile(
    r"(?P<client>ray://)?"
    r"(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9._-]{0,252}[A-Za-z0-9])?)"
    r":(?P<port>[0-9]{1,5})"
)
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")
MIN_CPUS = 0.0001  # Ray's resource precision


def parse_address(address: str) -> tuple[str, int, bool] | None:
    """``(host, port, client)`` of ``HOST:PORT`` or ``ray://HOST:PORT``; None for ``auto``.
    Raises ValueError with the one line for the user."""
    if not address.strip():
        raise ValueError(
            "--address is empty: give auto, HOST:PORT or ray://HOST:PORT "
            "(leave it out for a local Ray instance)"
        )
    if address == "auto":
        return None
    match = _ADDRESS.fullmatch(address)
    port = int(match["port"]) if match else 0
    if not match or not 1 <= port <= 65535:
        hint = " (leave --address out for a local Ray instance)" if address == "local" else ""
        raise ValueError(f"--address {address!r}: not auto, HOST:PORT or ray://HOST:PORT{hint}")
    return match["host"], port, bool(match["client"])


def is_loopback(address: str | None) -> bool:
    """A local instance, or an address on this machine's loopback interface."""
    if address is None:
        return True
    try:
        parsed = parse_address(address)
    except ValueError:
        return False
    return parsed is not None and parsed[0] in LOOPBACK_HOSTS


def _positive(option: str, value: float | None, *, integer: bool = False) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"{option} must be a number, not {value!r}"
    if not math.isfinite(value) or value <= 0:
        kind = "a whole number, at least 1" if integer else "a finite number above 0"
        return f"{option} must be {kind}, not {value!r}"
    if integer and value != int(value):
        return f"{option} must be a whole number, not {value!r}"
    return None


def option_problem(
    *,
    address: str | None = None,
    actors: int | None = None,
    cpus_per_actor: float | None = None,
    batch_size: int | None = None,
    max_mb: float | None = None,
) -> str | None:
    """The first problem with these option values, as one line; None when they are fine."""
    if address is not None:
        try:
            parse_address(address)
        except ValueError as err:
            return str(err)
    problem = (
        _positive("--ray-actors", actors, integer=True)
        or _positive("--cpus-per-actor", cpus_per_actor)
        or _positive("--batch-size", batch_size, integer=True)
        or _positive("--max-mb", max_mb)
    )
    if problem:
        return problem
    if cpus_per_actor is not None and cpus_per_actor < MIN_CPUS:
        return f"--cpus-per-actor must be at least {MIN_CPUS:g} (Ray's precision)"
    if max_mb is not None and not 1 <= max_mb * 2**20 < 2**62:
        return f"--max-mb {max_mb:g} is not between one byte and 4 EiB"
    return None
