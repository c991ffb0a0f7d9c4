"""The contrastive multi-tower model: image, text and/or ECG towers with projection heads.

Each tower maps its input to features, a projection head maps the features to the shared
``embed_dim`` space, and ``forward`` returns the L2-normalised embeddings of the inputs
given with the (clamped) learnable log-scale, in one fixed :class:`CLIPOutput`. The loss
lives in :mod:`medmodal.align` (this layer knows nothing of it).

Example:
    >>> import torch
    >>> from medmodal.models.clip import CLIPModel
    >>> from medmodal.models.config import ModelConfig
    >>> _ = torch.manual_seed(0)
    >>> cfg = ModelConfig.from_dict(
    ...     {"name": "tiny", "embed_dim": 16, "image": {"widths": [8, 16], "image_size": 32},
    ...      "ecg": {"width": 8, "depth": 2, "out_dim": 16}})
    >>> model = CLIPModel(cfg).eval()
    >>> out = model(image=torch.randn(3, 1, 32, 32), ecg=torch.randn(3, 12, 500))
    >>> tuple(out.image.shape), tuple(out.ecg.shape), out.text is None
    ((3, 16), (3, 16), True)
    >>> float(out.image.norm(dim=-1).mean())
    1.0
    >>> round(float(out.logit_scale.detach().exp()), 2)  # 1 / 0.07
    14.29

References:
    Radford A et al. Learning transferable visual models from natural language
    supervision (CLIP). ICML (2021).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

import torch
from torch import Tensor, nn
from torch.nn.functional import normalize as l2_normalize

from medmodal.errors import InvalidParameterError
from medmodal.models.config import ModelConfig
from medmodal.models.heads import build_head


@dataclass
class CLIPOutput:
    """What :meth:`CLIPModel.forward` returns; modalities not given are ``None``."""

    image: Tensor | None  # (B, D) L2-normalised image embeddings
    text: Tensor | None  # (B, D) L2-normalised text embeddings
    ecg: Tensor | None  # (B, D) L2-normalised ECG embeddings
    logit_scale: Tensor  # () log of the logit scale (1 / temperature), clamped


class CLIPModel(nn.Module):
    """Towers + projection heads + a learnable temperature, built from a :class:`ModelConfig`.

    Args:
        config: which towers exist and how they are built.
    """

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        self.towers = nn.ModuleDict()
        self.heads = nn.ModuleDict()
        for modality in config.modalities:
            tower = _build_tower(config, modality)
            self.towers[modality] = tower
            head_config = getattr(config, f"{modality}_head")
            self.heads[modality] = build_head(
                head_config, cast(int, tower.out_dim), config.embed_dim
            )
        self.logit_scale = nn.Parameter(
            torch.tensor(float(config.logit_scale_init)),
            requires_grad=config.learn_logit_scale,
        )

    @property
    def modalities(self) -> tuple[str, ...]:
        """The modalities this model encodes."""
        return self.config.modalities

    def _tower(self, modality: str) -> tuple[nn.Module, nn.Module]:
        if modality not in self.towers:
            raise InvalidParameterError(
                f"model {self.config.name!r} has no {modality} tower; "
                f"it encodes {', '.join(self.modalities)}"
            )
        return self.towers[modality], self.heads[modality]

    def encode_image(self, x: Tensor, normalize: bool = False) -> Tensor:
        """Images ``(B, C, H, W)`` → embeddings ``(B, embed_dim)``."""
        tower, head = self._tower("image")
        channels = self.config.image.in_channels if self.config.image else 1
        _check_tensor(x, 4, channels, "encode_image", "(B, C, H, W)")
        return _finish(head(tower(x)), normalize)

    def encode_text(self, texts: Sequence[str], normalize: bool = False) -> Tensor:
        """Texts (a list of str) → embeddings ``(B, embed_dim)``."""
        tower, head = self._tower("text")
        feats = tower(texts)  # (B, F)
        device = self.logit_scale.device
        return _finish(head(feats.to(device)), normalize)

    def encode_ecg(self, x: Tensor, normalize: bool = False) -> Tensor:
        """ECGs ``(B, leads, T)`` → embeddings ``(B, embed_dim)``."""
        tower, head = self._tower("ecg")
        leads = self.config.ecg.in_channels if self.config.ecg else 12
        _check_tensor(x, 3, leads, "encode_ecg", "(B, leads, T)")
        return _finish(head(tower(x)), normalize)

    def forward(
        self,
        *,
        image: Tensor | None = None,
        text: Sequence[str] | None = None,
        ecg: Tensor | None = None,
    ) -> CLIPOutput:
        """Normalised embeddings of the inputs given, and the clamped log-scale."""
        if image is None and text is None and ecg is None:
            raise InvalidParameterError("CLIPModel.forward: give at least one of image, text, ecg")
        return CLIPOutput(
            image=None if image is None else self.encode_image(image, normalize=True),
            text=None if text is None else self.encode_text(text, normalize=True),
            ecg=None if ecg is None else self.encode_ecg(ecg, normalize=True),
            logit_scale=self.logit_scale.clamp(max=self.config.logit_scale_max),
        )


def _build_tower(config: ModelConfig, modality: str) -> nn.Module:
    if modality == "image":
        from medmodal.models.image_encoder import build_image_encoder

        if config.image is None:
            raise InvalidParameterError(f"model {config.name!r} has no image tower config")
        return build_image_encoder(config.image)
    if modality == "text":
        from medmodal.models.text_encoder import build_text_encoder

        if config.text is None:
            raise InvalidParameterError(f"model {config.name!r} has no text tower config")
        return build_text_encoder(config.text)
    from medmodal.models.ecg_encoder import ECGEncoder1d

    if config.ecg is None:
        raise InvalidParameterError(f"model {config.name!r} has no ecg tower config")
    if config.ecg.kind != "resnet1d":
        raise InvalidParameterError(
            f"unknown ECG backbone {config.ecg.kind!r}; available: resnet1d"
        )
    return ECGEncoder1d(
        config.ecg.in_channels,
        width=config.ecg.width,
        depth=config.ecg.depth,
        out_dim=config.ecg.out_dim,
        dropout=config.ecg.dropout,
    )


def _check_tensor(x: object, ndim: int, channels: int, where: str, shape: str) -> None:
    if not isinstance(x, Tensor):
        raise InvalidParameterError(f"{where}: expected a torch.Tensor, got {type(x).__name__}")
    if x.ndim != ndim or x.shape[1] != channels or x.shape[0] == 0:
        raise InvalidParameterError(
            f"{where}: expected a tensor {shape} with {channels} channel(s) and B >= 1, "
            f"got shape {tuple(x.shape)}"
        )
    if not torch.is_floating_point(x):
        raise InvalidParameterError(f"{where}: expected a floating-point tensor, got {x.dtype}")


def _finish(z: Tensor, normalize: bool) -> Tensor:
    return l2_normalize(z, dim=-1) if normalize else z


__all__ = ["CLIPModel", "CLIPOutput"]
