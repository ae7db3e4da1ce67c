"""Limit figures podium reads from outside: `.claude.json` and the opt-in usage endpoint.

Both run in a worker thread (file reads, network) and return plain values.

The usage endpoint (reference §5) is undocumented, rate-limited and needs the
user's Claude OAuth token: podium calls it only when `[usage] endpoint = true`,
never more often than `endpoint_interval`, and only over https (or plain http
to a loopback address, for a local stand-in).
"""

from __future__ import annotations

import functools
import ipaddress
import os
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from collectors import safe_json
from collectors.limits import LimitSample, samples_from_claude_json, samples_from_usage_body

if TYPE_CHECKING:
    import urllib.request


class EndpointError(Exception):
    """The usage endpoint could not be asked or answered badly; the message says which."""


def claude_json_files(config_dirs: Iterable[Path], home: Path | None = None) -> list[Path]:
    """Where `.claude.json` may be: in each config dir, and `~/.claude.json` for the default
    one (Claude Code keeps it beside `~/.claude`, not inside, unless CLAUDE_CONFIG_DIR is set)."""
    files = [d / ".claude.json" for d in config_dirs]
    if "CLAUDE_CONFIG_DIR" not in os.environ:
        files.append((home or Path.home()) / ".claude.json")
    return files


@dataclass(frozen=True)
class ClaudeJsonRead:
    mtime_ns: int | None  # None: the file is missing
    samples: list[LimitSample] | None  # None: unchanged since `last_mtime_ns`, not read


def read_claude_json(path: Path, last_mtime_ns: int | None = None) -> ClaudeJsonRead:
    """`cachedUsageUtilization` of one `.claude.json`, read only when it changed (it can be
    megabytes: Claude Code keeps per-project history there)."""
    try:
        mtime = path.stat().st_mtime_ns
    except OSError:
        return ClaudeJsonRead(None, [])
    if mtime == last_mtime_ns:
        return ClaudeJsonRead(mtime, None)
    data, why = safe_json.load_file(path)
    if why is not None:  # torn by a concurrent write (next tick), or not a file at all
        return ClaudeJsonRead(last_mtime_ns, [])
    return ClaudeJsonRead(mtime, samples_from_claude_json(data) if isinstance(data, dict) else [])


def oauth_token(config_dirs: Iterable[Path]) -> str | None:
    """`claudeAiOauth.accessToken` of `.credentials.json` (Linux; macOS keeps it in the
    keychain, which podium does not read)."""
    for d in config_dirs:
        data, _why = safe_json.load_file(d / ".credentials.json")
        oauth = data.get("claudeAiOauth") if isinstance(data, dict) else None
        token = oauth.get("accessToken") if isinstance(oauth, dict) else None
        if isinstance(token, str) and token:
            return token
    return None


def check_endpoint_url(url: str) -> None:
    """https anywhere, http only to loopback: the request carries the user's token."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and parts.hostname:
        host = parts.hostname
        try:
            if host == "localhost" or ipaddress.ip_address(host).is_loopback:
                return
        except ValueError:
            pass
    raise EndpointError(f"usage endpoint {url!r}: use https (http only to a loopback address)")


@functools.cache
def _opener() -> urllib.request.OpenerDirector:
    # urllib.request (http.client, email: a few ms and MB) only once the endpoint is
    # asked: it is off by default, and the engine's start goes to its socket first.
    import urllib.request

    class NoRedirects(urllib.request.HTTPRedirectHandler):
        """urllib follows a redirect with every header of the request, Authorization
        included: a 3xx would hand the token to wherever it points. Refuse them all."""

        def redirect_request(self, req, fp, code, msg, headers, newurl):
            fp.close()
            raise EndpointError(
                f"usage endpoint answered {code} (a redirect to {newurl}); "
                "podium does not follow it with your token: check [usage] endpoint_url"
            )

    return urllib.request.build_opener(NoRedirects)


def fetch_usage(url: str, token: str, timeout: float = 10.0) -> list[LimitSample]:
    """GET the usage endpoint; its figures as samples of source `endpoint`. The token
    goes only to `url` (https, or http to loopback): a redirect is an `EndpointError`."""
    check_endpoint_url(url)
    # As `_opener`: loaded when the endpoint is asked.
    import urllib.error
    import urllib.request

    request = urllib.request.Request(
        url,
        headers={
            "Authorization": f"Bearer {token}",
            "anthropic-beta": "oauth-2025-04-20",
            "Accept": "application/json",
            "User-Agent": "podium",
        },
    )
    at = datetime.now(UTC)
    try:
        with _opener().open(request, timeout=timeout) as reply:
            body, why = safe_json.loads(reply.read(1_000_000))
    except urllib.error.HTTPError as exc:
        raise EndpointError(f"usage endpoint answered {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise EndpointError(f"usage endpoint unreachable: {exc}") from None
    if why is not None:
        raise EndpointError(f"usage endpoint answered something that is not JSON: {why}")
    if not isinstance(body, dict):
        raise EndpointError("usage endpoint answered JSON that is not an object")
    return samples_from_usage_body(body, at)
