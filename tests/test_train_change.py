"""Fine-tuning the conditional generator's change (gan/train_change.py): the editor's label and
low-pass, a loss that teaches G a change, and a short real run that writes everything and resumes."""

from __future__ import annotations

import contextlib
import json
from dataclasses import replace

import pytest
import torch

from gan.__main__ import main as gan_main
from gan.checkpoint import load_generator, save_generator
from gan.classifier import ClassifierConfig, build_classifier, save_classifier
from gan.conditional import build_conditional_models
from gan.edit_critic import critic_g_loss, critic_step
from gan.encoder import build_encoder, save_encoder
from gan.models import ModelConfig
from gan.train_change import (ChangeTuneConfig, change_losses, edit_labels, gaussian_blur, random_targets,
                              train_change)

from .conftest import CHECKPOINTS, fer_sample

SMALL = ModelConfig(ngf=8, ndf=8, n_classes=7)
TINY_CLASSIFIER = ClassifierConfig(widths=(8, 16), depths=(1, 1), dropout=0.0)


def _models(seed: int = 0):
    G, _ = build_conditional_models(SMALL, seed=seed)
    with torch.no_grad():  # BatchNorm statistics of a trained G, roughly
        G.train()
        G(torch.randn(64, 100), torch.randint(0, 7, (64,)))
    return G.eval(), build_classifier(TINY_CLASSIFIER, seed=seed).eval()


def test_gaussian_blur_keeps_flat_images_and_the_mean():
    flat = torch.full((2, 1, 12, 12), 0.3)
    assert torch.allclose(gaussian_blur(flat, 1.0), flat, atol=1e-6)
    spot = torch.zeros(1, 1, 15, 15)
    spot[0, 0, 7, 7] = 1.0
    blurred = gaussian_blur(spot, 1.0)
    assert blurred.sum().item() == pytest.approx(1.0, abs=1e-5) and blurred.max() < 0.2
    assert torch.equal(gaussian_blur(spot, 0.0), spot)


def test_edit_labels_are_the_editors_mix():
    p = torch.softmax(torch.randn(3, 7), 1)
    target = torch.tensor([0, 3, 6])
    assert torch.allclose(edit_labels(p, target, torch.zeros(3)), p)
    assert torch.equal(edit_labels(p, target, torch.ones(3)), torch.eye(7)[target])
    y = edit_labels(p, target, torch.full((3,), 1.5))
    assert torch.allclose(y.sum(1), torch.ones(3), atol=1e-6)
    assert torch.allclose(y[torch.arange(3), target], 1.5 - 0.5 * p[torch.arange(3), target])


def test_random_targets_never_pick_the_faces_own_reading():
    p = torch.softmax(torch.randn(500, 7), 1)
    target = random_targets(p, torch.Generator().manual_seed(0))
    assert not (target == p.argmax(1)).any()
    assert set(target.tolist()) == set(range(7))


def test_change_loss_teaches_G_a_change_the_teacher_reads():
    torch.manual_seed(0)
    G, teacher = _models()
    teacher.requires_grad_(False)
    teacher.head[-1].weight.mul_(20)  # a decisive teacher: a freshly built one reads every face alike
    real = torch.rand(16, 1, 48, 48) * 2 - 1
    z, p = torch.randn(16, 100), torch.softmax(torch.randn(16, 7), 1)
    target = random_targets(p, torch.Generator().manual_seed(1))
    strength, mirror = torch.full((16,), 1.5), torch.zeros(16, dtype=torch.bool)
    G.train()
    opt = torch.optim.Adam(G.parameters(), lr=3e-3)
    first = None
    for _ in range(30):
        change, fit, same, _, _ = change_losses(G, teacher, real, z, p, target, strength, blur=1.0, mirror=mirror)
        first = change.item() if first is None else first
        opt.zero_grad()
        change.backward()
        opt.step()
    assert all(param.grad is None for param in teacher.parameters())
    assert change.item() < 0.85 * first  # G learnt a change that moves the teacher's reading to the target


def test_edit_critic_learns_to_tell_a_smudge_and_G_is_told_to_avoid_it():
    torch.manual_seed(0)
    _, critic = build_conditional_models(SMALL, seed=1)
    opt = torch.optim.Adam(critic.parameters(), lr=2e-3, betas=(0.5, 0.999))
    yy, xx = torch.meshgrid(torch.arange(48.0), torch.arange(48.0), indexing="ij")
    faces = lambda n: (torch.sin(xx / 5 + torch.rand(n, 1, 1, 1) * 6) * 0.3).expand(n, 1, 48, 48).clone()  # noqa: E731
    smudge = -1.5 * torch.exp(-((xx - 24) ** 2 + (yy - 34) ** 2) / 40)  # a dark blob where a mouth is
    labels = torch.randint(0, 7, (32,))
    for _ in range(40):
        loss = critic_step(critic, opt, faces(32), labels, (faces(32) + smudge).clamp(-1, 1), labels,
                           autocast=contextlib.nullcontext())
    assert loss.item() < 0.5  # the critic tells the smudged faces from the clean ones
    critic.eval()
    clean, smudged = faces(32), (faces(32) + smudge).clamp(-1, 1)
    assert critic_g_loss(critic, clean, labels) < critic_g_loss(critic, smudged, labels)
    edit = smudged.clone().requires_grad_(True)
    critic_g_loss(critic, edit, labels).backward()
    assert edit.grad.abs().sum() > 0  # G gets a gradient through the critic


def _small_run(tmp_path, **overrides) -> tuple[ChangeTuneConfig, torch.nn.Module]:
    """A tiny G, encoder and teacher on disk, and a one-epoch config over 64 real FER faces."""
    data = fer_sample(tmp_path, 120)
    G, teacher = _models()
    save_generator(tmp_path / "g.safetensors", G, {"epochs": 22, "command": "test"})
    save_encoder(tmp_path / "e.safetensors", build_encoder(SMALL, seed=0).eval(), {"epochs": 1})
    save_classifier(tmp_path / "teacher.safetensors", teacher, {"command": "teacher"})
    config = ChangeTuneConfig(data=str(data), teacher=str(tmp_path / "teacher.safetensors"),
                              generator=str(tmp_path / "g.safetensors"), encoder=str(tmp_path / "e.safetensors"),
                              classifier=str(CHECKPOINTS / "classifier.safetensors"), out=str(tmp_path / "run"),
                              epochs=1, batch_size=16, limit=64, warmup_steps=2, command="test")
    return replace(config, **overrides), G


@pytest.mark.gpu
@pytest.mark.skipif(not (CHECKPOINTS / "classifier.safetensors").exists(), reason="no shipped classifier")
def test_change_training_runs_on_cuda(tmp_path):
    """The CUDA path: the run's random draws come from a CPU generator while the
    batches live on the GPU (a mismatch once stopped every step there); skipped without CUDA."""
    config, _ = _small_run(tmp_path, device="cuda")
    result = train_change(config)
    assert result.finished and torch.isfinite(torch.tensor(list(result.losses.values()))).all()
    _, meta = load_generator(result.run_dir / "generator.safetensors")
    assert meta["device"].startswith("cuda")


@pytest.mark.skipif(not (CHECKPOINTS / "classifier.safetensors").exists(), reason="no shipped classifier")
def test_change_training_writes_everything_and_resumes(tmp_path):
    config, G = _small_run(tmp_path)
    data = config.data
    calls = iter(range(1000))
    stopped = train_change(config, abort_fn=lambda: next(calls) >= 3)
    assert not stopped.finished and stopped.epochs_done == 0 and not (tmp_path / "run" / "metrics.jsonl").exists()
    first = train_change(config)
    assert first.finished and {"loss_change", "loss_fit", "loss_same_change", "teacher_hit", "loss_d", "loss_same", "loss_critic",
                               "loss_g_critic"} <= set(first.losses)
    run = tmp_path / "run"
    tuned, meta = load_generator(run / "generator.safetensors")
    assert meta["fine_tuned_from"] == str(tmp_path / "g.safetensors") and meta["teacher_command"] == "teacher"
    assert meta["epochs"] == 1 and meta["from_epochs"] == 22
    assert any(not torch.equal(a, b) for a, b in zip(tuned.state_dict().values(), G.state_dict().values()))
    assert (run / "discriminator.safetensors").exists() and (run / "samples" / "epoch_001.png").exists()
    more = train_change(replace(config, epochs=2))
    assert more.epochs_done == 2
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == [1, 2] and rows[1]["iter"] == 8  # 64 / 16 = 4 steps an epoch
    _, meta = load_generator(run / "generator.safetensors")
    # the stopped first call saved no epoch, so it is no sitting; its source generator recorded none
    assert [(h["from_epoch"], h["to_epoch"]) for h in meta["history"]] == [(0, 1), (1, 2)]
    assert "from_history" not in meta
    assert gan_main(["train-change", "--data", str(data), "--teacher", str(tmp_path / "teacher.safetensors"),
                     "--generator", str(tmp_path / "e.safetensors"), "--out", str(tmp_path / "x")]) == 2


@pytest.mark.skipif(not (CHECKPOINTS / "classifier.safetensors").exists(), reason="no shipped classifier")
def test_an_epoch_that_is_all_warm_up_logs_the_critics_losses_not_zeros(tmp_path, capsys):
    """With a warm-up longer than the epoch G does not move; the epoch's row holds the losses the
    steps did have (D's, the critic's, the frozen G's), marked as warm-up, instead of 0.0 for all."""
    config, _ = _small_run(tmp_path, warmup_steps=100)
    flags = ["--data", config.data, "--teacher", config.teacher, "--generator", config.generator,
             "--encoder", config.encoder, "--classifier", config.classifier, "--out", config.out,
             "--epochs", "1", "--batch-size", "16", "--limit", "64", "--warmup-steps", "100"]
    assert gan_main(["train-change", *flags]) == 0
    row = json.loads((tmp_path / "run" / "metrics.jsonl").read_text().splitlines()[0])
    assert row["warm_up"] == 1.0 and row["loss_d"] > 0 and row["loss_critic"] > 0
    assert "(warm-up: only the critics trained" in capsys.readouterr().out


def test_an_encoder_of_another_generator_is_refused_in_words(tmp_path):
    """A generator retrained at another --nz with the default (shipped) encoder, or any encoder
    of another generator, is refused before training, naming both files and the way out."""
    from gan.checkpoint import CheckpointError

    config, _ = _small_run(tmp_path)
    narrow, _ = build_conditional_models(replace(SMALL, nz=64), seed=0)
    save_generator(tmp_path / "narrow.safetensors", narrow, {"epochs": 1})
    with pytest.raises(CheckpointError, match=r"e\.safetensors does not fit .*narrow\.safetensors: its nz is 100, "
                                              r"the generator's 64\. Pass --encoder .*python -m gan train-encoder"):
        train_change(replace(config, generator=str(tmp_path / "narrow.safetensors")))
    assert not (tmp_path / "run").exists()


@pytest.mark.skipif(not (CHECKPOINTS / "classifier.safetensors").exists(), reason="no shipped classifier")
def test_the_encoder_run_resumes_on_its_data_however_spelled_and_a_fresh_typo_keeps_it(tmp_path, monkeypatch):
    """The data is the file's content: ./fer2013.csv resumes a run of /abs/fer2013.csv, other rows at
    the same path are refused with the way out, and --fresh with a mistyped --data removes nothing."""
    from gan.train_encoder import EncoderTrainConfig, train_encoder

    config, _ = _small_run(tmp_path)
    run = tmp_path / "enc"
    encoder = EncoderTrainConfig(data=config.data, generator=config.generator, classifier=config.classifier,
                                 out=str(run), epochs=1, batch_size=16, limit=32, command="test")
    assert train_encoder(encoder).finished
    monkeypatch.chdir(tmp_path)
    assert train_encoder(replace(encoder, data="./fer2013.csv", epochs=2)).epochs_done == 2
    flags = ["--generator", config.generator, "--classifier", config.classifier, "--out", str(run),
             "--epochs", "3", "--batch-size", "16", "--limit", "32"]
    assert gan_main(["train-encoder", "--data", "fer2013.cvs", *flags, "--fresh"]) == 2
    assert (run / "encoder.safetensors").exists() and (run / "state.safetensors").exists()
    lines = (tmp_path / "fer2013.csv").read_text().splitlines(keepends=True)
    (tmp_path / "fer2013.csv").write_text(lines[0] + "".join(lines[:0:-1]))  # the same rows, reversed
    with pytest.raises(ValueError, match="trained on other data than fer2013.csv .*--fresh"):
        train_encoder(replace(encoder, data="fer2013.csv", epochs=3))


@pytest.mark.skipif(not (CHECKPOINTS / "classifier.safetensors").exists(), reason="no shipped classifier")
def test_a_fresh_change_run_with_a_mistyped_data_path_removes_nothing(tmp_path):
    config, _ = _small_run(tmp_path)
    assert train_change(config).finished
    flags = ["--teacher", config.teacher, "--generator", config.generator, "--encoder", config.encoder,
             "--out", config.out, "--epochs", "1", "--batch-size", "16", "--limit", "64"]
    assert gan_main(["train-change", "--data", config.data + "x", *flags, "--fresh"]) == 2
    left = {p.name for p in (tmp_path / "run").iterdir()}
    assert {"generator.safetensors", "state.safetensors", "metrics.jsonl"} <= left
