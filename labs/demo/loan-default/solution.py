"""Reference solution of the "loan-default" lab.

A small MLP on standardised columns that outputs the probability of default:

    standardise (mean and std of the training rows, kept inside the model)
    → linear 10→hidden → ReLU → linear hidden→hidden → ReLU → dropout → linear hidden→1 (a logit)

Trained with the binary cross-entropy (`BCEWithLogitsLoss`) and AdamW. The ranking of the
validation rows is measured every epoch with ROC AUC, and the weights of the best epoch are
kept (early stopping), because with only about 280 defaults in the training rows the network
starts to memorise them after a few dozen epochs.
"""

import copy

import torch
from torch import nn


class LoanNet(nn.Module):
    def __init__(self, mean: torch.Tensor, std: torch.Tensor, hidden: int, dropout: float) -> None:
        super().__init__()
        # Buffers travel with the model (.to(device), state_dict) but are not trained.
        self.register_buffer("mean", mean)
        self.register_buffer("std", std)
        n_features = len(mean)
        self.net = nn.Sequential(
            nn.Linear(n_features, hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 10) raw columns → (N,) logits of "yes" (default)."""
        return self.net((x - self.mean) / self.std).squeeze(1)


def roc_auc(scores: torch.Tensor, labels: torch.Tensor) -> float:
    """Probability that a random defaulter gets a higher score than a random non-defaulter."""
    ranks = torch.empty_like(scores)
    ranks[scores.argsort()] = torch.arange(1, len(scores) + 1, dtype=scores.dtype, device=scores.device)
    positives = labels == 1
    n_pos, n_neg = int(positives.sum()), int((~positives).sum())
    return ((ranks[positives].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)).item()


def train(data, run):
    device = run.device
    epochs = int(run.params.get("epochs", 60))
    lr = float(run.params.get("lr", 0.003))
    hidden = int(run.params.get("hidden", 64))
    batch_size = int(run.params.get("batch_size", 128))
    weight_decay = float(run.params.get("weight_decay", 0.001))
    dropout = float(run.params.get("dropout", 0.1))

    x, y = data.x_train.to(device), data.y_train.to(device).float()  # y: 1.0 = "yes" (default)
    mean, std = x.mean(dim=0), x.std(dim=0).clamp_min(1e-6)  # training rows only: no peeking
    model = LoanNet(mean, std, hidden, dropout).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    loss_fn = nn.BCEWithLogitsLoss()
    x_val, y_val = data.x_val.to(device), data.y_val.to(device)

    best_auc, best_state = -1.0, None
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

        model.eval()
        with torch.no_grad():
            val_scores = model(x_val)
            val_auc = roc_auc(val_scores, y_val)
            val_accuracy = ((val_scores > 0).long() == y_val).float().mean().item()
        run.log(epoch, loss=total_loss / len(x), val_roc_auc=val_auc, val_accuracy=val_accuracy)
        if val_auc > best_auc:
            best_auc, best_state = val_auc, copy.deepcopy(model.state_dict())

    if best_state is not None:
        model.load_state_dict(best_state)  # the epoch that ranked the validation rows best
    return model


def predict(model, x):
    model.eval()
    device = next(model.parameters()).device
    with torch.no_grad():
        return torch.sigmoid(model(x.to(device))).cpu()  # P(default = "yes") per applicant
