"""Reference solution of the "digits-mlp" lab.

A multi-layer perceptron on the 64 pixel intensities of 8×8 handwritten
digits: 64 → hidden → hidden → 10 with ReLU and dropout, trained with AdamW
(weight decay) and a cosine learning-rate schedule on the cross-entropy loss.

Standardising every pixel with the training-set mean and standard deviation
matters more than any other choice here: it lifts test accuracy from about
0.96 to about 0.98 with the same network.
"""

import torch
from torch import nn


class DigitMLP(nn.Module):
    def __init__(self, x_train: torch.Tensor, hidden: int, n_classes: int, dropout: float) -> None:
        super().__init__()
        # Buffers: saved and moved with the model, not trained. The +0.1 keeps
        # border pixels that are (almost) always 0 from being blown up.
        self.register_buffer("mean", x_train.mean(dim=0))
        self.register_buffer("std", x_train.std(dim=0) + 0.1)
        self.net = nn.Sequential(
            nn.Linear(x_train.shape[1], hidden),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, n_classes),  # logits: CrossEntropyLoss applies the softmax
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net((x - self.mean) / self.std)


def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    model.eval()
    with torch.no_grad():
        return (model(x).argmax(dim=1) == y).float().mean().item()


def train(data, run):
    device = run.device
    epochs = int(run.params.get("epochs", 20))
    lr = float(run.params.get("lr", 0.003))
    hidden = int(run.params.get("hidden", 256))
    batch_size = int(run.params.get("batch_size", 64))
    dropout = float(run.params.get("dropout", 0.2))
    weight_decay = float(run.params.get("weight_decay", 0.01))

    x, y = data.x_train.to(device), data.y_train.to(device)
    model = DigitMLP(x, hidden, data.num_classes, dropout).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    # Cosine decay: big steps first, small steps at the end so the weights settle.
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
        if data.x_val is not None:
            metrics["val_accuracy"] = accuracy(model, data.x_val.to(device), data.y_val.to(device))
        run.log(epoch, **metrics)

    return model


def predict(model, x):
    model.eval()
    device = next(model.parameters()).device
    with torch.no_grad():
        return model(x.to(device)).argmax(dim=1).cpu()
