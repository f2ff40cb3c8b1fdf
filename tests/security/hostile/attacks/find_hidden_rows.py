# Attack: recover the hidden answers from the sandbox's own files. The run's x_test rows (and the
# first test rows of every demo lab, which the test fills in) are searched for in every file the
# sandbox can read, decompressing .gz/.bz2/.xz/.zip/.npz on the way: as float64, float32 and
# integer bytes and as text (CSV and space-separated). The outside review found scikit-learn's
# copy of the digits data in the worker's virtualenv, inside the sandbox: every digits test row,
# with its label, was one load_digits() away. Also looks for the host's paths and the run's
# folder in /proc/self/mountinfo, /proc/self/cmdline and /proc/self/environ.
# Expected: the run succeeds and finds nothing: learner code runs on the lab runtime (torch,
# numpy and the standard library), and there is no /proc.
# expect-state: succeeded
# expect-log: CONTAINED
# limit-wall-seconds: 600
import bz2
import gzip
import io
import lzma
import os
import stat
import zipfile

import numpy as np

HOST = {}  # the test fills in the host's paths, ports and pids
SKIP = ("/proc", "/sys", "/dev")
MAX_BYTES = 64 * 1024 * 1024


def encodings(row):
    row = np.asarray(row, dtype=np.float64).ravel()
    variants = [row]
    for scale in (16.0, 255.0):  # the digits are published as 0..16 integers
        scaled = row * scale
        if np.allclose(scaled, np.round(scaled)) and np.any(scaled):
            variants.append(np.round(scaled))
    found = []
    for values in variants:
        found += [values.astype("<f8").tobytes(), values.astype("<f4").tobytes()]
        if np.all(values == np.round(values)):
            ints = [str(int(v)) for v in values]
            found += [",".join(ints).encode(), " ".join(ints).encode(), ", ".join(ints).encode()]
            found += [",".join(f"{v:.1f}" for v in values).encode(), values.astype("<i8").tobytes()]
            if values.min() >= 0 and values.max() < 256:
                found.append(values.astype(np.uint8).tobytes())
        else:
            found += [",".join(f"{v:.4f}" for v in values).encode(), " ".join(f"{v:.4f}" for v in values).encode()]
    return [pattern for pattern in found if len(pattern) >= 16]


def contents(path, data):
    yield path, data
    name = path.lower()
    try:
        if name.endswith(".gz"):
            yield path + "!", gzip.decompress(data)
        elif name.endswith(".bz2"):
            yield path + "!", bz2.decompress(data)
        elif name.endswith(".xz"):
            yield path + "!", lzma.decompress(data)
        elif name.endswith((".zip", ".npz", ".whl", ".egg", ".jar")):
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                for member in archive.infolist()[:10000]:
                    if member.file_size <= MAX_BYTES:
                        yield f"{path}!{member.filename}", archive.read(member)
    except Exception:
        pass


def readable_files():
    for root, dirs, files in os.walk("/"):
        if root.startswith(SKIP):
            dirs[:] = []
            continue
        for name in files:
            yield os.path.join(root, name)


def train(data, run):
    # The run's own input (x_test without labels) and its own code (which holds HOST) are allowed.
    own = os.path.realpath("dataset.npz")
    own_code = os.path.realpath("solution.py")
    with np.load(own) as archive:
        rows = {"this run": archive["x_test"][:5]}
    for slug, lab_rows in HOST["lab_rows"].items():
        rows[slug] = lab_rows
    patterns = [(where, pattern) for where, lab_rows in rows.items() for row in lab_rows for pattern in encodings(row)]
    repo = HOST["repo"]
    needles = [f"{repo}/{name}".encode() for name in ("var", "workers", ".venv", "core")] + [HOST["jobs_dir"].encode()]
    hits, searched, skipped, volume = [], 0, 0, 0
    for path in readable_files():
        try:
            info = os.lstat(path)
            if not stat.S_ISREG(info.st_mode) or os.path.realpath(path) in (own, own_code):
                continue
            with open(path, "rb") as handle:
                head = handle.read(4)
                if head == b"\x7fELF" or info.st_size > MAX_BYTES:
                    skipped += 1  # machine code, or too large to be a data file worth the time
                    continue
                blob = head + handle.read()
        except OSError:
            continue
        searched += 1
        volume += len(blob)
        for where, content in contents(path, blob):
            hits += [f"{where}: a test row of {lab}" for lab, pattern in patterns if pattern in content]
            hits += [f"{where}: the host path {needle.decode()}" for needle in needles if needle in content]
    for special in ("/proc/self/mountinfo", "/proc/1/mountinfo", "/proc/self/cmdline", "/proc/self/environ"):
        try:
            text = open(special, "rb").read()
        except OSError as exc:
            print(f"CONTAINED {special}: {type(exc).__name__}")
            continue
        if any(needle in text for needle in needles):
            hits.append(f"{special} names a host path")
    print(f"searched {searched} files ({volume // (1024 * 1024)} MB), skipped {skipped} (machine code or huge)")
    print(f"cwd {os.getcwd()}; /proc holds {sorted(os.listdir('/proc')) if os.path.isdir('/proc') else None}")
    if hits:
        print(f"ESCAPED {len(hits)} finds: {hits[:20]}")
    else:
        print("CONTAINED no test row of any lab and no host path in any readable file")


def predict(model, x):
    return [0.0] * len(x)
