"""What every fusion strategy shares: modality specs, the output dataclass, the registry.

``method=`` strings resolve here, once per fit (:func:`resolve_method`): a registered
name (or alias), or ``"<name>:<modality>"`` for a registered method that takes one
modality (``"unimodal:ecg"``, the single-modality baseline).

A strategy is an ``nn.Module`` subclass of :class:`FusionModel` built from the modality
specs, the number of outputs and a :class:`~medmodal.fusion.config.FusionConfig`; it
creates its layers in :meth:`FusionModel.build_layers` (the constructor is the base
class's). Its ``forward(inputs, present)`` takes one tensor per modality and a ``(B, M)``
presence mask (``False`` = the modality is missing for that sample) and returns a
:class:`FusionOutput`.
The base class gives every strategy its modality dropout and the per-modality encoders
(:meth:`FusionModel.build_encoders`, :meth:`FusionModel.encode`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar, cast

from torch import Tensor, nn

from medmodal.errors import InvalidParameterError
from medmodal.fusion.config import FusionConfig
from medmodal.fusion.encoders import ModalityEncoder, build_encoders
from medmodal.fusion.missing import ModalityDropout
from medmodal.registry import Registry


@dataclass(frozen=True)
class ModalitySpec:
    """One input modality: its name, input kind and the shape of one sample."""

    name: str
    kind: str  # tabular, signal or embedding
    shape: tuple[int, ...]  # per sample: (F,) tabular, (C, T) signal, (E,) or (L, E) embedding


@dataclass
class FusionOutput:
    """What a fusion network returns (fields a strategy does not produce are ``None``).

    Attributes:
        logits: ``(B, K)`` class logits (softmax) or label logits (sigmoid, multi-label).
        modality_logits: ``(B, M, K)`` per-modality logits (late fusion), trained each on
            its own loss.
        attention: per query modality, ``(B, H, T_q, T_kv)`` cross-attention weights
            (attention fusion with ``need_weights=True``).
        gates: ``(B, M)`` mean gate value of each modality (gated fusion).
    """

    logits: Tensor
    modality_logits: Tensor | None = None
    attention: dict[str, Tensor] | None = None
    gates: Tensor | None = None


class FusionModel(nn.Module):
    """Base class of the fusion strategies.

    Args:
        specs: the modalities, in the order of the presence mask's columns.
        num_outputs: classes (multi-class) or labels (multi-label).
        config: network configuration.
        multilabel: whether outputs are independent labels (sigmoid) or classes (softmax).

    Attributes:
        modality_dropout: hides present modalities at random in training mode
            (``config.modality_dropout``); strategies apply it to ``present`` first.
        encoders: per-modality encoders keyed by name, when a strategy sets it from
            :meth:`build_encoders`.
    """

    encoders: nn.ModuleDict
    #: Whether the method's name takes one modality, written ``"<name>:<modality>"``
    #: (the estimator then fits on that modality alone).
    takes_modality: ClassVar[bool] = False

    def __init__(
        self,
        specs: Sequence[ModalitySpec],
        num_outputs: int,
        config: FusionConfig,
        *,
        multilabel: bool = False,
    ) -> None:
        super().__init__()
        self.specs = tuple(specs)
        self.names = tuple(s.name for s in self.specs)
        self.num_outputs = num_outputs
        self.config = config
        self.multilabel = multilabel
        self.modality_dropout = ModalityDropout(config.modality_dropout)
        self.build_layers()

    def build_layers(self) -> None:
        """Create the strategy's layers from ``self.specs``, ``self.num_outputs``, ``self.config``.

        Called once at the end of ``__init__``; every strategy overrides it.
        """
        raise NotImplementedError

    def build_encoders(self, kinds: Collection[str] | None = None) -> nn.ModuleDict:
        """One encoder per modality by its kind (only those of ``kinds`` when given).

        Strategies call it before creating their other layers, so that a seed gives the
        encoders the same initial weights in every strategy.
        """
        return build_encoders(self.specs, self.config, kinds=kinds)

    def encoder(self, name: str) -> ModalityEncoder:
        """The encoder of modality ``name`` in ``self.encoders``."""
        return cast(ModalityEncoder, self.encoders[name])

    def encode(self, inputs: Mapping[str, Tensor]) -> list[Tensor]:
        """Each modality's pooled encoding ``(B, D)``, in the order of ``self.names``."""
        return [self.encoders[name](inputs[name]) for name in self.names]

    def forward(
        self, inputs: Mapping[str, Tensor], present: Tensor, *, need_weights: bool = False
    ) -> FusionOutput:
        """``inputs[name]``: ``(B, *shape)``; ``present``: ``(B, M)`` bool."""
        raise NotImplementedError


#: Fusion strategies by name (filled by the strategy modules on import of medmodal.fusion).
FUSION_METHODS: Registry[type[FusionModel]] = Registry("fusion method")


@dataclass(frozen=True)
class FusionMethod:
    """A ``method=`` string resolved through :data:`FUSION_METHODS`.

    Attributes:
        name: the registered strategy (canonical name, aliases resolved).
        modalities: the modalities the method fixes (``("ecg",)`` for
            ``"unimodal:ecg"``), or None when the estimator's ``modalities`` decide.
    """

    name: str
    modalities: tuple[str, ...] | None = None

    @property
    def network(self) -> type[FusionModel]:
        """The registered network class."""
        return FUSION_METHODS.get(self.name)


def resolve_method(method: str) -> FusionMethod:
    """Resolve ``method`` (a registered name or alias, or ``"<name>:<modality>"``).

    Example:
        >>> import medmodal.fusion  # registers the strategies
        >>> resolve_method("joint").name, resolve_method("Unimodal:ecg").modalities
        ('intermediate', ('ecg',))

    Raises:
        InvalidParameterError: an unknown name (with suggestions), a method that takes a
            modality written without one, or a modality given to one that takes none.
    """
    head, colon, modality = method.partition(":") if isinstance(method, str) else (method, "", "")
    name = FUSION_METHODS.resolve(head)
    takes = FUSION_METHODS.get(name).takes_modality
    if takes and not modality.strip():
        raise InvalidParameterError(
            f"FusionClassifier: write the {name} method as '{name}:<modality>', got {method!r}"
        )
    if colon and not takes:
        raise InvalidParameterError(
            f"FusionClassifier: method {name!r} takes no modality, got {method!r}; "
            f"single-modality baselines are 'unimodal:<modality>'"
        )
    return FusionMethod(name, (modality.strip(),) if takes else None)
