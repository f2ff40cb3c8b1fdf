"""Writes data/train.csv and data/test.csv of the "loan-default" lab (run once; deterministic).

    python make_data.py

Synthetic loan applications. Every applicant has a hidden "risk" built from the columns
below, with curves and interactions a linear model cannot represent exactly (risk rises
steeply once debt exceeds about 40 % of income, young and old borrowers are riskier than
middle-aged ones, a long employment history softens a high debt ratio), plus an unobserved
part that no model can see. Whether the loan defaults is drawn from that risk, so about
one applicant in ten defaults. numpy and the standard library only; a fixed seed.
"""

import csv
from pathlib import Path

import numpy as np

SEED = 7
OFFSET = 6.6  # sets the share of defaults (about 10 %)
N_TRAIN, N_TEST = 4_000, 1_500
COLUMNS = [
    "age",
    "income",
    "loan_amount",
    "term_months",
    "credit_score",
    "debt_to_income",
    "years_employed",
    "late_payments",
    "open_accounts",
    "home_owner",
    "default",
]


def applicants(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    age = rng.integers(21, 71, n)
    years_employed = np.minimum(age - 18, rng.gamma(2.0, 4.0, n)).astype(int)
    income = np.round(np.exp(rng.normal(10.8, 0.45, n) + 0.006 * years_employed) / 100) * 100
    credit_score = np.clip(rng.normal(680, 65, n) + 1.5 * years_employed, 300, 850).astype(int)
    loan_amount = np.round(income * rng.uniform(0.05, 0.6, n) / 100) * 100
    term_months = rng.choice([12, 24, 36, 48, 60], n, p=[0.1, 0.2, 0.35, 0.15, 0.2])
    debt_to_income = np.round(np.clip(rng.beta(2.2, 5.0, n) * 0.9 + loan_amount / income / 8, 0, 0.95), 2)
    late_payments = rng.poisson(np.exp(-(credit_score - 600) / 70))
    open_accounts = rng.poisson(4 + age / 15)
    home_owner = (rng.uniform(size=n) < 1 / (1 + np.exp(-(age - 38) / 8 - (income - 50_000) / 40_000))).astype(int)

    risk = (
        -(credit_score - 680) / 45
        + 1.1 * np.log1p(late_payments)
        + 14.0 * np.maximum(0, debt_to_income - 0.4) * (1 - 0.6 * (years_employed >= 5))
        + 1.6 * ((age - 45) / 13) ** 2
        + 1.2 * (loan_amount / income) * (term_months / 36)
        - 0.5 * home_owner
        + 0.08 * np.maximum(0, open_accounts - 8)
        + rng.normal(0, 0.7, n)  # what the columns cannot tell
    )
    p_default = 1 / (1 + np.exp(-1.3 * (risk - OFFSET)))
    defaulted = rng.uniform(size=n) < p_default
    return {
        "age": age,
        "income": income.astype(int),
        "loan_amount": loan_amount.astype(int),
        "term_months": term_months,
        "credit_score": credit_score,
        "debt_to_income": debt_to_income,
        "years_employed": years_employed,
        "late_payments": late_payments,
        "open_accounts": open_accounts,
        "home_owner": home_owner,
        "default": np.where(defaulted, "yes", "no"),
        "p_default": p_default,  # the true probability: not written
    }


def write(path: Path, table: dict[str, np.ndarray], rows: slice) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(COLUMNS)
        for i in range(rows.start, rows.stop):
            writer.writerow([f"{table[c][i]:.2f}" if c == "debt_to_income" else table[c][i] for c in COLUMNS])


def main() -> None:
    rng = np.random.default_rng(SEED)
    table = applicants(rng, N_TRAIN + N_TEST)
    folder = Path(__file__).resolve().parent / "data"
    folder.mkdir(exist_ok=True)
    write(folder / "train.csv", table, slice(0, N_TRAIN))
    write(folder / "test.csv", table, slice(N_TRAIN, N_TRAIN + N_TEST))


if __name__ == "__main__":
    main()
