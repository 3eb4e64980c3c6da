"""One import name: the folders properties/ and strategies/ are installed as `schemafuzz` and
`schemafuzz.strategies`, so no code may import them by their folder names (a second copy of
every module would be loaded, with its own state)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ("properties", "strategies")


def _absolute_imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append(node.module)
    return found


def test_no_module_imports_a_folder_by_its_name() -> None:
    sources = [ROOT / line for line in subprocess.run(
        ["git", "ls-files", "*.py"], cwd=ROOT, capture_output=True, text=True,
        check=True).stdout.split()]
    offenders = [f"{path.relative_to(ROOT)}: import {name}"
                 for path in sources if path.is_file()
                 for name in _absolute_imports(path)
                 if name.split(".")[0] in FOLDERS]
    assert offenders == []


PRINTS_MODULE_NAMES = """
import sys
from pathlib import Path

def pytest_collection_finish(session):
    root = Path(session.config.rootpath)
    for name, module in sorted(sys.modules.items()):
        path = getattr(module, "__file__", None) or ""
        if path.startswith(str(root / "properties")) or path.startswith(str(root / "strategies")):
            print(f"MODULE {name} {Path(path).relative_to(root)}")
"""


def test_each_module_of_the_package_is_loaded_under_one_name(tmp_path: Path) -> None:
    (tmp_path / "names_plugin.py").write_text(PRINTS_MODULE_NAMES)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "names_plugin",
         "--schemafuzz", "properties", "tests/strategies"],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
        env={**__import__("os").environ, "PYTHONPATH": str(tmp_path)})
    assert result.returncode == 0, result.stdout + result.stderr
    names: dict[str, list[str]] = {}
    for line in result.stdout.splitlines():
        if line.startswith("MODULE "):
            _, name, path = line.split()
            names.setdefault(path, []).append(name)
    assert "properties/test_constraints.py" in names, result.stdout
    # The package's own __init__ is the one exception: pytest imports the folder holding the
    # property files as a package to name them, beside the installed `schemafuzz`.
    twice = {path: found for path, found in names.items()
             if len(found) > 1 and path != "properties/__init__.py"}
    assert twice == {}
