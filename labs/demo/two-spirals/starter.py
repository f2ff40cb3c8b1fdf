"""Starter code for the "two-spirals" lab.

The training loop is complete, but the model is linear (logistic regression):
it draws one straight line through the plane and cannot separate the spirals,
however long it trains. Replace it with a network that can bend its boundary.
"""

import torch
from torch import nn


def build_model(hidden: int, n_classes: int) -> nn.Module:
    # TODO: add hidden layers of `hidden` units with a non-linear activation
    #       (nn.Tanh or nn.ReLU) between them. Without activations, a stack of
    #       Linear layers is still one straight line.
    return nn.Linear(2, n_classes)


def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    model.eval()
    with torch.no_grad():
        return (model(x).argmax(dim=1) == y).float().mean().item()


def train(data, run):
    device = run.device
    epochs = int(run.params.get("epochs", 80))
    lr = float(run.params.get("lr", 0.01))
    hidden = int(run.params.get("hidden", 64))
    batch_size = int(run.params.get("batch_size", 100))

    x, y = data.x_train.to(device), data.y_train.to(device)  # (N, 2) points, (N,) 0 or 1
    model = build_model(hidden, data.num_classes).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    # TODO (optional): decay the learning rate, e.g. torch.optim.lr_scheduler.CosineAnnealingLR.
    loss_fn = nn.CrossEntropyLoss()

    for epoch in range(1, epochs + 1):
        if run.time_left() < 5:  # keep a few seconds for predict()
            break
        model.train()
        total_loss = 0.0
        for batch in torch.randperm(len(x), device=device).split(batch_size):
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
        return model(x.to(device)).argmax(dim=1).cpu()  # class 0 or 1 per point
