"""The single-modality baseline, ``method="unimodal:<modality>"``.

It is the intermediate network (:mod:`medmodal.fusion.intermediate`) fitted on one
modality alone: the estimator keeps only the modality named after the colon, so the
baseline differs from the fusion strategies in its input only, not in its encoder,
head or training.

Example:
    >>> from medmodal.fusion._base import resolve_method
    >>> spec = resolve_method("unimodal:clinical")
    >>> spec.modalities, spec.network.__name__
    (('clinical',), 'UnimodalBaseline')
"""

from __future__ import annotations

from medmodal.fusion._base import FUSION_METHODS
from medmodal.fusion.intermediate import IntermediateFusion


@FUSION_METHODS.register(
    "unimodal",
    description="single-modality baseline, 'unimodal:<modality>': the intermediate "
    "network on that modality alone",
)
class UnimodalBaseline(IntermediateFusion):
    """:class:`~medmodal.fusion.intermediate.IntermediateFusion` over one modality."""

    takes_modality = True
