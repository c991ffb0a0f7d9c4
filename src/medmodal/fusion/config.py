"""Fusion configurations: a model part and a training part, dataclasses that reject unknown keys.

:class:`FusionConfig` says how the network is built (strategy, widths, dropout, missing
modalities); :class:`FusionTrainConfig` says how it is fitted. Both round-trip JSON, and
:class:`~medmodal.fusion.estimator.FusionClassifier` builds them from its parameters.

Example:
    >>> from medmodal.fusion.config import FusionConfig
    >>> cfg = FusionConfig.from_dict({"method": "late", "combiner": "stacking"})
    >>> cfg.combiner
    'stacking'
    >>> FusionConfig.from_json(cfg.to_json()) == cfg
    True
    >>> FusionConfig.from_dict({"hiden": 32})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    medmodal.errors.InvalidParameterError: FusionConfig: unknown key 'hiden' (did you mean ...
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any, TypeVar

from medmodal._config import check_fields
from medmodal.errors import InvalidParameterError

C = TypeVar("C", bound="_JsonConfig")

#: Input kinds an encoder can be chosen for.
KINDS = ("tabular", "signal", "embedding")
#: How late fusion combines the per-modality models.
COMBINERS = ("mean", "weighted", "stacking")


class _JsonConfig:
    """from_dict / to_dict / JSON for frozen dataclasses, rejecting unknown keys."""

    @classmethod
    def from_dict(cls: type[C], data: dict[str, Any]) -> C:
        """Build from a mapping; unknown keys raise with a suggestion."""
        return cls(**check_fields(cls, data))

    @classmethod
    def from_json(cls: type[C], text: str) -> C:
        """Build from a JSON string."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidParameterError(f"{cls.__name__}: invalid JSON ({exc})") from None
        return cls.from_dict(data)

    def to_dict(self) -> dict[str, Any]:
        """Plain-data copy (tuples become lists in JSON)."""
        return dataclasses.asdict(self)  # type: ignore[call-overload]

    def to_json(self) -> str:
        """The configuration as JSON."""
        return json.dumps(self.to_dict(), sort_keys=True)


def _check_positive(where: str, **values: float) -> None:
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise InvalidParameterError(f"{where}: {name} must be > 0, got {value!r}")


def _check_fraction(where: str, name: str, value: float, *, upper: float = 1.0) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < upper:
        raise InvalidParameterError(f"{where}: {name} must be in [0, {upper}), got {value!r}")


@dataclass(frozen=True)
class FusionConfig(_JsonConfig):
    """How a fusion network is built."""

    method: str = "intermediate"  # registered strategy (see fusion.available_methods())
    hidden: int = 64  # encoder / latent / token width
    depth: int = 1  # hidden layers of the encoder MLPs and of the head
    dropout: float = 0.2  # dropout inside encoders and head
    modality_dropout: float = 0.0  # training: chance to hide each present modality
    num_heads: int = 4  # attention: heads (hidden must be divisible by it)
    combiner: str = "mean"  # late: mean (average posteriors), weighted or stacking
    signal_width: int = 32  # signal encoder: channels of the first blocks
    signal_depth: int = 3  # signal encoder: residual blocks
    kinds: dict[str, str] = field(default_factory=dict)  # modality -> kind (default: by ndim)

    def __post_init__(self) -> None:
        where = "FusionConfig"
        _check_positive(where, hidden=self.hidden, num_heads=self.num_heads)
        _check_positive(where, signal_width=self.signal_width, signal_depth=self.signal_depth)
        if not isinstance(self.depth, int) or self.depth < 0:
            raise InvalidParameterError(f"{where}: depth must be an int >= 0, got {self.depth!r}")
        _check_fraction(where, "dropout", self.dropout)
        _check_fraction(where, "modality_dropout", self.modality_dropout)
        if self.combiner not in COMBINERS:
            raise InvalidParameterError(
                f"{where}: combiner must be one of {', '.join(COMBINERS)}, got {self.combiner!r}"
            )
        for name, kind in dict(self.kinds).items():
            if kind not in KINDS:
                raise InvalidParameterError(
                    f"{where}: kind of modality {name!r} must be one of {', '.join(KINDS)}, "
                    f"got {kind!r}"
                )


@dataclass(frozen=True)
class FusionTrainConfig(_JsonConfig):
    """How a fusion network is fitted (full-batch tensors, shuffled minibatches, AdamW).

    Not :class:`medmodal.train.TrainConfig`, the settings of the general loop
    :func:`medmodal.train.fit` (warm-up + cosine schedule, clipping, checkpoints): a
    fusion fit is a few seconds over tensors in memory, with a constant learning rate and
    early stopping on an internal validation split.
    """

    epochs: int = 100  # maximum passes over the training data
    batch_size: int = 256  # samples per optimisation step
    lr: float = 1e-3  # AdamW learning rate
    weight_decay: float = 1e-2  # AdamW decoupled weight decay
    patience: int = 10  # early stopping: epochs without validation improvement
    validation_fraction: float = 0.15  # held out (stratified / by group) for early stopping
    class_weight: str | None = None  # None or "balanced" (inverse class frequency)
    random_state: int = 0  # seeds initialisation, shuffling, dropout and the split
    num_threads: int | None = None  # torch.set_num_threads during fit/predict (None: as is)
    verbose: bool = True  # tqdm progress bar over epochs

    def __post_init__(self) -> None:
        where = "FusionTrainConfig"
        for name in ("epochs", "batch_size", "patience"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InvalidParameterError(f"{where}: {name} must be an int >= 1, got {value!r}")
        _check_positive(where, lr=self.lr)
        if self.weight_decay < 0:
            raise InvalidParameterError(f"{where}: weight_decay must be >= 0")
        _check_fraction(where, "validation_fraction", self.validation_fraction, upper=0.9)
        if self.class_weight not in (None, "balanced"):
            raise InvalidParameterError(
                f"{where}: class_weight must be None or 'balanced', got {self.class_weight!r}"
            )
        if self.num_threads is not None and (
            not isinstance(self.num_threads, int) or self.num_threads < 1
        ):
            raise InvalidParameterError(
                f"{where}: num_threads must be None or an int >= 1, got {self.num_threads!r}"
            )
