"""Postfix Admin's `alias.goto`: one reading and one writing of the destination list.

A mailbox's own alias row holds three kinds of destination, comma-separated without spaces:
the mailbox itself (a copy is kept), forwarding destinations, and Postfix Admin's vacation
target `local#domain@<vacation domain>` (the `@` of the address replaced by `#`). Every edit of
forwarding or destinations goes through `with_destinations()`, which replaces only the copy flag
and the forwards and keeps every vacation target as it was found, so an edit here never switches
off a vacation that Postfix Admin (or this project) set. `with_vacation()` is the only way a
vacation target is added or removed.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings


def vacation_domain() -> str:
    """Return the configured vacation domain (lower-case), or '' when vacation is off."""
    return str(getattr(settings, "VIMBADMIN_VACATION_DOMAIN", "") or "").strip().lower()


def split_goto(goto: str) -> list[str]:
    """Return the destinations of a goto value, in order, without blanks or repeats."""
    targets: list[str] = []
    for part in (goto or "").split(","):
        target = part.strip()
        if target and target not in targets:
            targets.append(target)
    return targets


def vacation_target(address: str, domain: str | None = None) -> str:
    """Return the vacation target of an address: `local#domain@<vacation domain>`."""
    domain = (domain if domain is not None else vacation_domain()).strip().lower()
    if not domain:
        raise ValueError("VIMBADMIN_VACATION_DOMAIN is not set")
    return f"{address.lower().replace('@', '#', 1)}@{domain}"


def is_vacation_target(target: str, address: str) -> bool:
    """Tell whether `target` is a vacation target of `address`.

    It is when its local part is the address with `#` for `@` (whatever vacation domain
    Postfix Admin was configured with), or when it lies in the configured vacation domain.
    """
    local, at, domain = target.lower().rpartition("@")
    if not at:
        return False
    if "@" in address[1:] and local == address.lower().replace("@", "#", 1):
        return True
    configured = vacation_domain()
    return bool(configured) and domain == configured


@dataclass(frozen=True)
class Goto:
    """A goto value read for one alias address."""

    address: str
    keep_copy: bool
    forwards: tuple[str, ...]
    vacation: tuple[str, ...]

    @property
    def targets(self) -> list[str]:
        """Return every destination, in the order they are stored."""
        own = [self.address] if self.keep_copy else []
        return [*own, *self.forwards, *self.vacation]

    @property
    def value(self) -> str:
        """Return the stored form: comma-separated, no spaces."""
        return ",".join(self.targets)


def parse_goto(address: str, goto: str) -> Goto:
    """Read a goto value for the alias `address`: own copy, forwards and vacation targets."""
    own = address.lower()
    keep = False
    forwards: list[str] = []
    vacation: list[str] = []
    for target in split_goto(goto):
        if target.lower() == own:
            keep = True
        elif is_vacation_target(target, own):
            vacation.append(target)
        else:
            forwards.append(target)
    return Goto(address=own, keep_copy=keep, forwards=tuple(forwards), vacation=tuple(vacation))


def with_destinations(address: str, goto: str, *, keep_copy: bool, forwards: list[str]) -> str:
    """Return `goto` with new forwards and copy flag; vacation targets stay as they were."""
    current = parse_goto(address, goto)
    own = address.lower()
    cleaned: list[str] = []
    for target in forwards:
        if target.lower() == own or is_vacation_target(target, own) or target in cleaned:
            continue
        cleaned.append(target)
    return Goto(
        address=own, keep_copy=keep_copy, forwards=tuple(cleaned), vacation=current.vacation
    ).value


def with_vacation(address: str, goto: str, *, target: str | None) -> str:
    """Return `goto` with every vacation target of `address` replaced by `target` (None: off)."""
    current = parse_goto(address, goto)
    vacation = (target,) if target else ()
    return Goto(
        address=current.address,
        keep_copy=current.keep_copy,
        forwards=current.forwards,
        vacation=vacation,
    ).value
