# Attack: take all the GPU's memory and keep it, so that the next job on this GPU fails.
# Expected: the run succeeds (the hog gets CUDA out-of-memory when the GPU is full), and the
# memory is released when the sandbox ends: the normal run after it trains on the GPU.
# expect-state: succeeded
# expect-log: CONTAINED
# needs: cuda
import torch


def train(data, run):
    hog = []
    try:
        while len(hog) < 4096:
            hog.append(torch.empty(256 * 1024 * 1024, dtype=torch.uint8, device="cuda"))
    except torch.cuda.OutOfMemoryError:
        print(f"CONTAINED CUDA out of memory after {len(hog) // 4} GB; the sandbox's end frees it")
    else:
        print(f"ESCAPED held {len(hog) // 4} GB and the GPU never filled")
    return hog


def predict(model, x):
    return [0.0] * len(x)
