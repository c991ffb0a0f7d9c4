"""GET /v1/models, POST /v1/fusion/predict and POST /v1/align/search on saved models."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pytest
from fastapi.testclient import TestClient

torch = pytest.importorskip("torch")

from tests.serve._align_models import (  # noqa: E402
    CAPTIONS,
    CASES,
    IMAGE_IDS,
    SIZE,
)
from tests.serve._align_models import png_query as _png  # noqa: E402
from tests.serve._align_models import save_image_model as _save_image_model  # noqa: E402

from medmodal.serve.gallery import GALLERY_IMAGES, GALLERY_JSON, GALLERY_TENSORS  # noqa: E402


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A models folder: a tiny align model with a gallery, a fusion stand-in, a non-model."""
    root = tmp_path_factory.mktemp("models")
    _save_image_model(root / "tiny-image")
    fusion = root / "tiny-fusion"
    fusion.mkdir()
    (fusion / "config.json").write_text(
        json.dumps({"format": "medmodal-checkpoint", "model_class": "medmodal.fusion.X"})
    )
    (fusion / "model.safetensors").write_bytes(b"")
    (root / "not-a-model").mkdir()
    return root


@pytest.fixture
def model_client(make_client: Callable[..., TestClient], models_dir: Path) -> TestClient:
    return make_client(models_dir=models_dir)


def _error(r: object, status: int, field: str | None) -> str:
    assert r.status_code == status, r.text  # type: ignore[attr-defined]
    error = r.json()["error"]  # type: ignore[attr-defined]
    assert error["field"] == field
    return str(error["message"])


def test_list_models(model_client: TestClient) -> None:
    body = model_client.get("/v1/models").json()
    assert body["models_dir_configured"] is True
    kinds = {m["name"]: (m["kind"], m["loaded"]) for m in body["models"]}
    assert kinds == {"tiny-image": ("align", False), "tiny-fusion": ("fusion", False)}
    image = next(m for m in body["models"] if m["name"] == "tiny-image")
    assert image["config"]["model_config"]["embed_dim"] == 16
    assert "train_config" not in image["config"]  # it may name the server's folders


def test_list_models_without_a_folder(client: TestClient) -> None:
    assert client.get("/v1/models").json() == {"models_dir_configured": False, "models": []}
    assert client.get("/health").json()["models_dir_configured"] is False


@pytest.mark.parametrize("k", [0, 1, 2])
def test_image_query_finds_its_caption(model_client: TestClient, models_dir: Path, k: int) -> None:
    png, _ = _png(k)
    r = model_client.post(
        "/v1/align/search",
        data={"model": "tiny-image", "top_k": "2"},
        files={"image": ("q.png", png, "image/png")},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["query"] == "image"
    assert [h["rank"] for h in body["hits"]] == [1, 2]
    top = body["hits"][0]
    assert top["caption"] == CAPTIONS[k]
    assert (top["image_id"], top["case_id"]) == (IMAGE_IDS[k], CASES[k])
    assert top["image_url"] == f"/v1/align/images/tiny-image/{quote(IMAGE_IDS[k], safe='')}"
    served = model_client.get(top["image_url"])
    assert served.status_code == 200 and served.headers["content-type"] == "image/png"
    assert served.content == png  # the gallery's own image
    assert body["hits"][0]["score"] == pytest.approx(1.0, abs=1e-4)
    assert body["hits"][1]["score"] < body["hits"][0]["score"]
    models = model_client.get("/v1/models").json()["models"]
    assert {m["name"]: m["loaded"] for m in models}["tiny-image"] is True


def test_align_errors(model_client: TestClient) -> None:
    url = "/v1/align/search"
    png, _ = _png(0)
    image = {"image": ("q.png", png, "image/png")}
    _error(model_client.post(url, data={"model": "tiny-image"}), 422, "text")
    _error(
        model_client.post(url, data={"model": "tiny-image", "text": "x"}, files=image), 422, "text"
    )
    # no text tower: a text query cannot be encoded; no image gallery either
    _error(model_client.post(url, data={"model": "tiny-image", "text": "a CT"}), 422, "model")
    bad = {"image": ("q.png", b"not an image", "image/png")}
    _error(model_client.post(url, data={"model": "tiny-image"}, files=bad), 422, "image")
    assert "no align model named 'nope'" in _error(
        model_client.post(url, data={"model": "nope", "text": "x"}), 404, "model"
    )
    message = _error(
        model_client.post(url, data={"model": "tiny-fusion", "text": "x"}), 422, "model"
    )
    assert "fusion model" in message
    _error(
        model_client.post(url, data={"model": "tiny-image", "text": "x", "top_k": "0"}),
        422,
        "top_k",
    )


def test_align_image_route_errors(
    model_client: TestClient, make_client: Callable[..., TestClient], tmp_path: Path
) -> None:
    """Unknown image, unknown model, a fusion model, or a gallery without PNGs: 4xx JSON."""
    url = "/v1/align/images"
    message = _error(model_client.get(f"{url}/tiny-image/no-such-image"), 404, "image_id")
    assert "no gallery image 'no-such-image'" in message
    _error(model_client.get(f"{url}/nope/img-2"), 404, "model")
    assert "fusion model" in _error(model_client.get(f"{url}/tiny-fusion/img-2"), 422, "model")
    _error(model_client.get(f"{url}/tiny-image/{'x' * 300}"), 422, "image_id")
    # the same model and gallery without its PNG folder: no URLs, and the route is a 404
    import shutil

    bare = tmp_path / "models" / "bare"
    _save_image_model(bare)
    shutil.rmtree(bare / GALLERY_IMAGES)
    client = make_client(models_dir=tmp_path / "models")
    png, _ = _png(2)
    r = client.post("/v1/align/search", data={"model": "bare"}, files={"image": ("q.png", png)})
    assert r.status_code == 200, r.text
    top = r.json()["hits"][0]
    assert (top["caption"], top["image_id"], top["image_url"]) == (CAPTIONS[2], "img-2", None)
    _error(client.get(f"{url}/bare/img-2"), 404, "image_id")


def test_fusion_errors(model_client: TestClient, client: TestClient) -> None:
    url = "/v1/fusion/predict"
    body = {"model": "tiny-fusion", "inputs": {"ecg": [[0.0, 1.0]]}}
    _error(client.post(url, json=body), 404, "model")  # no models folder at all
    _error(model_client.post(url, json={**body, "model": "nope"}), 404, "model")
    assert "align model" in _error(
        model_client.post(url, json={**body, "model": "tiny-image"}), 422, "model"
    )
    _error(model_client.post(url, json={"model": "tiny-fusion"}), 422, "inputs")
    _error(model_client.post(url, json={**body, "extra": 1}), 422, "extra")
    _error(
        model_client.post(url, content=b"{not json", headers={"content-type": "application/json"}),
        422,
        "body",
    )


def test_fusion_folder_without_real_weights_is_a_422(model_client: TestClient) -> None:
    r = model_client.post(
        "/v1/fusion/predict", json={"model": "tiny-fusion", "inputs": {"ecg": [[0.0]]}}
    )
    _error(r, 422, "model")


@pytest.mark.slow
def test_text_query_finds_its_image(make_client: Callable[..., TestClient], tmp_path: Path) -> None:
    """End to end with the real MiniLM text tower (slow: it loads the pretrained encoder)."""
    from safetensors.torch import save_file

    from medmodal.models import model_from_config
    from medmodal.train.checkpoint import save_checkpoint

    torch.manual_seed(0)
    folder = tmp_path / "models" / "tiny-clip"
    config = {
        "name": "tiny-clip",
        "embed_dim": 16,
        "image": {"widths": [8], "image_size": SIZE},
        "text": {},
    }
    model = model_from_config(config).eval()
    save_checkpoint(folder, model)
    captions = ["axial CT of the head", "sagittal MR of the spine", "chest radiograph"]
    with torch.no_grad():
        emb = model.encode_text(captions, normalize=True)
    save_file(
        {"image_embeddings": emb.contiguous(), "text_embeddings": emb.clone().contiguous()},
        str(folder / GALLERY_TENSORS),
    )
    names = {
        "image_ids": ["ct", "mr", "xr"],
        "captions": captions,
        "image_captions": [0, 1, 2],
        "image_cases": ["c1", "c2", "c3"],
    }
    (folder / GALLERY_JSON).write_text(json.dumps(names))
    (folder / GALLERY_IMAGES).mkdir()
    pngs = [_png(seed)[0] for seed in range(3)]
    for i, data in enumerate(pngs):
        (folder / GALLERY_IMAGES / f"{i:05d}.png").write_bytes(data)
    client = make_client(models_dir=tmp_path / "models")
    r = client.post(
        "/v1/align/search", data={"model": "tiny-clip", "text": captions[1], "top_k": 3}
    )
    assert r.status_code == 200, r.text
    hits = r.json()["hits"]
    assert (hits[0]["image_id"], hits[0]["caption"], hits[0]["case_id"]) == (
        "mr",
        captions[1],
        "c2",
    )
    assert hits[0]["score"] == pytest.approx(1.0, abs=1e-4)
    assert [h["rank"] for h in hits] == [1, 2, 3]
    assert client.get(hits[0]["image_url"]).content == pngs[1]
    assert all(h["caption"] in captions and h["image_url"] for h in hits)


def test_fusion_predict_with_a_saved_classifier(
    make_client: Callable[..., TestClient], tmp_path: Path
) -> None:
    """A FusionClassifier saved by the library is served: same probabilities as in process."""
    from medmodal.data.synthetic import make_multimodal_classification
    from medmodal.fusion import FusionClassifier

    data = make_multimodal_classification(200, seed=0)
    clf = FusionClassifier("early", epochs=15, batch_size=64, verbose=False, num_threads=1)
    clf.fit(data.X, data.y)
    clf.save(tmp_path / "models" / "tiny-fusion")
    model_client = make_client(models_dir=tmp_path / "models")
    listed = model_client.get("/v1/models").json()["models"]
    assert [(m["name"], m["kind"]) for m in listed] == [("tiny-fusion", "fusion")]
    rows = {name: values[:4].tolist() for name, values in data.X.items()}
    missing = next(iter(rows))
    rows[missing][3] = None  # one sample without this modality
    r = model_client.post("/v1/fusion/predict", json={"model": "tiny-fusion", "inputs": rows})
    assert r.status_code == 200, r.text
    body = r.json()
    X = {k: np.asarray(v[:4], dtype=float) for k, v in data.X.items()}
    X[missing][3] = np.nan
    expected = clf.predict_proba(X)
    np.testing.assert_allclose(body["probabilities"], expected, atol=1e-6)
    assert body["classes"] == [str(c) for c in clf.classes_]
    assert body["predictions"] == [str(c) for c in clf.predict(X)]
    ragged = {**rows, missing: rows[missing][:2]}
    r = model_client.post("/v1/fusion/predict", json={"model": "tiny-fusion", "inputs": ragged})
    assert r.status_code == 422 and r.json()["error"]["field"] == "inputs"
    bad = {**rows, missing: [["x"]] * 4}
    r = model_client.post("/v1/fusion/predict", json={"model": "tiny-fusion", "inputs": bad})
    assert r.status_code == 422 and r.json()["error"]["field"] == f"inputs.{missing}"


class _Exploit:
    """A pickle payload that would create a file if anything unpickled it."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (open, (str(self.marker), "w"))


def test_models_load_without_unpickling(
    make_client: Callable[..., TestClient], models_dir: Path, tmp_path: Path
) -> None:
    """A pickled file posing as weights is refused (422) and never executed."""
    import pickle
    import shutil

    root = tmp_path / "models"
    evil = root / "evil"
    evil.mkdir(parents=True)
    shutil.copy(models_dir / "tiny-image" / "config.json", evil / "config.json")
    marker = tmp_path / "pwned"
    (evil / "model.safetensors").write_bytes(pickle.dumps(_Exploit(marker)))
    client = make_client(models_dir=root)
    png, _ = _png(0)
    r = client.post(
        "/v1/align/search", data={"model": "evil"}, files={"image": ("q.png", png, "image/png")}
    )
    assert _error(r, 422, "model").startswith("model 'evil' cannot be loaded")
    assert not marker.exists()
    assert str(root) not in r.text  # no server paths in the answer


def test_gallery_round_trip(tmp_path: Path) -> None:
    """save_gallery encodes images with the model; load_gallery reads them back (no pickle)."""
    from medmodal.errors import DataFormatError, InvalidParameterError
    from medmodal.models import model_from_config
    from medmodal.serve.gallery import load_gallery, rank, save_gallery

    torch.manual_seed(0)
    model = model_from_config(
        {"name": "g", "embed_dim": 8, "image": {"widths": [8], "image_size": SIZE}}
    ).eval()
    images = torch.from_numpy(np.concatenate([_png(seed)[1] for seed in range(5)]))
    pixels = [np.full((SIZE, SIZE), 40 * i, dtype=np.uint8) for i in range(5)]
    ids = [f"img{i}" for i in range(5)]
    with pytest.raises(InvalidParameterError, match="2 pngs for 5 images"):
        save_gallery(tmp_path, model, images=images, image_ids=ids, pngs=pixels[:2])
    assert not (tmp_path / GALLERY_TENSORS).exists()  # refused before anything is written
    cases = ["a", "a", "b", "c", "c"]
    save_gallery(tmp_path, model, images=images, image_ids=ids, image_cases=cases, pngs=pixels)
    gallery = load_gallery(tmp_path)
    assert gallery is not None
    assert gallery.image_ids == ("img0", "img1", "img2", "img3", "img4")
    assert [gallery.image_case(i) for i in range(5)] == cases
    assert gallery.image_caption(0) is None  # no captions in this gallery
    from PIL import Image

    from medmodal.serve.gallery import image_path

    path = image_path(tmp_path, 3)
    assert path is not None and image_path(tmp_path, 5) is None
    with Image.open(path) as png:
        np.testing.assert_array_equal(np.asarray(png), pixels[3])
    assert gallery.image_embeddings.shape == (5, 8) and gallery.captions == ()
    np.testing.assert_allclose(np.linalg.norm(gallery.image_embeddings, axis=1), 1.0, atol=1e-5)
    best = rank(gallery.image_embeddings[3], gallery.image_embeddings, 2)
    assert best[0][0] == 3 and best[0][1] == pytest.approx(1.0, abs=1e-5)
    with pytest.raises(InvalidParameterError, match="image_ids"):
        save_gallery(tmp_path, model, images=images, image_ids=["only-one"])
    (tmp_path / GALLERY_JSON).write_text(json.dumps({"image_ids": ["a"], "captions": []}))
    with pytest.raises(DataFormatError, match="do not match"):
        load_gallery(tmp_path)
    assert load_gallery(tmp_path / "nowhere") is None


# ------------------------------------------------------------------ hostile (issue 13)


@pytest.mark.parametrize(("fmt", "accepted"), [("JPEG", True), ("TIFF", False), ("WEBP", False),
                                               ("BMP", False), ("GIF", False)])  # fmt: skip
def test_image_search_decodes_png_and_jpeg_only(
    model_client: TestClient, fmt: str, accepted: bool
) -> None:
    """Pillow's other decoders (TIFF, WEBP, EPS...) are never tried on an upload."""
    from PIL import Image

    pixels = np.random.default_rng(0).integers(0, 256, (SIZE, SIZE), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels, mode="L").save(buffer, format=fmt)
    r = model_client.post(
        "/v1/align/search",
        data={"model": "tiny-image"},
        files={"image": ("q.png", buffer.getvalue(), "image/png")},
    )
    if accepted:
        assert r.status_code == 200, r.text
    else:
        _error(r, 422, "image")


def test_image_is_not_nullable_in_the_schema(model_client: TestClient) -> None:
    """schemathesis sent ``image="null"`` because the schema allowed null; it no longer does,
    and a text field sent as ``image`` is a 422 naming it."""
    spec = model_client.get("/openapi.json").json()
    image = spec["components"]["schemas"]["Body_align_search_v1_align_search_post"]
    assert "anyOf" not in image["properties"]["image"]
    r = model_client.post("/v1/align/search", data={"model": "tiny-image", "image": "null"})
    _error(r, 422, "image")


@pytest.fixture(scope="module")
def fusion_models(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    from medmodal.data.synthetic import make_multimodal_classification
    from medmodal.fusion import FusionClassifier

    data = make_multimodal_classification(120, seed=0)
    clf = FusionClassifier("early", epochs=2, batch_size=64, verbose=False, num_threads=1)
    clf.fit(data.X, data.y)
    root = tmp_path_factory.mktemp("fusion-models")
    clf.save(root / "f")
    return root, {name: values[:3].tolist() for name, values in data.X.items()}


def test_fusion_predict_validates_every_sample(
    make_client: Callable[..., TestClient], fusion_models: tuple[Path, dict]
) -> None:
    """Old code broadcast ``[7]`` and ``7``, took strings and booleans as numbers, ignored
    unknown modalities and refused ``null`` in a batch of one."""
    root, rows = fusion_models
    client = make_client(models_dir=root)
    url = "/v1/fusion/predict"
    name = next(iter(rows))
    assert client.post(url, json={"model": "f", "inputs": rows}).status_code == 200
    for bad in ([7], 7, ["1"] * len(rows[name][0]), [True] * len(rows[name][0]), [[1.0]]):
        sample = {**rows, name: [bad, *rows[name][1:]]}
        r = client.post(url, json={"model": "f", "inputs": sample})
        _error(r, 422, f"inputs.{name}")
    r = client.post(url, json={"model": "f", "inputs": {**rows, "extra": [[1.0]] * 3}})
    assert "extra" in _error(r, 422, "inputs")
    one = {k: v[:1] for k, v in rows.items()}
    one[name] = [None]
    r = client.post(url, json={"model": "f", "inputs": one})
    assert r.status_code == 200, r.text
    assert len(r.json()["probabilities"]) == 1
