"""The one contrastive loss_fn of a paired batch: CLIP on the diagonal, UniCL with groups."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from tests.align.toys import AlignedPairs, KeywordECGText, PairOutput, TinyClip

from medmodal.align import clip_loss, contrastive_loss_fn, unicl_loss
from medmodal.errors import InvalidParameterError

ecg_loss = contrastive_loss_fn(("ecg", "text"))


def test_loss_fn_is_clip_loss_of_the_model_output() -> None:
    torch.manual_seed(0)
    model, data = TinyClip(), AlignedPairs(16, seed=3)
    batch = {"image": data.image, "text": data.text, "case": list(range(16))}
    out = model(image=data.image, text=data.text)
    expected = clip_loss(out.image, out.text, out.logit_scale)
    assert torch.equal(contrastive_loss_fn()(model, batch), expected)
    chunked = contrastive_loss_fn(chunk_size=5)(model, batch)
    assert float(chunked.detach()) == pytest.approx(float(expected.detach()), rel=1e-5)


def test_loss_under_bf16_autocast_is_float32_and_close() -> None:
    torch.manual_seed(0)
    model, data = TinyClip(), AlignedPairs(32, seed=3)
    batch = {"image": data.image, "text": data.text}
    exact = contrastive_loss_fn()(model, batch)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        low = contrastive_loss_fn()(model, batch)
    assert low.dtype == torch.float32
    assert float(low.detach()) == pytest.approx(float(exact.detach()), abs=0.05)


def test_loss_counts_same_group_pairs_as_positives() -> None:
    """Two ECG pairs with one text: UniCL with their group equals the hand-computed value."""
    model = KeywordECGText()
    ecg = torch.zeros(3, 2, 10)
    ecg[0, 0], ecg[1, 0], ecg[2, 1] = 1.0, 1.0, 1.0
    batch = {"ecg": ecg, "text": ["normal", "normal", "abnormal"]}
    plain = ecg_loss(model, batch).detach()
    grouped = ecg_loss(model, {**batch, "group": torch.tensor([0, 0, 1])}).detach()
    s = float(torch.exp(torch.tensor(2.0)))
    # rows 0/1: logits (s, s, 0) -> CLIP -log(e^s / (2 e^s + 1)) = UniCL's; row 2: -log(e^s/(e^s+2))
    p_pair = np.exp(s) / (2 * np.exp(s) + 1)
    p_last = np.exp(s) / (np.exp(s) + 2)
    expected = (2 * -np.log(p_pair) + -np.log(p_last)) / 3
    assert float(grouped) == pytest.approx(expected, rel=1e-5)
    assert float(plain) == pytest.approx(expected, rel=1e-5)  # identical texts: same value
    # pairs that differ: the loss with groups is UniCL on the embeddings, not CLIP
    ecg[1, 1] = 0.5
    groups = torch.tensor([0, 0, 1])
    texts = ["normal", "abnormal", "abnormal"]  # group 0 joins pairs with different texts
    out = model(ecg=ecg, text=texts)
    unicl = unicl_loss(out.ecg, out.text, out.logit_scale, groups).detach()
    clip = clip_loss(out.ecg, out.text, out.logit_scale).detach()
    assert abs(float(unicl) - float(clip)) > 1e-3
    got = ecg_loss(model, {"ecg": ecg, "text": texts, "group": groups}).detach()
    assert float(got) == pytest.approx(float(unicl), rel=1e-6)


def test_contrastive_helpers_reject_bad_input() -> None:
    model = TinyClip()
    with pytest.raises(InvalidParameterError, match="two different names"):
        contrastive_loss_fn(("image", "image"))
    with pytest.raises(InvalidParameterError, match="keys 'image' and 'text'"):
        contrastive_loss_fn()(model, {"image": torch.randn(2, 12)})
    with pytest.raises(InvalidParameterError, match="has no 'ecg' embeddings"):
        contrastive_loss_fn(("image", "ecg"))(
            lambda **kw: PairOutput(torch.ones(2, 2), torch.ones(2, 2), torch.zeros(())),  # type: ignore[arg-type]
            {"image": 1, "ecg": 2},
        )
    with pytest.raises(InvalidParameterError, match="chunk_size"):
        contrastive_loss_fn(chunk_size=0)


def test_grouped_batches_refuse_a_chunked_loss() -> None:
    batch = {"ecg": torch.ones(2, 2, 4), "text": ["normal", "abnormal"], "group": [0, 1]}
    with pytest.raises(InvalidParameterError, match="UniCL"):
        contrastive_loss_fn(("ecg", "text"), chunk_size=2)(KeywordECGText(), batch)
    plain = contrastive_loss_fn(("ecg", "text"), group_key=None)(KeywordECGText(), batch)
    assert torch.isfinite(plain)  # groups ignored: the diagonal CLIP loss
