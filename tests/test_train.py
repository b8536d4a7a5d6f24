"""A few CPU training steps on real FER2013 rows: outputs, resume, exact reload."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from safetensors import safe_open

from gan.__main__ import main as gan_main
from gan.checkpoint import CheckpointError, load_generator, read_metadata, save_generator, save_tensors
from gan.models import Generator, ModelConfig
from gan.run_figures import loss_plot_rows, loss_plot_steps
from gan.train import TrainConfig, train


def _config(data: Path, out: Path, **overrides) -> TrainConfig:
    base = TrainConfig(data=str(data), out=str(out), batch_size=16, limit=64, epochs=2, ngf=16, ndf=16,
                       sample_count=16, checkpoint_minutes=0, command="test")
    return replace(base, **overrides)


def _weights(path: Path) -> dict[str, torch.Tensor]:
    with safe_open(str(path), framework="pt") as f:
        return {k: f.get_tensor(k) for k in f.keys()}


def test_training_writes_grid_plot_metrics_and_checkpoint(small_fer, tmp_path):
    seen = []
    result = train(_config(small_fer, tmp_path), progress_fn=seen.append)
    run = result.run_dir
    assert result.finished and result.epochs_done == 2
    assert [p.epoch for p in seen] == [0, 1] and set(seen[0].losses) == {"loss_d", "loss_g", "d_x", "d_g_z"}
    assert (run / "samples" / "epoch_001.png").stat().st_size > 0
    assert (run / "samples" / "epoch_002.png").stat().st_size > 0
    assert (run / "loss.png").stat().st_size > 0
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    steps = [r for r in rows if "iter" in r]
    assert [r["iter"] for r in steps] == list(range(8))  # 64 images / 16 = 4 steps x 2 epochs
    assert all(torch.isfinite(torch.tensor([r["loss_d"], r["loss_g"]])).all() for r in steps)
    saved = json.loads((run / "config.json").read_text())
    assert saved["batch_size"] == 16 and saved["lr"] == 2e-4 and saved["beta1"] == 0.5
    meta = read_metadata(run / "generator.safetensors")
    assert meta["kind"] == "generator" and meta["epochs"] == 2
    assert meta["model"] == {"image_size": 48, "channels": 1, "nz": 100, "ngf": 16, "ndf": 16}
    assert len(meta["dataset_sha256"]) == 64 and meta["command"] == "test"
    assert "package_version" in meta


def test_loaded_generator_reproduces_the_saved_one(small_fer, tmp_path):
    result = train(_config(small_fer, tmp_path, epochs=1))
    G, meta = load_generator(result.run_dir / "generator.safetensors")
    state_G, _ = load_generator(result.run_dir / "state.safetensors")
    z = torch.randn(8, 100, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert torch.equal(G(z), state_G(z))
        out = G(z)
    assert out.shape == (8, 1, 48, 48)
    # Rebuilt from metadata alone, the weights are bit-identical to the trained ones.
    trained = _weights(result.run_dir / "state.safetensors")
    for name, value in G.state_dict().items():
        assert torch.equal(value, trained[f"G.{name}"])


def test_resume_after_a_stop_matches_an_uninterrupted_run(small_fer, tmp_path):
    straight = train(_config(small_fer, tmp_path / "a"))
    # Stop mid-way through epoch 2 (as Ctrl-C / SIGTERM would), then run again.
    calls = iter(range(100))
    stopped = train(_config(small_fer, tmp_path / "b"), abort_fn=lambda: next(calls) >= 6)
    assert not stopped.finished and stopped.epochs_done == 1
    assert read_metadata(stopped.run_dir / "state.safetensors")["step"] == 2
    resumed = train(_config(small_fer, tmp_path / "b"))
    assert resumed.finished and resumed.epochs_done == 2
    a = _weights(straight.run_dir / "state.safetensors")
    b = _weights(resumed.run_dir / "state.safetensors")
    for name in a:
        if name.startswith(("G.", "D.")):
            assert torch.equal(a[name], b[name]), name
    rows = [json.loads(x) for x in (resumed.run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [r["iter"] for r in rows if "iter" in r] == list(range(8))  # no step logged twice or lost


def test_more_epochs_continue_a_finished_run(small_fer, tmp_path):
    train(_config(small_fer, tmp_path, epochs=1))
    result = train(_config(small_fer, tmp_path, epochs=2))
    assert result.epochs_done == 2
    assert read_metadata(result.run_dir / "generator.safetensors")["epochs"] == 2
    with pytest.raises(ValueError, match="different batch_size"):
        train(_config(small_fer, tmp_path, epochs=3, batch_size=32))


def test_crash_resumes_from_the_last_epoch_checkpoint(small_fer, tmp_path):
    class Crash(RuntimeError):
        pass

    calls = iter(range(100))

    def crash_in_epoch_two():
        if next(calls) == 6:
            raise Crash
        return False

    with pytest.raises(Crash):
        train(_config(small_fer, tmp_path), abort_fn=crash_in_epoch_two)
    assert read_metadata(tmp_path / "fer2013" / "state.safetensors")["epoch"] == 1
    assert train(_config(small_fer, tmp_path)).epochs_done == 2


def test_corrupt_checkpoint_gives_a_clear_message(tmp_path):
    bad = tmp_path / "happy.safetensors"
    bad.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json")
    # a run's own file is made again; git restores only the shipped ones (gan/shipped.py)
    with pytest.raises(CheckpointError, match="corrupt or truncated.*Make it again: re-run the command that wrote it"):
        load_generator(bad)
    from gan.checkpoint import _corrupt
    from gan.shipped import SHIPPED_CHECKPOINTS

    assert "`git checkout -- " in _corrupt(SHIPPED_CHECKPOINTS / "happy.safetensors", ValueError("cut"))
    with pytest.raises(CheckpointError, match="python -m gan train"):
        load_generator(tmp_path / "missing.safetensors")


def _metric_rows(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def test_a_kill_between_metrics_and_state_logs_no_epoch_twice(small_fer, tmp_path, monkeypatch, capsys):
    """SIGKILL right after an epoch's metrics are written, before its state is saved:
    the resumed run repeats that epoch, and metrics.jsonl must not list it twice."""
    import gan.train

    class Killed(BaseException):
        pass

    real_save = gan.train.save_state

    def save_state(path, G, D, opt_g, opt_d, rng, fixed_noise, run, meta):
        if run.epoch == 2:  # the end of epoch 2: metrics written, state not yet
            raise Killed
        real_save(path, G, D, opt_g, opt_d, rng, fixed_noise, run, meta)

    monkeypatch.setattr(gan.train, "save_state", save_state)
    with pytest.raises(Killed):
        train(_config(small_fer, tmp_path))
    run = tmp_path / "fer2013"
    assert max(r["epoch"] for r in _metric_rows(run)) == 2 and read_metadata(run / "state.safetensors")["epoch"] == 1
    monkeypatch.setattr(gan.train, "save_state", real_save)
    assert train(_config(small_fer, tmp_path)).epochs_done == 2
    rows = _metric_rows(run)
    assert [r["iter"] for r in rows if "iter" in r] == list(range(8))
    assert [r["epoch"] for r in rows if r.get("epoch_end")] == [1, 2]
    assert "dropped 5 rows past the saved state (epoch 1)" in capsys.readouterr().err


def test_a_torn_last_metrics_line_is_dropped_with_a_warning(small_fer, tmp_path, capsys):
    run = train(_config(small_fer, tmp_path, epochs=1)).run_dir
    with open(run / "metrics.jsonl", "a") as out:
        out.write('{"epoch": 2, "iter": 4, "loss_d": 1.3')  # a write cut short
    assert train(_config(small_fer, tmp_path)).epochs_done == 2
    assert [r["iter"] for r in _metric_rows(run) if "iter" in r] == list(range(8))  # every line parses
    err = capsys.readouterr().err
    assert f"{run / 'metrics.jsonl'}, line 6: dropped a line cut short" in err


def test_a_bad_metrics_line_before_the_end_names_the_file(tmp_path):
    from gan.run_files import read_metrics

    path = tmp_path / "metrics.jsonl"
    path.write_text('{"epoch": 1, "iter": 0}\n{"epoch": 1, "it\n{"epoch": 1, "iter": 1}\n')
    with pytest.raises(ValueError, match=f"{path}, line 2: not a metrics row"):
        read_metrics(path)


def test_a_torn_config_json_is_named_and_the_way_out_given(small_fer, tmp_path, capsys):
    run = train(_config(small_fer, tmp_path, epochs=1)).run_dir
    (run / "config.json").write_text('{"data": "fer2013.csv", "ba')
    args = ["train", "--data", str(small_fer), "--out", str(tmp_path), "--epochs", "2", "--limit", "64",
            "--batch-size", "16", "--ngf", "16", "--ndf", "16", "--sample-count", "16"]
    assert gan_main(args) == 2
    err = capsys.readouterr().err
    assert f"{run / 'config.json'} is damaged, not valid JSON" in err and "--fresh" in err
    assert gan_main([*args, "--fresh"]) == 0


def test_config_json_is_replaced_atomically(tmp_path, monkeypatch):
    import gan.run_files

    path = tmp_path / "config.json"
    gan.run_files.write_json(path, {"epochs": 1})

    def fail(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(gan.run_files.os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        gan.run_files.write_json(path, {"epochs": 2})
    assert json.loads(path.read_text()) == {"epochs": 1}  # never half-written
    assert [p.name for p in tmp_path.iterdir()] == ["config.json"]  # no temporary file left


def test_a_truncated_training_state_says_to_pass_fresh(small_fer, tmp_path):
    run = train(_config(small_fer, tmp_path, epochs=1)).run_dir
    state = run / "state.safetensors"
    state.write_bytes(state.read_bytes()[: state.stat().st_size // 2])
    with pytest.raises(CheckpointError, match="damaged or incomplete.*--fresh") as info:
        train(_config(small_fer, tmp_path))
    assert "git checkout" not in str(info.value)
    assert train(_config(small_fer, tmp_path), fresh=True).epochs_done == 2


def test_cli_train_then_sample_and_export(small_fer, tmp_path, capsys):
    out = tmp_path / "runs"
    code = gan_main(["train", "--data", str(small_fer), "--out", str(out), "--epochs", "1", "--limit", "32",
                     "--batch-size", "16", "--ngf", "8", "--ndf", "8", "--expression", "angry"])
    assert code == 0
    generator = out / "angry" / "generator.safetensors"
    assert read_metadata(generator)["expression"] == "angry"
    grid = tmp_path / "grid.png"
    assert gan_main(["sample", "--checkpoint", str(generator), "-n", "16", "-o", str(grid)]) == 0
    assert grid.stat().st_size > 0
    assert "16 samples of angry (epoch 1)" in capsys.readouterr().out
    assert gan_main(["sample", "--checkpoint", str(out / "angry" / "state.safetensors"), "-o", str(grid)]) == 0
    assert "(training state after 1 epoch)" in capsys.readouterr().out
    shipped = tmp_path / "angry.safetensors"
    assert gan_main(["export", str(generator), "-o", str(shipped)]) == 0
    meta = read_metadata(shipped)
    assert meta["expression"] == "angry" and meta["half_max_abs_diff"] < 1 / 255 and meta["dtype"] == "float16"
    assert gan_main(["sample", "--checkpoint", str(tmp_path / "nope.safetensors")]) == 2
    assert "python -m gan train" in capsys.readouterr().err


def test_torchrun_two_processes_train_with_ddp(small_fer, tmp_path):
    """Two CPU processes (gloo) under torchrun: DistributedDataParallel, one writer."""
    import os
    import subprocess
    import sys

    from benchmarks.server_process import free_port

    port = free_port()  # not a fixed one another process may hold
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TQDM_DISABLE": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", f"--master_port={port}", "-m", "gan",
           "train", "--data", str(small_fer), "--out", str(tmp_path), "--epochs", "1", "--batch-size", "8",
           "--limit", "64", "--ngf", "8", "--ndf", "8"]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300,
                          cwd=Path(__file__).resolve().parents[1])
    assert done.returncode == 0, done.stderr[:2000] + "\n...\n" + done.stderr[-2000:]
    assert done.stdout.count("1 epochs") == 1  # only rank 0 reports and writes
    rows = [json.loads(x) for x in (tmp_path / "fer2013" / "metrics.jsonl").read_text().splitlines()]
    assert [r["iter"] for r in rows if "iter" in r] == [0, 1, 2, 3]  # 64 images / (2 ranks x 8)
    assert read_metadata(tmp_path / "fer2013" / "generator.safetensors")["epochs"] == 1


@pytest.mark.gpu
def test_cuda_training_keeps_data_on_the_device_and_resumes(small_fer, tmp_path):
    """The CUDA path (uint8 data on the GPU, bf16 autocast, channels_last) trains
    and writes the same files as the CPU path; skipped without CUDA."""
    config = _config(small_fer, tmp_path, device="cuda", epochs=1)
    result = train(config)
    assert result.finished and result.epochs_done == 1
    G, meta = load_generator(result.run_dir / "generator.safetensors", "cuda")
    assert meta["device"].startswith("cuda")
    with torch.no_grad():
        assert torch.isfinite(G(torch.randn(4, 100, device="cuda"))).all()
    assert train(replace(config, epochs=2)).epochs_done == 2


def test_loss_plot_puts_each_row_at_its_optimiser_step():
    """train-change logs once an epoch: its rows sit at their steps, not at 0, 1, 2 as iterations."""
    per_epoch = [{"epoch": 1, "iter": 448, "loss_d": 1.0}, {"epoch": 2, "iter": 897, "loss_d": 0.9}]
    assert loss_plot_steps(per_epoch) == [448, 897]
    assert loss_plot_steps([{"loss_d": 1.0}, {"loss_d": 0.5}]) == [0, 1]  # rows without a step: their order


@pytest.mark.parametrize("model", ["seed", "conditional"])
def test_export_takes_a_runs_training_state(small_fer, tmp_path, model):
    """`export <run>/state.safetensors` (its --help offers it) writes the state's generator, with
    the metadata train writes beside generator.safetensors, not the optimisers or run settings."""
    result = train(_config(small_fer, tmp_path, model=model, ngf=8, ndf=8, limit=32, max_steps=1))
    state = result.run_dir / "state.safetensors"
    assert read_metadata(state)["kind"] == "training_state" and read_metadata(state)["step"] == 1
    shipped = tmp_path / "shipped.safetensors"
    assert gan_main(["export", str(state), "-o", str(shipped), "--no-half"]) == 0
    meta = read_metadata(shipped)
    assert meta["kind"] == "generator" and meta["dtype"] == "float32" and meta["expression"] is None
    assert meta["epochs"] == 0 and meta["steps_into_next_epoch"] == 1
    assert not {"config", "opt_g", "opt_d", "epoch", "step", "seconds"} & meta.keys()
    exported, _ = load_generator(shipped)
    original, _ = load_generator(state)
    assert bool(getattr(exported.config, "n_classes", 0)) == (model == "conditional")
    for key, value in original.state_dict().items():
        assert torch.equal(exported.state_dict()[key], value), key


def test_a_device_this_machine_lacks_is_a_one_line_error(small_fer, tmp_path, monkeypatch, capsys):
    """--device cuda without CUDA, mps without MPS, a name that is no device, and `sample -n 0`:
    `error: ...` on one line, exit status 2, naming the devices that are valid here."""
    from gan.device import DeviceError, resolve_device

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert resolve_device("auto") == resolve_device("CPU") == torch.device("cpu")
    for name, why in [("cuda", "CUDA is not available"), ("cuda:1", "CUDA is not available"),
                      ("mps", "MPS is not available"), ("gpu", "'gpu' is not a device"),
                      ("meta", "'meta' is not a device"), ("", "'' is not a device")]:
        with pytest.raises(DeviceError, match=why) as info:
            resolve_device(name)
        assert "use one of auto, cpu (cuda and cuda:N need an NVIDIA GPU" in str(info.value)
    checkpoint = tmp_path / "G.safetensors"
    save_generator(checkpoint, Generator(ModelConfig(image_size=48, channels=1, ngf=8, ndf=8)), {})
    commands = {
        "train cuda": ["train", "--data", str(small_fer), "--out", str(tmp_path / "runs"), "--device", "cuda"],
        "train gpu": ["train", "--data", str(small_fer), "--out", str(tmp_path / "runs"), "--device", "gpu"],
        "classifier mps": ["train-classifier", "--data", str(small_fer), "--out", str(tmp_path / "c"),
                           "--device", "mps"],
        "sample cuda:0": ["sample", "--checkpoint", str(checkpoint), "--device", "cuda:0"],
        "sample n 0": ["sample", "--checkpoint", str(checkpoint), "-n", "0", "-o", str(tmp_path / "g.png")],
    }
    for what, argv in commands.items():
        assert gan_main(argv) == 2, what
        err = capsys.readouterr().err
        assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err, (what, err)
        assert ("-n and --nrow must be at least 1" if what == "sample n 0" else "use one of auto, cpu") in err
    assert not (tmp_path / "g.png").exists()


def test_the_loss_plot_leaves_out_the_epoch_means_of_a_per_iteration_log():
    """gan train's epoch_end rows (the epoch's means, no "iter") are not iterations."""
    rows = [{"epoch": 1, "iter": 0, "loss_d": 1.0}, {"epoch": 1, "iter": 1, "loss_d": 0.8},
            {"epoch": 1, "epoch_end": True, "loss_d": 0.9}, {"epoch": 2, "iter": 2, "loss_d": 0.7}]
    kept = loss_plot_rows(rows)
    assert loss_plot_steps(kept) == [0, 1, 2] and not any(r.get("epoch_end") for r in kept)
    per_epoch = [{"epoch": 1, "loss_d": 1.0}, {"epoch": 2, "loss_d": 0.5}]
    assert loss_plot_rows(per_epoch) == per_epoch  # a log without steps keeps every row


def test_export_to_a_folder_is_refused_in_a_line(tmp_path, capsys):
    G = Generator(ModelConfig(ngf=8, ndf=8))
    run = tmp_path / "conditional"
    save_generator(run / "generator.safetensors", G, {})
    assert gan_main(["export", str(run / "generator.safetensors"), "-o", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and f"-o {tmp_path} is a folder" in err
    assert f"-o {tmp_path / 'conditional.safetensors'}" in err


def test_a_file_of_another_kind_is_named_with_its_article(tmp_path):
    save_tensors(tmp_path / "e.safetensors", {"w": torch.zeros(1)}, {"kind": "encoder"})
    with pytest.raises(CheckpointError, match="holds an 'encoder', not a generator"):
        load_generator(tmp_path / "e.safetensors")


def test_a_damaged_shipped_checkpoint_names_the_command_that_makes_its_kind(tmp_path, monkeypatch):
    """A corrupt shipped classifier or conditional model said `python -m gan train` (the seed model's)."""
    import gan.shipped
    from gan.classifier import load_classifier

    monkeypatch.setattr(gan.shipped, "SHIPPED_CHECKPOINTS", tmp_path)
    for name in ("classifier.safetensors", "conditional.safetensors"):
        (tmp_path / name).write_bytes(b"garbage")
    with pytest.raises(CheckpointError, match="retrain it with `python -m gan train-classifier`"):
        load_classifier(tmp_path / "classifier.safetensors")
    with pytest.raises(CheckpointError, match="retrain it with `python -m gan train --model conditional`"):
        load_generator(tmp_path / "conditional.safetensors", retrain="python -m gan train --model conditional")
    # Readable metadata over tensors that do not fit: the model's rebuild says the same.
    G = Generator(ModelConfig(ngf=8, ndf=8))
    save_generator(tmp_path / "happy.safetensors", G, {})
    small = Generator(ModelConfig(ngf=4, ndf=4))
    save_tensors(tmp_path / "bad.safetensors", small.state_dict(), read_metadata(tmp_path / "happy.safetensors"))
    with pytest.raises(CheckpointError, match="retrain it with `python -m gan train --model x`"):
        load_generator(tmp_path / "bad.safetensors", retrain="python -m gan train --model x")


@pytest.mark.parametrize("raw, kind", [("[1, 2]", "list"), ('"happy"', "str"), ("3", "int"), ("null", "NoneType")])
def test_checkpoint_metadata_that_is_json_but_no_object_is_called_corrupt(tmp_path, raw, kind):
    """Valid JSON that is not an object (a list, a string...) went on as the metadata and failed
    later, in whatever read a key of it, with an AttributeError."""
    from safetensors.torch import save_file

    path = tmp_path / "happy.safetensors"
    save_file({"x": torch.zeros(1)}, str(path), metadata={"expression_editor": raw})
    message = rf"happy\.safetensors: the checkpoint is corrupt or truncated \(its metadata is a JSON {kind}, " \
              r"not an object\)\. Make it again"
    with pytest.raises(CheckpointError, match=message):
        read_metadata(path)
    with pytest.raises(CheckpointError, match=message):
        load_generator(path)


def test_a_max_steps_stop_says_how_to_go_on_and_what_it_kept(small_fer, tmp_path, capsys):
    args = ["train", "--data", str(small_fer), "--out", str(tmp_path), "--limit", "32", "--batch-size", "8",
            "--ngf", "8", "--ndf", "8", "--epochs", "1", "--max-steps", "1"]
    assert gan_main(args) == 0  # a stop asked for (it exited 130, as if Ctrl-C had stopped it)
    err = capsys.readouterr().err
    assert "stopped at --max-steps 1" in err and "higher --max-steps or without it" in err
    assert "run the same command again" not in err  # it would stop again at once
    assert "No epoch has finished" in err and "no generator.safetensors" in err
    assert not (tmp_path / "fer2013" / "generator.safetensors").exists()


def test_bf16_autocast_only_where_the_gpu_runs_bf16_natively(monkeypatch):
    """A T4 or V100 (compute capability 7) only emulates bf16: no autocast there (it was on for
    every CUDA device), as --amp's help promises; Ampere (8) and later get it."""
    import contextlib
    import warnings

    from gan.device import mixed_precision, native_bf16

    for major, native in ((7, False), (8, True), (9, True)):
        monkeypatch.setattr(torch.cuda, "get_device_capability", lambda index, major=major: (major, 0))
        assert native_bf16("cuda:0") is native
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch: "CUDA is not available ... Disabling autocast" on this CPU
            context = mixed_precision(torch.device("cuda:0"))
        assert isinstance(context, contextlib.nullcontext) is not native
