"""The command line: `chainrule demo` and its help."""

import subprocess
import sys

from chainrule.cli import main


def test_demo_help_lists_options(capsys):
    try:
        main(["demo", "--help"])
    except SystemExit as e:
        assert e.code == 0
    out = capsys.readouterr().out
    for option in ("--out", "--quick", "--no-plots", "--seed"):
        assert option in out


def test_version(capsys):
    import chainrule

    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"chainrule {chainrule.__version__}"


def test_demo_prints_worked_example_numbers(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "chainrule.cli", "demo", "--quick", "--no-plots", "--out",
         str(tmp_path / "figs")],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    for needle in ("E_total = 0.02397190", "W5+ = 0.43703857", "E_total after one update = 0.02323634"):
        assert needle in proc.stdout
