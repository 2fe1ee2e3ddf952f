"""The project rule "tolerances live in ntklib/tolerances.py (no inline literals)", checked on the tests' source: no
comparison call (assert_allclose, allclose, isclose, pytest.approx) may pass a numeric literal as its atol, rtol,
rel or abs. A named constant from ntklib.tolerances says what is compared and why that tolerance; a bare 1e-9 does
not. Expressions that scale a named tolerance (tol.LINALG_RTOL * max|H|) are fine."""
import ast
from pathlib import Path

from ntklib import tolerances

TESTS = Path(__file__).resolve().parent
COMPARISONS = {"assert_allclose", "allclose", "isclose", "approx"}
TOLERANCE_KEYWORDS = {"atol", "rtol", "rel", "abs"}


def _called_name(call: ast.Call) -> str | None:
    f = call.func
    return f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else None


def _is_literal(node: ast.expr) -> bool:
    """A numeric literal: a number, or a unary or binary expression of numbers only (-1e-3, 2 * 1e-9)."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, (int, float)) and not isinstance(node.value, bool)
    if isinstance(node, ast.UnaryOp):
        return _is_literal(node.operand)
    if isinstance(node, ast.BinOp):
        return _is_literal(node.left) and _is_literal(node.right)
    return False


def inline_tolerances(source: str) -> list[tuple[int, str]]:
    """(line, keyword=literal) of every comparison call in `source` that passes a literal tolerance."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and _called_name(node) in COMPARISONS:
            for kw in node.keywords:
                # Allowed: a literal 0, which switches that tolerance off (rtol=0: a purely absolute comparison).
                off = isinstance(kw.value, ast.Constant) and kw.value.value == 0
                if kw.arg in TOLERANCE_KEYWORDS and _is_literal(kw.value) and not off:
                    found.append((node.lineno, f"{kw.arg}={ast.unparse(kw.value)}"))
    return sorted(found)


def test_no_inline_tolerance_literals_in_the_tests():
    offenders = [f"tests/{path.name}:{line}: {what}" for path in sorted(TESTS.glob("*.py"))
                 for line, what in inline_tolerances(path.read_text())]
    assert not offenders, ("inline tolerance literals (name them in ntklib/tolerances.py and use the constant):\n"
                           + "\n".join(offenders))


def test_the_check_catches_literals_and_accepts_named_tolerances():
    bad = ("np.testing.assert_allclose(a, b, rtol=1e-6)\nassert x == pytest.approx(y, abs=-1e-3)\n"
           "assert np.isclose(a, b, atol=2 * 1e-9)\nnp.allclose(a, b, rtol=1e-10)\n")
    assert [line for line, _ in inline_tolerances(bad)] == [1, 2, 3, 4]
    good = ("np.testing.assert_allclose(a, b, rtol=0, atol=tol.ROUNDOFF_ATOL * scale)\n"
            "assert x == pytest.approx(y, rel=tolerances.ROUNDOFF_RTOL)\n"
            "dynamics.integrate(H, y, t, rtol=tol.ODE_SOLVER_RTOL)\n")
    assert inline_tolerances(good) == []


def test_tolerances_are_positive_finite_numbers():
    public = {k: v for k, v in vars(tolerances).items() if k.isupper()}
    assert public and all(isinstance(v, (int, float)) and 0 < v < float("inf") for v in public.values()), public
