"""The committed full-scale record (records/full/): written only by `make record`, from committed sources.

Each record must be well formed, small, and traceable: its provenance names a commit, and the hashes it holds
of the section's source and of the library code it ran must be those of the files at that commit. So a record
cannot be typed by hand or made from uncommitted code without this failing. Stale records (code changed
since) are counted and reported; the pages and the scorecard say which.
"""
import hashlib
import subprocess
import tempfile
import warnings
from pathlib import Path

import pytest

from ntklib.book import pipeline as book, record, scorecard

RECORDED = sorted(p.parent.name for p in record.record_dir("full").glob("*/record.json"))


def test_the_record_stays_small():
    total = sum(p.stat().st_size for p in record.record_dir("full").rglob("*") if p.is_file())
    assert total <= record.MAX_RECORD_BYTES, f"records/full is {total / 2**20:.1f} MB"


@pytest.mark.parametrize("stem", RECORDED)
def test_record_is_well_formed(stem):
    rec = record.load(stem)
    assert stem in {s.stem for s in book.sections()}, f"a record of {stem}, which is not a section"
    assert rec["scale"] == "full" and rec["notebook"] == stem
    for c in rec["checks"]:
        assert c["status"] in scorecard.STATUSES and c["status"] != "FAIL"
    for f in rec["figures"]:
        assert (rec["dir"] / "figures" / f"{f['name']}.svg").is_file()
    assert rec["profile"] and rec["wall_seconds"] > 0 and rec["cpu_seconds"] > 0


@pytest.mark.parametrize("stem", RECORDED)
def test_record_comes_from_committed_sources(stem):
    rec = record.load(stem)
    prov = rec["provenance"]
    assert prov["commit"] and prov["dirty"] is False, "recorded from uncommitted code"
    for path, digest in {**prov["source"], **prov["library"]}.items():
        blob = subprocess.run(["git", "-C", str(record.REPO), "show", f"{prov['commit']}:{path}"],
                              capture_output=True, check=False)
        if blob.returncode != 0:
            pytest.skip(f"commit {prov['commit'][:10]} is not in this clone's history (shallow clone?)")
        if path in prov["source"]:      # a section's source is hashed by its code cells (record.source_sha256)
            with tempfile.TemporaryDirectory() as tmp:
                (Path(tmp) / "src.md").write_bytes(blob.stdout)
                # (records made before that rule hashed the whole file, or the file without its runtime line)
                assert digest in {record.source_sha256(Path(tmp) / "src.md"),
                                  *record._legacy_source_hashes(blob.stdout.decode())}, \
                    f"{path} differs from the recorded commit"
        else:
            assert hashlib.sha256(blob.stdout).hexdigest() == digest, f"{path} differs from the recorded commit"


def test_stale_sections_are_counted():
    stale = {s: record.load(s)["stale"] for s in RECORDED}
    stale = {s: files for s, files in stale.items() if files}
    missing = [s.stem for s in book.sections() if s.stem not in RECORDED]
    if stale or missing:
        warnings.warn(f"full-scale record: {len(stale)} stale section(s) {sorted(stale)}, {len(missing)} without a "
                      f"record {missing}; refresh with `make record SECTIONS=...`", stacklevel=1)
