"""docs/testing.md's examples run as they stand: each Python block becomes a
test module in a directory of its own, and pytest runs them there, outside this
repository's configuration (so pytest-asyncio is in strict mode), as in a
project that uses the kit."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from cqrskit.testing import ReadStoreContract, TextSearchContract

DOC = Path(__file__).parents[2] / "docs" / "testing.md"


def test_the_examples_pass_as_a_project_of_their_own(tmp_path: Path) -> None:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.DOTALL)
    assert len(blocks) == 2
    for n, block in enumerate(blocks):
        (tmp_path / f"test_example_{n}.py").write_text(block)

    run = subprocess.run(
        [
            *(sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"),
            *("-W", "error", "-o", "asyncio_default_fixture_loop_scope=function"),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert run.returncode == 0, run.stdout + run.stderr
    # Every suite test ran; the one that reopens storage skipped (in memory).
    counts = dict(
        (word, int(n)) for n, word in re.findall(r"(\d+) (passed|skipped)", run.stdout)
    )
    contract = [ReadStoreContract, TextSearchContract]
    tests = sum(len([n for n in dir(c) if n.startswith("test_")]) for c in contract)
    assert counts["skipped"] == 1, run.stdout
    assert counts["passed"] >= tests + 3 - 1, run.stdout  # some are parametrized
