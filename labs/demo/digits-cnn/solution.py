"""Reference solution of the "digits-cnn" lab.

A small convolutional network on 1×8×8 digit images (C = `channels`):

    conv 3×3 → C × 8 × 8 → batch-norm → ReLU
    conv 3×3 → 2C × 8 × 8 → batch-norm → ReLU → max-pool 2×2 → 2C × 4 × 4
    flatten → linear 128 → ReLU → dropout → linear 10 (logits)

Training uses AdamW with a cosine learning-rate schedule and a light data
augmentation: every training image is shifted by at most one pixel in a
random direction, which teaches the network that a digit does not change
when it moves a little.
"""

import torch
from torch import nn


class DigitCNN(nn.Module):
    def __init__(self, channels: int, n_classes: int, dropout: float) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, channels, kernel_size=3, padding=1),
            nn.BatchNorm2d(channels),
            nn.ReLU(),
            nn.Conv2d(channels, 2 * channels, kernel_size=3, padding=1),
            nn.BatchNorm2d(2 * channels),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(2 * channels * 4 * 4, 128),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(128, n_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


def random_shift(images: torch.Tensor) -> torch.Tensor:
    """Shift each image of a (N, 1, 8, 8) batch by -1, 0 or +1 pixel on each axis."""
    height, width = images.shape[-2:]
    padded = nn.functional.pad(images, (1, 1, 1, 1))  # zeros around: N × 1 × 10 × 10
    # All 9 shifted copies of the batch, then one random copy per image.
    shifted = torch.stack([padded[..., dy : dy + height, dx : dx + width] for dy in range(3) for dx in range(3)])
    choice = torch.randint(0, 9, (len(images),), device=images.device)
    return shifted[choice, torch.arange(len(images), device=images.device)]


def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    model.eval()
    with torch.no_grad():
        return (model(x).argmax(dim=1) == y).float().mean().item()


def train(data, run):
    device = run.device
    epochs = int(run.params.get("epochs", 15))
    lr = float(run.params.get("lr", 0.003))
    channels = int(run.params.get("channels", 16))
    batch_size = int(run.params.get("batch_size", 64))
    dropout = float(run.params.get("dropout", 0.25))

    x, y = data.x_train.to(device), data.y_train.to(device)
    model = DigitCNN(channels, data.num_classes, dropout).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    loss_fn = nn.CrossEntropyLoss()

    for epoch in range(1, epochs + 1):
        if run.time_left() < 5:  # keep a few seconds for predict()
            break
        model.train()
        total_loss = 0.0
        for batch in torch.randperm(len(x), device=device).split(batch_size):
            optimizer.zero_grad()
            loss = loss_fn(model(random_shift(x[batch])), y[batch])
            loss.backward()
            optimizer.step()
            total_loss += loss.item() * len(batch)
        scheduler.step()

        metrics = {"loss": total_loss / len(x)}
        if data.x_val is not None:
            metrics["val_accuracy"] = accuracy(model, data.x_val.to(device), data.y_val.to(device))
        run.log(epoch, **metrics)

    return model


def predict(model, x):
    model.eval()  # batch-norm uses its running statistics, dropout is off
    device = next(model.parameters()).device
    with torch.no_grad():
        return model(x.to(device)).argmax(dim=1).cpu()
