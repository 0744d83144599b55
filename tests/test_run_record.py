"""run.json is untrusted input to `compress --from`: field types are checked before use."""

import json

import pytest

from sercompress.errors import RunError
from sercompress.storage import mark_done
from sercompress.train import load_reference

RECORD = {"schema_version": 1, "kind": "reference", "config_hash": "x", "model": "light_sernet",
          "data": {}, "train": {}, "classes": ["a", "b", "c", "d"], "input_shape": [184, 40, 1],
          "weights_sha256": "0", "data_fingerprint": "x"}


@pytest.mark.parametrize("key, value", [
    ("classes", 5), ("classes", "abcd"), ("classes", ["a"]), ("classes", [f"c{i}" for i in range(65)]),
    ("input_shape", "abc"), ("input_shape", [184, -40, 1]), ("input_shape", [10**7]),
    ("input_shape", [True, 1]), ("data", []), ("weights_sha256", 5),
])
def test_bad_record_fields_are_one_error_naming_file_and_key(tmp_path, key, value):
    """`classes = 5` was a TypeError and `input_shape = "abc"` a ValueError in compress --from."""
    (tmp_path / "run.json").write_text(json.dumps({**RECORD, key: value}))
    mark_done(tmp_path)
    with pytest.raises(RunError) as e:
        load_reference(tmp_path)
    assert e.value.key == key and e.value.path == tmp_path / "run.json"


def test_huge_integer_in_run_json(tmp_path):
    (tmp_path / "run.json").write_text(json.dumps(RECORD).replace('"x"}', "9" * 5000 + "}"))
    mark_done(tmp_path)
    with pytest.raises(RunError, match="digits"):
        load_reference(tmp_path)
