"""The alignment tasks behind ``medmodal align``: pairs, batching, prompts, evaluation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from medmodal.align import clip_loss, unicl_loss
from medmodal.cli._align_tasks import (
    TASKS,
    ECGTextPairs,
    ImageTextPairs,
    collate_pairs,
    evaluate_ecg,
    get_task,
    medpix_prompts,
    pair_loss,
)
from medmodal.data.image_transforms import ImageTransform
from medmodal.data.medpix import LOCATION_CATEGORIES
from medmodal.errors import InvalidParameterError


class _ToyModel(torch.nn.Module):
    """ECG + text model whose text tower reads a keyword: embeddings are hand-set."""

    modalities = ("ecg", "text")

    def __init__(self) -> None:
        super().__init__()
        self.logit_scale = torch.nn.Parameter(torch.tensor(2.0))

    def encode_ecg(self, x: torch.Tensor, normalize: bool = False) -> torch.Tensor:
        z = torch.stack([x[:, 0].mean(-1), x[:, 1].mean(-1)], dim=1)  # (B, 2)
        return torch.nn.functional.normalize(z, dim=-1)

    def encode_text(self, texts: list[str], normalize: bool = False) -> torch.Tensor:
        rows = [[0.0, 1.0] if "abnormal" in t or "infarction" in t else [1.0, 0.0] for t in texts]
        return torch.tensor(rows)

    def forward(self, *, ecg: torch.Tensor, text: list[str]) -> object:
        from medmodal.models import CLIPOutput

        return CLIPOutput(None, self.encode_text(text), self.encode_ecg(ecg), self.logit_scale)


def test_registry_and_task_defaults() -> None:
    assert TASKS.names() == ("medpix", "ptbxl")
    assert get_task("ptb-xl").default_model == "ecg-text-clip"
    assert (get_task("medpix").default_text, get_task("ptbxl").default_text) == (
        "structured",
        "report",
    )
    assert get_task("medpix").modalities == ("image", "text")


def test_collate_keeps_texts_as_strings() -> None:
    images = np.zeros((3, 8, 8), dtype=np.uint8)
    pairs = ImageTextPairs(images, ["a", "b", "c"], ImageTransform(8))
    batch = collate_pairs([pairs[i] for i in range(3)])
    assert batch["image"].shape == (3, 1, 8, 8)
    assert batch["text"] == ["a", "b", "c"]
    assert batch["index"].tolist() == [0, 1, 2]
    with pytest.raises(InvalidParameterError, match="3 images for 2 texts"):
        ImageTextPairs(images, ["a", "b"], ImageTransform(8))


def test_views_are_sampled_at_the_rate_and_groups_ride_along() -> None:
    images = np.zeros((2, 8, 8), dtype=np.uint8)
    views = [("full 0", "head 0", "head 0: s1"), ("full 1",)]
    pairs = ImageTextPairs(
        images, ["full 0", "full 1"], ImageTransform(8), views=views, view_rate=0.5,
        groups=[7, 7], seed=3,
    )  # fmt: skip
    drawn = [pairs[0]["text"] for _ in range(2000)]
    counts = {t: drawn.count(t) / len(drawn) for t in set(drawn)}
    assert set(counts) == {"full 0", "head 0", "head 0: s1"}
    assert counts["full 0"] == pytest.approx(0.5, abs=0.04)
    assert counts["head 0"] == pytest.approx(0.25, abs=0.04)
    assert {pairs[1]["text"] for _ in range(50)} == {"full 1"}  # no shorter view
    assert pairs[1]["group"] == 7
    again = ImageTextPairs(images, ["full 0", "full 1"], ImageTransform(8), views=views, seed=3)
    assert [again[0]["text"] for _ in range(2000)] == drawn  # seeded stream
    with pytest.raises(InvalidParameterError, match="1 views for 2 texts"):
        ImageTextPairs(images, ["a", "b"], ImageTransform(8), views=[("a",)])
    with pytest.raises(InvalidParameterError, match="view_rate"):
        ImageTextPairs(images, ["a", "b"], ImageTransform(8), view_rate=1.5)


def test_pair_loss_counts_same_group_pairs_as_positives() -> None:
    """Two ECG pairs with one text: UniCL with their group equals the hand-computed value."""
    model = _ToyModel()
    ecg = torch.zeros(3, 2, 10)
    ecg[0, 0], ecg[1, 0], ecg[2, 1] = 1.0, 1.0, 1.0
    batch = {"ecg": ecg, "text": ["normal", "normal", "abnormal"]}
    plain = pair_loss(model, batch).detach()
    grouped = pair_loss(model, {**batch, "group": torch.tensor([0, 0, 1])}).detach()
    s = float(torch.exp(torch.tensor(2.0)))
    # rows 0/1: logits (s, s, 0) -> CLIP -log(e^s / (2 e^s + 1)) = UniCL's; row 2: -log(e^s/(e^s+2))
    p_pair = np.exp(s) / (2 * np.exp(s) + 1)
    p_last = np.exp(s) / (np.exp(s) + 2)
    expected = (2 * -np.log(p_pair) + -np.log(p_last)) / 3
    assert float(grouped) == pytest.approx(expected, rel=1e-5)
    assert float(plain) == pytest.approx(expected, rel=1e-5)  # identical texts: same value
    # pairs that differ: pair_loss with groups is UniCL on the embeddings, not CLIP
    ecg[1, 1] = 0.5
    groups = torch.tensor([0, 0, 1])
    texts = ["normal", "abnormal", "abnormal"]  # group 0 joins pairs with different texts
    out = model(ecg=ecg, text=texts)
    unicl = unicl_loss(out.ecg, out.text, out.logit_scale, groups).detach()
    clip = clip_loss(out.ecg, out.text, out.logit_scale).detach()
    assert abs(float(unicl) - float(clip)) > 1e-3
    got = pair_loss(model, {"ecg": ecg, "text": texts, "group": groups}).detach()
    assert float(got) == pytest.approx(float(unicl), rel=1e-6)


def test_prompts_cover_every_class() -> None:
    prompts = medpix_prompts()
    assert set(prompts["location_category"][0]) == set(LOCATION_CATEGORIES)
    assert set(prompts["modality"][0]) == {"CT", "MR"}
    for _, templates in prompts.values():
        assert all(t.count("{}") == 1 for t in templates)


def test_ecg_evaluation_and_loss_on_a_hand_made_case() -> None:
    signals = np.zeros((4, 12, 50), dtype=np.float32)
    signals[[0, 1], 0] = 1.0  # "normal" ECGs point along x
    signals[[2, 3], 1] = 1.0  # "abnormal" ones along y
    texts = ["normal ECG", "normal ECG", "abnormal ECG", "myocardial infarction"]
    labels = pd.DataFrame({"normal": ["normal", "normal", "abnormal", "abnormal"]})
    data = ECGTextPairs(signals, texts, labels)
    result = evaluate_ecg(_ToyModel(), data, split="toy")  # type: ignore[arg-type]
    assert result.zero_shot["normal"] == 1.0
    assert result.zero_shot_chance["normal"] == 0.5
    d = result.to_dict()
    # ECG 0's text ties with ECG 1's (same direction): strict R@1 counts the tie against
    assert d["a_to_b_R@1"] == 0.0 and d["a_to_b_R@5"] == 1.0
    assert d["same_text_a_to_b_R@1"] == 0.5  # the two "normal ECG" texts are one text
    loss = pair_loss(_ToyModel(), collate_pairs([data[i] for i in range(4)]))
    assert loss.ndim == 0 and torch.isfinite(loss)
