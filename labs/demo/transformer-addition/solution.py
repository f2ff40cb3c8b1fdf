"""Reference solution of the "transformer-addition" lab.

A decoder-only (causal) transformer reads an addition problem one character at a time and
writes the answer one digit at a time. Two choices of format make the task easy to learn:

1. Fixed width. Both operands are padded with zeros to `max_digits` digits and the answer to
   `max_digits + 1`, so every digit has the same position in every example:
   "57+8=" becomes "057+008=".
2. Reversed answer. The model writes the answer least significant digit first, the order in
   which a person adds with carries: 57 + 8 = 65 is written "5600". Each digit then depends
   only on the two digits in the same column and the carry from the digit written just before.

    tokens "0".."9", "+", "="  →  embedding + learned positions (d_model)
    → `layers` × [causal self-attention (`heads` heads) → feed-forward 4·d_model], pre-norm
    → LayerNorm → linear to 12 logits (the next character)

Training: teacher forcing with the cross-entropy on the answer positions only (the model must
not learn to predict the random operands), AdamW, a short linear warm-up and a cosine decay.
Prediction: greedy decoding of max_digits + 1 characters, then un-reverse and strip zeros.
"""

import math

import torch
from torch import nn
from torch.nn import functional as F

ALPHABET = "0123456789+="
TOKEN = {c: i for i, c in enumerate(ALPHABET)}


class AdderTransformer(nn.Module):
    def __init__(self, d_model: int, heads: int, layers: int, max_len: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.tok = nn.Embedding(len(ALPHABET), d_model)
        self.pos = nn.Embedding(max_len, d_model)
        block = nn.TransformerEncoderLayer(
            d_model, heads, 4 * d_model, dropout, activation="gelu", batch_first=True, norm_first=True
        )
        # An "encoder" layer with a causal mask is a decoder-only (GPT-style) block.
        self.blocks = nn.TransformerEncoder(block, layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, len(ALPHABET))

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        """(N, T) token ids → (N, T, 12) logits; position t only sees positions ≤ t."""
        length = idx.shape[1]
        mask = nn.Transformer.generate_square_subsequent_mask(length, device=idx.device)
        h = self.tok(idx) + self.pos(torch.arange(length, device=idx.device))
        h = self.blocks(h, mask=mask, is_causal=True)
        return self.head(self.norm(h))


def encode_prompt(problem: str, digits: int) -> str:
    """ "57+8=" → "057+008=" """
    a, b = problem.rstrip("=").split("+")
    return f"{a.zfill(digits)}+{b.zfill(digits)}="


def encode_answer(answer: str, digits: int) -> str:
    """ "65" → "5600": zero-padded to digits + 1 characters, least significant digit first."""
    return answer.zfill(digits + 1)[::-1]


def decode_answer(written: str) -> str:
    """ "5600" → "65" (and "0000" → "0")."""
    return written[::-1].lstrip("0") or "0"


def to_ids(texts: list[str]) -> torch.Tensor:
    return torch.tensor([[TOKEN[c] for c in text] for text in texts], dtype=torch.long)


def make_sequences(problems: list[str], answers: list[str], digits: int) -> torch.Tensor:
    return to_ids([encode_prompt(p, digits) + encode_answer(a, digits) for p, a in zip(problems, answers, strict=True)])


def generate(model: AdderTransformer, problems: list[str], batch_size: int = 1000) -> list[str]:
    """Greedy decoding: append the most likely next character, digits + 1 times."""
    model.eval()
    device = next(model.parameters()).device
    results = []
    with torch.no_grad():
        for start in range(0, len(problems), batch_size):
            seq = to_ids([encode_prompt(p, model.digits) for p in problems[start : start + batch_size]]).to(device)
            for _ in range(model.digits + 1):
                logits = model(seq)[:, -1, :10]  # only digits may follow
                seq = torch.cat([seq, logits.argmax(dim=1, keepdim=True)], dim=1)
            answer_ids = seq[:, -(model.digits + 1) :].tolist()
            results += [decode_answer("".join(ALPHABET[i] for i in row)) for row in answer_ids]
    return results


def exact_match(model: AdderTransformer, problems: list[str], answers: list[str]) -> float:
    return sum(p == a for p, a in zip(generate(model, problems), answers, strict=True)) / len(answers)


def train(data, run):
    device = run.device
    steps = int(run.params.get("steps", 1200))
    lr = float(run.params.get("lr", 0.002))
    d_model = int(run.params.get("d_model", 64))
    heads = int(run.params.get("heads", 4))
    layers = int(run.params.get("layers", 2))
    batch_size = int(run.params.get("batch_size", 128))

    digits = int(data.meta.get("max_digits", 3))
    seq = make_sequences(data.x_train, data.y_train, digits).to(device)  # (N, 3·digits + 3)
    inputs, targets = seq[:, :-1], seq[:, 1:]
    answer_from = 2 * digits + 1  # targets[:, answer_from:] are the answer digits
    model = AdderTransformer(d_model, heads, layers, max_len=seq.shape[1]).to(device)
    model.digits = digits
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01, betas=(0.9, 0.98))
    warmup = max(1, steps // 20)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min(1.0, (s + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * min(1.0, s / steps)))
    )

    log_every = max(1, steps // 20)
    model.train()
    for step in range(1, steps + 1):
        if run.time_left() < 15:  # keep time for predict()
            break
        batch = torch.randint(0, len(seq), (batch_size,), device=device)
        logits = model(inputs[batch])[:, answer_from - 1 :]
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets[batch, answer_from - 1 :].reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        if step % log_every == 0 or step == steps:
            metrics = {"loss": loss.item()}
            if data.x_val is not None:
                metrics["val_exact_match"] = exact_match(model, data.x_val[:500], data.y_val[:500])
                model.train()
            run.log(step, **metrics)
    return model


def predict(model, x):
    return generate(model, list(x))  # one answer string per problem, e.g. "168"
