"""The package's layers import only downward (the README's layout table and CONTRIBUTING's "where does new code
go"): foundation < data, theory < models < experiments < book tooling. Read from the source (every import
statement, at any depth), so a lazy import inside a function counts too."""
import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "ntklib"

# What each layer may import from ntklib besides itself. The foundation is the private helpers and tolerances.
FOUNDATION = {"_validate", "_jaxcompat", "_files", "tolerances"}
ALLOWED = {
    "foundation": set(),
    "datasets": {"foundation"},
    "theory": {"foundation"},
    "models": {"foundation", "theory"},
    "experiments": {"foundation", "theory", "models", "datasets"},
    "book": {"foundation", "theory", "models", "experiments", "datasets"},
    "cli": {"foundation", "datasets", "book"},     # ntklib/__main__.py
    "root": {"foundation"},                        # ntklib/__init__.py: cheap, imports no JAX
}


def layer_of_module(parts: tuple[str, ...]) -> str:
    """The layer of ntklib.<parts...> (a module path below ntklib)."""
    head = parts[0]
    if head in FOUNDATION:
        return "foundation"
    if head in ("datasets", "theory", "models", "experiments", "book"):
        return head
    raise AssertionError(f"ntklib.{'.'.join(parts)} is in no layer: put it in a layer's folder")


def layer_of_file(path: Path) -> str:
    rel = path.relative_to(PKG).with_suffix("").parts
    if rel == ("__init__",):
        return "root"
    if rel == ("__main__",):
        return "cli"
    return layer_of_module(rel)


def imported(path: Path):
    """(lineno, ntklib-relative module parts) of every ntklib import in `path`."""
    package = path.relative_to(PKG).parent.parts          # () for top-level modules
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - (node.level - 1)] if node.level > 1 else package
                mod = (*base, *(node.module.split(".") if node.module else ()))
            elif node.module and node.module.split(".")[0] == "ntklib":
                mod = tuple(node.module.split(".")[1:])
            else:
                continue
            targets = [mod] if node.module else [(*mod, a.name) for a in node.names]
            for t in targets:
                if t:
                    yield node.lineno, t
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] == "ntklib" and a.name != "ntklib":
                    yield node.lineno, tuple(a.name.split(".")[1:])


SOURCES = sorted(PKG.rglob("*.py"))


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PKG)))
def test_imports_go_only_downward(path):
    here = layer_of_file(path)
    bad = []
    for lineno, target in imported(path):
        if target == ("__version__",):            # the package's own metadata
            continue
        there = layer_of_module(target)
        if there != here and there not in ALLOWED[here]:
            bad.append(f"line {lineno}: {here} imports ntklib.{'.'.join(target)} ({there})")
    assert not bad, f"{path.relative_to(PKG)} breaks the layering:\n" + "\n".join(bad)


def test_the_checker_sees_a_violation(tmp_path, monkeypatch):
    # The test above must be able to fail: upward imports in a theory module are reported, lazy ones too.
    fake = tmp_path / "ntklib"
    (fake / "theory").mkdir(parents=True)
    (fake / "theory" / "bad.py").write_text("from ..models import networks\n\n\ndef f():\n    import ntklib.book.report\n")
    monkeypatch.setattr(__import__("test_layers"), "PKG", fake)
    with pytest.raises(AssertionError, match=r"(?s)line 1: theory imports ntklib.models \(models\).*"
                                             r"line 5: theory imports ntklib.book.report \(book\)"):
        test_imports_go_only_downward(fake / "theory" / "bad.py")


def test_every_module_is_in_a_layer():
    for path in SOURCES:
        layer_of_file(path)   # raises for a module outside every layer
