"""What a background task may be given besides its schedule: permission modes, tool rules.

Light on purpose (no DuckDB): `podium queue add` checks its values with these
before it asks the engine, and the engine checks them again for every client.
"""

from __future__ import annotations

# Claude Code's `--permission-mode` values.
PERMISSION_MODES = ("default", "acceptEdits", "plan", "auto", "dontAsk", "bypassPermissions")

# Between rules: Claude Code's own `--allowedTools "A B,C"` takes either.
_SEPARATORS = frozenset(" \t\n\r,")


class ToolRuleError(ValueError):
    """A tool-rule list that does not parse; the message names the rule and the fix."""


def parse_tool_rules(text: str) -> list[str]:
    """`"Bash(git *) Edit"` → `["Bash(git *)", "Edit"]`: rules split at spaces and commas
    outside parentheses, each kept whole (`Bash(git *)` is one rule, not `Bash(git` and
    `*)`), in order, without duplicates. Unbalanced parentheses, a rule without a tool
    name or text glued after a `)` raise `ToolRuleError`."""
    rules: list[str] = []
    current: list[str] = []
    depth = 0
    closed = False  # the current rule's parentheses have closed: only a separator may follow

    def finish() -> None:
        nonlocal closed
        rule = "".join(current)
        current.clear()
        closed = False
        if not rule:
            return
        if depth:
            raise ToolRuleError(f"tool rule {rule!r} has a '(' that is never closed")
        if rule not in rules:
            rules.append(rule)

    for ch in text:
        if depth == 0 and ch in _SEPARATORS:
            finish()
            continue
        if closed:
            rule = "".join(current)
            if ch == ")":
                raise ToolRuleError(f"tool rule {rule + ch!r} closes a ')' never opened")
            raise ToolRuleError(
                f"tool rule {rule + ch!r}: put a space or a comma after {rule!r} "
                "before the next rule"
            )
        if ch == "(":
            if depth == 0 and not current:
                raise ToolRuleError(
                    f"a tool rule starts with '(' in {text!r}: name the tool, as in 'Bash(git *)'"
                )
            depth += 1
        elif ch == ")":
            if depth == 0:
                rule = "".join(current) + ch
                raise ToolRuleError(f"tool rule {rule!r} closes a ')' never opened")
            depth -= 1
            closed = depth == 0
        current.append(ch)
    finish()
    return rules
