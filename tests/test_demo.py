"""`chainrule demo`: the lessons end to end, offline, with figures or without matplotlib."""

import contextlib
import io
import sys

import pytest

from chainrule import demo


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    pytest.importorskip("matplotlib")
    out = tmp_path_factory.mktemp("demo") / "figures"
    buf = io.StringIO()  # capsys is per test; this run is shared by the module
    with contextlib.redirect_stdout(buf):
        code = demo.run_demo(out_dir=str(out), quick=True, plots=True, seed=0)
    return code, buf.getvalue(), out


def test_demo_runs_and_returns_zero(quick_run):
    code, _, _ = quick_run
    assert code == 0


def test_worked_example_section(quick_run):
    _, text, _ = quick_run
    for needle in (
        "1. Backpropagation, number by number",
        "∂E/∂W5 = ∂E/∂o1 × ∂o1/∂z3 × ∂z3/∂W5 = 0.20944600 × 0.23802157 × 0.51998934 = 0.02592286",
        "W5+ = 0.43703857",
        "∂E/∂W1 = ∂E/∂h1 × ∂h1/∂z1 × ∂z1/∂W1 = 0.03240681 × 0.24960043 × 0.10000000 = 0.00080888",
        "E_total = 0.02397190",
        "E_total after one update = 0.02323634",
    ):
        assert needle in text, needle


def test_gates_and_xor_section(quick_run):
    _, text, _ = quick_run
    assert "AND  gate, hand-set (w1, w2, b) = (0.5, 0.5, -0.7): inputs 00 01 10 11 -> [0, 0, 0, 1]" in text
    assert "XOR = AND(NAND, OR): inputs 00 01 10 11 -> [0, 1, 1, 0]" in text
    assert "XOR : ConvergenceWarning: The perceptron did not converge" in text
    assert "accuracy 1.00" in text


def test_training_section(quick_run):
    _, text, _ = quick_run
    section = text[text.index("3. A small network"):text.index("4. Vanishing gradients")]
    assert 'Model: "moons"' in section and "Total params: 337" in section
    assert "Epoch 1/10" in section and "Epoch 10/10" in section
    assert "[==============================]" in section and "val_accuracy" in section
    assert "Final accuracy on all 300 points: " in section


def test_vanishing_gradient_section(quick_run):
    _, text, _ = quick_run
    section = text[text.index("4. Vanishing gradients"):text.index("5. Figures")]
    sigmoid = float(section.split("sigmoid: ")[1].split("ratio ")[1].split()[0])
    relu = float(section.split("relu   : ")[1].split("ratio ")[1].split()[0])
    assert sigmoid < 1e-3
    assert relu > 5e-2


def test_figures_are_written_and_the_folder_printed(quick_run):
    _, text, out = quick_run
    assert f"Wrote 8 figures to {out}" in text
    for name in ("activations.png", "network_2_2_2.png", "decision_boundary_moons.png",
                 "decision_boundary_xor_mlp.png", "history_moons.png", "gradient_flow.png"):
        path = out / name
        assert path.is_file() and path.stat().st_size > 2000, name
        assert f"  {name}" in text


def test_without_matplotlib_figures_are_skipped_with_a_note(monkeypatch, capsys, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    demo._figures({"plots": True, "out_dir": str(tmp_path / "figs")})
    out = capsys.readouterr().out
    assert 'Figures skipped: matplotlib is not installed (pip install "chainrule[plot]").' in out
    assert not (tmp_path / "figs").exists()


def test_no_plots_flag(capsys, tmp_path):
    demo._figures({"plots": False, "out_dir": str(tmp_path)})
    assert "Figures skipped (--no-plots)." in capsys.readouterr().out
