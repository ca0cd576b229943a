"""A small reader of udev rules: enough to check the image's rules file (systemd 252's udevadm
has no `verify`, which came with 253) and to play it on a device's properties.

It knows the keys and operators the rules use; anything else is an error, so a typo in a key, an
operator or a quote fails here instead of being skipped by udev with a line in the journal.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from pathlib import Path

MATCH_KEYS = {"ACTION", "SUBSYSTEM", "SUBSYSTEMS", "KERNEL", "KERNELS", "DRIVER", "DRIVERS", "TAG"}
ASSIGN_KEYS = {"GROUP", "OWNER", "MODE", "SYMLINK", "TAG", "RUN", "OPTIONS"}
TOKEN = re.compile(r'\s*(?P<key>[A-Z_]+)(\{(?P<attr>[A-Za-z0-9_]+)\})?\s*(?P<op>==|!=|\+=|-=|:=|=)\s*"(?P<value>[^"]*)"\s*(,|$)')


@dataclass
class Token:
    key: str
    attr: str | None
    op: str
    value: str


@dataclass
class Rule:
    line: int
    tokens: list[Token] = field(default_factory=list)


class RuleError(ValueError):
    pass


def parse(path: Path) -> list[Rule]:
    rules = []
    for number, raw in enumerate(path.read_text().splitlines(), 1):
        text = raw.strip()
        if not text or text.startswith("#"):
            continue
        if raw.endswith("\\"):
            raise RuleError(f"line {number}: continued lines are not used here")
        rule, pos = Rule(number), 0
        while pos < len(text):
            found = TOKEN.match(text, pos)
            if not found:
                raise RuleError(f"line {number}: cannot read {text[pos:]!r}")
            token = Token(found["key"], found["attr"], found["op"], found["value"])
            _check(number, token)
            rule.tokens.append(token)
            pos = found.end()
        rules.append(rule)
    return rules


def _check(number: int, token: Token) -> None:
    matching = token.op in ("==", "!=")
    if token.key == "ENV":
        if not token.attr:
            raise RuleError(f"line {number}: ENV needs a property name")
        return
    if token.attr is not None:
        raise RuleError(f"line {number}: {token.key} takes no {{…}}")
    if matching and token.key not in MATCH_KEYS:
        raise RuleError(f"line {number}: {token.key} cannot be matched")
    if not matching and token.key not in ASSIGN_KEYS:
        raise RuleError(f"line {number}: {token.key} cannot be assigned")
    if token.key == "MODE" and not re.fullmatch(r"0?[0-7]{3}", token.value):
        raise RuleError(f"line {number}: MODE {token.value!r} is not octal")


def _matches(pattern: str, value: str) -> bool:
    return any(fnmatch.fnmatchcase(value, alternative) for alternative in pattern.split("|"))


def _expand(value: str, device: dict[str, str]) -> str:
    return re.sub(r"\$env\{([A-Za-z0-9_]+)\}", lambda m: device.get(m.group(1), ""), value)


def apply(rules: list[Rule], device: dict[str, str]) -> dict[str, str]:
    """What the rules make of a device, given as its properties (ACTION, SUBSYSTEM, KERNEL and
    its ENV properties): its properties afterwards, with GROUP, MODE and SYMLINK among them."""
    result = dict(device)
    for rule in rules:
        matched = True
        for token in rule.tokens:
            if token.op not in ("==", "!="):
                continue
            current = result.get(token.attr if token.key == "ENV" else token.key, "")
            if _matches(token.value, current) != (token.op == "=="):
                matched = False
                break
        if not matched:
            continue
        for token in rule.tokens:
            name = token.attr if token.key == "ENV" else token.key
            if token.op == "=" or token.op == ":=":
                result[name] = _expand(token.value, result)
            elif token.op == "+=":
                result[name] = " ".join(filter(None, [result.get(name, ""), _expand(token.value, result)]))
    return result
