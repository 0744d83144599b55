"""The command line: every subcommand has --help; fast commands never import TensorFlow."""

import subprocess
import sys

import pytest

from sercompress.cli import COMMANDS, build_parser, main


def test_every_command_is_registered():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert set(sub.choices) == set(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_help(command, capsys):
    with pytest.raises(SystemExit) as e:
        main([command, "--help"])
    assert e.value.code == 0
    assert "usage: sercompress" in capsys.readouterr().out


@pytest.mark.parametrize("command", ["profile", "check", "report", "compare"])
def test_fast_commands_do_not_import_tensorflow(command):
    code = (
        "import sys, importlib\n"
        "from sercompress.cli import build_parser\n"
        "build_parser()\n"
        f"importlib.import_module('sercompress.cli.{command}')\n"
        "bad = [m for m in ('tensorflow', 'tf_keras', 'tensorflow_model_optimization') if m in sys.modules]\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_user_error_is_one_line_exit_2(capsys):
    assert main(["info", "--classes", "1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "error" in err


@pytest.mark.parametrize("classes", ["100000000", "65", "1"])
def test_info_classes_is_bounded_before_building(classes, capsys):
    """`info --classes 100000000` ran TensorFlow out of memory."""
    assert main(["info", "--classes", classes]) == 2
    assert "--classes" in capsys.readouterr().err
