"""Imports go one way: designs ← fem ← engine ← ui; engine/analysis uses neither designs nor fem.

Inside ``engine`` the store and the runtime sit below what uses them. Every import statement of
every module counts, also those inside functions.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: Package (as a path below the root) → top-level modules or subpackages it must not import.
RULES: dict[str, tuple[str, ...]] = {
    "designs": ("fem", "engine", "ui"),
    "fem": ("engine", "ui"),
    "engine": ("ui",),
    "engine/analysis": ("designs", "fem"),
    "engine/store": ("engine.runtime", "engine.evaluators", "engine.surrogates", "engine.search",
                     "engine.campaigns", "engine.analysis", "engine.cli"),
    "engine/runtime": ("engine.evaluators", "engine.surrogates", "engine.search", "engine.campaigns",
                       "engine.analysis", "engine.cli"),
}


def imported_modules(source: str) -> set[str]:
    """Absolute names imported anywhere in ``source`` (relative imports are inside the package)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def violations(root: Path, rules: dict[str, tuple[str, ...]] = RULES) -> list[str]:
    """``path: import name`` for every import that breaks a rule."""
    found = []
    for package, forbidden in rules.items():
        for path in sorted((root / package).rglob("*.py")):
            for name in sorted(imported_modules(path.read_text())):
                if any(name == f or name.startswith(f"{f}.") for f in forbidden):
                    found.append(f"{path.relative_to(root)}: imports {name}")
    return found


def test_the_project_follows_the_import_rules() -> None:
    assert violations(ROOT) == []


def test_a_forbidden_import_is_found(tmp_path: Path) -> None:
    """The checker itself can fail: a copy of the rules over a tree with bad imports."""
    files = {
        "designs/grid.py": "import numpy as np\n",
        "fem/solver.py": "def f():\n    from engine.store import Store\n",
        "engine/analysis/ordering.py": "from fem import mesh_quad\n",
        "engine/runtime/jobs.py": "import engine.evaluators.fracture as glue\n",
        "engine/evaluators/fracture.py": "from engine.runtime.jobs import JobContext\nfrom designs import base\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert violations(tmp_path) == [
        "fem/solver.py: imports engine.store",
        "fem/solver.py: imports engine.store.Store",
        "engine/analysis/ordering.py: imports fem",
        "engine/analysis/ordering.py: imports fem.mesh_quad",
        "engine/runtime/jobs.py: imports engine.evaluators.fracture",
    ]
