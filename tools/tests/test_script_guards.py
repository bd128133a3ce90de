"""make_direction.sh and quality_report.sh judge the engine in dist/: they refuse one older than src/."""
import os
import shutil
import subprocess

import pytest

TOOLS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.parametrize("script,args", [("make_direction.sh", ["smile"]), ("quality_report.sh", [])])
def test_a_dist_older_than_src_or_missing_is_refused_before_anything_runs(tmp_path, script, args):
    # A checkout of the scripts with a source file newer than the build: nothing else exists, so a script that
    # did not check would fail later and otherwise (no model package, no faces).
    (tmp_path / "tools").mkdir()
    shutil.copy(os.path.join(TOOLS, script), tmp_path / "tools" / script)
    run = lambda: subprocess.run(["bash", f"tools/{script}", *args], cwd=tmp_path, capture_output=True, text=True)  # noqa: E731
    r = run()
    assert r.returncode == 2 and "dist/cli/main.js is missing" in r.stderr
    (tmp_path / "dist" / "cli").mkdir(parents=True)
    (tmp_path / "src" / "engine").mkdir(parents=True)
    built, source = tmp_path / "dist" / "cli" / "main.js", tmp_path / "src" / "engine" / "edit-plan.ts"
    built.write_text("")
    source.write_text("")
    os.utime(built, (1_000_000, 1_000_000))
    os.utime(source, (2_000_000, 2_000_000))
    r = run()
    assert r.returncode == 2 and "dist/ is older than src/engine/edit-plan.ts" in r.stderr
    assert not (tmp_path / "tools" / "runs").exists()
