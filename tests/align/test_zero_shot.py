"""ZeroShotClassifier: prompt ensembling, predictions, probabilities, accuracy, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F  # noqa: N812

from medmodal.align import ZeroShotClassifier
from medmodal.errors import InvalidParameterError

WORDS = {"ct": 0, "mr": 1, "chest": 2, "head": 3}


def encode(prompts: list[str]) -> torch.Tensor:
    """A toy text tower: bag of keywords, unnormalised (length grows with the prompt)."""
    out = torch.zeros(len(prompts), 4)
    for i, p in enumerate(prompts):
        for word, dim in WORDS.items():
            out[i, dim] += 3.0 * p.lower().count(word)
        out[i] += 0.1
    return out


def test_prompts_fill_every_template_with_every_description() -> None:
    clf = ZeroShotClassifier(encode, {"CT": ["ct", "CT scan"], "MR": ["mr"]}, ("{}", "a {}."))
    assert clf.prompts == {"CT": ["ct", "a ct.", "CT scan", "a CT scan."], "MR": ["mr", "a mr."]}
    plain = ZeroShotClassifier(encode, ["ct", "mr"], ("photo of {}",))
    assert plain.prompts == {"ct": ["photo of ct"], "mr": ["photo of mr"]}


def test_class_embedding_is_renormalised_mean_of_normalised_prompts() -> None:
    clf = ZeroShotClassifier(encode, {"A": ["ct", "ct head head"], "B": ["mr"]}, ("{}",)).fit()
    prompts = F.normalize(encode(["ct", "ct head head"]), dim=-1)
    expected = F.normalize(prompts.mean(dim=0), dim=0)
    torch.testing.assert_close(clf.class_embeddings_[0], expected)
    assert clf.classes_.tolist() == ["A", "B"]
    assert torch.allclose(clf.class_embeddings_.norm(dim=1), torch.ones(2))


def test_predict_proba_and_score() -> None:
    clf = ZeroShotClassifier(encode, {"CT": ["ct"], "MR": ["mr"], "chest": ["chest"]}, ("{}",))
    x = torch.tensor([[5.0, 0.2, 0.1, 0.0], [0.1, 2.0, 0.0, 0.3], [0.0, 0.1, 1.0, 0.0]])
    assert clf.predict(x).tolist() == ["CT", "MR", "chest"]
    proba = clf.predict_proba(x)
    assert proba.shape == (3, 3) and np.allclose(proba.sum(axis=1), 1.0)
    assert (proba.argmax(axis=1) == [0, 1, 2]).all()
    assert clf.score(x, ["CT", "MR", "MR"]) == pytest.approx(2 / 3)
    assert clf.score(x, np.array([0, 1, 2])) == 1.0
    assert clf.score(x.numpy(), ["CT", "MR", "chest"]) == 1.0  # numpy input too


def test_ensembling_helps_over_a_single_misleading_prompt() -> None:
    # the template mentions "head": with it alone both classes lean the same way
    noisy = ("{} head head head",)
    ensembled = ("{}", "{} image", "{} head head head")
    x = torch.tensor([[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0]])
    margin = []
    for templates in (noisy, ensembled):
        sims = ZeroShotClassifier(encode, ["ct", "mr"], templates).similarities(x)
        margin.append(float((sims[0, 0] - sims[0, 1]) + (sims[1, 1] - sims[1, 0])))
    assert margin[1] > margin[0] > 0


@pytest.mark.parametrize(
    ("classes", "templates", "match"),
    [
        ([], ("{}",), r"classes=\[\]; give at least two classes"),
        ({}, ("{}",), "classes={}; give at least two classes"),
        ({"CT": [], "MR": ["mr"]}, ("{}",), "class 'CT' has an empty description list"),
        ({"CT": ["ct", " "], "MR": ["mr"]}, ("{}",), "class 'CT' has an empty"),
        ({"CT": "ct", "MR": ["mr"]}, ("{}",), "class 'CT' maps to 'ct'"),
        (["ct", "ct"], ("{}",), "class 'ct' is listed twice"),
        ("ct", ("{}",), "classes is a str"),
        (["ct", "mr"], (), r"templates=\(\); give a non-empty list"),
        (["ct", "mr"], ("no slot",), "template 'no slot' must be a string containing"),
        (["ct", "mr"], "{}", "templates='{}'"),
    ],
)
def test_bad_classes_and_templates(classes: object, templates: object, match: str) -> None:
    with pytest.raises(InvalidParameterError, match=rf"ZeroShotClassifier: {match}"):
        ZeroShotClassifier(encode, classes, templates)  # type: ignore[arg-type]


def test_bad_encoder_output_and_embeddings() -> None:
    broken = ZeroShotClassifier(lambda ps: torch.zeros(len(ps) + 1, 4), ["ct", "mr"])
    with pytest.raises(InvalidParameterError, match=r"encode_text returned \(9, 4\) for 8"):
        broken.fit()
    clf = ZeroShotClassifier(encode, ["ct", "mr"])
    with pytest.raises(InvalidParameterError, match=r"embeddings have shape \(2, 3\)"):
        clf.predict(torch.ones(2, 3))
    with pytest.raises(InvalidParameterError, match="row 1 of x has L2 norm 0"):
        clf.predict(torch.tensor([[1.0, 0, 0, 0], [0.0, 0, 0, 0]]))
    with pytest.raises(InvalidParameterError, match=r"unknown labels \['XR'\]"):
        clf.score(torch.eye(4)[:2], ["ct", "XR"])
    with pytest.raises(InvalidParameterError, match="scale=0"):
        ZeroShotClassifier(encode, ["ct", "mr"], scale=0)
