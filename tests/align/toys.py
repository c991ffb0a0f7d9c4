"""Tiny CLIP-shaped models and paired data shared by the align and train tests."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn
from torch.utils.data import Dataset


@dataclass
class PairOutput:
    image: Tensor  # (B, D) unit rows
    text: Tensor  # (B, D) unit rows
    logit_scale: Tensor  # () log scale


class TinyClip(nn.Module):
    """Two linear towers and a learnable temperature, shaped like medmodal's CLIPModel."""

    def __init__(self, dim_image: int = 12, dim_text: int = 10, embed: int = 8) -> None:
        super().__init__()
        self.image_tower = nn.Linear(dim_image, embed)
        self.text_tower = nn.Linear(dim_text, embed)
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))

    def encode_image(self, x: Tensor, normalize: bool = False) -> Tensor:
        z = self.image_tower(x)
        return nn.functional.normalize(z, dim=-1) if normalize else z

    def encode_text(self, x: Tensor, normalize: bool = False) -> Tensor:
        z = self.text_tower(x)
        return nn.functional.normalize(z, dim=-1) if normalize else z

    def forward(self, *, image: Tensor, text: Tensor) -> PairOutput:
        return PairOutput(
            self.encode_image(image, True), self.encode_text(text, True), self.logit_scale
        )


class AlignedPairs(Dataset):
    """Image/text feature pairs that share a latent code (plus modality-specific noise)."""

    def __init__(self, n: int, seed: int) -> None:
        g = torch.Generator().manual_seed(seed)
        mix = torch.Generator().manual_seed(1234)  # the same 'physics' for every split
        z = torch.randn(n, 6, generator=g)
        self.image = z @ torch.randn(6, 12, generator=mix) + 0.3 * torch.randn(n, 12, generator=g)
        self.text = z @ torch.randn(6, 10, generator=mix) + 0.3 * torch.randn(n, 10, generator=g)

    def __len__(self) -> int:
        return len(self.image)

    def __getitem__(self, i: int) -> dict[str, Any]:
        return {"image": self.image[i], "text": self.text[i], "case": i // 2}


class KeywordECGText(nn.Module):
    """ECG + text model whose text tower reads a keyword: embeddings are hand-set."""

    modalities = ("ecg", "text")

    def __init__(self) -> None:
        super().__init__()
        self.logit_scale = nn.Parameter(torch.tensor(2.0))

    def encode_ecg(self, x: Tensor, normalize: bool = False) -> Tensor:
        z = torch.stack([x[:, 0].mean(-1), x[:, 1].mean(-1)], dim=1)  # (B, 2)
        return nn.functional.normalize(z, dim=-1)

    def encode_text(self, texts: list[str], normalize: bool = False) -> Tensor:
        rows = [[0.0, 1.0] if "abnormal" in t or "infarction" in t else [1.0, 0.0] for t in texts]
        return torch.tensor(rows)

    def forward(self, *, ecg: Tensor, text: list[str]) -> object:
        from medmodal.models import CLIPOutput

        return CLIPOutput(None, self.encode_text(text), self.encode_ecg(ecg), self.logit_scale)


class HashECGText(nn.Module):
    """A trainable ECG-text model small enough to fit in a test: lead means and word ids."""

    modalities = ("ecg", "text")

    def __init__(self, leads: int = 12, embed: int = 8, vocab: int = 64) -> None:
        super().__init__()
        self.ecg_tower = nn.Linear(leads, embed)
        self.words = nn.EmbeddingBag(vocab, embed)
        self.vocab = vocab
        self.logit_scale = nn.Parameter(torch.tensor(math.log(10.0)))

    def encode_ecg(self, x: Tensor, normalize: bool = False) -> Tensor:
        z = self.ecg_tower(x.mean(-1))  # (B, leads) -> (B, D)
        return nn.functional.normalize(z, dim=-1) if normalize else z

    def encode_text(self, texts: list[str], normalize: bool = False) -> Tensor:
        ids = [torch.tensor([sum(map(ord, w)) % self.vocab for w in t.split()]) for t in texts]
        offsets = torch.tensor([0] + [len(i) for i in ids[:-1]]).cumsum(0)
        z = self.words(torch.cat(ids), offsets)
        return nn.functional.normalize(z, dim=-1) if normalize else z

    def forward(self, *, ecg: Tensor, text: list[str]) -> object:
        from medmodal.models import CLIPOutput

        return CLIPOutput(
            None, self.encode_text(text, True), self.encode_ecg(ecg, True), self.logit_scale
        )
