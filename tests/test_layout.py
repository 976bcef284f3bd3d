"""The package's architecture: layers, no import cycle, small modules; committed results keep their run ids."""
import ast
import json
from pathlib import Path

import pytest

from evosynth_lib import EvolutionConfig

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "evosynth_lib"
MAX_LINES = 300
# a module of a layer may import only its own layer and those before it
LAYERS = ["config", "core", "tasks", "speed", "run", "book", "cli"]
COMMANDS = {"sweep_command": "cli", "command": "cli", "verify_command": "cli", "__main__": "cli", "locations": "config",
            "yaml_io": "config", "checks": "config", "settings": "config",
            "hashing": "config"}  # top-level modules: command ones are the last layer


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every evosynth_lib module ``path`` imports, at any depth (function-local imports included)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("evosynth_lib")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if mod.startswith("evosynth_lib"):
                for a in node.names:  # "from . import x" may name a submodule
                    sub = f"{mod}.{a.name}"
                    found.add(sub if (ROOT / (sub.replace(".", "/") + ".py")).exists()
                              or (ROOT / sub.replace(".", "/")).is_dir() else mod)
    return found - {name}


def graph() -> dict[str, set[str]]:
    return {module_name(p): imports_of(p) for p in PACKAGE.rglob("*.py")}


def layer(module: str) -> str:
    parts = module.split(".")
    return COMMANDS.get(parts[1], parts[1]) if len(parts) > 1 else "__init__"


def test_no_import_cycle():
    g = graph()
    state: dict[str, int] = {}

    def visit(m, stack):
        state[m] = 1
        for n in sorted(g.get(m, ())):
            if n not in g:
                continue
            if state.get(n) == 1:
                raise AssertionError("import cycle: " + " -> ".join(stack[stack.index(n):] + [n]))
            if n not in state:
                visit(n, stack + [n])
        state[m] = 2

    for m in sorted(g):
        if m not in state:
            visit(m, [m])


def test_layers_import_only_downwards():
    bad = []
    for m, deps in graph().items():
        if layer(m) == "__init__":
            continue
        for d in deps:
            if layer(d) != "__init__" and LAYERS.index(layer(d)) > LAYERS.index(layer(m)):
                bad.append(f"{m} imports {d}")
            if layer(d) == "__init__":
                bad.append(f"{m} imports the package's public API (import the module it comes from)")
    assert not bad, "\n".join(bad)


def test_modules_are_small():
    long = {str(p.relative_to(ROOT)): n for p in PACKAGE.rglob("*.py") if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert not long, f"modules over {MAX_LINES} lines: {long}"


@pytest.mark.parametrize("path", sorted(ROOT.glob("results/**/config.yaml")), ids=lambda p: str(p.parent.relative_to(ROOT)))
def test_committed_results_keep_their_run_id(path):
    provenance = json.loads((path.parent / "provenance.json").read_text())
    assert EvolutionConfig.from_yaml(path).run_id() == provenance["run_id"]


def test_every_field_is_hashed_or_declared_not_to_be():
    from evosynth_lib import config

    fields = {f for f in EvolutionConfig.__dataclass_fields__}
    task_options = {"half_inference", "synthetic_shape", "synthetic_size", "detection"}  # hashed under "extra"
    assert set(config._HASHED) | set(config._NOT_HASHED) | set(config._HASHED_WHEN_SET) | task_options == fields


def test_fields_hashed_when_set_change_the_run_id_only_when_set():
    base = EvolutionConfig()
    for name, value in (("precision", "bf16"), ("pruning", "synapse_only"), ("validation", 100),
                        ("environment", "flops")):
        assert base.replace(**{name: value}).run_id() != base.run_id()
        assert base.replace(**{name: getattr(base, name)}).run_id() == base.run_id()


def test_the_quick_profile_names_the_committed_results():
    """Each quick-profile evolution, as the one loader names it, has results committed for it with its run id
    (and every committed result is one of them), so the book reuses them and trains nothing: a seed added to a
    page (or to a page that others extend) without its results would make the book train it for hours."""
    from evosynth_lib.book.profiles import profile_evolutions

    results = ROOT / "results" / "quick"
    expected = {ev.name: ev.config.run_id() for ev in profile_evolutions("quick")}
    committed = {str(p.parent.relative_to(results)): json.loads(p.read_text())["run_id"]
                 for p in results.glob("**/provenance.json") if (p.parent / "config.yaml").is_file()}
    assert set(expected) <= set(committed), f"quick evolutions without committed results: {sorted(set(expected) - set(committed))}"
    for name, run_id in expected.items():
        assert committed[name] == run_id, name
    assert {"mnist", "mnist-seed1", "cifar10", "parse27k", "normalisation/max"} <= set(expected)
    assert {n for n in committed if not n.startswith("select/")} <= set(expected)


@pytest.mark.parametrize("config, published", [("configs/mnist-3gen.yaml", "results/quick/mnist"),
                                               *[(f"configs/select/{p.name}", f"results/quick/select/{p.stem}")
                                                 for p in sorted((ROOT / "configs" / "select").glob("*.yaml"))]])
def test_configs_that_claim_a_published_run_have_its_run_id(config, published):
    from evosynth_lib.book.pages import evolutions_of

    provenance = json.loads((ROOT / published / "provenance.json").read_text())
    [evolution] = evolutions_of(ROOT / config)
    assert evolution.config.run_id() == provenance["run_id"]
