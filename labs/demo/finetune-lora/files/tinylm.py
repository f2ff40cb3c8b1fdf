"""TinyLM: the small character-level language model of the "finetune-lora" lab.

A decoder-only (GPT-style) transformer over characters, pretrained by the lab's pretrain.py
to predict the next character of short English reviews. In learner code:

    import tinylm
    model = tinylm.load_pretrained(run.files / "pretrained.pt")   # a TinyLM, weights loaded
    ids, lengths = tinylm.encode_batch(["the soup was bland"])    # (1, T) ids, (1,) lengths
    h = model.hidden(ids)                                          # (1, T, d_model)
    last = h[torch.arange(len(ids)), lengths - 1]                  # the state after the last character

Every linear layer is an ``nn.Linear`` with a plain name (``blocks[i].attn.q``, ``.k``, ``.v``,
``.proj``, ``blocks[i].mlp.fc1``, ``.fc2``), so it can be wrapped or replaced, e.g. by a LoRA layer.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

VOCAB = "\n abcdefghijklmnopqrstuvwxyz.,'"  # "\n" (id 0) starts a text and pads a batch
CHAR_ID = {c: i for i, c in enumerate(VOCAB)}
CONFIG = {"vocab_size": len(VOCAB), "d_model": 96, "heads": 4, "layers": 3, "max_len": 64}


class SelfAttention(nn.Module):
    def __init__(self, d_model: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.q = nn.Linear(d_model, d_model)
        self.k = nn.Linear(d_model, d_model)
        self.v = nn.Linear(d_model, d_model)
        self.proj = nn.Linear(d_model, d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, t, d = x.shape
        q, k, v = (
            layer(x).view(n, t, self.heads, d // self.heads).transpose(1, 2) for layer in (self.q, self.k, self.v)
        )
        out = F.scaled_dot_product_attention(q, k, v, is_causal=True)  # position t sees positions ≤ t
        return self.proj(out.transpose(1, 2).reshape(n, t, d))


class MLP(nn.Module):
    def __init__(self, d_model: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(d_model, 4 * d_model)
        self.fc2 = nn.Linear(4 * d_model, d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.gelu(self.fc1(x)))


class Block(nn.Module):
    def __init__(self, d_model: int, heads: int) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(d_model)
        self.attn = SelfAttention(d_model, heads)
        self.ln2 = nn.LayerNorm(d_model)
        self.mlp = MLP(d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class TinyLM(nn.Module):
    def __init__(
        self,
        vocab_size: int = CONFIG["vocab_size"],
        d_model: int = CONFIG["d_model"],
        heads: int = CONFIG["heads"],
        layers: int = CONFIG["layers"],
        max_len: int = CONFIG["max_len"],
    ) -> None:
        super().__init__()
        self.max_len = max_len
        self.tok = nn.Embedding(vocab_size, d_model)
        self.pos = nn.Embedding(max_len, d_model)
        self.blocks = nn.ModuleList(Block(d_model, heads) for _ in range(layers))
        self.ln_f = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab_size, bias=False)
        self.head.weight = self.tok.weight  # tied: the same table reads and writes characters
        self.apply(self._init)

    @staticmethod
    def _init(module: nn.Module) -> None:
        if isinstance(module, nn.Linear | nn.Embedding):
            nn.init.normal_(module.weight, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def hidden(self, ids: torch.Tensor) -> torch.Tensor:
        """(N, T) character ids → (N, T, d_model) states; position t has read characters 0…t."""
        t = ids.shape[1]
        if t > self.max_len:
            raise ValueError(f"texts of at most {self.max_len} ids (the newline included), got {t}")
        x = self.tok(ids) + self.pos(torch.arange(t, device=ids.device))
        for block in self.blocks:
            x = block(x)
        return self.ln_f(x)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        """(N, T) ids → (N, T, vocab_size) logits of the next character."""
        return self.head(self.hidden(ids))


def encode(text: str) -> list[int]:
    """ "the soup" → [0, ids of t, h, e, …]: a newline first, as at the start of every pretraining text.
    Upper case is lowered; characters outside VOCAB become spaces."""
    return [0] + [CHAR_ID.get(c, 1) for c in text.lower()]


def encode_batch(texts: list[str], device: str | torch.device = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
    """Texts → ((N, T) ids padded at the end with newlines, (N,) lengths). Causal attention never
    looks ahead, so the padding changes nothing before position length - 1."""
    encoded = [encode(text)[: CONFIG["max_len"]] for text in texts]
    lengths = torch.tensor([len(e) for e in encoded], device=device)
    ids = torch.zeros(len(encoded), int(lengths.max()), dtype=torch.long, device=device)
    for row, e in enumerate(encoded):
        ids[row, : len(e)] = torch.tensor(e, device=device)
    return ids, lengths


def load_pretrained(path: str | Path, device: str | torch.device = "cpu") -> TinyLM:
    """A TinyLM with the pretrained weights of ``path`` (a state_dict)."""
    model = TinyLM()
    model.load_state_dict(torch.load(path, map_location=device, weights_only=True))
    return model.to(device)
