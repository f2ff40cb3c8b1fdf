"""Starter code for the "digits-cnn" lab.

The training loop is complete, but the model is a single linear layer on the
flattened pixels. It trains and runs, yet stays below the threshold: replace
it with a convolutional network (the TODOs say where).
"""

import torch
from torch import nn


class DigitCNN(nn.Module):
    def __init__(self, channels: int, n_classes: int, dropout: float) -> None:
        super().__init__()
        # TODO: convolutional feature extractor for (N, 1, 8, 8) images, e.g.
        #       Conv2d(1, channels, 3, padding=1) → BatchNorm2d → ReLU → ... → MaxPool2d(2).
        self.features = nn.Identity()
        # TODO: classifier on the flattened features (with dropout), ending in n_classes logits.
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(1 * 8 * 8, n_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


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

    x, y = data.x_train.to(device), data.y_train.to(device)  # (N, 1, 8, 8), (N,)
    model = DigitCNN(channels, data.num_classes, dropout).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    loss_fn = nn.CrossEntropyLoss()

    for epoch in range(1, epochs + 1):
        if run.time_left() < 5:  # keep a few seconds for predict()
            break
        model.train()
        total_loss = 0.0
        for batch in torch.randperm(len(x), device=device).split(batch_size):
            # TODO (optional): augment x[batch], e.g. shift each image by up to one pixel.
            optimizer.zero_grad()
            loss = loss_fn(model(x[batch]), y[batch])
            loss.backward()
            optimizer.step()
            total_loss += loss.item() * len(batch)

        metrics = {"loss": total_loss / len(x)}
        if data.x_val is not None:
            metrics["val_accuracy"] = accuracy(model, data.x_val.to(device), data.y_val.to(device))
        run.log(epoch, **metrics)

    return model


def predict(model, x):
    model.eval()
    device = next(model.parameters()).device
    with torch.no_grad():
        return model(x.to(device)).argmax(dim=1).cpu()
