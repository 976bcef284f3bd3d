"""The environment is pinned: constraints.txt pins every package, environment.yml and pyproject agree with it, and
the installed torch (what the numbers depend on) is the pinned one."""
import re
from importlib import metadata
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def constraints() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"constraints.txt: {line!r} is not pinned with =="
            pins[_norm(name)] = version.strip()
    return pins


def test_environment_yml_pins_what_constraints_pin():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    pins = constraints()
    listed = [p for p in pip if not p.startswith("-")]
    assert listed
    for req in listed:
        name, _, version = req.partition("==")
        assert version, f"environment.yml: {req} is not pinned"
        assert pins.get(_norm(name)) == version, f"environment.yml pins {req}, constraints.txt {pins.get(_norm(name))}"


def test_every_dependency_is_pinned_and_torch_is_the_installed_one():
    text = (ROOT / "pyproject.toml").read_text()
    deps = re.findall(r'^\s*"([A-Za-z0-9_.\-]+)', text.split("dependencies = [", 1)[1].split("]", 1)[0], re.M)
    pins = constraints()
    assert [d for d in deps if _norm(d) not in pins] == []
    for name in ("torch", "torchvision"):
        assert f'"{name}=={pins[name]}"' in text, f"pyproject.toml must pin {name} as constraints.txt does"
        assert metadata.version(name).split("+")[0] == pins[name], f"installed {name} is not the pinned one"
