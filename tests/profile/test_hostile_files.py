"""Hostile model files: bounded memory and time, shapes bounded, one clear error (exit 2).

The files are built directly as flatbuffers / protobufs (no TensorFlow), so these tests are fast.
"""

import os
import subprocess
import sys

import pytest

from sercompress.cli import main
from sercompress.errors import ProfileError
from sercompress.fit import Budget
from sercompress.profile import profile_artifact
from sercompress.profile.hardware import HardwareProfile, get_hw_profile
from sercompress.profile.latency import estimate
from sercompress.profile.types import TflmArena
from tests.fuzz.tflite_build import shaped_model, shared_buffer_model




def test_one_buffer_shared_by_276_tensors_is_not_copied(tmp_path):
    """An 8.4 MB file whose 8 MiB buffer backs 276 tensors took 2.3 GB (one copy per tensor).

    Peak RSS is the child's VmHWM (ru_maxrss can carry over the forking parent's figure)."""
    path = tmp_path / "shared.tflite"
    path.write_bytes(shared_buffer_model(276, 8 << 20))
    code = ("import resource, sys, time\n"
            "from sercompress.profile import profile_artifact\n"
            f"p = profile_artifact({str(path)!r})\n"
            "r = resource.getrusage(resource.RUSAGE_SELF)\n"
            "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]\n"
            "print(int(hwm) * 1024, r.ru_utime + r.ru_stime, p.params)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    rss, cpu, params = out.stdout.split()
    assert int(params) == 276 * (2 << 20)            # every use counted, as before
    assert int(rss) < 400 * 2**20, f"peak RSS {int(rss) / 2**20:.0f} MiB"   # was 2.3 GB
    assert float(cpu) < 20, f"{cpu} s CPU"           # counted once per buffer, not per tensor


@pytest.mark.parametrize("shape, match", [
    ([2**31 - 1] * 40, "rank 40"),                   # OverflowError in `check` before
    ([1] * 500, "rank 500"),                         # a traceback in `profile` before
    ([2**31 - 1] * 4, "elements allowed"),
])
@pytest.mark.parametrize("command", ["profile", "check"])
def test_absurd_shapes_are_one_error(tmp_path, capsys, shape, match, command):
    path = tmp_path / "m.tflite"
    path.write_bytes(shaped_model(shape))
    args = [command, str(path)] + (["--hw", "stm32h743"] if command == "check" else [])
    assert main(args) == 2
    err = capsys.readouterr().err
    assert match in err and str(path) in err and "Traceback" not in err


def test_directory_and_fifo_are_named_not_missing(tmp_path, capsys):
    fifo = tmp_path / "model.tflite"
    os.mkfifo(fifo)
    assert main(["profile", str(fifo)]) == 2
    assert "not a regular file" in capsys.readouterr().err
    assert main(["profile", str(tmp_path)]) == 2
    assert "is a directory" in capsys.readouterr().err
    assert main(["profile", str(tmp_path / "nope.tflite")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_onnx_external_data_is_read_beside_the_model_not_the_cwd(tmp_path, monkeypatch):
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    w = numpy_helper.from_array(np.ones((4, 3), np.float32), "w")
    graph = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])], [w])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    d = tmp_path / "models"
    d.mkdir()
    onnx.save_model(model, d / "m.onnx", save_as_external_data=True, location="m.bin", size_threshold=0)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert profile_artifact(d / "m.onnx").params == 12


@pytest.mark.parametrize("field, value", [("conv_macs_per_cycle", "inf"), ("conv_macs_per_cycle", "nan"),
                                          ("elementwise_cycles_per_element", "inf")])
def test_inf_and_nan_latency_coefficients_are_refused(tmp_path, field, value):
    src = get_hw_profile("stm32h743").to_dict()
    src["latency"]["int8"][field] = float(value)
    with pytest.raises(ProfileError, match=field):
        HardwareProfile.from_dict(src, tmp_path / "x.toml")


def test_host_never_runs_a_model_whose_plan_exceeds_its_ram(tmp_path):
    """A 64 GiB plan was run on the host; it is refused before measuring."""
    path = tmp_path / "big.tflite"
    path.write_bytes(shaped_model([1, 2**20, 2**10, 16]))   # 2**34 float32 = 64 GiB
    static = profile_artifact(path)
    assert static.peak_ram_bytes >= 64 * 2**30

    def boom(_):
        raise AssertionError("the host measurement must not run")

    hw = get_hw_profile("host")
    latency = estimate(static, hw, measure=boom)
    assert latency.ms is None and "not run" in latency.reason
    assert not Budget.from_hardware(hw).is_satisfied_by(static, latency).fits


def test_tflm_arena_orders_of_magnitude_below_the_plan_is_not_a_fit(tmp_path):
    path = tmp_path / "m.tflite"
    path.write_bytes(shaped_model([1, 2**16, 2**10, 4]))    # 1 GiB plan
    static = profile_artifact(path)
    hw = get_hw_profile("stm32h743")
    arena = TflmArena(total_bytes=1640, head_bytes=1024, tail_bytes=616)
    fooled = static.model_copy(update={"tflm": arena})
    ram = Budget.from_hardware(hw).is_satisfied_by(fooled, None).check("ram")
    assert not ram.ok and "did not allocate" in ram.reason and ram.value >= 2**30
    agreeing = static.model_copy(update={"peak_ram_bytes": 2000, "tflm": arena})
    ram = Budget.from_hardware(hw).is_satisfied_by(agreeing, None).check("ram")
    assert ram.ok and "measured by TFLite Micro" in ram.reason


def test_onnx_names_that_are_not_utf8_are_one_error(tmp_path, capsys):
    """Found by the fuzz suite: protobuf returns such a name as bytes; a record then failed."""
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"], name="conv_ok")], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])])
    data = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]).SerializeToString()
    path = tmp_path / "m.onnx"
    path.write_bytes(data.replace(b"conv_ok", b"conv\xff\xffk"))
    assert main(["profile", str(path)]) == 2
    assert "not UTF-8" in capsys.readouterr().err
