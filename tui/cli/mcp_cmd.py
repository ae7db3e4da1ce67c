"""`podium mcp`: podium's MCP server on stdio, for the agents podium starts."""

from __future__ import annotations

import click


@click.command("mcp")
def mcp() -> None:
    """Serve podium's tools to its agents over stdio (MCP).

    podium gives every Claude session and background run it starts this server through
    `--mcp-config` ([agents] mcp = false: none); run by hand, it waits for an MCP
    client on stdin."""
    # The MCP SDK (pydantic, anyio) costs ~0.3 s to import: only this command loads it.
    from sessions.mcp_server import serve

    serve()


COMMANDS = [mcp]
