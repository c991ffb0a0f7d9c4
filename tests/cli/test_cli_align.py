"""``medmodal align`` end to end on a tiny synthetic folder of the MedPix layout."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from medmodal.cli.app import app

#: dev images of the ``medpix_dir`` fixture (tests/cli/conftest.py)
DEV_N = 40


@pytest.fixture(scope="module")
def run_dir(medpix_dir: Path, tiny_config: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    config = tiny_config
    out = tmp_path_factory.mktemp("runs") / "run"
    args = ["align", "train", "--model", str(config), "--data", "medpix", "--data-root",
            str(medpix_dir), "--out", str(out), "--epochs", "12", "--batch-size", "16",
            "--threads", "1", "--quiet"]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return out


def test_train_writes_a_run(run_dir: Path) -> None:
    assert (run_dir / "best" / "model.safetensors").is_file()
    assert json.loads((run_dir / "align.json").read_text())["text"] == "structured"
    payload = json.loads((run_dir / "eval_val.json").read_text())
    # the folder's own val split picks the epoch; dev is the test
    assert payload["n"] == payload["n_val"] == DEV_N and payload["n_train"] == 48
    assert payload["skipped"] == 0 and payload["smoke_run"] is False
    assert payload["evaluation"] == "prompted"
    assert set(payload["zero_shot"]) == {"modality", "location_category", "plane"}


def test_eval_prints_json_and_learns_the_modality(run_dir: Path, medpix_dir: Path) -> None:
    args = ["align", "eval", "--checkpoint", str(run_dir), "--data", "medpix", "--data-root",
            str(medpix_dir), "--split", "dev", "--json", "--threads", "1"]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    metrics = payload["metrics"]
    assert metrics["n"] == DEV_N
    # CT (disc) and MR (stripes) are easy to tell apart: the aligned model must beat the
    # majority rate (50 %) on unseen images, from prompts alone.
    assert payload["zero_shot"]["modality"] > 0.75
    # retrieval beats chance (mean rank (N + 1) / 2) both ways; captions repeat
    # within a (modality, region) group, so identical ones count as correct in same_text
    chance = (DEV_N + 1) / 2
    assert metrics["a_to_b_mean_rank"] < chance and metrics["b_to_a_mean_rank"] < chance
    assert metrics["same_text_mean_R@1"] > 0.25


def test_eval_table_and_errors(run_dir: Path, medpix_dir: Path) -> None:
    runner = CliRunner()
    base = ["align", "eval", "--checkpoint", str(run_dir), "--data-root", str(medpix_dir)]
    table = runner.invoke(app, [*base, "--split", "dev", "--threads", "1"])
    assert table.exit_code == 0, table.output
    assert "Retrieval" in table.stdout and "Prompted classification" in table.stdout
    assert "95 % interval" in table.stdout
    missing = runner.invoke(app, [*base, "--split", "test"])
    assert missing.exit_code == 2
    assert "split 'test' not found" in missing.output
    wrong = runner.invoke(app, [*base, "--data", "ptbxl", "--split", "val"])
    assert wrong.exit_code == 2 and "need ecg, text" in wrong.output


def test_models_list() -> None:
    result = CliRunner().invoke(app, ["models", "list", "--json"])
    assert result.exit_code == 0, result.output
    names = [row["name"] for row in json.loads(result.stdout)]
    assert {"medpix-clip", "ecg-text-clip", "notebook-vlm"} <= set(names)


def _dev_rows(medpix_dir: Path) -> list[dict[str, object]]:
    lines = (medpix_dir / "splits" / "descriptions_dev.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def test_gallery_feeds_the_service(run_dir: Path, medpix_dir: Path, tmp_path: Path) -> None:
    """align gallery writes a servable model folder; /v1/align/search ranks its gallery."""
    from fastapi.testclient import TestClient

    from medmodal.serve.app import create_app
    from medmodal.serve.settings import Settings

    models = tmp_path / "models"
    out = str(models / "tiny-medpix")
    args = ["align", "gallery", "--checkpoint", str(run_dir), "--data-root", str(medpix_dir),
            "--split", "dev", "--out", out, "--json", "--threads", "1"]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert (summary["data"], summary["split"], summary["images"]) == ("medpix", "dev", DEV_N)
    assert summary["captions"] == 4  # 2 modalities x 2 regions: identical captions kept once
    names = {p.name for p in (models / "tiny-medpix").iterdir()}
    assert {"config.json", "model.safetensors", "gallery.safetensors", "gallery.json"} <= names

    rows = _dev_rows(medpix_dir)
    ct_ids = {str(r["image"]) for r in rows if r["Type"] == "CT"}
    client = TestClient(create_app(Settings(models_dir=models)), base_url="http://localhost")
    text = client.post(
        "/v1/align/search",
        data={
            "model": "tiny-medpix",
            "text": "CT, axial, head (generalized): round dense structure",
            "top_k": "4",
        },
    )
    assert text.status_code == 200, text.text
    hits = text.json()["hits"]
    assert {h["image_id"] for h in hits} <= {str(r["image"]) for r in rows}
    assert sum(h["image_id"] in ct_ids for h in hits) >= 3  # the model learned CT vs MR
    by_image = {str(r["image"]): r for r in rows}
    for hit in hits:  # each image comes with its caption, its case and its PNG
        assert hit["caption"] and hit["case_id"] == str(by_image[hit["image_id"]]["U_id"])
        served = client.get(hit["image_url"])
        assert served.status_code == 200 and served.content.startswith(b"\x89PNG")
    mr = next(r for r in rows if r["Type"] == "MR")
    png = (medpix_dir / "images" / f"{mr['image']}.png").read_bytes()
    image = client.post(
        "/v1/align/search",
        data={"model": "tiny-medpix", "top_k": "1"},
        files={"image": ("q.png", png, "image/png")},
    )
    assert image.status_code == 200, image.text
    top = image.json()["hits"][0]
    assert "MR" in top["caption"]
    assert top["image_id"] in by_image and top["case_id"] == str(by_image[top["image_id"]]["U_id"])
    assert client.get(top["image_url"]).status_code == 200


def test_gallery_defaults_to_the_checkpoint_folder_and_rejects_ecg_data(
    run_dir: Path, medpix_dir: Path
) -> None:
    base = ["align", "gallery", "--checkpoint", str(run_dir), "--data-root", str(medpix_dir)]
    result = CliRunner().invoke(app, [*base, "--quiet", "--threads", "1"])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert (run_dir / "best" / "gallery.safetensors").is_file()
    wrong = CliRunner().invoke(app, [*base, "--data", "ptbxl", "--overwrite"])
    assert wrong.exit_code == 2 and "use --data medpix" in wrong.output


def test_eval_out_and_quiet(run_dir: Path, medpix_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "eval" / "dev.json"
    args = ["align", "eval", "--checkpoint", str(run_dir), "--data-root", str(medpix_dir),
            "--split", "dev", "--out", str(out), "--quiet", "--threads", "1"]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert result.stdout == "" and result.stderr == ""
    payload = json.loads(out.read_text())
    assert payload["metrics"]["n"] == DEV_N and payload["split"] == "dev"


def test_seeded_training_reproduces_whatever_the_global_rng(
    medpix_dir: Path, tiny_config: Path, tmp_path: Path
) -> None:
    """The seed covers the initial weights: the global RNG state before the run is moot."""
    import torch
    from safetensors.torch import load_file

    config = tiny_config
    weights = []
    for i, state in enumerate((1, 2)):
        torch.manual_seed(state)
        out = tmp_path / f"run{i}"
        args = ["align", "train", "--model", str(config), "--data-root", str(medpix_dir),
                "--out", str(out), "--epochs", "1", "--batch-size", "16", "--quiet"]  # fmt: skip
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, result.output
        weights.append(load_file(out / "last" / "model.safetensors"))
    assert weights[0].keys() == weights[1].keys()
    for key, value in weights[0].items():
        torch.testing.assert_close(value, weights[1][key], rtol=0, atol=0)


def test_quick_smoke_run_says_it_is_not_a_result(
    medpix_dir: Path, tiny_config: Path, tmp_path: Path
) -> None:
    args = ["align", "train", "--model", str(tiny_config), "--data-root", str(medpix_dir),
            "--out", str(tmp_path / "run"), "--quick", "--threads", "1"]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert result.output.count("smoke run — not a result") == 2  # before and after
    payload = json.loads((tmp_path / "run" / "eval_val.json").read_text())
    assert payload["smoke_run"] is True and payload["epochs_run"] == 1


def test_zero_shot_run_and_epoch_estimate(
    medpix_dir: Path, tiny_config: Path, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    args = ["align", "train", "--model", str(tiny_config), "--data-root", str(medpix_dir),
            "--out", str(out), "--epochs", "1", "--evaluation", "zero-shot",
            "--threads", "1"]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "s per epoch" in result.output and "min in all" in result.output
    assert "True zero-shot classification" in result.output
    info = json.loads((out / "align.json").read_text())
    assert (info["evaluation"], info["text"]) == ("zero-shot", "caption")
    evaluated = CliRunner().invoke(
        app,
        [
            "align",
            "eval",
            "--checkpoint",
            str(out),
            "--data-root",
            str(medpix_dir),
            "--json",
            "--threads",
            "1",
        ],
    )
    assert evaluated.exit_code == 0, evaluated.output
    payload = json.loads(evaluated.stdout)
    assert payload["evaluation"] == "zero-shot" and payload["split"] == "dev"
    assert payload["metrics"]["zs_modality_low"] <= payload["zero_shot"]["modality"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--evaluation", "zero-shot", "--text", "structured"], "labels in the training text"),
        (["--evaluation", "fewshot"], "evaluation must be one of"),
        (["--pretrained"], "pretrained and --lock-image need a named model"),
    ],
)
def test_bad_train_flags_are_one_line_errors(
    medpix_dir: Path, tiny_config: Path, tmp_path: Path, extra: list[str], message: str
) -> None:
    args = ["align", "train", "--model", str(tiny_config), "--data-root", str(medpix_dir),
            "--out", str(tmp_path / "run"), "--epochs", "1", "--quiet", *extra]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert not (tmp_path / "run").exists() or not any((tmp_path / "run").iterdir())


def test_an_unreadable_image_is_named(medpix_dir: Path, tmp_path: Path) -> None:
    import shutil

    folder = tmp_path / "mp"
    shutil.copytree(medpix_dir, folder)
    bad = sorted((folder / "images").glob("*.png"))[3]
    bad.write_bytes(b"broken")
    result = CliRunner().invoke(app, ["align", "train", "--data-root", str(folder), "--out",
                                      str(tmp_path / "run"), "--quick", "--quiet"])  # fmt: skip
    assert result.exit_code != 0
    assert bad.name in result.output and "Traceback" not in result.output
