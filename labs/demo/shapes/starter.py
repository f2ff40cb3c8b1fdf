"""Starter code for the "shapes" lab.

The training loop is complete, but the model is a single linear layer on the 576 pixels
of each image. It trains and runs, yet cannot recognise a shape that moves, turns or swaps
light for dark: it stays far below the threshold. Replace it with a convolutional network
(the TODOs say where).
"""

import torch
from torch import nn


class ShapeNet(nn.Module):
    def __init__(self, in_channels: int, channels: int, n_classes: int, dropout: float) -> None:
        super().__init__()
        # TODO: convolutional feature extractor for (N, 1, 24, 24) images, e.g.
        #       [Conv2d(·, channels, 3, padding=1) → BatchNorm2d → ReLU] → MaxPool2d(2) → ...
        #       ending in nn.AdaptiveAvgPool2d(1) (one number per channel, wherever the shape is).
        self.features = nn.Identity()
        # TODO: classifier on the pooled features (with dropout), ending in n_classes logits.
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(in_channels * 24 * 24, n_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


def train(data, run):
    device = run.device
    epochs = int(run.params.get("epochs", 25))
    lr = float(run.params.get("lr", 0.003))
    channels = int(run.params.get("channels", 16))
    batch_size = int(run.params.get("batch_size", 32))
    dropout = float(run.params.get("dropout", 0.2))

    x, y = data.x_train.to(device), data.y_train.to(device)  # (N, 1, 24, 24) in [0, 1], (N,)
    model = ShapeNet(x.shape[1], channels, data.num_classes, dropout).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    loss_fn = nn.CrossEntropyLoss()  # TODO (optional): weight the rare class more (weight=...)
    x_val, y_val = data.x_val.to(device), data.y_val.to(device)

    for epoch in range(1, epochs + 1):
        if run.time_left() < 5:  # keep a few seconds for predict()
            break
        model.train()
        total_loss = 0.0
        for batch in torch.randperm(len(x), device=device).split(batch_size):
            # TODO (optional): augment x[batch]: mirror, quarter turns, small shifts, 1 - x.
            optimizer.zero_grad()
            loss = loss_fn(model(x[batch]), y[batch])
            loss.backward()
            optimizer.step()
            total_loss += loss.item() * len(batch)

        model.eval()
        with torch.no_grad():
            val_accuracy = (model(x_val).argmax(dim=1) == y_val).float().mean().item()
        run.log(epoch, loss=total_loss / len(x), val_accuracy=val_accuracy)

    return model


def predict(model, x):
    model.eval()
    device = next(model.parameters()).device
    with torch.no_grad():
        return model(x.to(device)).argmax(dim=1).cpu()  # one class id per image
