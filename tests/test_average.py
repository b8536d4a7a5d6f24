"""`python -m gan average`: the weighted mean of generators' weights, refused across architectures."""

from __future__ import annotations

import pytest
import torch

from gan.__main__ import main as gan_main
from gan.average import average_state_dicts
from gan.checkpoint import load_generator, read_metadata, save_generator, save_tensors
from gan.conditional import build_conditional_models
from gan.models import ModelConfig, build_models

SMALL = ModelConfig(ngf=8, ndf=8, n_classes=7)


def _saved(tmp_path, name: str, seed: int, config: ModelConfig = SMALL):
    G, _ = build_conditional_models(config, seed=seed)
    with torch.no_grad():  # running statistics that differ between the two, as after training
        for module in G.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-1, 1, generator=torch.Generator().manual_seed(seed))
    path = tmp_path / name
    save_generator(path, G, {"epochs": seed, "command": f"train {name}"})
    return path, G


def test_average_is_the_weighted_mean_of_every_tensor_and_names_its_ingredients(tmp_path, capsys):
    (a_path, a), (b_path, b) = _saved(tmp_path, "a.safetensors", 1), _saved(tmp_path, "b.safetensors", 2)
    out = tmp_path / "soup.safetensors"
    assert gan_main(["average", str(a_path), str(b_path), "-o", str(out), "--weights", "3", "1"]) == 0
    soup, meta = load_generator(out)
    for key, value in soup.state_dict().items():
        if value.is_floating_point():
            torch.testing.assert_close(value, 0.75 * a.state_dict()[key] + 0.25 * b.state_dict()[key])
    assert [i["weight"] for i in meta["averaged_from"]] == [0.75, 0.25]
    assert [i["command"] for i in meta["averaged_from"]] == ["train a.safetensors", "train b.safetensors"]
    assert read_metadata(out)["command"].startswith("python -m gan average")
    z, y = torch.randn(2, SMALL.nz), torch.tensor([1, 5])
    assert soup(z, y).shape == (2, 1, 48, 48)  # a working generator, not only a bag of tensors
    assert "0.75" in capsys.readouterr().out


def test_average_refuses_other_architectures_and_bad_weights(tmp_path, capsys):
    a_path, _ = _saved(tmp_path, "a.safetensors", 1)
    wide_path, _ = _saved(tmp_path, "wide.safetensors", 2, ModelConfig(ngf=16, ndf=8, n_classes=7))
    out = tmp_path / "soup.safetensors"
    assert gan_main(["average", str(a_path), str(wide_path), "-o", str(out)]) == 2
    assert "another architecture" in capsys.readouterr().err and not out.exists()
    assert gan_main(["average", str(a_path), "-o", str(out)]) == 2
    assert "at least two" in capsys.readouterr().err
    assert gan_main(["average", str(a_path), str(a_path), "-o", str(out), "--weights", "1"]) == 2
    assert "one weight per" in capsys.readouterr().err
    # the weights are checked before any file is read: a missing file is not what is reported
    assert gan_main(["average", str(a_path), str(tmp_path / "missing.safetensors"), "-o", str(out),
                     "--weights", "1"]) == 2
    assert "one weight per generator" in capsys.readouterr().err


def test_average_refuses_generators_of_different_expressions_and_keeps_the_expression(tmp_path, capsys):
    config = ModelConfig(ngf=8, ndf=8)  # the seed's per-expression generators
    paths = {}
    for name, seed in (("sad", 1), ("sad2", 2), ("happy", 3)):
        G, _ = build_models(config, seed=seed)
        paths[name] = tmp_path / f"{name}.safetensors"
        save_generator(paths[name], G, {"expression": name.rstrip("2"), "epochs": 1})
    out = tmp_path / "soup.safetensors"
    assert gan_main(["average", str(paths["sad"]), str(paths["happy"]), "-o", str(out)]) == 2
    assert "draw different expressions (happy, sad)" in capsys.readouterr().err and not out.exists()
    assert gan_main(["average", str(paths["sad"]), str(paths["sad2"]), "-o", str(out)]) == 0
    assert read_metadata(out)["expression"] == "sad"  # sample and the editor read it
    capsys.readouterr()
    assert gan_main(["sample", "--checkpoint", str(out), "-n", "2", "-o", str(tmp_path / "grid.png")]) == 0
    assert "the average of 2 checkpoints; the longest trained for 1 epoch" in capsys.readouterr().out


def test_average_state_dicts_keeps_integer_counters_of_the_first():
    first = {"w": torch.zeros(2), "n": torch.tensor(3)}
    second = {"w": torch.ones(2), "n": torch.tensor(9)}
    averaged = average_state_dicts([first, second], [1, 1])
    assert averaged["w"].tolist() == [0.5, 0.5] and averaged["n"].item() == 3
    with pytest.raises(ValueError, match="non-negative"):
        average_state_dicts([first, second], [1, -1])


def test_shipping_an_averaged_generator_with_a_new_encoder_records_that_encoder(tmp_path, monkeypatch, capsys):
    """scripts/ship_conditional.py --generator G --encoder-run R (what retrain_editor --ship runs)
    copied the new encoder but said and recorded the old one."""
    import json

    import scripts.ship_conditional as ship

    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkpoints" / "training_summary.json").write_text(json.dumps(
        [{"model": "encoder", "epochs": 99, "command": "old"}]))
    monkeypatch.setattr(ship, "ROOT", tmp_path)
    save_tensors(tmp_path / "checkpoints" / "encoder.safetensors", {"w": torch.zeros(1)},
                 {"kind": "encoder", "epochs": 3, "losses": {"latent": 0.1}, "command": "new encoder",
                  "history": [{"command": "new encoder", "from_epoch": 0, "to_epoch": 3, "started": "t"}]})
    run = tmp_path / "encoder_run"
    run.mkdir()
    (run / "metrics.jsonl").write_text(json.dumps({"epoch": 3, "seconds": 12.0}) + "\n")
    generator = tmp_path / "soup.safetensors"
    G, _ = build_models(ModelConfig(ngf=8, ndf=8), seed=0)
    save_generator(generator, G, {"epochs": 4, "half_max_abs_diff": 0.0, "command": "average",
                                  "averaged_from": [{"path": "a", "weight": 0.5}, {"path": "b", "weight": 0.5}]})
    ship.ship_average(generator, "test machine", run)
    rows = {row["model"]: row for row in json.loads((tmp_path / "checkpoints" / "training_summary.json").read_text())}
    assert rows["encoder"]["epochs"] == 3 and rows["encoder"]["command"] == "new encoder"
    assert rows["encoder"]["history"][0]["to_epoch"] == 3  # its sittings, beside its last command
    assert rows["conditional"]["averaged_from"][0]["path"] == "a"
    assert "the encoder (epoch 3)" in capsys.readouterr().out
