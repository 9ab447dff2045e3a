"""A user's clone lives anywhere and has no `../shared`: no file names the team's own folders."""

from __future__ import annotations

import subprocess

from tests.conftest import REPO_ROOT


def test_no_tracked_file_names_an_absolute_path_of_the_teams_machines() -> None:
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO_ROOT, capture_output=True, text=True, check=True).stdout.split()
    offenders = [
        name for name in tracked
        if name != "tests/test_no_absolute_paths.py" and (REPO_ROOT / name).is_file()
        and any(marker in (REPO_ROOT / name).read_text(errors="ignore") for marker in ("/work/shared", "/work/main"))
    ]  # fmt: skip
    assert offenders == []
