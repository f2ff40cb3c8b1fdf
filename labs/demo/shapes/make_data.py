"""Writes the PNG images of the "shapes" lab (run once; deterministic).

    python make_data.py

Every image is a 24 × 24 grayscale picture of one shape: a circle, a square, a star (five
points) or a triangle (equilateral). Size, position and rotation are random, the shape is
filled or only outlined, drawn light on dark or dark on light with a random contrast, and
every pixel gets a little noise. Shapes are drawn four times larger and then shrunk, which
smooths their edges as a camera would. Stars are rarer than the other shapes.

    data/train/<class>/<nnnn>.png    data/test/<class>/<nnnn>.png

numpy and Pillow only; a fixed seed, so every run writes the same pixels.
"""

import math
import shutil
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

SEED = 11
SIZE = 24  # pixels of the images
SCALE = 4  # drawn at SIZE * SCALE, then shrunk
COUNTS = {  # images per class: (train, test)
    "circle": (220, 70),
    "square": (220, 70),
    "star": (80, 30),
    "triangle": (220, 70),
}


def polygon(center: tuple[float, float], radius: float, corners: int, angle: float, inner: float = 1.0) -> list:
    """Corners of a regular polygon (or a star when inner < 1: every second point pulled in)."""
    points = []
    steps = corners * (2 if inner < 1 else 1)
    for i in range(steps):
        r = radius if i % 2 == 0 or inner == 1 else radius * inner
        a = angle + 2 * math.pi * i / steps
        points.append((center[0] + r * math.cos(a), center[1] + r * math.sin(a)))
    return points


def draw_shape(rng: np.random.Generator, name: str) -> np.ndarray:
    """One image as floats in [0, 1]."""
    big = SIZE * SCALE
    mask = Image.new("L", (big, big), 0)
    draw = ImageDraw.Draw(mask)
    radius = rng.uniform(5.0, 10.5) * SCALE
    margin = radius + 1.0 * SCALE
    center = (rng.uniform(margin, big - margin), rng.uniform(margin, big - margin))
    angle = rng.uniform(0, 2 * math.pi)
    filled = rng.uniform() < 0.5
    width = round(rng.uniform(1.3, 2.3) * SCALE)
    style = {"fill": 255} if filled else {"outline": 255, "width": width}
    if name == "circle":
        box = [center[0] - radius, center[1] - radius, center[0] + radius, center[1] + radius]
        draw.ellipse(box, **style)
    else:
        if name == "square":
            points = polygon(center, radius, 4, angle)
        elif name == "triangle":
            points = polygon(center, radius, 3, angle)
        else:
            points = polygon(center, radius, 5, angle, inner=0.45)
        if filled:
            draw.polygon(points, fill=255)
        else:
            draw.line([*points, points[0], points[1]], fill=255, width=width, joint="curve")
    shape = np.asarray(mask.resize((SIZE, SIZE), Image.Resampling.BOX), dtype=np.float64) / 255.0
    background = rng.uniform(0.0, 0.35)
    foreground = rng.uniform(0.6, 1.0)
    if rng.uniform() < 0.3:  # dark shape on a light background
        background, foreground = 1 - background, 1 - foreground
    image = background + (foreground - background) * shape + rng.normal(0, 0.04, (SIZE, SIZE))
    return np.clip(image, 0, 1)


def main() -> None:
    rng = np.random.default_rng(SEED)
    root = Path(__file__).resolve().parent / "data"
    for split in ("train", "test"):
        shutil.rmtree(root / split, ignore_errors=True)
    for split_index, split in enumerate(("train", "test")):
        for name, counts in COUNTS.items():
            folder = root / split / name
            folder.mkdir(parents=True)
            for i in range(counts[split_index]):
                pixels = np.round(draw_shape(rng, name) * 255).astype(np.uint8)
                Image.fromarray(pixels, mode="L").save(folder / f"{i:04d}.png", optimize=True)


if __name__ == "__main__":
    main()
