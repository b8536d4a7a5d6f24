"""A resumed run's checkpoints say every sitting it was trained in ("history"), not only its
last command: the rules (gan/run_history.py) and `gan train` resumed from its state. The other
trainers' resumes are checked beside their own resume tests."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from gan.__main__ import main as gan_main
from gan.checkpoint import load_tensors, read_metadata, save_tensors
from gan.run_history import Sitting, describe_sittings, recorded_in
from gan.train import TrainConfig, train


def _config(data: Path, out: Path, **overrides) -> TrainConfig:
    base = TrainConfig(data=str(data), out=str(out), batch_size=16, limit=32, epochs=1, ngf=8, ndf=8,
                       sample_count=4, checkpoint_minutes=0, command="first")
    return replace(base, **overrides)


def _sittings(history: list[dict]) -> list[tuple]:
    return [(h["command"], h["from_epoch"], h["to_epoch"]) for h in history]


def test_a_new_run_is_one_sitting_and_one_that_trained_nothing_adds_none():
    sitting = Sitting(None, "python -m gan train", 0)
    assert sitting.history(0) == []
    [entry] = sitting.history(2)
    assert _sittings([entry]) == [("python -m gan train", 0, 2)] and entry["started"].endswith("+00:00")
    resumed = Sitting({"history": [entry], "epoch": 2}, "python -m gan train --epochs 3", 2)
    assert resumed.history(2) == [entry]  # resumed a finished run and stopped at once: nothing to record
    assert _sittings(resumed.history(3)) == [("python -m gan train", 0, 2), ("python -m gan train --epochs 3", 2, 3)]


def test_a_state_saved_before_history_was_kept_becomes_a_sitting_of_unknown_start():
    old = {"command": "python -m gan train --epochs 11", "epoch": 11, "step": 5}
    [before, now] = Sitting(old, "python -m gan train --epochs 22", 11, 5).history(22)
    assert before == {"command": "python -m gan train --epochs 11", "from_epoch": None, "to_epoch": 11,
                      "to_step": 5, "started": None}
    assert (now["from_epoch"], now["from_step"], now["to_epoch"]) == (11, 5, 22) and "to_step" not in now


def test_calls_of_one_sitting_go_on_in_one_entry():
    """gan train --interleave calls train() once per epoch with the command's start: one sitting."""
    first = Sitting(None, "cmd", 0, started="2025-01-01T00:00:00.000001+00:00")
    second = Sitting({"history": first.history(1)}, "cmd", 1, started="2025-01-01T00:00:00.000001+00:00")
    assert _sittings(second.history(2)) == [("cmd", 0, 2)]
    later = Sitting({"history": second.history(2)}, "cmd", 2, started="2025-01-02T00:00:00.000001+00:00")
    assert _sittings(later.history(3)) == [("cmd", 0, 2), ("cmd", 2, 3)]  # the same command again, later


def test_a_resumed_gan_keeps_both_sittings_and_its_last_command(small_fer, tmp_path):
    train(_config(small_fer, tmp_path))
    run = tmp_path / "fer2013"
    assert _sittings(read_metadata(run / "generator.safetensors")["history"]) == [("first", 0, 1)]
    train(_config(small_fer, tmp_path, epochs=2, lr=1e-4, command="second"))
    meta = read_metadata(run / "generator.safetensors")
    assert meta["command"] == "second"  # as before: the last command
    assert _sittings(meta["history"]) == [("first", 0, 1), ("second", 1, 2)]
    assert read_metadata(run / "state.safetensors")["history"] == meta["history"]  # carried to the next sitting
    assert train(_config(small_fer, tmp_path, epochs=2, command="third")).steps_run == 0
    assert read_metadata(run / "generator.safetensors")["history"] == meta["history"]  # nothing trained: no entry
    out = tmp_path / "shipped.safetensors"
    assert gan_main(["export", str(run / "generator.safetensors"), "-o", str(out)]) == 0
    assert read_metadata(out)["history"] == meta["history"]  # what a model card is written from


def test_a_stop_mid_epoch_is_recorded_to_the_step(small_fer, tmp_path):
    calls = iter(range(100))
    train(_config(small_fer, tmp_path, epochs=2), abort_fn=lambda: next(calls) >= 3)  # 2 steps an epoch
    state = read_metadata(tmp_path / "fer2013" / "state.safetensors")
    assert [(h["from_epoch"], h["to_epoch"], h["to_step"]) for h in state["history"]] == [(0, 1, 1)]
    train(_config(small_fer, tmp_path, epochs=2, command="again"))
    history = read_metadata(tmp_path / "fer2013" / "generator.safetensors")["history"]
    assert [(h["from_epoch"], h.get("from_step"), h["to_epoch"]) for h in history] == [(0, None, 1), (1, 1, 2)]


def test_an_old_state_without_history_still_resumes(small_fer, tmp_path):
    train(_config(small_fer, tmp_path, command="old"))
    state = tmp_path / "fer2013" / "state.safetensors"
    tensors, meta = load_tensors(state)
    del meta["history"]  # as every state saved before history was kept
    save_tensors(state, tensors, meta)
    train(_config(small_fer, tmp_path, epochs=2, command="new"))
    history = read_metadata(tmp_path / "fer2013" / "generator.safetensors")["history"]
    assert _sittings(history) == [("old", None, 1), ("new", 1, 2)] and history[0]["started"] is None


def test_interleaved_epochs_of_one_command_are_one_sitting(small_fer, tmp_path):
    flags = ["train", "--data", str(small_fer), "--out", str(tmp_path), "--batch-size", "16", "--limit", "32",
             "--ngf", "8", "--ndf", "8", "--sample-count", "4", "--checkpoint-minutes", "0"]
    assert gan_main([*flags, "--epochs", "2", "--interleave"]) == 0
    history = read_metadata(tmp_path / "fer2013" / "generator.safetensors")["history"]
    assert [(h["from_epoch"], h["to_epoch"]) for h in history] == [(0, 2)] and "--interleave" in history[0]["command"]
    assert gan_main([*flags, "--epochs", "3", "--interleave"]) == 0  # a second sitting, resumed
    history = read_metadata(tmp_path / "fer2013" / "generator.safetensors")["history"]
    assert [(h["from_epoch"], h["to_epoch"]) for h in history] == [(0, 2), (2, 3)]
    assert len({h["started"] for h in history}) == 2


def test_a_shipped_models_summary_row_and_card_name_its_sittings():
    history = [{"command": "old", "from_epoch": None, "to_epoch": 11, "started": None},
               {"command": "train --lambda-ac 3", "from_epoch": 11, "to_epoch": 22, "started": "t"}]
    assert recorded_in({"command": "x", "history": history}) == {"history": history}
    assert recorded_in({"command": "x", "history": history, "from_history": history[:1]}) == {
        "history": history, "from_history": history[:1]}
    assert recorded_in({"command": "x"}) == {}  # a file saved before sittings were recorded
    assert describe_sittings(history) == "epochs ?-11: `old`; epochs 11-22: `train --lambda-ac 3`"
