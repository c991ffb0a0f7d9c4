"""The alignment section on real pairs: MedPix 2.0 CT/MR images and captions (``--data-root``).

A small ``medpix-clip`` (a 4-stage ResNet image tower at :data:`IMAGE_SIZE` px and the
frozen all-MiniLM-L6-v2 text tower shipped with the package, each with a projection
head) is trained with the symmetric InfoNCE loss on the data set's own train split for a
few epochs, early-stopped on retrieval over the val split (a patient-clean tenth of the
train patients), then scored once on the dev split (other patients): retrieval in both
directions and the "prompted classification" of modality / body region / plane (the
structured captions name them, so this is not zero-shot; the task's "zero-shot"
evaluation is the one that is). The task,
its recipe and its evaluation are :mod:`medmodal.align`'s, as for ``medmodal align train``;
the model is smaller than ``align train``'s default (the ImageNet-pretrained
``medpix-clip-effnet``, chosen on val) to keep the demo short.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from medmodal.report.section import (
    ReportFigure,
    ReportTable,
    SectionContent,
    SectionContext,
)

if TYPE_CHECKING:
    from medmodal.align import AlignEvaluation, PairEmbeddings
    from medmodal.train import TrainResult

__all__ = ["EPOCHS", "IMAGE_SIZE", "MODEL", "build_medpix"]

#: Image side (px) and epochs of a full run (``--quick``: half the epochs).
IMAGE_SIZE, EPOCHS = 64, 8
#: The demo's medpix-clip: narrower image tower and embedding than the benchmark's.
MODEL: dict[str, Any] = {
    "embed_dim": 64,
    "image": {"widths": [8, 16, 32, 64], "image_size": IMAGE_SIZE},
    "text": {"max_length": 64},  # the structured header comes first; encoding is the cost
    "image_head": {"hidden": 128},
    "text_head": {"hidden": 128},
}


def build_medpix(ctx: SectionContext) -> SectionContent:
    """The alignment section trained and evaluated on MedPix 2.0 under ``ctx.data_root``."""
    from medmodal._torch import num_threads
    from medmodal.align import MedPixTask, embed_pairs
    from medmodal.models import create_model
    from medmodal.train import fit_alignment, seed_everything

    task = MedPixTask()
    load: dict[str, Any] = {"root": ctx.data_root, "image_size": IMAGE_SIZE, "seed": ctx.seed}
    train_set = task.load(task.train_split, augment=True, **load)
    val_set = task.load(task.val_split, augment=False, **load)
    test_set = task.load(task.test_split, augment=False, **load)
    with num_threads(1):
        seed_everything(ctx.seed)  # initial weights too
        model = create_model("medpix-clip", **MODEL)
        recipe = task.train_config(
            epochs=ctx.scale(EPOCHS, minimum=2), seed=ctx.seed, patience=4,
            progress=ctx.progress, tensorboard=False, device="cpu",
        )  # fmt: skip
        result = fit_alignment(model, task, train_set, val_set, recipe)
        evaluation = task.evaluate(model, test_set, split=task.test_split)
        embeddings = embed_pairs(model, test_set, modalities=task.modalities)
    modality = test_set.labels["modality"].astype(str).tolist()
    figures = _figures(ctx, result, embeddings, modality)
    return _content(ctx, len(train_set), evaluation, result, figures)


def _zero_shot_table(evaluation: AlignEvaluation) -> pd.DataFrame:
    names = {"modality": "CT vs MR", "location_category": "body region (5)", "plane": "plane (3)"}
    return pd.DataFrame(
        {
            "task": [names.get(k, k) for k in evaluation.zero_shot],
            "accuracy": list(evaluation.zero_shot.values()),
            "majority class": [evaluation.zero_shot_chance[k] for k in evaluation.zero_shot],
        }
    )


def _content(
    ctx: SectionContext,
    n_train: int,
    ev: AlignEvaluation,
    result: TrainResult,
    figures: list[ReportFigure],
) -> SectionContent:
    from medmodal.align import MEDPIX_DEFAULT_MODELS

    r10 = ev.retrieval.recall(10, "a_to_b")
    t10 = ev.retrieval.recall(10, "b_to_a")
    chance10 = ev.retrieval.chance_recall(10)
    zs = ev.zero_shot
    return SectionContent(
        title="Contrastive image-caption alignment on MedPix 2.0 and prompted classification",
        intro=(
            f"Real pairs: {n_train} CT and MR images of the MedPix 2.0 train split (from "
            f"{ctx.data_root}) with their captions (modality, plane, body region and the "
            f"case's caption) train a small medpix-clip at {IMAGE_SIZE} px: a ResNet image "
            "tower and the pretrained all-MiniLM-L6-v2 text tower (frozen, shipped with the "
            "package, no download), each with a projection head, with the symmetric InfoNCE "
            f"loss for up to {result.epochs_run} epochs, early-stopped on retrieval over the "
            "val split (a patient-clean tenth of the train patients). The "
            f"{ev.n} images of the data set's own dev split (other patients) are then scored "
            "once: retrieval both ways and prompted classification (class prompts matched "
            "to images; the training captions name modality, plane and region, so the labels "
            "were training targets: this is not zero-shot). This small model keeps the "
            "demo short; `medmodal align train` trains the ImageNet-pretrained "
            f"{MEDPIX_DEFAULT_MODELS['prompted']} that the val split chose "
            "(benchmarks/results/align_medpix_compare.md)."
        ),
        tables=[
            ReportTable(
                "Retrieval on the MedPix dev split (scored once)",
                ev.to_frame(),
                float_format="{:.2f}",
                note=f"R@k = share of queries whose own partner is among the top k of {ev.n} "
                "candidates (several images of a case can share a caption, so a strict "
                "partner match undercounts); ranks are 1-based.",
            ),
            ReportTable(
                "Prompted classification (dev split; not zero-shot)",
                _zero_shot_table(ev),
                note="Class prompts such as 'a CT image of the head' in several templates, "
                "averaged per class; 'majority class' is what always answering the most "
                "common class scores. True zero-shot (free-text captions only, prompts never "
                "a training text): `medmodal align train --evaluation zero-shot` and "
                "benchmarks/results/align_medpix.md.",
            ),
        ],
        figures=figures,
        meaning=(
            f"Data: real MedPix 2.0 images and captions, not simulations. Image → caption "
            f"R@10 {r10:.2f} and caption → image {t10:.2f} against {chance10:.2f} at random: "
            f"a few CPU minutes at {IMAGE_SIZE} px already give a shared space well above "
            f"chance. Prompted CT vs MR {zs.get('modality', float('nan')):.2f} (majority "
            f"{ev.zero_shot_chance.get('modality', float('nan')):.2f}) and body region "
            f"{zs.get('location_category', float('nan')):.2f} (majority "
            f"{ev.zero_shot_chance.get('location_category', float('nan')):.2f}) show how much "
            "of the captions' structure the image tower picked up; where a score sits near "
            "its majority rate, the model has not learned that property. A demo-sized run: "
            "the benchmark's larger images and longer training do better "
            "(benchmarks/results/align_medpix.md)."
        ),
        headline=(
            f"MedPix dev image→caption R@10 {r10:.2f} (chance {chance10:.2f}), prompted "
            f"CT/MR {zs.get('modality', float('nan')):.2f}"
        ),
        metrics={
            "data": "medpix",
            "evaluation": ev.evaluation,
            "split": ev.split,
            "retrieval": ev.retrieval.to_dict(),
            "zero_shot": dict(zs),
            "zero_shot_majority": dict(ev.zero_shot_chance),
            "epochs_run": int(result.epochs_run),
            "best_epoch": result.best_epoch,
        },
    )


def _figures(
    ctx: SectionContext, result: TrainResult, emb: PairEmbeddings, modality: list[str]
) -> list[ReportFigure]:
    from medmodal.report._align_plots import alignment_figures

    return alignment_figures(
        ctx, result, emb.similarity(), (emb.a.numpy(), emb.b.numpy()), modality,
        names=("image", "caption"),
        titles=(
            "MedPix image-caption training",
            "Shared embedding space, MedPix dev (PCA of both modalities)",
        ),
        captions=(
            "Training on MedPix 2.0: contrastive loss on train and val pairs, val retrieval "
            "recall (mean of both directions; the best epoch is marked) and the learning rate.",
            "Cosine similarity of every dev image (rows) with every dev caption (columns), "
            "sorted by modality (CT, MR).",
            "The shared embedding space in 2-D (PCA of images and captions together), "
            "coloured by modality, each image joined to its own caption.",
        ),
    )  # fmt: skip
