"""Stage timings that add up, and step reports as lines or a bar."""

import io
import json
import time

from sercompress.progress import Progress


class Clock:
    """A fake perf_counter the test advances by hand."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_nested_stages_are_counted_once(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(time, "perf_counter", clock)
    p = Progress(quiet=True)
    with p.stage("compress"):
        for name in ("a", "b"):
            with p.stage(f"compress {name}"):
                clock.now += 10
        clock.now += 1
    with p.stage("report"):
        clock.now += 2
    assert p.timings == {"compress": 21, "report": 2}
    assert p.nested_timings == {"compress/compress a": 10, "compress/compress b": 10}
    assert p.stage_seconds() == 23
    assert set(p.cpu_timings) == set(p.timings) | set(p.nested_timings)


def test_steps_are_lines_off_a_tty_and_json_events_with_their_data():
    out = io.StringIO()
    p = Progress(log_json=True, stream=out)
    with p.steps(2, "epoch", kind="epoch") as report:
        report("epoch 1/2", epoch=1)
        report("epoch 2/2", epoch=2)
    events = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(e["event"], e["message"], e["epoch"]) for e in events] == [("epoch", "epoch 1/2", 1),
                                                                         ("epoch", "epoch 2/2", 2)]


def test_steps_draw_a_bar_with_an_eta_on_a_tty():
    class Tty(io.StringIO):
        def isatty(self):
            return True

    out = Tty()
    with Progress(stream=out).steps(4, "epoch") as report:
        report("loss 1.0")
    text = out.getvalue()
    assert "1/4" in text and "loss 1.0" in text and "<" in text  # tqdm: elapsed<remaining


def test_lines_printed_under_a_bar_do_not_break_it():
    class Tty(io.StringIO):
        def isatty(self):
            return True

    out = Tty()
    p = Progress(stream=out)
    for _ in p.bar(["a", "b"], "recipe"):
        p.info("a stage line")
    assert out.getvalue().count("a stage line\n") == 2
    assert "recipe" in out.getvalue()
