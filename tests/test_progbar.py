"""The progress bar prints exactly what tf.keras 2 prints (time made deterministic)."""

from __future__ import annotations

import io

import pytest

from chainrule.utils.progbar import Progbar, _format_eta, _format_time


class Clock:
    """A settable clock: ``clock.t = 1.5`` moves time."""

    def __init__(self, t: float = 0.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


class Terminal(io.StringIO):
    """A stream that says it is a terminal and records every write."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[str] = []

    def isatty(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.writes.append(text)
        return super().write(text)


FULL = "=" * 30


def run_epoch(bar: Progbar, clock: Clock, times: list[float], values: list[list]) -> None:
    for step, (t, vals) in enumerate(zip(times, values), start=1):
        clock.t = t
        bar.update(step, vals)


# --------------------------------------------------------------------------- verbose=1


def test_final_line_matches_the_tutorial_format_on_a_file():
    clock, out = Clock(), io.StringIO()
    bar = Progbar(32, stream=out, time_fn=clock, stateful_metrics=["loss", "mae", "val_loss"])
    # First step at 1 ms, then 31 steps of 987 us each.
    times = [0.001 + i * 987e-6 for i in range(32)]
    logs = [[("loss", 0.0665), ("mae", 0.2402)]] * 31
    logs.append([("loss", 0.0665), ("mae", 0.2402), ("val_loss", 0.0701)])
    run_epoch(bar, clock, times, logs)
    assert out.getvalue() == (
        f"32/32 [{FULL}] - 0s 987us/step - loss: 0.0665 - mae: 0.2402 - val_loss: 0.0701\n"
    )


def test_not_a_terminal_prints_one_line_per_epoch_and_none_per_step():
    clock, out = Clock(), io.StringIO()
    bar = Progbar(1875, stream=out, time_fn=clock, interval=0.0)
    for step in range(1, 1875):
        clock.t = step * 0.0016
        bar.update(step, [("loss", 0.5)])
    assert out.getvalue() == ""
    clock.t = 3.0
    bar.update(1875, [("loss", 0.5)])
    assert out.getvalue().count("\n") == 1
    assert "\r" not in out.getvalue()
    assert out.getvalue() == f"1875/1875 [{FULL}] - 3s 2ms/step - loss: 0.5000\n"


def test_terminal_redraws_in_place_and_throttles():
    clock, out = Clock(), Terminal()
    bar = Progbar(4, stream=out, time_fn=clock)
    run_epoch(
        bar,
        clock,
        [0.1, 0.12, 0.2, 0.3],  # step 2 comes 20 ms after step 1: not drawn
        [[("loss", 1.0)], [("loss", 1.0)], [("loss", 1.0)], [("loss", 1.0)]],
    )
    assert out.writes == [
        "\r1/4 [======>.......................] - ETA: 0s - loss: 1.0000",
        "\r3/4 [=====================>........] - ETA: 0s - loss: 1.0000",
        f"\r4/4 [{FULL}] - 0s 67ms/step - loss: 1.0000\n",
    ]


def test_padding_blanks_the_rest_of_a_longer_previous_line():
    clock, out = Clock(), Terminal()
    bar = Progbar(3, stream=out, time_fn=clock, stateful_metrics=["loss"])
    clock.t = 4000.0  # first step took over an hour: ETA with hours
    bar.update(1, [("loss", 0.5)])
    clock.t = 4000.5  # second step was fast: a shorter ETA
    bar.update(2, [("loss", 0.5)])
    assert out.writes[0] == "\r1/3 [=========>....................] - ETA: 2:13:20 - loss: 0.5000"
    assert (
        out.writes[1] == "\r2/3 [===================>..........] - ETA: 0s - loss: 0.5000" + " " * 5
    )


def test_values_are_averaged_unless_stateful():
    clock, out = Clock(), io.StringIO()
    bar = Progbar(4, stream=out, time_fn=clock, stateful_metrics=["acc"])
    clock.t = 1.0
    bar.update(2, [("loss", 1.0), ("acc", 0.5)])
    clock.t = 2.0
    bar.update(4, [("loss", 4.0), ("acc", 0.75)])
    # loss: (2 steps * 1.0 + 2 steps * 4.0) / 4 = 2.5; acc as given.
    assert out.getvalue() == f"4/4 [{FULL}] - 2s 500ms/step - loss: 2.5000 - acc: 0.7500\n"


def test_stateless_metrics_makes_everything_else_stateful():
    clock, out = Clock(), io.StringIO()
    bar = Progbar(2, stream=out, time_fn=clock, stateless_metrics=["loss"])
    bar.update(1, [("loss", 1.0), ("acc", 0.5)])
    bar.update(2, [("loss", 3.0), ("acc", 0.75)])
    assert out.getvalue() == f"2/2 [{FULL}] - 0s 0s/step - loss: 2.0000 - acc: 0.7500\n"


@pytest.mark.parametrize(
    "value, shown",
    [
        (0.0, "0.0000e+00"),
        (1e-5, "1.0000e-05"),
        (-0.5, "-0.5000"),
        (123.456789, "123.4568"),
        (float("nan"), "nan"),
        (float("inf"), "inf"),
    ],
)
def test_value_formatting(value, shown):
    out = io.StringIO()
    bar = Progbar(1, stream=out, time_fn=Clock(), stateful_metrics=["v"])
    bar.update(1, [("v", value)])
    assert out.getvalue().endswith(f" - v: {shown}\n")


def test_numpy_values_are_formatted_like_floats():
    np = pytest.importorskip("numpy")
    out = io.StringIO()
    bar = Progbar(1, stream=out, time_fn=Clock(), stateful_metrics=["loss"])
    bar.update(1, [("loss", np.float32(0.25))])
    assert out.getvalue().endswith(" - loss: 0.2500\n")


def test_unknown_target_on_a_terminal():
    clock, out = Clock(), Terminal()
    bar = Progbar(None, stream=out, time_fn=clock, stateful_metrics=["loss"])
    clock.t = 0.01
    bar.update(1, [("loss", 0.5)])
    clock.t = 0.13
    bar.update(12, [("loss", 0.25)])
    bar.update(12, [("loss", 0.25)], finalize=True)
    assert out.writes == [
        "\r      1/Unknown - 0s 10ms/step - loss: 0.5000",
        "\r     12/Unknown - 0s 11ms/step - loss: 0.2500",
        "\r     12/Unknown - 0s 11ms/step - loss: 0.2500\n",
    ]


def test_unknown_target_not_a_terminal_prints_only_when_finalized():
    clock, out = Clock(), io.StringIO()
    bar = Progbar(None, stream=out, time_fn=clock, stateful_metrics=["loss"])
    for step in range(1, 6):
        clock.t = step * 0.1
        bar.update(step, [("loss", 0.5)])
    assert out.getvalue() == ""
    bar.target = 5  # what the logger does once the steps are known
    bar.update(5, [("loss", 0.5)], finalize=True)
    assert out.getvalue() == f"5/5 [{FULL}] - 0s 100ms/step - loss: 0.5000\n"


def test_add_advances_by_n():
    clock, out = Clock(), io.StringIO()
    bar = Progbar(10, stream=out, time_fn=clock, stateful_metrics=["loss"])
    bar.add(4, [("loss", 1.0)])
    clock.t = 1.0
    bar.add(6, [("loss", 0.5)])
    assert out.getvalue() == f"10/10 [{FULL}] - 1s 100ms/step - loss: 0.5000\n"


def test_bar_without_values():
    out = io.StringIO()
    bar = Progbar(313, stream=out, time_fn=Clock())
    bar.update(313)
    assert out.getvalue() == f"313/313 [{FULL}] - 0s 0s/step\n"


def test_counter_is_right_aligned_to_the_target_width():
    clock, out = Clock(), Terminal()
    bar = Progbar(1875, stream=out, time_fn=clock)
    clock.t = 0.002
    bar.update(1)
    # 1/1875 of 30 characters rounds down to nothing: no head yet, as in Keras.
    assert out.writes[0] == f"\r   1/1875 [{'.' * 30}] - ETA: 3s"
    clock.t = 0.2
    bar.update(63)
    assert out.writes[1] == "\r  63/1875 [>.............................] - ETA: 5s"


# --------------------------------------------------------------------------- verbose=2


def test_verbose_2_prints_one_line_with_total_time():
    clock, out = Clock(), Terminal()  # even on a terminal: no in-place bar
    bar = Progbar(313, verbose=2, stream=out, time_fn=clock, stateful_metrics=["loss", "accuracy"])
    for step in range(1, 313):
        clock.t = step * 0.001
        bar.update(step, [("loss", 0.4513), ("accuracy", 0.8429)])
    assert out.getvalue() == ""
    clock.t = 0.35
    bar.update(313, [("loss", 0.4513), ("accuracy", 0.8429)])
    assert out.writes == ["313/313 - 0s - loss: 0.4513 - accuracy: 0.8429\n"]


def test_verbose_2_seconds_are_rounded():
    clock, out = Clock(), io.StringIO()
    bar = Progbar(32, verbose=2, stream=out, time_fn=clock, stateful_metrics=["loss", "mae"])
    clock.t = 2.6
    bar.update(32, [("loss", 0.0665), ("mae", 0.2402)])
    assert out.getvalue() == "32/32 - 3s - loss: 0.0665 - mae: 0.2402\n"


def test_verbose_0_prints_nothing():
    clock, out = Clock(), Terminal()
    bar = Progbar(3, verbose=0, stream=out, time_fn=clock)
    for step in (1, 2, 3):
        clock.t = step
        bar.update(step, [("loss", 1.0)])
    assert out.writes == []


# --------------------------------------------------------------------------- details


def test_default_stream_is_stdout_at_write_time(capsys):
    bar = Progbar(1, time_fn=Clock(), stateful_metrics=["loss"])
    bar.update(1, [("loss", 0.5)])
    assert capsys.readouterr().out == f"1/1 [{FULL}] - 0s 0s/step - loss: 0.5000\n"


def test_jupyter_stream_is_redrawn_in_place():
    class OutStream(io.StringIO):
        pass

    OutStream.__module__ = "ipykernel.iostream"
    clock, out = Clock(), OutStream()
    bar = Progbar(2, stream=out, time_fn=clock)
    clock.t = 0.1
    bar.update(1)
    assert out.getvalue().startswith("\r1/2 [")


@pytest.mark.parametrize(
    "seconds, text",
    [
        (0.0, " 0s/step"),
        (2.4, " 2s/step"),
        (1.0, " 1s/step"),
        (0.0123, " 12ms/step"),
        (0.000987, " 987us/step"),
        (5e-7, " 0us/step"),
    ],
)
def test_format_time(seconds, text):
    assert _format_time(seconds, "step") == text


@pytest.mark.parametrize(
    "seconds, text",
    [(0.4, "0s"), (59.9, "59s"), (60.0, "60s"), (125.0, "2:05"), (3725.0, "1:02:05")],
)
def test_format_eta(seconds, text):
    assert _format_eta(seconds) == text


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"target": -1}, "target must be a non-negative integer or None. Received: target=-1"),
        ({"target": 2.5}, "Received: target=2.5"),
        ({"target": 3, "verbose": 3}, "verbose must be 0, 1 or 2. Received: verbose=3"),
        ({"target": 3, "stateful_metrics": ["a"], "stateless_metrics": ["b"]}, "at most one"),
    ],
)
def test_invalid_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Progbar(**kwargs)
