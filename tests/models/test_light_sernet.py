"""Light-SERNet is built exactly as the paper's official code: size, MACs and layers."""

import json

import pytest

from sercompress.cli import main
from sercompress.models import count_macs, light_sernet


@pytest.fixture(scope="module")
def model():
    return light_sernet(4)


def _layers(model, cls):
    return [layer for layer in model.layers if type(layer).__name__ == cls]


def test_size_and_macs_of_the_reference(model):
    assert tuple(model.input_shape[1:]) == (184, 40, 1)
    assert model.count_params() == 462_468
    assert count_macs(model) == 160_228_480
    assert tuple(model.output_shape) == (None, 4)


def test_three_parallel_paths(model):
    convs = _layers(model, "Conv2D")
    paths = [c for c in convs if c.name.startswith("path")]
    assert [tuple(c.kernel_size) for c in paths] == [(11, 1), (1, 9), (3, 3)]
    for c in paths:
        assert c.filters == 32 and c.use_bias and c.padding == "same"
        # every path reads the input directly (parallel, not stacked)
        assert c.input is model.input
    concat = _layers(model, "Concatenate")
    assert len(concat) == 1 and concat[0].output_shape[-1] == 96


def test_lflb_blocks_and_head(model):
    convs = [c for c in _layers(model, "Conv2D") if not c.name.startswith("path")]
    assert [c.filters for c in convs] == [64, 96, 128, 160, 320]
    assert [tuple(c.kernel_size) for c in convs] == [(3, 3)] * 4 + [(1, 1)]
    for c in convs:
        assert not c.use_bias
        assert c.kernel_regularizer is not None
        assert c.kernel_regularizer.get_config()["l2"] == pytest.approx(1e-6)
    # 3 path + 4 LFLB + head batch norms
    assert len(_layers(model, "BatchNormalization")) == 8
    assert [tuple(p.pool_size) for p in _layers(model, "AveragePooling2D")] == [
        (2, 2), (2, 2), (2, 2), (2, 2), (2, 2), (2, 1), (2, 1)]
    assert len(_layers(model, "GlobalAveragePooling2D")) == 1
    (dropout,) = _layers(model, "Dropout")
    assert dropout.rate == pytest.approx(0.3)
    (dense,) = _layers(model, "Dense")
    assert dense.units == 4 and dense.activation.__name__ == "softmax"
    assert model.layers[-1] is dense


@pytest.mark.parametrize("classes, duration, params", [(7, 3.0, 462_468 + 3 * 321), (4, 1.0, 462_468)])
def test_size_follows_classes_not_duration(classes, duration, params):
    m = light_sernet(classes, duration_s=duration)
    assert m.count_params() == params


def test_info_json_output(capsys):
    assert main(["info", "--model", "light_sernet", "--classes", "4", "--duration", "3", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert set(info) == {"model", "classes", "duration_s", "input_type", "input_shape", "params", "macs", "layers"}
    assert info["input_shape"] == [184, 40, 1]
    assert info["params"] == 462_468
    assert info["macs"] == 160_228_480
    assert info["model"] == "light_sernet" and info["classes"] == 4
