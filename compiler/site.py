"""``procc site``: the catalog as a documentation website, built by MkDocs.

The generated Markdown (the index as home page, the runbooks, the quick
cards, the template) is staged in ``.procc/site-src/docs`` with a
``mkdocs.yml`` written here, and MkDocs builds it into ``site/``: the
Material theme, search, and the Mermaid diagrams drawn in the browser.
Mermaid's script is served by the site itself (no CDN, works offline):
``scripts/site-assets.sh`` vendors it into ``.procc/vendor/``, or
``$PROCC_MERMAID_JS`` names it; without it, Material fetches it from its CDN.

Hostile text stays inert on the site as in the Markdown: every free text is
escaped by compiler/markdown.py, so there is no raw HTML to pass through, and
Mermaid runs with Material's default ``securityLevel`` (strict) on labels that
compiler/diagram.py already reduced to entity codes.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from compiler.errors import ProccError, UsageError

STAGE = Path(".procc/site-src")
VENDOR_JS = Path(".procc/vendor/mermaid.min.js")
JS_NAME = "assets/mermaid.min.js"


class SiteError(ProccError):
    """MkDocs failed, or is not installed."""


class _PyName:
    """A ``!!python/name:`` value in mkdocs.yml (how MkDocs names a function in its config)."""

    def __init__(self, name: str) -> None:
        self.name = name


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(
    _PyName, lambda d, v: d.represent_scalar(f"tag:yaml.org,2002:python/name:{v.name}", ""))


def mermaid_js(root: Path) -> Path | None:
    """The vendored Mermaid script: $PROCC_MERMAID_JS, else .procc/vendor/mermaid.min.js, else None."""
    env = os.environ.get("PROCC_MERMAID_JS")
    for cand in ([Path(env)] if env else []) + [root / VENDOR_JS]:
        if cand.is_file():
            return cand
    return None


def config(site_dir: Path, title: str, local_js: bool) -> dict[str, Any]:
    """The mkdocs.yml data (docs_dir beside it)."""
    return {
        "site_name": title,
        "docs_dir": "docs",
        "site_dir": str(site_dir),
        "use_directory_urls": False,  # pages open as files too (file://, any static server)
        # font: false: no Google Fonts request; the site works offline and tells no third party who reads it.
        "theme": {"name": "material", "language": "es", "font": False, "features": ["search.highlight"]},
        "plugins": ["search"],
        "markdown_extensions": [
            "tables", "admonition",
            {"pymdownx.superfences": {"custom_fences": [
                {"name": "mermaid", "class": "mermaid", "format": _PyName("pymdownx.superfences.fence_code_format")},
            ]}},
            {"pymdownx.tasklist": {"custom_checkbox": True}},
        ],
        "extra_javascript": [JS_NAME] if local_js else [],
        "validation": {"links": {"not_found": "warn", "unrecognized_links": "ignore"}},
    }


# A code span (kept as it is) or a backslash-escaped "<" (outside code).
_CODE_OR_LT = re.compile(r"(`+).*?(?<!`)\1(?!`)|\\<")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


def for_mkdocs(text: str) -> str:
    """The runbook's Markdown for MkDocs' Python-Markdown.

    The runbooks escape a "<" of free text as CommonMark does, with a
    backslash. Python-Markdown has no such escape: it would print the
    backslash and then read the "<" as the start of raw HTML, so hostile
    text would become markup on the site. Outside code, ``\\<`` becomes
    ``&lt;``, which both read as text.
    """
    out: list[str] = []
    fence: str | None = None
    for line in text.split("\n"):
        m = _FENCE.match(line)
        if fence is None and m:
            fence = m.group(1)
        elif fence is not None and line.strip().startswith(fence[0] * len(fence)) and not line.strip().strip(fence[0]):
            fence = None
        elif fence is None:
            line = _CODE_OR_LT.sub(lambda c: c.group(0) if c.group(1) else "&lt;", line)
        out.append(line)
    return "\n".join(out)


def _copy_markdown(src: Path, dest: Path) -> None:
    dest.write_text(for_mkdocs(src.read_text(encoding="utf-8")), encoding="utf-8")


def stage(root: Path, docs_dir: Path, site_dir: Path, title: str) -> Path:
    """Copy the generated Markdown and the script into the staging folder; returns its mkdocs.yml."""
    src = root / STAGE
    if src.exists():
        shutil.rmtree(src)
    docs = src / "docs"
    docs.mkdir(parents=True)
    index = docs_dir / "README.md"
    if not index.is_file():
        raise UsageError(f"procc site: {index} is missing (run: procc compile)")
    for md_file in sorted(docs_dir.glob("*.md")):
        _copy_markdown(md_file, docs / ("index.md" if md_file.name == "README.md" else md_file.name))
    quick = docs_dir / "quick"
    if quick.is_dir():
        (docs / "quick").mkdir()
        for md_file in sorted(quick.glob("*.md")):
            _copy_markdown(md_file, docs / "quick" / md_file.name)
    js = mermaid_js(root)
    if js is not None:
        (docs / "assets").mkdir()
        shutil.copyfile(js, docs / JS_NAME)
    cfg = src / "mkdocs.yml"
    cfg.write_text(yaml.dump(config(site_dir, title, js is not None), Dumper=_Dumper, sort_keys=False,
                             allow_unicode=True), encoding="utf-8")
    return cfg


def build(cfg: Path) -> str:
    """Run MkDocs on ``cfg``; returns its log. Raises SiteError when it fails or is missing."""
    import importlib.util

    # The theme: a clear message rather than MkDocs' own.
    if importlib.util.find_spec("material") is None or importlib.util.find_spec("mkdocs") is None:
        raise SiteError("procc site: MkDocs and its Material theme are missing: "
                        "pip install 'procedure-compiler[site]'") from None
    res = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--clean", "-f", str(cfg)],
                         capture_output=True, text=True, timeout=600, check=False)
    if res.returncode != 0:
        raise SiteError(f"procc site: mkdocs failed:\n{res.stderr.strip()}")
    return res.stderr
