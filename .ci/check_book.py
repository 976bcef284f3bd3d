"""CI check: the built Table 1 page shows the paper's numbers and ours (from results/<profile>/mnist)."""
import sys
from pathlib import Path

import pandas as pd

from evosynth_lib.book.paper import TABLE1

html_root, profile = Path(sys.argv[1]), sys.argv[2]
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
    sys.exit(f"{pages[0]} lacks: {', '.join(missing)}")
print(f"{pages[0]}: the paper's MNIST Table 1 and our {len(ours)} generations ({profile}) are on the page")
