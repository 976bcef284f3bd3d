"""A Sphinx extension with the book's fixes (``_config.yml``: ``sphinx: extra_extensions``).

Inline scripts declared twice: Sphinx 7 adds an extension's inline ``<script>`` (``app.add_js_file(None,
body=...)``) once as registered and once more when the HTML builder prepares writing (as ``''`` instead of
``None``, so its duplicate check misses it). sphinx-thebe's inline script declares ``const THEBE_JS_URL``, and
the second copy throws ``SyntaxError: Identifier 'THEBE_JS_URL' has already been declared`` on every page
(``.ci/check_browser.py`` reports it). Each page's script list is made unique here, keeping the first copy.
"""
from __future__ import annotations

from typing import Any


def _script_key(js: Any) -> tuple:
    attributes = getattr(js, "attributes", {}) or {}
    return (getattr(js, "filename", str(js)) or "", getattr(js, "priority", None),
            tuple(sorted((k, str(v)) for k, v in attributes.items())))


def unique_scripts(app, pagename: str, templatename: str, context: dict, doctree) -> None:
    """Drop repeated entries of the page's ``script_files`` (in place: Sphinx restores the list after the page)."""
    scripts = context.get("script_files")
    if not scripts:
        return
    seen: set[tuple] = set()
    unique = []
    for js in scripts:
        key = _script_key(js)
        if key not in seen:
            seen.add(key)
            unique.append(js)
    scripts[:] = unique


def setup(app) -> dict[str, Any]:
    app.connect("html-page-context", unique_scripts, priority=900)  # after the extensions that add page scripts
    return {"parallel_read_safe": True, "parallel_write_safe": True}
