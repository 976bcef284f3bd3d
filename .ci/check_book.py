"""CI check of the built book (static HTML; .ci/check_browser.py opens it in a browser):

- the Table 1 page shows the paper's numbers and ours (from results/<profile>/mnist);
- MathJax comes from the book itself (_static/mathjax), never from a CDN, and is there;
- every notebook page has a download button offering its executed notebook (.ipynb, with outputs);
- no page shows papermill's injected-parameters cell, nor the parameters cell;
- the intro's status table was generated for this profile.

    python .ci/check_book.py _build/html quick
"""
import json
import re
import sys
from pathlib import Path

import pandas as pd

from evosynth_lib.book.paper import TABLE1

html_root, profile = Path(sys.argv[1]), sys.argv[2]
problems = []

# Table 1: the paper's MNIST rows and every generation of ours
pages = list(html_root.rglob("table1.html"))
if not pages:
    sys.exit(f"no table1.html under {html_root}")
text = pages[0].read_text()
missing = [f"{ae:.2f}X" for _, ae, _ in TABLE1["mnist"] if f"{ae:.2f}X" not in text]
missing += [f"{acc:.4f}" for _, _, acc in TABLE1["mnist"] if f"{acc:.4f}" not in text]
ours = pd.read_csv(Path("results") / profile / "mnist" / "generations.csv")
for _, r in ours.iterrows():
    for s in (f"{r.architectural_efficiency:.2f}X", f"{r.accuracy:.4f}"):
        if s not in text:
            missing.append(f"ours gen {int(r.generation)}: {s}")
if missing:
    problems.append(f"{pages[0]} lacks: {', '.join(missing)}")
else:
    print(f"{pages[0]}: the paper's MNIST Table 1 and our {len(ours)} generations ({profile}) are on the page")

# MathJax: local, present
before = len(problems)
book_pages = [p for p in html_root.rglob("*.html") if not {"_static", "_sources"} & set(p.relative_to(html_root).parts)]
for page in book_pages:
    for src in re.findall(r'<script[^>]*src="([^"]*mathjax[^"]*)"', page.read_text(), flags=re.I):
        if "://" in src:
            problems.append(f"{page}: MathJax from the internet ({src})")
        elif not (page.parent / src.split("?")[0]).resolve().is_file():
            problems.append(f"{page}: MathJax {src} is not in the book")
math_pages = [p for p in book_pages if 'class="math' in p.read_text()]
if len(problems) == before:
    print(f"MathJax: local (_static/mathjax) on the {len(math_pages)} pages with math")

# notebook pages: download button with the executed .ipynb; no parameters cell
before = len(problems)
notebook_pages = sorted((html_root / "book" / "notebooks").glob("*.html"))
for page in notebook_pages:
    text = page.read_text()
    link = re.search(r'href="([^"]*_sources/[^"]*\.ipynb)"[^>]*btn-download-source-button', text, flags=re.S)
    if not link:
        problems.append(f"{page}: no download button for the notebook")
    else:
        ipynb = (page.parent / link.group(1)).resolve()
        if not ipynb.is_file():
            problems.append(f"{page}: the download button's {link.group(1)} is not in the book")
        else:
            nb = json.loads(ipynb.read_text())
            if not nb.get("metadata", {}).get("papermill") or not any(c.get("outputs") for c in nb["cells"]):
                problems.append(f"{page}: {ipynb.name} is not the executed notebook")
    if "tag_injected-parameters" in text or "tag_parameters" in text or "# Parameters" in text:
        problems.append(f"{page}: shows the parameters cell")
if len(problems) == before:
    print(f"{len(notebook_pages)} notebook pages: download button with the executed .ipynb, no parameters cell")

# the intro's status table, generated for this profile
intro = html_root / "book" / "intro.html"
if f"built with profile <strong><code class=\"docutils literal notranslate\"><span class=\"pre\">{profile}</span>" \
        not in intro.read_text():
    problems.append(f"{intro}: no status table for profile {profile}")
else:
    print(f"{intro}: status table of profile {profile}")

if problems:
    sys.exit("\n".join(problems))
