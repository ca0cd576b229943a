"""The documentation states what the code does."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_configuration_doc_lists_every_key_with_its_default() -> None:
    shown = subprocess.run(
        [sys.executable, "-m", "agent.cli", "config", "show", "--doc", "--data-dir", "/var/lib/telecart"],
        capture_output=True, text=True, check=True,
    ).stdout
    assert shown.strip() in (ROOT / "docs" / "configuration.md").read_text(), (
        "docs/configuration.md is out of date: paste the output of `telecart config show --doc`"
    )


def test_readme_test_command_is_what_ci_runs() -> None:
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "scripts/test" in readme and "exec scripts/test" in ci
