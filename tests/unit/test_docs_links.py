"""The README and docs/ are self-contained: they link nothing outside the repository (no web
site, no sibling directory such as ``../shared``), and every relative link names a file, and a
heading, that exists. Addresses of the system itself (``http://127.0.0.1:8100/``) are not links
outside it: they are where the running services answer."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
LOCAL_HOSTS = {"127.0.0.1", "localhost", "0.0.0.0", "lots"}
URL = re.compile(r"\b(?:https?|ftp)://[^\s)>\]`'\"]+")
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
FENCE = re.compile(r"^(```|~~~).*?^\1", re.M | re.S)


def _name(path: Path) -> str:
    return str(path.relative_to(ROOT))


def _slug(heading: str) -> str:
    """A heading's anchor as GitHub makes it."""
    text = re.sub(r"[`*_]|\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    return {_slug(m) for m in re.findall(r"^#{1,6}\s+(.+?)\s*#*$", text, re.M)}


@pytest.mark.parametrize("doc", DOCS, ids=_name)
def test_no_address_outside_the_repository(doc: Path) -> None:
    text = doc.read_text(encoding="utf-8")
    outside = [u for u in URL.findall(text) if urlsplit(u).hostname not in LOCAL_HOSTS]
    assert outside == [], f"{_name(doc)} points outside the repository: {outside}"
    assert "../shared" not in text, f"{_name(doc)} points to ../shared, outside the repository"


@pytest.mark.parametrize("doc", DOCS, ids=_name)
def test_every_relative_link_names_a_file_and_heading_that_exist(doc: Path) -> None:
    text = FENCE.sub("", doc.read_text(encoding="utf-8"))
    broken = []
    for target in LINK.findall(text):
        parts = urlsplit(target)
        if parts.scheme or parts.netloc:
            continue  # an address: the test above judges it
        path = (doc.parent / unquote(parts.path)).resolve() if parts.path else doc
        if not path.is_relative_to(ROOT) or not path.exists():
            broken.append(f"{target}: no such file in the repository")
        elif parts.fragment and path.suffix == ".md" and parts.fragment not in _anchors(path):
            broken.append(f"{target}: no such heading in {_name(path)}")
    assert broken == [], f"{_name(doc)}: {broken}"


def test_the_contracts_and_the_domain_are_in_docs() -> None:
    contracts = (ROOT / "docs" / "contracts.md").read_text(encoding="utf-8")
    for part in ("## Streams", "## Entry format on every public stream", "## SubmitReferral",
                 "## Reason codes for `ReferralRejected`", "## Command line",
                 "## Event-log export (for auditors)"):  # fmt: skip
        assert part in contracts
    assert "## Money (billing)" in (ROOT / "docs" / "domain.md").read_text(encoding="utf-8")
