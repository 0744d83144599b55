"""The search's HTML report, from a SearchResult built by hand (records only: no training, no TF)."""

from __future__ import annotations

import base64
import re
import subprocess
import sys

from sercompress.report.search import (
    least_violating,
    scatter_png,
    search_html,
    verdict_cell,
)
from sercompress.search.record import (
    ControlComparison,
    DeviceSearch,
    SearchResult,
    TrialRecord,
)

HOSTILE = "OUT/<script>alert('x')</script>&recipe.toml"
CHECK = "FITS on nrf52840\n  ram: 200 KiB <= 256 KiB & flash < 1 MiB\n"


def trial(n: int, val: float, lat: float | None, feasible: bool, **kw) -> TrialRecord:
    constraints = kw.pop("constraints", {"flash": -0.5, "ram": -0.1 if feasible else 0.3, "latency": -0.2,
                                         "dtype": 0.0})
    fields = dict(number=n, params={"keep_first": 0.5, "keep_lflb": 0.75, "window_seconds": 1.5,
                                    "hop_fraction": 0.5, "precision": "int8"},
                  recipe=f"OUT/trials/search-{n:04d}.toml", variant_dir=f"OUT/store/v{n}",
                  artifact=f"OUT/store/v{n}/model.tflite", artifact_sha256="0" * 64, val_ua=val,
                  test_ua=val - 0.02, windows_per_clip=3, latency_ms=None if lat is None else lat / 3,
                  latency_high_ms=None if lat is None else lat / 2.5, latency_budget_ms=500.0,
                  latency_per_utterance_ms=lat, flash_bytes=600 * 1024, ram_bytes=(200 if feasible else 330) * 1024,
                  verdict="FITS" if feasible else "DOES NOT FIT", constraints=constraints, feasible=feasible)
    fields.update(kw)
    return TrialRecord(**fields)


def fitting_device() -> DeviceSearch:
    trials = (trial(0, 0.50, 40.0, True), trial(1, 0.62, 90.0, True), trial(2, 0.70, 700.0, True),
              trial(3, 0.55, 95.0, True), trial(4, 0.80, 2000.0, False), trial(5, 0.40, None, False))
    comparison = ControlComparison(control="float32@6ep-lr0.001-b32", control_ua=0.72, ua_difference=-0.031,
                                   low=-0.08, high=0.02, level=0.95, unit="clip-stratified", significant=False)
    return DeviceSearch(hardware="nrf52840", trials=trials, front=(0, 1, 2), chosen=2, chosen_recipe=HOSTILE,
                        check_command="sercompress check --hw nrf52840 OUT/nrf52840/chosen/model.tflite",
                        check=CHECK, comparison=comparison)


def unfit_device() -> DeviceSearch:
    near = trial(7, 0.6, 300.0, False, constraints={"flash": -0.2, "ram": 0.05, "latency": -0.1, "dtype": 0.0})
    far = trial(8, 0.7, 400.0, False, constraints={"flash": 0.4, "ram": 0.9, "latency": 0.3, "dtype": 0.0})
    return DeviceSearch(hardware="tiny-mcu", trials=(far, near), front=(), chosen=None)


def result(*devices: DeviceSearch) -> SearchResult:
    return SearchResult(reference="runs/ref", seed=0, n_trials=6, sampler="optuna NSGAIISampler",
                        validation_clips=40, devices=devices, wall_time_s=12.3)


def test_page_shows_front_choice_and_escaped_check():
    page = search_html(result(fitting_device(), unfit_device()))
    assert page.count("<img ") == 2 and page.count("data:image/png;base64,") == 2  # one figure per device
    assert "<script" not in page and "&lt;script&gt;" in page  # the hostile recipe path, escaped
    assert "ram: 200 KiB &lt;= 256 KiB &amp; flash &lt; 1 MiB" in page
    assert "$ sercompress check --hw nrf52840" in page
    front = page.split("<h3>Pareto front")[1].split("</table>")[0]
    rows = re.findall(r"<tr><td>(\d+)", front)
    assert rows == ["0", "1", "2"]  # the front, fastest first; 3 is dominated by 1
    assert "<td>2 (chosen, front)</td>" in page and "Chosen: trial 2" in page
    assert "-3.1 points [-8.0, +2.0]" in page and "not significant" in page
    assert "ranks by validation UA" in page and "never ranked by" in page
    assert "<details><summary>All 6 trials</summary>" in page


def test_the_mixed_precision_blocks_are_shown_with_their_measurement():
    from sercompress.search.run import markdown
    from sercompress.search.sensitivity import BlockError, Int16Sensitivity

    assert "Mixed precision" not in search_html(result(fitting_device()))
    m = Int16Sensitivity(probe_clips=64, int8_error=0.0063, int16_error=0.0022, chosen=("lflb1", "lflb2"),
                         blocks=(BlockError(block="lflb1", error=0.0047), BlockError(block="lflb2", error=0.0050),
                                 BlockError(block="<gap>", error=0.0063)))
    r = result(fitting_device()).model_copy(update={"int16_blocks": m.chosen, "int16_sensitivity": m})
    page = search_html(r)
    assert "compute lflb1+lflb2 with int16 activations" in page and "all int8 0.0063" in page
    assert "<td>lflb1</td><td>0.0047</td><td>int16</td>" in page and "&lt;gap&gt;" in page
    assert "int16 in lflb1+lflb2, int8 elsewhere" in markdown(r) and "| lflb2 | 0.0050 |" in markdown(r)
    given = result(fitting_device()).model_copy(update={"int16_blocks": ("head",)})
    assert "int16 in head (given by the space)" in search_html(given)


def test_significant_only_when_it_is():
    d = fitting_device()
    sig = d.model_copy(update={"comparison": d.comparison.model_copy(update={"significant": True, "high": -0.01})})
    page = search_html(result(sig))
    assert "significant: the interval excludes zero" in page and "not significant" not in page


def test_device_without_feasible_trial_names_the_closest():
    page = search_html(result(unfit_device()))
    assert "No trial fits tiny-mcu" in page
    assert least_violating(unfit_device().trials).number == 7
    closest = page.split("is trial ")[1]
    assert closest.startswith("7 ") and "RAM 330 KiB (5 % over its budget)" in closest
    assert "flash 600 KiB (20 % under it)" in closest
    assert "Pareto front (fits" not in page


def test_trial_without_latency_is_noted_not_plotted():
    page = search_html(result(fitting_device()))
    assert "Not plotted (no latency estimate on nrf52840): trial(s) 5." in page
    only_none = DeviceSearch(hardware="x", trials=(trial(9, 0.5, None, False),), front=(), chosen=None)
    assert scatter_png(only_none) is None
    assert "No trial on x has a latency estimate" in search_html(result(only_none))
    fit_none = DeviceSearch(hardware="y", trials=(trial(9, 0.5, None, True), trial(10, 0.4, 20.0, True)),
                            front=(9, 10), chosen=9)  # a front entry without a latency is tabled last
    front = search_html(result(fit_none)).split("<h3>Pareto front")[1].split("</table>")[0]
    assert re.findall(r"<tr><td>(\d+)", front) == ["10", "9"]


def test_figure_is_a_png():
    png = scatter_png(fitting_device())
    assert png is not None and png.startswith(b"\x89PNG")
    page = search_html(result(fitting_device()))
    data = page.split("data:image/png;base64,")[1].split('"')[0]
    assert base64.b64decode(data) == png


def test_verdict_cells_name_the_budgets_at_fault():
    assert verdict_cell(trial(1, 0.5, 10.0, True)) == "fits"
    t = trial(2, 0.5, 10.0, False, verdict="MARGINAL",
              constraints={"flash": -0.1, "ram": -0.1, "latency": 1e-6, "dtype": 0.0})
    assert verdict_cell(t) == "marginal: latency"
    assert verdict_cell(trial(3, 0.5, 10.0, False)) == "misses: ram +30 %"


def test_report_module_does_not_import_tensorflow():
    code = ("import sys, sercompress.report.search\n"
            "print([m for m in ('tensorflow', 'tf_keras', 'tensorflow_model_optimization') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "[]"


def test_sercompress_report_rerenders_a_search_from_its_record_alone(tmp_path, capsys):
    import json
    import subprocess
    import sys

    from sercompress.cli import main
    from sercompress.records import write_record

    write_record(tmp_path / "search.json", result(fitting_device(), unfit_device()))
    code = ("import sys\nfrom sercompress.cli import main\n"
            f"rc = main(['report', {str(tmp_path)!r}])\n"
            "print([m for m in ('tensorflow', 'tf_keras', 'optuna') if m in sys.modules], rc)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[] 0"
    page = (tmp_path / "index.html").read_text()
    assert "<img" in page and "No trial fits" in page and (tmp_path / "search.md").is_file()
    data = json.loads((tmp_path / "search.json").read_text())
    (tmp_path / "search.json").write_text(json.dumps({**data, "schema_version": 1}))
    (tmp_path / "index.html").unlink()
    assert main(["report", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "search.json" in err and "schema version" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "index.html").exists()
