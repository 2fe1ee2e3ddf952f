"""The benchmark script runs end to end at toy sizes (so `make bench` does not rot between uses) and its
agreement checks pass. Timings are not asserted: speed is measured by `make bench`, never by a test."""
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_kernels.py"


def run_bench(*args):
    p = subprocess.run([sys.executable, str(BENCH), "--repeat", "1", *args], capture_output=True, text=True,
                       timeout=600)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]
    return p.stdout


def test_bench_analytic_and_solve_with_neural_tangents(tmp_path):
    out = tmp_path / "bench.md"
    text = run_bench("--sections", "analytic,solve", "--sizes", "64", "--dims", "16", "--solve-sizes", "64",
                     "--out", str(out))
    assert "Agreement checks: all passed" in text
    report = out.read_text()
    for model in ("two-layer", "fc3", "fc5"):      # one row per model and dtype, with nt's time filled in
        rows = [r for r in report.splitlines() if f"| {model} |" in r]
        assert len(rows) == 2 and all(r.split("|")[8].strip() not in ("", "-") for r in rows), rows
    assert "| 64 | kernel_regression |" in report


def test_bench_empirical_ntklib_only():
    text = run_bench("--sections", "empirical", "--widths", "64", "--emp-n", "16", "--no-nt")
    assert "Agreement checks: all passed" in text
    assert text.count("| ntklib |") >= 2       # float32 and float64


def test_bench_uci_protocol_against_plain_sklearn(tmp_path):
    out = tmp_path / "bench.md"
    text = run_bench("--sections", "uci", "--uci-sizes", "30", "50", "--out", str(out))
    assert "Agreement checks: all passed" in text
    rows = [r for r in out.read_text().splitlines() if r.startswith("| ntklib |") or r.startswith("| plain |")]
    assert len(rows) == 2 and all(r.split("|")[2].strip() not in ("", "-") for r in rows), rows
    assert rows[0].split("|")[4].strip() not in ("", "-")          # the ratio to plain is filled in


def test_bench_trainers_numpy_against_jax(tmp_path):
    out = tmp_path / "bench.md"
    text = run_bench("--sections", "trainers", "--uci-sizes", "30", "--repeat", "1", "--out", str(out))
    assert "Agreement checks: all passed" in text
    rows = [r for r in out.read_text().splitlines() if r.startswith(("| numpy", "| jax+optax"))]
    assert len(rows) == 3 and all(r.split("|")[2].strip() not in ("", "-") for r in rows), rows
