"""The GitHub workflows: valid against GitHub's workflow schema (bundled with check-jsonschema, so offline),
and the CI workflow runs what .ci/run runs, so the two cannot drift apart."""
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))


def test_there_are_workflows():
    assert {p.name for p in WORKFLOWS} >= {"ci.yml", "pages.yml"}


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_matches_githubs_schema(path):
    exe = Path(sys.executable).with_name("check-jsonschema")
    res = subprocess.run([str(exe), "--builtin-schema", "vendor.github-workflows", str(path)],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr


def _run_lines(workflow: str, job: str) -> list[str]:
    wf = yaml.safe_load((REPO / ".github" / "workflows" / workflow).read_text())
    return [line.strip() for step in wf["jobs"][job]["steps"] for line in step.get("run", "").splitlines()]


def test_ci_workflow_runs_what_ci_run_runs():
    # Every command of .ci/run that tests or builds something appears in the workflow.
    ci_run = (REPO / ".ci" / "run").read_text()
    commands = [re.sub(r"^time ", "", ln.strip()) for ln in ci_run.splitlines()
                if re.match(r"^\s*time ", ln)]
    assert commands, ".ci/run has no timed commands"
    steps = _run_lines("ci.yml", "book")
    missing = [c for c in commands if c not in steps]
    assert not missing, f"the CI workflow lacks: {missing}"


def test_pages_workflow_deploys_the_built_book():
    wf = yaml.safe_load((REPO / ".github" / "workflows" / "pages.yml").read_text())
    assert "make book SCALE=ci" in _run_lines("pages.yml", "build")
    steps = [s for job in wf["jobs"].values() for s in job["steps"]]
    push = [s for s in steps if s.get("uses", "").startswith("peaceiris/actions-gh-pages")]
    assert push and push[0]["with"]["publish_dir"] == "book/_build/html"
    # the branch the Colab buttons open notebooks from (ntklib.book.sphinxext) is the one the site is pushed to
    cfg = yaml.safe_load((REPO / "_config.yml").read_text())
    assert push[0]["with"]["publish_branch"] == cfg["sphinx"]["config"]["ntkbook_pages_branch"]
    assert wf["permissions"]["contents"] == "write"
