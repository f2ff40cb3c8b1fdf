"""Reference solution of the "two-spirals" lab.

No straight line separates two interleaved spirals, so the model needs
non-linearity: an MLP 2 → hidden → hidden → hidden → 2 with tanh activations
(smooth curves suit this smooth boundary), trained with Adam on mini-batches.
The learning rate decays with a cosine schedule so the boundary settles at
the end instead of jittering.
"""

import torch
from torch import nn


def build_model(hidden: int, n_classes: int) -> nn.Module:
    return nn.Sequential(
        nn.Linear(2, hidden),
        nn.Tanh(),
        nn.Linear(hidden, hidden),
        nn.Tanh(),
        nn.Linear(hidden, hidden),
        nn.Tanh(),
        nn.Linear(hidden, n_classes),
    )


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

    x, y = data.x_train.to(device), data.y_train.to(device)
    has_val = data.x_val is not None
    if has_val:
        x_val, y_val = data.x_val.to(device), data.y_val.to(device)

    model = build_model(hidden, data.num_classes).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
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
        scheduler.step()

        metrics = {"loss": total_loss / len(x)}
        if has_val:
            metrics["val_accuracy"] = accuracy(model, x_val, y_val)
        run.log(epoch, **metrics)

    return model


def predict(model, x):
    model.eval()
    device = next(model.parameters()).device
    with torch.no_grad():
        return model(x.to(device)).argmax(dim=1).cpu()
