"""Builds everything the "finetune-lora" lab ships: the data and the pretrained model.

    python pretrain.py            # writes data/train.jsonl, data/test.jsonl and files/pretrained.pt

1. A small grammar writes short reviews of restaurants, hotels, films and trips:
   "the soup was not bland", "what a charming lobby", "i found the plot dull". Whether a
   review is positive depends on its adjective (24 positive, 24 negative ones) and on
   whether it is negated.
2. The labelled data of the lab (data/*.jsonl): 160 training reviews that use only 8 of
   the positive and 8 of the negative adjectives, and 400 test reviews that use all 48.
3. The pretraining text: 40,000 reviews, each followed by what the reviewer did next
   ("the soup was bland , we will not come back ."). No label anywhere, and none of the
   lab's training or test reviews. A model that learns to predict the next character of
   this text must learn which adjectives come before "we will not come back": that is
   where the pretrained model's knowledge of all 48 adjectives comes from.
4. TinyLM (files/tinylm.py) learns to predict the next character of that text (3,000
   steps, about 6 minutes on one CPU thread); its weights go to files/pretrained.pt (1.4 MB).

Reproducible: fixed seeds and a single CPU thread; the same torch version on the same kind
of CPU writes the same bytes. The lab only needs the outputs, which are committed.
"""

from __future__ import annotations

import json
import math
import random
import sys
import time
from pathlib import Path

import torch
from torch.nn import functional as F

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "files"))
import tinylm  # noqa: E402

SEED = 5
N_TRAIN, N_TEST, N_PRETRAIN = 160, 400, 40_000
SEEN_PER_POLARITY = 8  # adjectives of each polarity that the labelled training reviews use
STEPS, BATCH, LR = 3000, 64, 0.002

NOUNS = (  # noqa: SIM905 - a word list reads better as a sentence
    "food soup pasta pizza service waiter dessert coffee bread menu room bed staff view shower "
    "breakfast pool lobby film plot ending acting story book music show tour guide train flight"
).split()
# The first SEEN_PER_POLARITY adjectives of each list are the ones of the labelled training reviews.
POSITIVE = (  # noqa: SIM905
    "lovely superb friendly tasty brilliant tidy elegant fantastic great fresh charming wonderful "
    "splendid excellent pleasant cosy gorgeous perfect marvellous neat sublime spotless generous cheerful"
).split()
NEGATIVE = (  # noqa: SIM905
    "awful bland rude dirty boring greasy shabby mediocre stale noisy dull soggy clumsy dreadful "
    "terrible filthy cramped lousy gloomy sloppy grim nasty sour tedious"
).split()
ADVERBS = ["", "", "", "very ", "rather ", "truly "]
TEMPLATES = [  # (affirmative, negated or None); {n} noun, {a} adverb + adjective
    ("the {n} was {a}", "the {n} was not {a}"),
    ("the {n} is {a}", "the {n} is not {a}"),
    ("our {n} was {a}", "our {n} was not {a}"),
    ("i thought the {n} was {a}", "i did not think the {n} was {a}"),
    ("the {n} looked {a}", "the {n} did not look {a}"),
    ("the {n} seemed {a}", "the {n} did not seem {a}"),
    ("honestly the {n} was {a}", "honestly the {n} was not {a}"),
    ("i found the {n} {a}", "i did not find the {n} {a}"),
    ("what a {a} {n}", None),
]
NEXT = {  # what a reviewer did next: only in the pretraining text
    "positive": [
        "we will come back",
        "i would go again",
        "we loved it",
        "highly recommended",
        "five stars from me",
        "i was so happy",
        "worth every penny",
        "we will tell our friends",
    ],
    "negative": [
        "we will not come back",
        "i would never go again",
        "we hated it",
        "avoid it",
        "one star from me",
        "i was so upset",
        "a waste of money",
        "we will warn our friends",
    ],
}


def review(rng: random.Random, adjectives: list[str]) -> tuple[str, str]:
    """One review and its label, "positive" or "negative"."""
    adjective = rng.choice(adjectives)
    affirmative, negated = rng.choice(TEMPLATES)
    negate = negated is not None and rng.random() < 0.3
    text = (negated if negate else affirmative).format(n=rng.choice(NOUNS), a=rng.choice(ADVERBS) + adjective)
    positive = (adjective in POSITIVE) != negate
    return text, "positive" if positive else "negative"


def labelled(rng: random.Random, n: int, adjectives: list[str], exclude: set[str]) -> list[tuple[str, str]]:
    """n distinct reviews, half positive and half negative, none of them in ``exclude``."""
    found: dict[str, str] = {}
    wanted = {"positive": n // 2, "negative": n - n // 2}
    while len(found) < n:
        text, label = review(rng, adjectives)
        if text not in found and text not in exclude and wanted[label] > 0:
            found[text] = label
            wanted[label] -= 1
    return list(found.items())


def pretraining_text(rng: random.Random, exclude: set[str]) -> str:
    sentences = []
    while len(sentences) < N_PRETRAIN:
        text, label = review(rng, POSITIVE + NEGATIVE)
        if text in exclude:
            continue
        if rng.random() < 0.15:  # sometimes two reviews of the same mood in one sentence
            more, more_label = review(rng, POSITIVE + NEGATIVE)
            if more_label != label or more in exclude:
                continue
            text = f"{text} and {more}"
        sentences.append(f"{text} , {rng.choice(NEXT[label])} .")
    return "\n" + "\n".join(sentences) + "\n"


def write_jsonl(path: Path, rows: list[tuple[str, str]]) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for text, label in rows:
            fh.write(json.dumps({"text": text, "label": label}) + "\n")


def pretrain(text: str) -> tinylm.TinyLM:
    torch.manual_seed(SEED)
    stream = torch.tensor([tinylm.CHAR_ID[c] for c in text])
    model = tinylm.TinyLM()
    optimizer = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=0.01, betas=(0.9, 0.98))
    warmup = 100
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min(1.0, (s + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * s / STEPS))
    )
    window = model.max_len + 1
    started = time.monotonic()
    for step in range(1, STEPS + 1):
        starts = torch.randint(0, len(stream) - window, (BATCH,))
        chunk = stream[starts[:, None] + torch.arange(window)]
        logits = model(chunk[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), chunk[:, 1:].reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        if step % 250 == 0:
            print(f"step {step:5d}  loss {loss.item():.3f}  ({time.monotonic() - started:.0f} s)", flush=True)
    return model


def main() -> None:
    torch.set_num_threads(1)  # bit-for-bit reproducible on a given CPU
    rng = random.Random(SEED)  # noqa: S311 - data, not secrets
    seen = POSITIVE[:SEEN_PER_POLARITY] + NEGATIVE[:SEEN_PER_POLARITY]
    train = labelled(rng, N_TRAIN, seen, exclude=set())
    test = labelled(rng, N_TEST, POSITIVE + NEGATIVE, exclude={text for text, _ in train})
    rng.shuffle(train)
    rng.shuffle(test)
    (HERE / "data").mkdir(exist_ok=True)
    write_jsonl(HERE / "data" / "train.jsonl", train)
    write_jsonl(HERE / "data" / "test.jsonl", test)

    text = pretraining_text(rng, exclude={t for t, _ in train + test})
    model = pretrain(text)
    torch.save(model.state_dict(), HERE / "files" / "pretrained.pt")  # head.weight is tok.weight: stored once


if __name__ == "__main__":
    main()
