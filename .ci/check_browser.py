"""CI check: open every page of the built book in headless Chromium, offline, and fail on a JavaScript error
or on math that MathJax did not render.

    python .ci/check_browser.py _build/html [more folders or .html files] [--chromium PATH] [--timeout S]

Chromium is driven through the DevTools protocol over a pipe (``--remote-debugging-pipe``: no port, no
extra package). Every host name resolves to nothing (``--host-resolver-rules``), so a page that needs the
internet (MathJax from a CDN) fails here as it would for an offline reader. Per page it records:

- JavaScript errors: uncaught exceptions, ``console.error`` calls, and the browser's error log entries
  (a script, style sheet or font that failed to load);
- math: after MathJax's startup promise settles, every Sphinx math element (``.math``) must hold a
  ``mjx-container`` without a TeX error (``mjx-merror``), and no text outside code may still hold the raw
  delimiters ``\\(``, ``\\)``, ``\\[``, ``\\]`` or ``$$``;
- width: at 1280 px no table, code listing or displayed equation may be wider than the text column (run past
  it, or scroll inside its box).

Exit status 1 when any page has a problem (each is printed), 0 otherwise.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

SKIP_DIRS = {"_static", "_sources", "_images", "_downloads"}
# run in the page once it has loaded: waits for MathJax (when the page loads it), then inspects the DOM
INSPECT_JS = r"""
(async () => {
  const mj = window.MathJax;
  let mathjax = "absent";
  if (mj && mj.startup && mj.startup.promise) {
    try { await mj.startup.promise; mathjax = "ready"; } catch (e) { mathjax = "failed: " + e; }
  } else if (mj) { mathjax = "configured but not loaded"; }
  const math = Array.from(document.querySelectorAll(".math"));
  const unrendered = math.filter(el => !el.querySelector("mjx-container")).map(el => el.textContent.trim().slice(0, 60));
  const errors = Array.from(document.querySelectorAll("mjx-merror")).map(el => el.textContent.trim().slice(0, 60));
  const raw = [];
  const root = document.body || document.documentElement;
  if (!root) throw new Error("no document yet");
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  const re = /\\\(|\\\)|\\\[|\\\]|\$\$/;
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (n.parentElement && n.parentElement.closest("pre, code, script, style, textarea, mjx-container, .highlight")) continue;
    if (re.test(n.textContent)) raw.push(n.textContent.trim().slice(0, 60));
  }
  // tables, code listings and displayed equations must fit the text column: neither run past it nor scroll
  const article = document.querySelector(".bd-article") || document.body;
  const right = article.getBoundingClientRect().right + 1;
  const wide = el => el.getBoundingClientRect().right > right || el.scrollWidth > el.clientWidth + 1;
  const label = el => (el.querySelector("th, td") || el).textContent.trim().slice(0, 40);
  const cut = Array.from(article.querySelectorAll("table")).filter(t => {
    if (wide(t)) return true;
    for (let el = t.parentElement; el && el !== article; el = el.parentElement) {
      if (["auto", "scroll"].includes(getComputedStyle(el).overflowX) && el.scrollWidth > el.clientWidth + 1) return true;
    }
    return false;
  }).map(label);
  const overflow = Array.from(article.querySelectorAll("pre, mjx-container[display='true']")).filter(wide)
    .map(el => el.textContent.trim().slice(0, 40));
  return {mathjax, math: math.length, rendered: document.querySelectorAll("mjx-container").length,
          unrendered, errors, raw, cut, overflow};
})()
"""


class Chromium:
    """A headless Chromium driven over ``--remote-debugging-pipe`` (fd 3: commands in, fd 4: events out)."""

    def __init__(self, exe: str, timeout: float = 30.0, width: int = 1280):
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix="check-browser-")
        cmd_r, self._cmd_w = os.pipe()
        self._out_r, out_w = os.pipe()

        def child_fds():  # in the child: its fd 3 reads our commands, its fd 4 writes its answers
            os.dup2(cmd_r, 3)
            os.dup2(out_w, 4)

        args = [exe, "--headless=new", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe",
                "--no-first-run", "--no-default-browser-check", "--disable-extensions",
                "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost", f"--user-data-dir={self.profile}",
                f"--window-size={width},2000", "about:blank"]
        # close_fds runs after preexec_fn: keep 3 and 4 open (whatever else is closed)
        self.proc = subprocess.Popen(args, preexec_fn=child_fds, pass_fds=(3, 4),
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(cmd_r)
        os.close(out_w)
        self._id = 0
        self._messages: list[dict] = []
        self._cv = threading.Condition()
        threading.Thread(target=self._reader, daemon=True).start()
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            self.call(f"{domain}.enable", session=True)

    def _reader(self) -> None:
        buf = b""
        with os.fdopen(self._out_r, "rb", buffering=0) as f:
            while chunk := f.read(65536):
                buf += chunk
                *done, buf = buf.split(b"\0")
                with self._cv:
                    self._messages += [json.loads(m) for m in done if m]
                    self._cv.notify_all()

    def _wait(self, match, timeout: float) -> dict:
        end = time.time() + timeout
        with self._cv:
            while True:
                for i, m in enumerate(self._messages):
                    if match(m):
                        return self._messages.pop(i)
                if self.proc.poll() is not None:
                    raise RuntimeError(f"chromium exited with status {self.proc.returncode}")
                if not self._cv.wait(timeout=max(0.0, end - time.time())) and time.time() >= end:
                    raise TimeoutError("no answer from chromium")

    def call(self, method: str, params: dict | None = None, session: bool = False, timeout: float | None = None):
        self._id += 1
        msg = {"id": self._id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = self.session
        os.write(self._cmd_w, json.dumps(msg).encode() + b"\0")
        answer = self._wait(lambda m, i=self._id: m.get("id") == i, timeout or self.timeout)
        if "error" in answer:
            raise RuntimeError(f"{method}: {answer['error']}")
        return answer.get("result", {})

    def events(self) -> list[dict]:
        """Take the events received so far."""
        with self._cv:
            taken = [m for m in self._messages if "method" in m]
            self._messages = [m for m in self._messages if "method" not in m]
        return taken

    def close(self) -> None:
        try:
            self.call("Browser.close", timeout=5)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.profile, ignore_errors=True)


def _js_problems(events: list[dict]) -> list[str]:
    out = []
    for e in events:
        method, p = e.get("method"), e.get("params", {})
        if method == "Runtime.exceptionThrown":
            d = p.get("exceptionDetails", {})
            text = (d.get("exception") or {}).get("description") or d.get("text", "")
            out.append(f"JavaScript error: {text.splitlines()[0] if text else d} ({d.get('url', '')}:{d.get('lineNumber')})")
        elif method == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            args = " ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", []))
            out.append(f"console.error: {args[:200]}")
        elif method == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
            entry = p["entry"]
            out.append(f"browser error ({entry.get('source')}): {entry.get('text', '')[:200]} {entry.get('url', '')}")
    return out


def check_page(browser: Chromium, page: Path) -> tuple[list[str], dict]:
    """Problems of one page (empty: fine) and what was found in it."""
    browser.events()  # drop what earlier pages left
    browser.call("Page.navigate", {"url": page.resolve().as_uri()}, session=True)
    browser._wait(lambda m: m.get("method") == "Page.loadEventFired", browser.timeout)
    for attempt in range(10):  # a page that redirects (index.html) may be between two documents: try again
        try:
            found = browser.call("Runtime.evaluate", {"expression": INSPECT_JS, "awaitPromise": True,
                                                      "returnByValue": True}, session=True)
        except RuntimeError as e:  # "Inspected target navigated or closed": the redirect happened meanwhile
            if attempt == 9 or "navigated" not in str(e):
                raise
            found = {"exceptionDetails": {"text": str(e)}}
        if "exceptionDetails" not in found:
            break
        time.sleep(0.5)
    else:
        d = found["exceptionDetails"]
        return [f"could not inspect the page: {(d.get('exception') or {}).get('description') or d.get('text')}"], {}
    info = found["result"]["value"]
    time.sleep(0.2)  # late errors (fonts, deferred scripts)
    problems = _js_problems(browser.events())
    if info["unrendered"]:
        problems.append(f"{len(info['unrendered'])} of {info['math']} math elements not rendered by MathJax "
                        f"(MathJax {info['mathjax']}), e.g. {info['unrendered'][0]!r}")
    if info["errors"]:
        problems.append(f"{len(info['errors'])} TeX errors, e.g. {info['errors'][0]!r}")
    if info["raw"]:
        problems.append(f"{len(info['raw'])} text(s) with raw math delimiters (MathJax {info['mathjax']}), "
                        f"e.g. {info['raw'][0]!r}")
    if info["cut"]:
        problems.append(f"{len(info['cut'])} table(s) wider than the text column, e.g. {info['cut'][0]!r}")
    if info.get("overflow"):
        problems.append(f"{len(info['overflow'])} code listing(s) or equation(s) wider than the text column, "
                        f"e.g. {info['overflow'][0]!r}")
    return problems, info


def pages_under(paths: list[str]) -> list[Path]:
    pages = []
    for p in map(Path, paths):
        if p.is_file():
            pages.append(p)
        else:
            pages += [f for f in sorted(p.rglob("*.html")) if not SKIP_DIRS & set(f.relative_to(p).parts)]
    return pages


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="+", help="built HTML folders or pages")
    parser.add_argument("--chromium", default=None, help="the browser (default: chromium, chromium-browser or google-chrome)")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per page and per command")
    parser.add_argument("--width", type=int, default=1280, help="window width in pixels (default 1280)")
    args = parser.parse_args(argv)
    exe = args.chromium or next(filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))), None)
    if not exe:
        print("check_browser: no chromium found (install the Debian package `chromium`)", file=sys.stderr)
        return 2
    pages = pages_under(args.paths)
    if not pages:
        print(f"check_browser: no .html page under {args.paths}", file=sys.stderr)
        return 2
    browser = Chromium(exe, args.timeout, args.width)
    failed = 0
    try:
        for page in pages:
            try:
                problems, info = check_page(browser, page)
            except (TimeoutError, RuntimeError) as e:
                problems, info = [f"could not be checked: {e}"], {}
            if problems:
                failed += 1
                print(f"FAIL {page}")
                for p in problems:
                    print(f"     {p}")
            else:
                math = f", {info['rendered']} formulas rendered by MathJax" if info.get("math") else ""
                print(f"ok   {page}{math}")
    finally:
        browser.close()
    print(f"check_browser: {len(pages) - failed} of {len(pages)} pages fine, {failed} with problems")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
