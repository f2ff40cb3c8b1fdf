"""Reference solution of the "shapes" lab.

A small CNN on 1 × 24 × 24 images (C = `channels`):

    [conv 3×3 → batch-norm → ReLU] × 2 at C channels   → max-pool → C × 12 × 12
    [conv 3×3 → batch-norm → ReLU] × 2 at 2C channels  → max-pool → 2C × 6 × 6
    conv 3×3 → batch-norm → ReLU at 4C channels → global average pool → 4C
    dropout → linear 4 (logits)

The global average pool makes the answer the same wherever the shape is in the picture.
Training uses AdamW with a cosine learning-rate schedule, a loss that weighs each class by
the inverse of its frequency (stars are rarer), and augmentations that cannot change the
answer for these shapes: mirror images, quarter turns, a shift of up to two pixels and
swapping light and dark.
"""

import torch
from torch import nn


def conv_block(c_in: int, c_out: int) -> list[nn.Module]:
    return [nn.Conv2d(c_in, c_out, kernel_size=3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU()]


class ShapeCNN(nn.Module):
    def __init__(self, in_channels: int, channels: int, n_classes: int, dropout: float) -> None:
        super().__init__()
        c = channels
        self.features = nn.Sequential(
            *conv_block(in_channels, c),
            *conv_block(c, c),
            nn.MaxPool2d(2),  # 24 → 12
            *conv_block(c, 2 * c),
            *conv_block(2 * c, 2 * c),
            nn.MaxPool2d(2),  # 12 → 6
            *conv_block(2 * c, 4 * c),
            nn.AdaptiveAvgPool2d(1),  # 6 × 6 → 1 × 1: one number per channel
        )
        self.classifier = nn.Sequential(nn.Flatten(), nn.Dropout(dropout), nn.Linear(4 * c, n_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


def augment(images: torch.Tensor) -> torch.Tensor:
    """A random label-preserving version of each image of a (N, C, H, W) batch."""
    n = len(images)
    flip = torch.rand(n, device=images.device) < 0.5
    images = torch.where(flip[:, None, None, None], images.flip(-1), images)  # mirror image
    turns = int(torch.randint(0, 4, ()).item())
    images = images.rot90(turns, dims=(-2, -1))  # a quarter turn (the same for the whole batch)
    invert = torch.rand(n, device=images.device) < 0.3
    images = torch.where(invert[:, None, None, None], 1 - images, images)  # dark ↔ light
    # Shift by up to 2 pixels: pad by repeating the border, then crop at a random offset.
    padded = nn.functional.pad(images, (2, 2, 2, 2), mode="replicate")
    dy, dx = torch.randint(0, 5, (2,)).tolist()
    return padded[..., dy : dy + images.shape[-2], dx : dx + images.shape[-1]]


def macro_f1(pred: torch.Tensor, y: torch.Tensor, n_classes: int) -> float:
    f1 = []
    for c in range(n_classes):
        tp = ((pred == c) & (y == c)).sum().item()
        wrong = ((pred == c) != (y == c)).sum().item()  # false positives + false negatives
        f1.append(2 * tp / (2 * tp + wrong) if tp + wrong else 1.0)
    return sum(f1) / n_classes


def train(data, run):
    device = run.device
    epochs = int(run.params.get("epochs", 25))
    lr = float(run.params.get("lr", 0.003))
    channels = int(run.params.get("channels", 16))
    batch_size = int(run.params.get("batch_size", 32))
    dropout = float(run.params.get("dropout", 0.2))

    x, y = data.x_train.to(device), data.y_train.to(device)  # (N, 1, 24, 24) in [0, 1], (N,)
    n_classes = data.num_classes
    model = ShapeCNN(x.shape[1], channels, n_classes, dropout).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    counts = torch.bincount(y, minlength=n_classes).float()
    loss_fn = nn.CrossEntropyLoss(weight=counts.sum() / (n_classes * counts))  # rare classes count more
    x_val, y_val = data.x_val.to(device), data.y_val.to(device)

    for epoch in range(1, epochs + 1):
        if run.time_left() < 5:  # keep a few seconds for predict()
            break
        model.train()
        total_loss = 0.0
        for batch in torch.randperm(len(x), device=device).split(batch_size):
            optimizer.zero_grad()
            loss = loss_fn(model(augment(x[batch])), y[batch])
            loss.backward()
            optimizer.step()
            total_loss += loss.item() * len(batch)
        scheduler.step()

        model.eval()
        with torch.no_grad():
            pred = model(x_val).argmax(dim=1)
        run.log(
            epoch,
            loss=total_loss / len(x),
            val_accuracy=(pred == y_val).float().mean().item(),
            val_macro_f1=macro_f1(pred, y_val, n_classes),
        )
    return model


def predict(model, x):
    model.eval()  # batch-norm uses its running statistics, dropout is off
    device = next(model.parameters()).device
    with torch.no_grad():
        return model(x.to(device)).argmax(dim=1).cpu()  # one class id per image
