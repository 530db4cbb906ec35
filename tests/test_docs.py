"""The project's own documents: every reference to them resolves, and there is one licence.

Code, messages and documents point readers at ``docs/domain.md §2.3``, ``api.md``,
``api/ingest/profiles/README.md`` and the like. These tests read every text file of the
project (``web/node_modules`` excepted) and check that each such file exists, that each
cited section is a heading of the file cited, that relative links in the Markdown documents
lead to files, and that pyproject, package.json and LICENSE name the same licence.
"""

import json
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCANNED_DIRS = ("api", "web", "scripts", "migrations", "tests", "docs")
SCANNED_FILES = ("README.md", "CONTRIBUTING.md", "SECURITY.md", "CHANGELOG.md")
TEXT_SUFFIXES = {
    ".py", ".js", ".mjs", ".html", ".css", ".json", ".md", ".yaml", ".yml", ".toml",
    ".sh", ".mako", ".txt", ".sql",
}  # fmt: skip
SKIPPED_PARTS = {"node_modules", "__pycache__", ".pytest_cache", "test-artifacts"}
THIS_FILE = Path(__file__).resolve()

# A path the reader is sent to: docs/<anything>, or a Markdown file named with or without
# its directory. Not preceded by "/" or a word character, so the URL /docs/oauth2-redirect
# and RFC or OGC section numbers are not taken for files.
DOCS_PATH = re.compile(r"(?<![\w/.-])docs/[\w./-]*\w")
MD_PATH = re.compile(r"(?<![\w/.-])(?:[\w-]+/)*[\w-]+\.md\b")
# A document followed by the sections it cites: "domain.md §1.9 and §5.2", "api.md, §3".
SECTION = r"§\s?\d+(?:\.\d+)*"
CITATION = re.compile(
    rf"(?<![\w/.-])((?:docs/)?[\w-]+\.md)\)?[ ,:]*((?:{SECTION})(?:\s*(?:,|and|or|&)\s*{SECTION})*)"
)
HEADING_NUMBER = re.compile(r"^#{1,6}\s+(\d+(?:\.\d+)*)\.?\s", re.MULTILINE)
MD_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def scanned_files(root: Path = ROOT) -> list[Path]:
    """Every text file whose references must resolve."""
    files = [root / name for name in SCANNED_FILES if (root / name).is_file()]
    for top in SCANNED_DIRS:
        for path in sorted((root / top).rglob("*")):
            if (
                path.is_file()
                and path.suffix in TEXT_SUFFIXES
                and not SKIPPED_PARTS & set(path.relative_to(root).parts)
                and path.resolve() != THIS_FILE
            ):
                files.append(path)
    return files


def resolve(reference: str, root: Path = ROOT) -> Path | None:
    """The file a reference names: repo-relative, or a bare ``*.md`` at the root or in docs/."""
    reference = reference.rstrip(".")
    candidates = [root / reference]
    if "/" not in reference:
        candidates.append(root / "docs" / reference)
    return next((p for p in candidates if p.exists()), None)


def dangling_references(root: Path = ROOT) -> list[str]:
    """``file:line: reference`` for every docs/ path or Markdown file that does not exist."""
    missing = set()
    for path in scanned_files(root):
        text = path.read_text(encoding="utf-8", errors="replace")
        for pattern in (DOCS_PATH, MD_PATH):
            for match in pattern.finditer(text):
                if resolve(match.group(0), root) is None:
                    line = text.count("\n", 0, match.start()) + 1
                    missing.add(f"{path.relative_to(root)}:{line}: {match.group(0)}")
    return sorted(missing)


def headings(path: Path) -> set[str]:
    """Section numbers of a Markdown file's headings ("## 2.3 Hazard status" -> "2.3")."""
    return set(HEADING_NUMBER.findall(path.read_text(encoding="utf-8")))


def missing_sections(root: Path = ROOT) -> list[str]:
    """``file:line: doc §N`` for every cited section that is not a heading of that doc."""
    missing = []
    for path in scanned_files(root):
        text = path.read_text(encoding="utf-8", errors="replace")
        for match in CITATION.finditer(text):
            doc = resolve(match.group(1), root)
            if doc is None:
                continue  # reported by dangling_references
            present = headings(doc)
            for number in re.findall(r"§\s?(\d+(?:\.\d+)*)", match.group(2)):
                if number not in present:
                    line = text.count("\n", 0, match.start()) + 1
                    missing.append(
                        f"{path.relative_to(root)}:{line}: {match.group(1)} §{number}"
                    )
    return sorted(missing)


def slugs(path: Path) -> set[str]:
    """The anchors GitHub gives a Markdown file's headings ("## 3.2 Area accounting" ->
    "32-area-accounting"; a repeated heading gets "-1", "-2"...)."""
    seen: dict[str, int] = {}
    anchors = set()
    text = re.sub(r"```.*?```", "", path.read_text(encoding="utf-8"), flags=re.S)
    for heading in re.findall(r"^#{1,6}\s+(.+?)\s*#*$", text, re.MULTILINE):
        heading = re.sub(r"[`*]", "", heading).lower()
        slug = "".join(c for c in heading if c.isalnum() or c in " -_").replace(
            " ", "-"
        )
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        anchors.add(slug if n == 0 else f"{slug}-{n}")
    return anchors


def broken_links(root: Path = ROOT) -> list[str]:
    """Relative links of the Markdown documents that lead to no file, or to no heading."""
    docs = [root / n for n in SCANNED_FILES] + sorted((root / "docs").glob("*.md"))
    broken = []
    for doc in docs:
        if not doc.is_file():
            continue
        for target in MD_LINK.findall(doc.read_text(encoding="utf-8")):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target):
                continue  # a URL or a mail address
            path, _, anchor = target.partition("#")
            linked = doc.parent / path if path else doc
            if not linked.exists():
                broken.append(f"{doc.relative_to(root)}: {target}")
            elif anchor and linked.suffix == ".md" and anchor not in slugs(linked):
                broken.append(f"{doc.relative_to(root)}: {target} (no such heading)")
    return broken


def own_sections_missing(root: Path = ROOT) -> list[str]:
    """``doc:line: §N`` for a section a document cites of itself (a bare §, not after
    another document's name or an RFC number) that is not one of its headings."""
    missing = []
    for doc in sorted((root / "docs").glob("*.md")):
        text = doc.read_text(encoding="utf-8")
        cited_elsewhere = {
            span
            for m in CITATION.finditer(text)
            for span in range(m.start(2), m.end(2))
        }
        present = headings(doc)
        for m in re.finditer(r"§\s?(\d+(?:\.\d+)*)", text):
            before = text[max(0, m.start() - 12) : m.start()]
            if m.start() in cited_elsewhere or re.search(r"RFC \d+\s*$", before):
                continue
            if m.group(1) not in present:
                line = text.count("\n", 0, m.start()) + 1
                missing.append(f"{doc.relative_to(root)}:{line}: §{m.group(1)}")
    return missing


def test_every_docs_reference_names_a_file_that_exists():
    assert dangling_references() == []


def test_every_cited_section_is_a_heading_of_the_cited_document():
    assert missing_sections() == []


def test_the_cited_documents_exist_and_are_cited():
    """The documents code cites are in the repository, and the scan really finds citations."""
    for name in ("domain.md", "api.md", "architecture.md"):
        assert (ROOT / "docs" / name).is_file(), name
    cited = set()
    for path in scanned_files():
        text = path.read_text(encoding="utf-8", errors="replace")
        cited |= {m.group(1) for m in CITATION.finditer(text)}
    assert {"domain.md", "docs/domain.md"} <= cited


def test_relative_links_of_the_documents_lead_to_files():
    assert broken_links() == []


def test_sections_a_document_cites_of_itself_are_its_headings():
    assert own_sections_missing() == []


def test_readme_links_to_the_project_documents():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    links = set(MD_LINK.findall(readme))
    for target in (
        "docs/domain.md",
        "docs/api.md",
        "docs/architecture.md",
        "CONTRIBUTING.md",
        "CHANGELOG.md",
        "SECURITY.md",
        "LICENSE",
    ):
        assert target in links, target


def test_the_checks_catch_a_missing_document_section_and_link(tmp_path):
    """The scanners report what they should, so a green run means something."""
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "domain.md").write_text(
        "# D\n\n## 2. Codes\n\n### 2.3 Status\n"
    )
    (tmp_path / "api").mkdir()
    (tmp_path / "api" / "x.py").write_text(
        '"""Status (domain.md §2.3); see docs/domain.md §2.4, docs/gone.md and\n'
        "api/ingest/profiles/README.md; the URL /docs/oauth2-redirect is no file; RFC 7946\n"
        '§3.1.9 is not ours; (domain.md §2.3 and §9.1)."""\n'
    )
    (tmp_path / "README.md").write_text(
        "[ok](docs/domain.md) [gone](docs/nothing.md) [web](https://example.org/x.md)\n"
        "[status](docs/domain.md#23-status) [typo](docs/domain.md#23-statuses)\n"
    )
    (tmp_path / "docs" / "api.md").write_text(
        "# API\n\n## 1. Rules\n\nAs §1 says, and §4 (missing); RFC 9110 §8.8.3 is theirs.\n"
    )
    assert dangling_references(tmp_path) == [
        "README.md:1: docs/nothing.md",
        "api/x.py:1: docs/gone.md",
        "api/x.py:2: api/ingest/profiles/README.md",
    ]
    assert missing_sections(tmp_path) == [
        "api/x.py:1: docs/domain.md §2.4",
        "api/x.py:3: domain.md §9.1",
    ]
    assert broken_links(tmp_path) == [
        "README.md: docs/nothing.md",
        "README.md: docs/domain.md#23-statuses (no such heading)",
    ]
    assert own_sections_missing(tmp_path) == ["docs/api.md:5: §4"]


# ------------------------------------------------------------------------- the licence

LICENCE_TITLES = {
    ("GNU AFFERO GENERAL PUBLIC LICENSE", "Version 3"): "AGPL-3.0",
    ("GNU GENERAL PUBLIC LICENSE", "Version 3"): "GPL-3.0",
}


def licence_of_text(text: str) -> str:
    """The SPDX base of a licence text from its title lines (``AGPL-3.0``)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    title, version = lines[0], lines[1].split(",")[0]
    return LICENCE_TITLES[(title, version)]


def pyproject_licence() -> str:
    """``[project] license`` of pyproject.toml, as a table (``text``) or an SPDX string."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    licence = project["license"]
    return licence if isinstance(licence, str) else licence["text"]


def test_one_licence_in_pyproject_package_json_and_license():
    spdx = pyproject_licence()
    package = json.loads((ROOT / "web" / "package.json").read_text())
    lock = json.loads((ROOT / "web" / "package-lock.json").read_text())
    assert package["license"] == spdx
    assert lock["packages"][""]["license"] == spdx
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    base = licence_of_text(text)
    assert spdx in (f"{base}-only", f"{base}-or-later")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert re.search(rf"Licen[cs]e: \[?{re.escape(spdx)}\b", readme)


def test_license_holds_the_complete_text():
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    words = " ".join(text.split())
    assert words.startswith(
        "GNU AFFERO GENERAL PUBLIC LICENSE Version 3, 19 November 2007"
    )
    for n, heading in enumerate(
        (
            "Definitions.",
            "Source Code.",
            "Basic Permissions.",
            "Protecting Users' Legal Rights From Anti-Circumvention Law.",
            "Conveying Verbatim Copies.",
            "Conveying Modified Source Versions.",
            "Conveying Non-Source Forms.",
            "Additional Terms.",
            "Termination.",
            "Acceptance Not Required for Having Copies.",
            "Automatic Licensing of Downstream Recipients.",
            "Patents.",
            "No Surrender of Others' Freedom.",
            "Remote Network Interaction; Use with the GNU General Public License.",
            "Revised Versions of this License.",
            "Disclaimer of Warranty.",
            "Limitation of Liability.",
            "Interpretation of Sections 15 and 16.",
        )
    ):
        assert f"{n}. {heading}" in words, heading
    assert (
        "END OF TERMS AND CONDITIONS How to Apply These Terms to Your New Programs"
        in words
    )
    assert words.endswith("see <http://www.gnu.org/licenses/>.")
    assert licence_of_text(text) == "AGPL-3.0"
