"""Zero-shot prompts of the alignment tasks: class descriptions and their templates.

Example:
    >>> from medmodal.align import medpix_prompts
    >>> prompts = medpix_prompts()
    >>> sorted(prompts), sorted(prompts["modality"].classes)
    (['location_category', 'modality', 'plane'], ['CT', 'MR'])
    >>> prompts["modality"].templates[-1]
    'a {} image of the reproductive and urinary system'
"""

from __future__ import annotations

from dataclasses import dataclass

from medmodal.data.medpix import MODALITIES
from medmodal.errors import InvalidParameterError

__all__ = ["ECG_PROMPTS", "PromptSet", "medpix_prompts", "ptbxl_prompts"]

_PLANES = ("axial", "coronal", "sagittal")
_REGIONS = {
    "Head": ["head", "head (brain and neuro)"],
    "Spine and Muscles": ["spine and muscles", "spine and muscles (musculoskeletal)"],
    "Thorax": ["thorax", "thorax (chest, pulmonary)"],
    "Abdomen": ["abdomen", "abdomen (gastrointestinal)"],
    "Reproductive and Urinary System": [
        "reproductive and urinary system",
        "reproductive and urinary system (genitourinary)",
    ],
}


@dataclass(frozen=True)
class PromptSet:
    """The prompts of one zero-shot label.

    Attributes:
        classes: class name -> descriptions (each filled into every template).
        templates: prompt templates with one ``{}``.
    """

    classes: dict[str, list[str]]
    templates: tuple[str, ...] = ("{}",)


def medpix_prompts(style: str = "all") -> dict[str, PromptSet]:
    """Prompts of the MedPix labels (modality, body region, plane).

    Args:
        style: ``"all"``: templates that mirror the structured header of the training
            texts ("CT, axial, head") and plain sentences ("a CT image of the head"), for
            prompted classification; ``"plain"``: the plain sentences only, for true
            zero-shot (no prompt is shaped like a training text).

    Raises:
        InvalidParameterError: an unknown ``style``.
    """
    if style not in ("all", "plain"):
        raise InvalidParameterError(
            f"medpix_prompts: style must be 'all' or 'plain', got {style!r}"
        )
    plain = style == "plain"
    regions = [d[0] for d in _REGIONS.values()]
    header = not plain
    modality_templates = tuple(
        [f"{{}}, {p}, {r}" for p in _PLANES for r in regions if header]
        + [f"a {{}} image of the {r}" for r in regions]
    )
    region_templates = tuple(
        [f"{m}, {p}, {{}}" for m in MODALITIES for p in _PLANES if header]
        + [f"a {m} image of the {{}}" for m in MODALITIES]
    )
    plane_templates = tuple(
        [f"{m}, {{}}, {r}" for m in MODALITIES for r in regions if header]
        + [f"a {{}} {m} image" for m in MODALITIES]
    )
    return {
        "modality": PromptSet({"CT": ["CT"], "MR": ["MR"]}, modality_templates),
        "location_category": PromptSet(dict(_REGIONS), region_templates),
        "plane": PromptSet({p.capitalize(): [p] for p in _PLANES}, plane_templates),
    }


#: Normal-vs-abnormal descriptions of the PTB-XL zero-shot label (English and German).
ECG_PROMPTS: dict[str, list[str]] = {
    "normal": ["normal ECG", "sinus rhythm, normal ECG", "sinusrhythmus normales ekg"],
    "abnormal": [
        "abnormal ECG",
        "myocardial infarction",
        "ST-T changes",
        "conduction disturbance, bundle branch block",
        "left ventricular hypertrophy",
        "pathologisches ekg",
    ],
}


def ptbxl_prompts() -> dict[str, PromptSet]:
    """Prompts of the PTB-XL zero-shot label ``normal`` (normal vs abnormal ECG)."""
    return {"normal": PromptSet({k: list(v) for k, v in ECG_PROMPTS.items()}, ("{}",))}
