"""The project's structure, checked: theory stands alone, modules stay small, the docs and the
registry agree, heavy tools stay optional."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from theory.claims import PROFILE_NAMES
from verify import catalog
from verify.profiles import PROFILES

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("theory", "verify")


def _modules(package: str):
    return sorted((ROOT / package).rglob("*.py"))


def _imports(path: Path) -> set[str]:
    """Every module a file imports, at any depth (function bodies included), made absolute."""
    tree = ast.parse(path.read_text())
    pkg = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg.split(".")[: len(pkg.split(".")) - node.level + 1]
                found.add(".".join(base + ([node.module] if node.module else [])))
            else:
                found.add(node.module or "")
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) == "import_module":
            if node.args and isinstance(node.args[0], ast.Constant):
                found.add(str(node.args[0].value))
    return found


def test_theory_imports_nothing_from_verify():
    arrows = [
        (p.relative_to(ROOT).as_posix(), m) for p in _modules("theory") for m in _imports(p) if m == "verify" or m.startswith("verify.")
    ]
    assert arrows == [], f"theory -> verify imports: {arrows}"


def test_the_import_graph_check_sees_relative_and_lazy_imports(tmp_path):
    """The check above can fail: it finds an import hidden in a function body."""
    fake = ROOT / "theory" / "_probe_for_test.py"
    fake.write_text("def f():\n    from verify import strategies\n    return strategies\n")
    try:
        assert "verify" in _imports(fake)
    finally:
        fake.unlink()


@pytest.mark.parametrize("package", PACKAGES)
def test_no_module_over_400_lines(package):
    big = {p.relative_to(ROOT).as_posix(): n for p in _modules(package) if (n := len(p.read_text().splitlines())) >= 400}
    assert not big, big


def test_importing_theory_loads_no_heavy_optional_tool():
    code = "import sys, theory, theory.claims; print(sorted(m for m in ('verify', 'rich', 'dask', 'distributed', 'matplotlib', 'sklearn') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True).stdout.strip()
    assert out == "[]", out


def test_profiles_and_budgets_name_the_same_profiles():
    assert tuple(PROFILES) == PROFILE_NAMES


def test_docs_claims_page_in_sync():
    assert catalog.sync_docs(ROOT / "docs" / "claims.md"), "run: python -m verify catalog --docs docs/claims.md"


def test_the_project_cites_its_own_docs_not_files_outside_it():
    outside = []
    for package in (*PACKAGES, "tests", "benchmarks"):
        for p in (ROOT / package).rglob("*.py"):
            text = p.read_text()
            if ("MATH" + ".md") in text or ("DEVELOPERS" + ".md") in text or ("shared/" + "spec") in text:
                outside.append(p.relative_to(ROOT).as_posix())
    for name in ("README.md", "docs/mathematics.md", "docs/claims.md"):
        if ("MATH" + ".md") in (ROOT / name).read_text():
            outside.append(name)
    assert not outside, outside


def test_no_private_hypothesis_attributes():
    users = [p.relative_to(ROOT).as_posix() for pk in PACKAGES for p in _modules(pk) if "_hypothesis_internal" in p.read_text()]
    assert not users, users


def test_help_starts_without_loading_torch():
    code = "import sys; from verify.cli import main; main(['--help']); print('torch' in sys.modules, 'theory' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True).stdout.strip().splitlines()[-1]
    assert out == "False False", out


def test_cli_profile_names_match_the_claims():
    from verify.names import PROFILE_NAMES as CLI_NAMES

    assert CLI_NAMES == PROFILE_NAMES


def test_a_ci_run_leaves_the_working_folder_clean(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "verify", "run", "WP-3"],
        cwd=tmp_path,
        check=True,
        capture_output=True,
        env={**__import__("os").environ, "PYTHONPATH": str(ROOT)},
    )
    assert list(tmp_path.iterdir()) == []
