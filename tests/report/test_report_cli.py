"""`sercompress report DIR` re-renders from summary.json alone, without importing TensorFlow."""

from __future__ import annotations

import json
import subprocess
import sys

from .conftest import make_summary

from sercompress.cli import main

CODE = """
import sys
from sercompress.cli import main
rc = main(["report", sys.argv[1], "--json"])
heavy = [m for m in ("tensorflow", "tf_keras", "tensorflow_model_optimization") if m in sys.modules]
print("HEAVY=" + ",".join(heavy))
sys.exit(rc)
"""


def test_report_rerenders_without_tensorflow(tmp_path):
    make_summary().save(tmp_path)
    out = subprocess.run([sys.executable, "-c", CODE, str(tmp_path)], capture_output=True, text=True, timeout=120,
                         check=False)
    assert out.returncode == 0, out.stderr
    assert "HEAVY=\n" in out.stdout  # nothing heavy was imported
    written = json.loads(out.stdout.split("HEAVY=")[0])
    assert set(written) == {"summary_json", "variants_csv", "summary_md", "index_html"}
    for name in ("index.html", "summary.md", "variants.csv"):
        assert (tmp_path / name).stat().st_size > 0
    assert "data:image/png;base64," in (tmp_path / "index.html").read_text()


def test_report_errors_are_one_line_exit_2(tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "summary not found" in err
    (tmp_path / "summary.json").write_text('{"schema_version": 7}')
    assert main(["report", str(tmp_path)]) == 2
    assert "schema version 7 is not supported" in capsys.readouterr().err
