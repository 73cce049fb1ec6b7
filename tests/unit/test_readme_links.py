"""A reader follows a link in README.md, CONTRIBUTING.md or docs/ and lands on the file and the
heading it names: pages moved or headings renamed fail here, not in a user's browser."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = (ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").glob("*.md")))
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^\s*```[^`]*$")  # an info string holds no backtick


def _prose(page: Path) -> list[tuple[int, str]]:
    """The page's lines outside fenced blocks, with inline code taken out, numbered from 1."""
    lines: list[tuple[int, str]] = []
    fenced = False
    for number, line in enumerate(page.read_text().split("\n"), start=1):
        if FENCE.match(line):
            fenced = not fenced
        elif not fenced:
            lines.append((number, re.sub(r"`[^`]*`", "``", line)))
    return lines


def github_anchor(heading: str) -> str:
    """The id GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    found: set[str] = set()
    fenced = False
    for line in page.read_text().split("\n"):
        if FENCE.match(line):
            fenced = not fenced
        if not fenced:
            # An explicit anchor (GitHub keeps it, prefixed, and scrolls to it for #name).
            found.update(re.findall(r'<a id="([\w-]+)"></a>', line))
        heading = re.match(r"#{1,6} (.*)", line)
        if heading and not fenced:
            anchor = github_anchor(heading.group(1))
            suffix = 1
            unique = anchor
            while unique in found:
                unique = f"{anchor}-{suffix}"
                suffix += 1
            found.add(unique)
    return found


def test_github_anchors_are_computed_as_github_does() -> None:
    assert github_anchor("With GitOps (Argo CD, Flux)") == "with-gitops-argo-cd-flux"
    assert github_anchor("The operator's own metrics") == "the-operators-own-metrics"
    assert github_anchor("ChangeRollout, `phase` and `reason`") == "changerollout-phase-and-reason"


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_every_relative_link_and_anchor_resolves(page: Path) -> None:
    broken: list[str] = []
    for number, line in _prose(page):
        for target in LINK.findall(line):
            if re.match(r"[a-z]+:", target):  # https:, mailto:
                continue
            path, _, anchor = target.partition("#")
            landing = (page.parent / path).resolve() if path else page
            if not landing.exists():
                broken.append(f"{page.name}:{number}: {target}: no such file")
            elif anchor and (landing.suffix != ".md" or anchor not in anchors(landing)):
                broken.append(f"{page.name}:{number}: {target}: no such heading")
    assert not broken, "\n".join(broken)


def test_the_readme_links_every_docs_page() -> None:
    readme = (ROOT / "README.md").read_text()
    unlinked = [
        page.name for page in (ROOT / "docs").glob("*.md") if f"(docs/{page.name}" not in readme
    ]
    assert not unlinked, f"docs pages a README reader cannot find: {unlinked}"
