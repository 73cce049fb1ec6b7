"""When `slokeeper rollout status` is done and what it exits with: the change the target's
template asks for now — not the previous change's Succeeded — decides, with or without --watch.

Exit codes: 0 promoted or at rest, 1 the ChangeRollout or the API failed us, 3 the change was
rolled back (or its template is a refused one), 4 --watch gave up before the change ended.
"""

from __future__ import annotations

from typing import Any

EXIT_ROLLED_BACK = 3
EXIT_TIMED_OUT = 4
FINAL_PHASES = ("Succeeded", "RolledBack", "Idle")


def _hash(revision: dict[str, Any] | None) -> str | None:
    found = (revision or {}).get("templateHash")
    return str(found) if found else None


def change_settled(status: dict[str, Any], target_template: str | None) -> bool:
    """True once the operator has finished with ``target_template`` (the target's template
    hash; None when the target is gone): promoted or adopted (it is the stable one), or rolled
    back or refused."""
    phase = status.get("phase")
    if phase not in FINAL_PHASES:
        return False
    if target_template is None:
        return True
    if target_template in status.get("refusedRevisions", []):
        return True
    if phase == "RolledBack":
        last = (status.get("history") or [{}])[0]
        return _hash(last.get("revision")) == target_template
    return _hash(status.get("stable")) == target_template


def exit_code(status: dict[str, Any], target_template: str | None, *, watched: bool) -> int:
    """What a pipeline reads: 3 when the target's template was rolled back or refused; when
    watched, 4 while its change is still under way; else 0."""
    if not change_settled(status, target_template):
        return EXIT_TIMED_OUT if watched else 0
    refused = target_template in status.get("refusedRevisions", [])
    return EXIT_ROLLED_BACK if status.get("phase") == "RolledBack" or refused else 0
