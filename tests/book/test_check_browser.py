"""The CI's browser check (.ci/check_browser.py) fails on a JavaScript error and on unrendered math.

Needs Chromium (.ci/run installs the Debian package); skipped only where none is installed."""
from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHECKER = ROOT / ".ci" / "check_browser.py"
CHROMIUM = next(filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))), None)
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium installed (.ci/run installs it)")


def _local_mathjax() -> Path:
    """The MathJax the book bundles (package sphinx-mathjax-offline)."""
    spec = importlib.util.find_spec("sphinx-mathjax-offline")
    assert spec is not None and spec.origin, "sphinx-mathjax-offline is not installed"
    js = Path(spec.origin).parent / "static" / "mathjax" / "tex-chtml.js"
    assert js.is_file()
    return js


def _page(path: Path, body: str, mathjax: bool) -> Path:
    head = f'<script defer src="{_local_mathjax().as_uri()}"></script>' if mathjax else ""
    path.write_text(f"<!DOCTYPE html><html><head><meta charset='utf-8'>{head}</head><body>{body}</body></html>")
    return path


MATH = ('<p>Generation <span class="math notranslate nohighlight">\\(g_{i}\\)</span> of</p>'
        '<div class="math notranslate nohighlight">\\[ P(S_g \\mid W_{g-1}) = \\prod_c x_c \\]</div>')


def _check(*pages: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(CHECKER), *map(str, pages), "--timeout", "60"],
                          capture_output=True, text=True, timeout=300)


def test_good_page_passes(tmp_path):
    good = _page(tmp_path / "good.html", MATH + "<pre>code with \\( kept raw</pre><script>let x = 1;</script>", True)
    run = _check(good)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "2 formulas rendered" in run.stdout


def test_js_error_and_raw_math_fail(tmp_path):
    bad = _page(tmp_path / "bad.html", '<script>throw new Error("x")</script><p>raw \\(g\\) and \\[ y \\]</p>', False)
    run = _check(bad)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "FAIL" in run.stdout and "JavaScript error" in run.stdout and "Error: x" in run.stdout
    assert "raw math delimiters" in run.stdout


def test_each_problem_alone_fails(tmp_path):
    js_only = _page(tmp_path / "js.html", '<p>no math</p><script>undefinedFunction()</script>', False)
    math_only = _page(tmp_path / "math.html", MATH, False)  # Sphinx's math markup, but no MathJax loaded
    tex_error = _page(tmp_path / "tex.html", "<div class=\"math\">\\[ \\frac{1} \\]</div>", True)  # missing argument
    cdn = tmp_path / "cdn.html"  # MathJax from the internet: offline, the math stays raw
    cdn.write_text('<html><head><script defer src="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-chtml.js">'
                   f'</script></head><body>{MATH}</body></html>')
    run = _check(js_only, math_only, tex_error, cdn)
    assert run.returncode == 1
    out = run.stdout
    assert out.count("FAIL") == 4, out
    assert "undefinedFunction is not defined" in out
    assert "math elements not rendered" in out and "TeX errors" in out


def test_wide_table_and_code_fail_at_1280_px(tmp_path):
    """A table or a code listing wider than the text column (here the body, at a 1280 px window) fails; the same
    content that wraps passes."""
    cells = "".join(f"<td>column_{i}_with_a_long_unbreakable_header_name</td>" for i in range(40))
    wide = _page(tmp_path / "wide.html", f"<table><tr>{cells}</tr></table>"
                 f"<pre style='overflow-x:auto'>{'x' * 600}</pre>", False)
    narrow = _page(tmp_path / "narrow.html", "<table><tr><td>a</td><td>b</td></tr></table>"
                   f"<pre style='white-space:pre-wrap'>{'x ' * 300}</pre>", False)
    run = _check(wide, narrow)
    out = run.stdout
    assert run.returncode == 1, out
    assert out.count("FAIL") == 1 and "table(s) wider than the text column" in out
    assert "code listing(s) or equation(s) wider than the text column" in out
