"""The benchmark scripts' command lines: bad values are refused in one line (exit 2) before
any model loads, results can be written outside the repo, and invert_speed.py works with the
editor's conditional generator. No benchmark is run here."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pytest
import torch

from gan.data import EXPRESSIONS
from gan.models import ModelConfig, build_generator

from .conftest import benchmark_module


@pytest.fixture(scope="module")
def arguments():
    return benchmark_module("arguments")


@pytest.fixture(scope="module")
def invert_speed():
    return benchmark_module("invert_speed")


def refused(parser: argparse.ArgumentParser, argv: list[str], capsys) -> str:
    """The one-line error argparse prints when it refuses `argv` (exit status 2)."""
    with pytest.raises(SystemExit) as stopped:
        parser.parse_args(argv)
    assert stopped.value.code == 2
    return capsys.readouterr().err.strip().splitlines()[-1]


def test_counts_and_sizes_must_be_positive(arguments):
    assert arguments.positive_int("3") == 3 and arguments.nonnegative_int("0") == 0
    assert arguments.at_least(2)("2") == 2 and arguments.positive_float("0.5") == 0.5
    for parse, text in ((arguments.positive_int, "0"), (arguments.positive_int, "x"), (arguments.nonnegative_int, "-1"),
                        (arguments.at_least(2), "1"), (arguments.positive_float, "0"),
                        (arguments.positive_float, "nan"), (arguments.positive_float, "inf")):
        with pytest.raises(argparse.ArgumentTypeError, match=repr(text)):
            parse(text)


def test_lists_are_checked_item_by_item(arguments):
    assert arguments.int_list(0)("0,10, 20") == [0, 10, 20]
    with pytest.raises(argparse.ArgumentTypeError, match=">= 1"):
        arguments.int_list(1)("4,0")
    assert arguments.choice_list(("bank", "random"))("random,bank") == ["random", "bank"]
    with pytest.raises(argparse.ArgumentTypeError, match="unknown 'foo': use bank, random"):
        arguments.choice_list(("bank", "random"))("bank,foo")


def test_paths_must_exist(arguments, tmp_path):
    (tmp_path / "a.txt").write_text("x")
    assert arguments.existing_file(str(tmp_path / "a.txt")) == tmp_path / "a.txt"
    assert arguments.existing_dir(str(tmp_path)) == tmp_path
    with pytest.raises(argparse.ArgumentTypeError, match="no such file"):
        arguments.existing_file(str(tmp_path / "b.txt"))
    with pytest.raises(argparse.ArgumentTypeError, match="no such folder"):
        arguments.existing_dir(str(tmp_path / "a.txt"))


def test_results_are_appended_as_json_lines(arguments, tmp_path):
    path = tmp_path / "deep" / "results.jsonl"
    arguments.append_jsonl(path, [{"a": 1}])
    arguments.append_jsonl(path, [{"b": 2}, {"c": 3}])
    assert path.read_text().splitlines() == ['{"a": 1}', '{"b": 2}', '{"c": 3}']


def test_the_machine_is_the_cpus_model_name_not_its_architecture():
    machine = benchmark_module("machine")
    name = machine.device_name("cpu")
    assert name.startswith(machine.cpu_name()) and name.endswith(f"{torch.get_num_threads()} threads")


@pytest.mark.parametrize("benchmark, argv, message", [
    ("edit_latency", ["--repeats", "0"], "--repeats: must be a whole number >= 1"),
    ("edit_latency", ["--megapixels", "0"], "--megapixels: must be a number > 0"),
    ("edit_latency", ["--photo", "/nonexistent/photo.jpg"], "--photo: /nonexistent/photo.jpg: no such file"),
    ("edit_latency", ["--expression", "grumpy"], "invalid choice: 'grumpy'"),
    ("session_memory", ["--sessions", "0"], "--sessions: must be a whole number >= 1"),
    ("session_memory", ["--megapixels", "-1"], "--megapixels: must be a number > 0"),
    ("session_memory", ["--expression", "grumpy"], "invalid choice: 'grumpy'"),
])
def test_benchmarks_refuse_bad_values_up_front(benchmark, argv, message, capsys):
    parser = benchmark_module(benchmark).build_parser()
    assert message in refused(parser, argv, capsys)


def test_session_memory_counts_buffers_once_and_not_the_shared_editor():
    held_bytes = benchmark_module("session_memory").held_bytes
    array = np.zeros(100_000, np.uint8)
    one, twice = held_bytes([array]), held_bytes([array, array, array[:10]])  # a view owns no buffer
    assert one > 100_000 and twice - one < 1_000

    class Editor:  # the shared editor (by its name) is not a session's
        pass

    class Other:
        pass
    shared, own = Editor(), Other()
    shared.weights = own.weights = np.zeros(1_000_000, np.uint8)
    assert held_bytes([shared]) < 10_000 and held_bytes([own]) > 1_000_000


def test_benchmarks_that_append_results_can_write_elsewhere(tmp_path, invert_speed):
    elsewhere = str(tmp_path / "mine.jsonl")
    anything = tmp_path / "input"
    anything.write_text("")  # the inputs' defaults are checked too: give ones that exist wherever the tests run
    for parser, inputs in ((benchmark_module("edit_latency").build_parser(),
                            ["--photo", str(anything), "--checkpoints", str(tmp_path)]),
                           (invert_speed.build_parser(), []),
                           (benchmark_module("train_throughput").build_parser(), ["--data", str(anything)])):
        default = parser.parse_args(inputs).results
        assert default.parent.name == "results" and default.suffix == ".jsonl"  # the repo's file unless told
        assert parser.parse_args([*inputs, "--results", elsewhere]).results == Path(elsewhere)


def test_truncation_needs_two_samples_to_compare(capsys):
    parser = benchmark_module("truncation").build_parser()
    assert "--samples: must be a whole number >= 2" in refused(parser, ["--samples", "1"], capsys)


def test_train_throughput_trains_for_the_epochs_its_steps_need():
    epochs_for = benchmark_module("train_throughput").epochs_for
    assert epochs_for(8, 28_709, 128) == 1  # a short run: one epoch of 224 steps, not 10,000 epochs
    assert epochs_for(224, 28_709, 128) == 1 and epochs_for(225, 28_709, 128) == 2
    assert epochs_for(3, 10, 128) == 3  # fewer images than a batch: one step per epoch


def test_invert_speed_refuses_unknown_starts(invert_speed, capsys):
    assert "unknown 'foo'" in refused(invert_speed.build_parser(), ["--init", "foo"], capsys)
    args = invert_speed.build_parser().parse_args(["--steps", "0,30", "--restarts", "1,4", "--init", "bank,random"])
    assert (args.steps, args.restarts, args.init) == ([0, 30], [1, 4], ["bank", "random"])


def test_invert_speed_draws_and_inverts_the_conditional_generator_at_a_label(invert_speed, tmp_path):
    """The editor's default model takes (z, label): the targets are drawn at --expression and
    inverted at it (it used to call G(z) and stop with a TypeError)."""
    from editor.invert import build_latent_bank, invert
    from gan.checkpoint import save_generator

    torch.manual_seed(0)
    path = tmp_path / "conditional.safetensors"
    save_generator(path, build_generator(ModelConfig(n_classes=len(EXPRESSIONS))).eval(), {"epochs": 1})
    parser = invert_speed.build_parser()
    args = parser.parse_args(["--generator", str(path), "--expression", "sad", "--count", "2",
                              "--faces", str(tmp_path / "no_faces.csv")])
    G, expression, label, source = invert_speed.load_generator_and_label(args, parser)
    assert invert_speed.is_conditional(G) and expression == "sad" and "at sad" in source
    assert label.tolist() == [1.0 if e == "sad" else 0.0 for e in EXPRESSIONS]
    targets = invert_speed.load_targets(args, G, expression, label)
    assert list(targets) == ["own samples"] and targets["own samples"].shape == (2, 1, 48, 48)
    bank = build_latent_bank(G, n=8, label=torch.full((len(EXPRESSIONS),), 1 / len(EXPRESSIONS)))
    fit = invert(G, targets["own samples"][:1], steps=1, restarts=1, init_bank=bank, label=label)
    assert fit.image.shape == (1, 1, 48, 48) and np.isfinite(fit.loss)


def test_invert_speed_keeps_a_seed_generators_own_expression(invert_speed, tmp_path, capsys):
    from gan.checkpoint import save_generator

    path = tmp_path / "happy.safetensors"
    save_generator(path, build_generator(ModelConfig()).eval(), {"expression": "happy"})
    parser = invert_speed.build_parser()
    G, expression, label, _ = invert_speed.load_generator_and_label(parser.parse_args(["--generator", str(path)]),
                                                                     parser)
    assert expression == "happy" and label is None and not invert_speed.is_conditional(G)
    with pytest.raises(SystemExit):
        invert_speed.load_generator_and_label(parser.parse_args(["--generator", str(path), "--expression", "sad"]),
                                              parser)
    assert "--expression is for the conditional one" in capsys.readouterr().err


def test_identity_runs_as_a_script_and_checks_its_photos(capsys):
    identity = benchmark_module("identity")
    with pytest.raises(SystemExit) as stopped:
        identity.main(["/nonexistent/a.jpg", "/nonexistent/b.jpg"])
    assert stopped.value.code == 2 and "no such file" in capsys.readouterr().err


def test_the_second_judge_reads_crops_from_the_command_line(tmp_path, capsys):
    from PIL import Image

    judge = benchmark_module("expression_judge")
    crop = tmp_path / "face.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (48, 48), dtype=np.uint8)).save(crop)
    judge.main([str(crop)])
    line = capsys.readouterr().out.strip()
    assert line.startswith(f"{crop}: ") and all(name in line for name in EXPRESSIONS)
    with pytest.raises(SystemExit) as stopped:
        judge.main([str(tmp_path / "missing.png")])
    assert stopped.value.code == 2 and "not an image that can be read" in capsys.readouterr().err


def test_landmark_accuracy_takes_mtcnn_points_from_dlibs_68_and_scales_by_the_eyes(capsys):
    landmark_accuracy = benchmark_module("landmark_accuracy")
    points68 = np.zeros((68, 2))
    points68[36:42] = (10.0, 20.0)  # left eye
    points68[42:48] = (30.0, 20.0)  # right eye: 20 px away
    points68[30], points68[48], points68[54] = (20.0, 30.0), (12.0, 40.0), (28.0, 40.0)
    reference = landmark_accuracy.reference_points(points68)
    assert reference.tolist() == [[10, 20], [30, 20], [20, 30], [12, 40], [28, 40]]
    assert landmark_accuracy.landmark_error(reference, reference) == 0
    assert landmark_accuracy.landmark_error(reference + (0, 2), reference) == pytest.approx(0.1)  # 2 px of 20
    parser = landmark_accuracy.build_parser()
    assert "--limit" in refused(parser, ["--limit", "0"], capsys)


def test_latency_against_pairs_rounds_and_skips_stages_one_side_lacks():
    latency_against = benchmark_module("latency_against")
    row = {"date": "2026-12-07", "repeats": 5, "edit": {"p50_ms": 500.0, "p95_ms": 600.0},
           "detect": {"p50_ms": 100.0, "p95_ms": 120.0}}
    assert latency_against.stage_p50(row) == {"edit": 500.0, "detect": 100.0}
    # The machine slows down in round 2 for both sides: the paired ratio stays 0.9.
    here = [{"edit": 450.0, "detect": 100.0, "new": 3.0}, {"edit": 540.0, "detect": 120.0, "new": 3.0}]
    there = [{"edit": 500.0, "detect": 100.0}, {"edit": 600.0, "detect": 120.0}]
    table = latency_against.compare(here, there)
    assert set(table) == {"edit", "detect"}  # "new" is timed only here
    assert table["edit"]["ratio"] == pytest.approx(0.9) and table["edit"]["low"] == table["edit"]["high"]
    assert table["edit"]["here_ms"] == 495.0 and table["edit"]["there_ms"] == 550.0
    assert table["detect"]["ratio"] == 1.0


def test_latency_against_refuses_what_is_not_a_commit(capsys):
    latency_against = benchmark_module("latency_against")
    with pytest.raises(SystemExit, match="is not a commit of this repository"):
        latency_against.resolve("no-such-revision-anywhere")
    assert "--rounds: must be a whole number >= 1" in refused(latency_against.build_parser(),
                                                              ["HEAD", "--rounds", "0"], capsys)
