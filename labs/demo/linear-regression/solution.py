"""Reference solution of the "linear-regression" lab.

One linear layer, trained with mini-batch SGD on the mean squared error.
The raw features live on very different scales (area ~100 m², age ~30 years,
distance ~15 km) and the prices are in the hundreds, so the model standardises
both the features and the target with statistics of the training set; the
statistics are stored in the model as buffers, so predict() just calls it.
"""

import torch
from torch import nn


class LinearRegressor(nn.Module):
    """price = w · features + b, with the standardisation folded in."""

    def __init__(self, x_train: torch.Tensor, y_train: torch.Tensor) -> None:
        super().__init__()
        self.linear = nn.Linear(x_train.shape[1], 1)
        # Buffers move with .to(device) and are saved with the model, but are not trained.
        self.register_buffer("x_mean", x_train.mean(dim=0))
        self.register_buffer("x_std", x_train.std(dim=0).clamp_min(1e-6))
        self.register_buffer("y_mean", y_train.mean())
        self.register_buffer("y_std", y_train.std().clamp_min(1e-6))

    def forward_scaled(self, x: torch.Tensor) -> torch.Tensor:
        """Standardised features in, standardised price out (what we train on)."""
        return self.linear((x - self.x_mean) / self.x_std).squeeze(-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Raw features in, price (in thousands) out."""
        return self.forward_scaled(x) * self.y_std + self.y_mean


def r2_score(y_true: torch.Tensor, y_pred: torch.Tensor) -> float:
    """Coefficient of determination: 1 - residual sum of squares / total sum of squares."""
    ss_res = ((y_true - y_pred) ** 2).sum()
    ss_tot = ((y_true - y_true.mean()) ** 2).sum()
    return float(1.0 - ss_res / ss_tot)


def train(data, run):
    device = run.device
    epochs = int(run.params.get("epochs", 20))
    lr = float(run.params.get("lr", 0.05))
    batch_size = int(run.params.get("batch_size", 32))

    x = data.x_train.to(device)
    y = data.y_train.to(device)
    model = LinearRegressor(x, y).to(device)
    y_scaled = (y - model.y_mean) / model.y_std
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    loss_fn = nn.MSELoss()

    for epoch in range(1, epochs + 1):
        if run.time_left() < 5:  # keep a few seconds for predict()
            break
        model.train()
        total_loss = 0.0
        for batch in torch.randperm(len(x), device=device).split(batch_size):
            optimizer.zero_grad()
            loss = loss_fn(model.forward_scaled(x[batch]), y_scaled[batch])
            loss.backward()
            optimizer.step()
            total_loss += loss.item() * len(batch)

        metrics = {"loss": total_loss / len(x)}
        if data.x_val is not None:
            model.eval()
            with torch.no_grad():
                y_val_pred = model(data.x_val.to(device))
            metrics["val_r2"] = r2_score(data.y_val.to(device), y_val_pred)
        run.log(epoch, **metrics)

    return model


def predict(model, x):
    model.eval()
    device = next(model.parameters()).device
    with torch.no_grad():
        return model(x.to(device)).cpu()
