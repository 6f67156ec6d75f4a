"""Compact model files, the ``load_model(...).predict`` API and ``evaluate.py`` round trips."""
from __future__ import annotations

import json
import warnings

import lightning as L
import numpy as np
import pandas as pd
import pytest
import torch

import plstm_graph
from plstm_graph.cli import evaluate
from plstm_graph.models import (
    OptimConfig,
    PropertyPredictor,
    load_module,
    save_compact,
)


def _predictions(module, datamodule) -> torch.Tensor:
    with torch.no_grad():
        return torch.cat([module.predict_batch(b) for b in datamodule.split_dataloader("test")])


def test_compact_file_loads_with_weights_only(freesolv_model_file):
    payload = torch.load(freesolv_model_file, weights_only=True)
    assert payload["version"] == 1
    hp = payload["hparams"]
    assert hp["model"] == "plstm" and hp["featurization"]["dag_order"] == "canonical"
    assert hp["task"]["target_std"] is not None  # regression scaling travels with the model


def test_predict_matches_dataset_graphs(freesolv_model_file, freesolv_datamodule):
    model = plstm_graph.load_model(freesolv_model_file)
    subset = freesolv_datamodule.splits["test"]
    smiles = [subset[i].smiles for i in range(len(subset))]
    pred = model.predict(smiles)
    assert pred.shape == (len(smiles), 1) and pred.dtype == np.float32
    expected = _predictions(load_module(freesolv_model_file), freesolv_datamodule)
    np.testing.assert_allclose(pred, expected.numpy(), rtol=1e-4, atol=1e-4)


def test_predict_marks_unparsable_rows(freesolv_model_file):
    model = plstm_graph.load_model(freesolv_model_file)
    with pytest.warns(UserWarning, match="could not be parsed"):
        pred = model.predict(["CCO", "not-a-smiles", "c1ccccc1"])
    assert pred.shape == (3, 1)
    assert np.isnan(pred[1]).all() and np.isfinite(pred[[0, 2]]).all()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.allclose(model.predict(["CCO"])[0], pred[0], atol=1e-5)
    with pytest.raises(TypeError):
        model.predict("CCO")


def test_evaluate_cli_split_metric(freesolv_model_file, freesolv_datamodule, shared_data,
                                   data_cache, tmp_path):
    out = tmp_path / "metric.json"
    assert evaluate.main([str(freesolv_model_file), "--data_dir", str(shared_data), "--cache_dir",
                          str(data_cache), "--split", "valid", "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["metric"] == "rmse" and result["split"] == "valid"
    assert result["num_graphs"] == len(freesolv_datamodule.splits["valid"])
    module = load_module(freesolv_model_file)
    with torch.no_grad():
        preds, ys = zip(*[(module.scores(module(b)), module._targets(b))
                          for b in freesolv_datamodule.split_dataloader("valid")])
    assert result["value"] == pytest.approx(module.evaluate(torch.cat(preds), torch.cat(ys)))


def test_evaluate_model_saved_without_data_options(freesolv_model_file, shared_data, data_cache,
                                                   tmp_path):
    """Model files from before the training data options were stored still evaluate: on the
    training dataset's name with the default options."""
    payload = torch.load(freesolv_model_file, weights_only=True)
    assert payload["hparams"]["task"].pop("data_options")["dataset"] == "ogbg-molfreesolv"
    old = tmp_path / "old.pt"
    torch.save(payload, old)
    results = []
    for path in (freesolv_model_file, old):
        out = tmp_path / f"{path.stem}.json"
        assert evaluate.main([str(path), "--data_dir", str(shared_data), "--cache_dir",
                              str(data_cache), "--out", str(out)]) == 0
        results.append(json.loads(out.read_text()))
    assert load_module(old).task.data_options is None
    assert results[0] == results[1]


def test_lightning_checkpoint_loads_like_the_compact_file(freesolv_model_file,
                                                          freesolv_datamodule, tmp_path):
    module = load_module(freesolv_model_file)
    trainer = L.Trainer(max_steps=0, logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False,
                        num_sanity_val_steps=0, limit_val_batches=0)
    trainer.fit(module, datamodule=freesolv_datamodule)
    trainer.save_checkpoint(tmp_path / "last.ckpt")
    reloaded = load_module(tmp_path / "last.ckpt")
    torch.testing.assert_close(_predictions(reloaded, freesolv_datamodule),
                               _predictions(module.eval(), freesolv_datamodule))
    torch.save({"state_dict": {}, "hyper_parameters": {"lr": 0.1}}, tmp_path / "other.ckpt")
    with pytest.raises(ValueError, match="not a Lightning checkpoint of plstm-graph"):
        load_module(tmp_path / "other.ckpt")


def test_model_saved_before_readout_norm_existed(freesolv_datamodule, tmp_path):
    """Model files that do not record ``readout_norm`` were built without it (the default
    before it became ``True``) and still load, with the same predictions."""
    task = freesolv_datamodule.task_info()
    args = {"out_channels": task.out_channels, "hidden_channels": 32, "readout_norm": False,
            **freesolv_datamodule.input_channels()}
    module = PropertyPredictor.from_parts("plstm", args, task, freesolv_datamodule.featurization(),
                                          OptimConfig())
    payload = torch.load(save_compact(module, tmp_path / "new.pt"), weights_only=True)
    assert payload["hparams"]["model_args"].pop("readout_norm") is False
    torch.save(payload, tmp_path / "old.pt")
    old = load_module(tmp_path / "old.pt")
    assert isinstance(old.net.readout_norm, torch.nn.Identity)
    torch.testing.assert_close(_predictions(old, freesolv_datamodule),
                               _predictions(module.eval(), freesolv_datamodule))


def test_saved_model_records_every_argument(freesolv_model_file):
    """Defaults are stored too, so a later change of a default cannot change a saved model."""
    model_args = torch.load(freesolv_model_file, weights_only=True)["hparams"]["model_args"]
    assert model_args["readout_norm"] is True and model_args["num_layers"] == 2


def test_evaluate_cli_predict_round_trip(freesolv_model_file, tmp_path, capsys):
    table = pd.DataFrame({"id": ["a", "b", "c", "d"],
                          "smiles": ["CCO", "C1CC", "", "c1ccccc1O"]})
    src, dst = tmp_path / "in.csv", tmp_path / "preds.csv"
    table.to_csv(src, index=False)
    assert evaluate.main([str(freesolv_model_file), "--predict", str(src), "--out", str(dst)]) == 0
    err = capsys.readouterr().err
    assert f"{src}: row 1 (line 3)" in err and f"{src}: row 2 (line 4)" in err
    out = pd.read_csv(dst, keep_default_na=False)
    assert out["id"].tolist() == ["a", "b", "c", "d"]  # aligned, nothing dropped
    values = out.iloc[:, -1].tolist()
    assert values[1] == "" and values[2] == ""
    expected = plstm_graph.load_model(freesolv_model_file).predict(["CCO", "c1ccccc1O"])
    np.testing.assert_allclose([float(values[0]), float(values[3])], expected[:, 0], rtol=1e-5)
