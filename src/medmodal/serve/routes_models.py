"""``GET /v1/models``, ``POST /v1/fusion/predict``, ``POST /v1/align/search`` and
``GET /v1/align/images/{model}/{image_id}``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Path, UploadFile
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool

from medmodal.serve._errors import ServiceError
from medmodal.serve.model_store import ModelStore
from medmodal.serve.routes_ecg import ERRORS
from medmodal.serve.schemas import (
    AlignResult,
    ErrorResponse,
    FusionPrediction,
    FusionRequest,
    ModelEntry,
    ModelList,
)

_MODEL_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    404: {"model": ErrorResponse, "description": "no such model (or no models folder)"},
    503: {"model": ErrorResponse, "description": "this kind of model cannot be served yet"},
}
#: Largest image accepted by ``/v1/align/search`` (bytes of the encoded file).
MAX_IMAGE_BYTES = 10 * 1024 * 1024


#: The parts of a checkpoint's config.json shown by ``GET /v1/models`` (the training
#: config is left out: it can hold the server's folders).
PUBLIC_KEYS = ("format", "version", "model_class", "model_config", "state")


def public(config: dict[str, Any]) -> dict[str, Any]:
    """What ``GET /v1/models`` shows of a model's config."""
    if config.get("format") == "medmodal-checkpoint":
        return {k: config[k] for k in PUBLIC_KEYS if k in config}
    return {k: v for k, v in config.items() if k not in ("train_config", "paths", "data_root")}


def models_router(store: ModelStore) -> APIRouter:
    """The model routes, bound to ``store``."""
    router = APIRouter(prefix="/v1", tags=["models"])

    @router.get("/models", response_model=ModelList, responses=ERRORS)
    async def list_models() -> Any:
        """The saved models in the models folder and whether each is loaded."""
        entries = [
            ModelEntry(
                name=m.name, kind=m.kind, loaded=store.is_loaded(m.name), config=public(m.config)
            )
            for m in (await run_in_threadpool(store.scan)).values()
        ]
        return ModelList(models_dir_configured=store.configured, models=entries)

    @router.post("/fusion/predict", response_model=FusionPrediction, responses=_MODEL_ERRORS)
    async def fusion_predict(request: FusionRequest) -> Any:
        """Class probabilities from a saved fusion model for one or more samples."""

        def run() -> Any:
            return store.get(request.model, "fusion").predict(request.inputs)

        return await run_in_threadpool(run)

    @router.post("/align/search", response_model=AlignResult, responses=_MODEL_ERRORS)
    async def align_search(
        model: Annotated[str, Form(min_length=1, max_length=128)],
        text: Annotated[
            str | None, Form(max_length=2000, description="query text -> nearest images")
        ] = None,
        image: Annotated[  # not "| None": a multipart part cannot be null (the schema says so)
            UploadFile, File(description="query image (PNG/JPEG) -> nearest captions")
        ] = None,  # type: ignore[assignment]
        top_k: Annotated[int, Form(ge=1, le=100)] = 5,
    ) -> Any:
        """Nearest gallery images for a text, or nearest captions for an image."""
        if (text is None or not text.strip()) == (image is None):
            raise ServiceError(422, "send exactly one of 'text' or 'image'", field="text")
        data = None if image is None else await image.read(MAX_IMAGE_BYTES + 1)
        if data is not None and len(data) > MAX_IMAGE_BYTES:
            raise ServiceError(413, f"image larger than {MAX_IMAGE_BYTES} bytes", field="image")

        def run() -> Any:
            searcher = store.get(model, "align")
            if data is None:
                return searcher.search_text(str(text), top_k)
            return searcher.search_image(data, top_k)

        return await run_in_threadpool(run)

    @router.get(
        "/align/images/{model}/{image_id:path}",
        response_class=FileResponse,
        responses={**_MODEL_ERRORS, 200: {"content": {"image/png": {}}}},
    )
    async def align_image(
        model: Annotated[str, Path(min_length=1, max_length=128)],
        image_id: Annotated[str, Path(min_length=1, max_length=256)],
    ) -> Any:
        """The PNG of one gallery image (the ``image_url`` of a search hit)."""

        def run() -> Any:
            return store.get(model, "align").image_file(image_id)

        path = await run_in_threadpool(run)
        return FileResponse(path, media_type="image/png")

    return router
