"""Synthetic Claude Code config dirs for the ingest benchmark (and its smoke test).

The records have the shapes Claude Code 2.x writes (see the reference, §2):
streaming duplicates (one line per content block, earlier lines with partial
`output_tokens`), subagent files under `<session>/subagents/` that replay the
parent's message with a new `requestId` and `isSidechain: true`, `progress`
records that wrap a subagent's messages (older versions), synthetic API-error
records, big tool results (copied into `toolUseResult` as Claude Code does),
a few big files, torn last lines, blank lines, invalid UTF-8 and non-JSON lines.

Deterministic for a seed. Lines are built from templates around pre-escaped
filler, so generating hundreds of MB takes seconds, not minutes.
"""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

MODELS = [
    ("claude-sonnet-4-5-20250929", 45),
    ("claude-opus-4-5-20251101", 25),
    ("claude-haiku-4-5-20251001", 15),
    ("claude-opus-4-1-20250805", 8),
    ("claude-sonnet-4-20250514", 7),
]
# Words of the filler text, with non-ASCII ones (the JSON stays UTF-8, unescaped).
_TEXT = """the of and to in is for that with on as it be this by from are at or an
function return value error file path line import class def self None const let
var async await promise test assert expected actual 日本語 café naïve SELECT FROM"""
WORDS = tuple(_TEXT.split())


def _filler_pool(rng: random.Random, chars: int) -> str:
    """Text of roughly `chars` characters with newlines, quotes and backslashes."""
    parts: list[str] = []
    size = 0
    while size < chars:
        word = rng.choice(WORDS)
        roll = rng.random()
        if roll < 0.08:
            word += "\n"
        elif roll < 0.10:
            word = f'"{word}"'
        elif roll < 0.11:
            word += "\\"
        parts.append(word)
        size += len(word) + 1
    return " ".join(parts)


@dataclass
class Totals:
    """The four counts as the counting rule of the reference gives them."""

    input: int = 0
    output: int = 0
    cache_creation: int = 0
    cache_read: int = 0
    messages: int = 0

    def add(self, usage: dict[str, int]) -> None:
        self.input += usage["input_tokens"]
        self.output += usage["output_tokens"]
        self.cache_creation += usage["cache_creation_input_tokens"]
        self.cache_read += usage["cache_read_input_tokens"]
        self.messages += 1

    def as_dict(self) -> dict[str, int]:
        return {
            "input": self.input,
            "output": self.output,
            "cache_creation": self.cache_creation,
            "cache_read": self.cache_read,
        }


@dataclass
class Generated:
    root: Path
    files: int = 0
    bytes: int = 0
    expected: Totals = field(default_factory=Totals)
    biggest: Path | None = None


class _Writer:
    """Writes one session's files; knows the expected totals of what it wrote."""

    def __init__(self, gen: Generator, path: Path, session: str, cwd: str) -> None:
        self.gen = gen
        self.rng = gen.rng
        self.path = path
        self.session = session
        self.cwd = cwd
        self.model = gen.pick_model()
        self.entrypoint = "sdk-cli" if self.rng.random() < 0.2 else "cli"
        self.version = self.rng.choice(["2.0.26", "2.0.31", "2.1.12", "1.0.98"])
        self.ts = gen.start + timedelta(seconds=self.rng.uniform(0, 29 * 86400))
        self.parent: str | None = None
        self.lines: list[bytes] = []
        self.size = 0
        self.fh = path.open("ab")

    # -- low level ------------------------------------------------------------------
    def stamp(self) -> str:
        self.ts += timedelta(milliseconds=self.rng.randint(200, 30000))
        return self.ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{self.ts.microsecond // 1000:03d}Z"

    def emit(self, line: str | bytes) -> None:
        data = line.encode() if isinstance(line, str) else line
        self.fh.write(data + b"\n")
        self.size += len(data) + 1

    def close(self) -> None:
        self.fh.close()

    def head(self, sidechain: bool) -> tuple[str, str]:
        uid = self.gen.uuid()
        parent = json.dumps(self.parent)
        self.parent = uid
        side = "true" if sidechain else "false"
        return (
            f'{{"parentUuid":{parent},"isSidechain":{side},"userType":"external",'
            f'"cwd":"{self.cwd}","sessionId":"{self.session}","version":"{self.version}",'
            f'"gitBranch":"main","entrypoint":"{self.entrypoint}",'
        ), uid

    # -- records --------------------------------------------------------------------
    def user_prompt(self, sidechain: bool = False) -> None:
        head, uid = self.head(sidechain)
        text = self.gen.filler(self.rng.randint(20, 600))
        self.emit(
            f'{head}"type":"user","message":{{"role":"user","content":"{text}"}},'
            f'"uuid":"{uid}","timestamp":"{self.stamp()}"}}'
        )

    def tool_result(self, tool_id: str, sidechain: bool = False) -> None:
        head, uid = self.head(sidechain)
        roll = self.rng.random()
        if roll < 0.02:
            size = self.rng.randint(100_000, 600_000)
        elif roll < 0.25:
            size = self.rng.randint(5_000, 40_000)
        else:
            size = self.rng.randint(100, 4_000)
        out = self.gen.filler(size)
        self.emit(
            f'{head}"type":"user","message":{{"role":"user","content":[{{"tool_use_id":'
            f'"{tool_id}","type":"tool_result","content":"{out}","is_error":false}}]}},'
            f'"uuid":"{uid}","timestamp":"{self.stamp()}","toolUseResult":{{"stdout":'
            f'"{out}","stderr":"","interrupted":false,"isImage":false}}}}'
        )

    def usage(self, big_context: bool = False) -> dict[str, int]:
        rng = self.rng
        cache_creation = rng.choice([0, 0, rng.randint(100, 30_000)])
        return {
            "input_tokens": rng.choice([1, 3, 4, 6, rng.randint(5, 20_000)]),
            "cache_creation_input_tokens": cache_creation,
            "cache_read_input_tokens": rng.randint(5_000, 180_000 if big_context else 120_000),
            "output_tokens": rng.randint(1, 4_000),
        }

    @staticmethod
    def usage_json(u: dict[str, int], output: int | None = None, one_hour: bool = False) -> str:
        cc = u["cache_creation_input_tokens"]
        five, hour = (0, cc) if one_hour else (cc, 0)
        out = u["output_tokens"] if output is None else output
        return (
            f'{{"input_tokens":{u["input_tokens"]},"cache_creation_input_tokens":{cc},'
            f'"cache_read_input_tokens":{u["cache_read_input_tokens"]},"cache_creation":'
            f'{{"ephemeral_5m_input_tokens":{five},"ephemeral_1h_input_tokens":{hour}}},'
            f'"output_tokens":{out},"service_tier":"standard"}}'
        )

    def assistant(
        self,
        *,
        sidechain: bool = False,
        tool: str | None = None,
        msg_id: str | None = None,
        req_id: str | None = None,
        usage: dict[str, int] | None = None,
        count: bool = True,
        emit: bool = True,
    ) -> tuple[str, str, dict[str, int], list[str], str | None]:
        """One API response as Claude Code writes it: one line per content block.

        Returns (message id, request id, final usage, the lines, the tool_use id)."""
        rng = self.rng
        msg_id = msg_id or "msg_01" + self.gen.token(22)
        req_id = req_id or "req_011C" + self.gen.token(20)
        final = usage or self.usage()
        one_hour = rng.random() < 0.2
        blocks: list[str] = []
        if rng.random() < 0.4:
            sig = self.gen.token(60)
            blocks.append(
                f'{{"type":"thinking","thinking":"{self.gen.filler(rng.randint(50, 3000))}",'
                f'"signature":"{sig}"}}'
            )
        if rng.random() < 0.7 or tool is None:
            blocks.append(f'{{"type":"text","text":"{self.gen.filler(rng.randint(10, 2500))}"}}')
        tool_id = None
        if tool is not None:
            tool_id = "toolu_01" + self.gen.token(22)
            command = self.gen.filler(rng.randint(10, 400))
            blocks.append(
                f'{{"type":"tool_use","id":"{tool_id}","name":"{tool}","input":'
                f'{{"command":"{command}","description":"run it"}}}}'
            )
        lines = []
        for i, block in enumerate(blocks):
            last = i == len(blocks) - 1
            # Earlier blocks carry the output count as it stood when they were written.
            output = final["output_tokens"] if last else rng.randint(1, final["output_tokens"])
            head, uid = self.head(sidechain)
            stop = '"tool_use"' if (last and tool) else ('"end_turn"' if last else "null")
            lines.append(
                f'{head}"message":{{"model":"{self.model}","id":"{msg_id}","type":"message",'
                f'"role":"assistant","content":[{block}],"stop_reason":{stop},'
                f'"stop_sequence":null,"usage":{self.usage_json(final, output, one_hour)}}},'
                f'"requestId":"{req_id}","type":"assistant","uuid":"{uid}",'
                f'"timestamp":"{self.stamp()}"}}'
            )
        if not emit:
            return msg_id, req_id, final, lines, tool_id
        for line in lines:
            self.emit(line)
        if count:
            self.gen.count(msg_id, final, sidechain)
        return msg_id, req_id, final, lines, tool_id

    def synthetic_error(self) -> None:
        head, uid = self.head(False)
        msg_id = f'"id":"{self.gen.uuid()}",' if self.rng.random() < 0.5 else ""
        self.emit(
            f'{head}"type":"assistant","isApiErrorMessage":true,"error":"rate_limit",'
            f'"apiErrorStatus":429,"message":{{{msg_id}"model":"<synthetic>","role":"assistant",'
            f'"type":"message","content":[{{"type":"text","text":"You\'ve hit your session '
            f'limit · resets 9:50pm (UTC)"}}],"usage":{{"input_tokens":0,"output_tokens":0,'
            f'"cache_creation_input_tokens":0,"cache_read_input_tokens":0}}}},'
            f'"uuid":"{uid}","timestamp":"{self.stamp()}"}}'
        )
        self.gen.expected.messages += 1

    def misc(self) -> None:
        kind = self.rng.random()
        if kind < 0.5:
            self.emit(
                f'{{"type":"file-history-snapshot","messageId":"{self.gen.uuid()}","snapshot":'
                f'{{"trackedFileBackups":{{}},"timestamp":"{self.stamp()}"}},'
                f'"isSnapshotUpdate":false}}'
            )
        else:
            head, uid = self.head(False)
            self.emit(
                f'{head}"type":"system","subtype":"compact_boundary","content":"Conversation '
                f'compacted","level":"info","uuid":"{uid}","timestamp":"{self.stamp()}"}}'
            )

    def junk(self) -> None:
        roll = self.rng.random()
        if roll < 0.4:
            self.emit(b"")
        elif roll < 0.7:
            self.emit(b'{"type":"user","message":{"content":"caf\xe9 latin-1, not UTF-8"}}')
        else:
            self.emit(b"this is not JSON at all")
        self.gen.junk_lines += 1


class Generator:
    def __init__(self, root: Path, seed: int = 7) -> None:
        self.root = root
        self.rng = random.Random(seed)
        self.pool = _filler_pool(self.rng, 2_000_000)
        self.start = datetime(2026, 1, 1, tzinfo=UTC)
        self.expected = Totals()
        self.seen: dict[str, tuple[bool, dict[str, int]]] = {}
        self.junk_lines = 0
        self.torn = 0

    # -- helpers --------------------------------------------------------------------
    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def token(self, n: int) -> str:
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz0123456789"
        return "".join(self.rng.choices(alphabet, k=n))

    def filler(self, n: int) -> str:
        """`n` characters of text, escaped for a JSON string (without the quotes)."""
        start = self.rng.randrange(0, len(self.pool) - n - 1)
        return json.dumps(self.pool[start : start + n], ensure_ascii=False)[1:-1]

    def pick_model(self) -> str:
        names, weights = zip(*MODELS, strict=True)
        return self.rng.choices(names, weights=weights)[0]

    def count(self, msg_id: str, usage: dict[str, int], sidechain: bool) -> None:
        """Expected totals by the reference rule: per message.id the non-sidechain,
        else the largest record wins."""
        old = self.seen.get(msg_id)
        if old is None:
            self.seen[msg_id] = (sidechain, usage)
            self.expected.add(usage)
            return
        old_side, old_usage = old
        if (old_side and not sidechain) or (
            old_side == sidechain and sum(usage.values()) > sum(old_usage.values())
        ):
            self.seen[msg_id] = (sidechain, usage)
            e = self.expected
            e.input += usage["input_tokens"] - old_usage["input_tokens"]
            e.output += usage["output_tokens"] - old_usage["output_tokens"]
            e.cache_creation += (
                usage["cache_creation_input_tokens"] - old_usage["cache_creation_input_tokens"]
            )
            e.cache_read += usage["cache_read_input_tokens"] - old_usage["cache_read_input_tokens"]

    # -- sessions -------------------------------------------------------------------
    def session(self, config: Path, project: str, budget: int, *, torn_ok: bool = True) -> Path:
        cwd = f"/home/dev/{project}"
        encoded = "".join(c if c.isalnum() else "-" for c in cwd)
        session = self.uuid()
        folder = config / "projects" / encoded
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{session}.jsonl"
        w = _Writer(self, path, session, cwd)
        progress_style = self.rng.random() < 0.3
        while w.size < budget:
            w.user_prompt()
            for _ in range(self.rng.randint(1, 6)):
                roll = self.rng.random()
                tool = "Task" if roll < 0.06 else ("Bash" if roll < 0.8 else None)
                msg_id, _req, usage, lines, tool_id = w.assistant(tool=tool)
                if tool == "Task":
                    self.subagent(w, msg_id, usage, lines[-1], progress_style)
                if tool_id:
                    w.tool_result(tool_id)
                else:
                    break
            roll = self.rng.random()
            if roll < 0.01:
                w.synthetic_error()
            elif roll < 0.08:
                w.misc()
            elif roll < 0.085:
                w.junk()
        if torn_ok and self.rng.random() < 0.1:
            _, _, _, lines, _ = w.assistant(count=False, emit=False)
            # The first line of a response is still being written.
            w.fh.write(lines[0].encode()[: len(lines[0]) // 2])
            self.torn += 1
        w.close()
        return path

    def subagent(
        self, parent: _Writer, msg_id: str, usage: dict[str, int], line: str, progress: bool
    ) -> None:
        """A Task call: the agent's own file replays the parent's message as a sidechain."""
        folder = parent.path.with_suffix("") / "subagents"
        folder.mkdir(parents=True, exist_ok=True)
        agent = _Writer(
            self, folder / f"agent-{self.token(8).lower()}.jsonl", parent.session, parent.cwd
        )
        agent.model, agent.entrypoint, agent.version = parent.model, parent.entrypoint, "2.0.31"
        agent.ts = parent.ts
        agent.user_prompt(sidechain=True)
        replay = dict(usage, cache_read_input_tokens=usage["cache_read_input_tokens"] + 50_000)
        agent.assistant(sidechain=True, msg_id=msg_id, usage=replay)
        for _ in range(self.rng.randint(1, 5)):
            _, _, _, lines, tool_id = agent.assistant(sidechain=True, tool="Bash")
            if progress:
                # Older versions also wrote the agent's messages into the parent's file.
                for inner in lines:
                    parent.emit(
                        f'{{"type":"progress","sessionId":"{parent.session}","parentUuid":'
                        f'"{parent.parent}","uuid":"{self.uuid()}","timestamp":'
                        f'"{parent.stamp()}","data":{{"type":"agent_progress","message":'
                        f"{inner}}}}}"
                    )
            if tool_id:
                agent.tool_result(tool_id, sidechain=True)
        parent.ts = agent.ts
        parent.size += agent.size  # the session's budget covers its agents' files
        agent.close()


def generate(config: Path, mb: float, seed: int = 7) -> Generated:
    """Write a Claude config dir of about `mb` MB under `config`; return what it holds.

    A few big files (40 % and 15 % of the total) stand for the long sessions
    that reach hundreds of MB; the rest is many small and middle-sized sessions.
    """
    gen = Generator(config, seed)
    total = int(mb * 1_000_000)
    projects = [f"proj{i}" for i in range(12)]
    out = Generated(config)
    budgets = [int(total * 0.40), int(total * 0.15)]
    left = total - sum(budgets)
    while left > 0:
        size = min(left, int(gen.rng.lognormvariate(13.5, 1.2)))  # median ~0.7 MB
        budgets.append(max(size, 20_000))
        left -= size
    biggest = 0
    for i, budget in enumerate(budgets):
        path = gen.session(config, gen.rng.choice(projects), budget, torn_ok=i > 1)
        size = path.stat().st_size
        if size > biggest:
            biggest, out.biggest = size, path
    files = list((config / "projects").rglob("*.jsonl"))
    out.files = len(files)
    out.bytes = sum(p.stat().st_size for p in files)
    out.expected = gen.expected
    return out


def append_turn(path: Path, seed: int = 11) -> Totals:
    """Append one complete turn (prompt, tool call, result, answer) to a session file."""
    gen = Generator(path.parent, seed)
    first = json.loads(path.open("rb").readline())
    w = _Writer(gen, path, first.get("sessionId", "s"), first.get("cwd", "/x"))
    w.ts = datetime.now(UTC)
    # Start at a line boundary even if the file ended with a torn line.
    with path.open("rb") as fh:
        fh.seek(max(0, path.stat().st_size - 1))
        if fh.read(1) != b"\n":
            w.emit(b"")
    w.user_prompt()
    _, _, _, _, tool_id = w.assistant(tool="Bash")
    if tool_id:
        w.tool_result(tool_id)
    w.assistant()
    w.close()
    return gen.expected
