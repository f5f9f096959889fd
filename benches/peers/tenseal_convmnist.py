#!/usr/bin/env python3
"""Peer measurement: TenSEAL (Microsoft SEAL, CKKS) encrypted ConvMNIST inference.

Runs the network of TenSEAL's encrypted-MNIST tutorial --
    Conv(1->C, k x k, stride s) -> x^2 -> Flatten -> Gemm -> x^2 -> Gemm
-- on the weights stored in an ONNX file (no training here) and on the test
images shipped in data/, with TenSEAL's own building blocks: client-side
``ts.im2col_encoding``, server-side ``conv2d_im2col`` per output channel,
``CKKSVector.pack_vectors``, ``square_``, ``mm`` (diagonal method) with the dense
weights.  CKKS context as in the tutorial: N = 8192,
coeff_mod_bit_sizes [31, 26, 26, 26, 26, 26, 26, 31], scale 2^26, Galois keys.

The client and the server are kept apart: the server works on a context that
was deserialized from bytes holding only the public, relinearization and Galois
keys, receives the serialized encrypted image and returns the serialized
encrypted logits.  Per image we time (time.perf_counter):
  encrypt   client: normalization + im2col + encode + encrypt
  eval      server: conv (all channels) + pack + square + mm + square + mm
  decrypt   client: decrypt of the logits
and, separately, the (de)serialization on each side.  Medians and p90 over the
images.  Agreement compares the encrypted argmax with the argmax of the same
network evaluated in numpy float64 from the same ONNX weights.

Layer-1 bias (``--bias``):
  tutorial    ``ct.mm(W1) + b1`` exactly as the tutorial writes it.  TenSEAL
              encodes the plain vector b1 into slots 0..63 only, while ``mm``
              leaves its result replicated over all slots and the next ``mm``
              reads the replicas; so logit j misses the bias on j of its 64
              terms.  We report the effect (and emulate it in plaintext).
  replicated  the server encrypts b1 once with the public key (TenSEAL
              replicates an encrypted vector over all slots) and adds that
              ciphertext: same cost, exact.
``--check-fix K`` also runs the other variant, untimed, on the first K images.

Run under ``flock /tmp/bench.lock`` on a shared machine.  No network is used.
"""
import argparse
import json
import os
import platform
import statistics
import sys
import time

import numpy as np
import onnx
from onnx import numpy_helper
import tenseal as ts

POLY_N = 8192
COEFF_BITS = [31, 26, 26, 26, 26, 26, 26, 31]
SCALE_BITS = 26
MNIST_MEAN, MNIST_STD = 0.1307, 0.3081
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))


# ------------------------------------------------------------------ output
class Log:
    def __init__(self):
        self.lines = []

    def __call__(self, msg=""):
        print(msg, flush=True)
        self.lines.append(msg)


log = Log()


def median(xs):
    return statistics.median(xs)


def p90(xs):
    s = sorted(xs)
    return s[min(len(s) - 1, int(round(0.9 * (len(s) - 1))))]


def stat_ms(xs):
    return {"median_ms": 1e3 * median(xs), "p90_ms": 1e3 * p90(xs),
            "mean_ms": 1e3 * statistics.fmean(xs)}


def fmt(xs):
    return f"{1e3 * median(xs):8.2f} ms (p90 {1e3 * p90(xs):8.2f})"


def cpu_model():
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def loadavg():
    try:
        with open("/proc/loadavg") as fh:
            return " ".join(fh.read().split()[:3])
    except OSError:
        return "?"


# ------------------------------------------------------------ ONNX, numpy
def _attrs(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def conv2d_np(x, w, b, stride, pads):
    """x (N, Cin, H, W), w (Cout, Cin, kh, kw), float64, no dilation/groups."""
    if any(pads):
        t, l, bo, r = pads[0], pads[1], pads[2], pads[3]
        x = np.pad(x, ((0, 0), (0, 0), (t, bo), (l, r)))
    n, cin, h, wd = x.shape
    cout, _, kh, kw = w.shape
    sh, sw = stride
    oh, ow = (h - kh) // sh + 1, (wd - kw) // sw + 1
    out = np.zeros((n, cout, oh, ow))
    for i in range(kh):
        for j in range(kw):
            patch = x[:, :, i:i + sh * oh:sh, j:j + sw * ow:sw]  # (n, cin, oh, ow)
            out += np.einsum("nchw,oc->nohw", patch, w[:, :, i, j])
    if b is not None:
        out += b[None, :, None, None]
    return out


class OnnxNet:
    """Reads the graph with onnx + numpy_helper; evaluates it in float64."""

    def __init__(self, path):
        self.model = onnx.load(path)
        g = self.model.graph
        self.graph = g
        self.inits = {t.name: numpy_helper.to_array(t).astype(np.float64)
                      if numpy_helper.to_array(t).dtype.kind == "f"
                      else numpy_helper.to_array(t) for t in g.initializer}
        init_names = set(self.inits)
        self.input_name = [i.name for i in g.input if i.name not in init_names][0]
        inp = [i for i in g.input if i.name == self.input_name][0]
        self.input_shape = [d.dim_value if d.dim_value else None
                            for d in inp.type.tensor_type.shape.dim]
        self.output_name = g.output[0].name
        self.nodes = list(g.node)
        self._extract()

    def run(self, x, stop_at=None):
        env = dict(self.inits)
        env[self.input_name] = x
        for node in self.nodes:
            if stop_at is not None and stop_at in env:
                break
            ins = [env[i] if i else None for i in node.input]
            a = _attrs(node)
            op = node.op_type
            if op == "Constant":
                out = numpy_helper.to_array(a["value"])
                out = out.astype(np.float64) if out.dtype.kind == "f" else out
            elif op == "Identity":
                out = ins[0]
            elif op == "Cast":
                out = ins[0].astype(np.float64)
            elif op in ("Add", "Sub", "Mul", "Div"):
                f = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Div": np.divide}[op]
                out = f(np.asarray(ins[0], np.float64), np.asarray(ins[1], np.float64))
            elif op == "Pow":
                out = np.power(ins[0], ins[1])
            elif op == "Conv":
                if a.get("group", 1) != 1 or any(d != 1 for d in a.get("dilations", [1, 1])):
                    raise NotImplementedError("Conv with groups/dilations")
                out = conv2d_np(ins[0], ins[1], ins[2] if len(ins) > 2 else None,
                                a.get("strides", [1, 1]), a.get("pads", [0, 0, 0, 0]))
            elif op == "Flatten":
                ax = a.get("axis", 1)
                out = ins[0].reshape(int(np.prod(ins[0].shape[:ax])), -1)
            elif op == "Reshape":
                shape = [int(s) for s in ins[1]]
                shape = [ins[0].shape[i] if s == 0 else s for i, s in enumerate(shape)]
                out = ins[0].reshape(shape)
            elif op == "Gemm":
                A, B = ins[0], ins[1]
                if a.get("transA", 0):
                    A = A.T
                if a.get("transB", 0):
                    B = B.T
                out = a.get("alpha", 1.0) * (A @ B)
                if len(ins) > 2 and ins[2] is not None:
                    out = out + a.get("beta", 1.0) * ins[2]
            elif op == "MatMul":
                out = ins[0] @ ins[1]
            else:
                raise NotImplementedError(f"ONNX op {op} in {node.name}")
            env[node.output[0]] = out
        return env[stop_at] if stop_at is not None else env[self.output_name]

    def _extract(self):
        """Pick out the layers that the encrypted evaluation needs."""
        convs = [n for n in self.nodes if n.op_type == "Conv"]
        gemms = [n for n in self.nodes if n.op_type in ("Gemm", "MatMul")]
        if len(convs) != 1 or len(gemms) != 2:
            raise ValueError(f"expected 1 Conv and 2 Gemm/MatMul, got {len(convs)} and {len(gemms)}")
        c = convs[0]
        a = _attrs(c)
        if any(a.get("pads", [0, 0, 0, 0])):
            raise ValueError("conv padding is not supported by ts.im2col_encoding")
        s = a.get("strides", [1, 1])
        if s[0] != s[1]:
            raise ValueError("non-square stride")
        self.conv_in = c.input[0]
        self.conv_w = self.inits[c.input[1]]            # (C, 1, k, k)
        self.conv_b = self.inits[c.input[2]] if len(c.input) > 2 else np.zeros(self.conv_w.shape[0])
        if self.conv_w.shape[1] != 1:
            raise ValueError("only one input channel")
        self.stride = int(s[0])
        mats = []
        for g in gemms:
            ga = _attrs(g)
            W = self.inits[g.input[1]]
            if g.op_type == "Gemm":
                if ga.get("transA", 0) or ga.get("alpha", 1.0) != 1.0 or ga.get("beta", 1.0) != 1.0:
                    raise ValueError("unsupported Gemm attributes")
                W = W.T if ga.get("transB", 0) else W
                b = self.inits[g.input[2]] if len(g.input) > 2 and g.input[2] else np.zeros(W.shape[1])
            else:
                add = [n for n in self.nodes if n.op_type == "Add" and g.output[0] in n.input]
                b = np.zeros(W.shape[1])
                if add:
                    other = [i for i in add[0].input if i != g.output[0]][0]
                    b = self.inits[other]
            mats.append((np.ascontiguousarray(W), np.asarray(b).reshape(-1)))
        (self.w1, self.b1), (self.w2, self.b2) = mats  # x @ W + b orientation
        self.preprocess_ops = [n.op_type for n in self.nodes if n is not c and
                               self.nodes.index(n) < self.nodes.index(c)]

    def conv_input(self, x):
        """The plaintext tensor that enters the Conv (client-side preprocessing)."""
        return self.run(x, stop_at=self.conv_in)

    def forward_layers(self, z):
        """Same network from the conv input on, written out with the extracted weights."""
        h = conv2d_np(z, self.conv_w, self.conv_b, (self.stride, self.stride), [0, 0, 0, 0])
        h = (h * h).reshape(h.shape[0], -1)
        h = h @ self.w1 + self.b1
        h = h * h
        return h @ self.w2 + self.b2


class RandomNet(OnnxNet):
    """Random weights of the tutorial's shapes, for developing without the fixture."""

    def __init__(self, seed=0, side=28, k=7, stride=3, ch=4, hidden=64):
        rng = np.random.default_rng(seed)
        o = (side - k) // stride + 1
        self.conv_w = rng.normal(0, 0.3, (ch, 1, k, k))
        self.conv_b = rng.normal(0, 0.1, ch)
        self.stride = stride
        self.w1 = rng.normal(0, 0.05, (ch * o * o, hidden))
        self.b1 = rng.normal(0, 0.3, hidden)
        self.w2 = rng.normal(0, 0.1, (hidden, 10))
        self.b2 = rng.normal(0, 0.1, 10)
        self.input_shape = [None, 1, side, side]
        self.preprocess_ops = ["(x/255 - mean)/std in python"]

    def conv_input(self, x):
        return (x - MNIST_MEAN) / MNIST_STD

    def run(self, x, stop_at=None):
        return self.forward_layers(self.conv_input(x))


def emulate_tutorial_bias(net, z):
    """Plaintext model of what ``mm(W1) + b1`` then ``square`` then ``mm(W2)`` computes
    in TenSEAL's slots: b1 lands only in slots 0..m-1 of a result that is otherwise
    replicated with period m, and the diagonal-method mm reads slots j..j+m-1."""
    h = conv2d_np(z, net.conv_w, net.conv_b, (net.stride, net.stride), [0, 0, 0, 0])
    h = (h * h).reshape(h.shape[0], -1)
    u = h @ net.w1                                   # (n, m), without bias
    m, k = net.w2.shape
    slots = np.arange(2 * m)
    rep = u[:, slots % m] + (slots < m) * net.b1[slots % m]
    rep = rep * rep                                   # (n, 2m)
    out = np.zeros((u.shape[0], k))
    for j in range(k):
        for i in range(m):
            out[:, j] += rep[:, j + i] * net.w2[(i + j) % m, j]
    return out + net.b2


# ------------------------------------------------------------------ data
def load_images(data_dir, n, side, first=0):
    """Returns (images as float64 (n, 1, side, side) in the model's input units, labels)."""
    cands = {
        "x": ["test_images.npy", "x_test.npy", "images.npy", "test_x.npy", "X_test.npy"],
        "y": ["test_labels.npy", "y_test.npy", "labels.npy", "test_y.npy"],
    }
    xp = next((os.path.join(data_dir, f) for f in cands["x"] if os.path.exists(os.path.join(data_dir, f))), None)
    yp = next((os.path.join(data_dir, f) for f in cands["y"] if os.path.exists(os.path.join(data_dir, f))), None)
    if xp is None or yp is None:
        raise FileNotFoundError(f"no images/labels .npy in {data_dir} (looked for {cands})")
    X = np.load(xp, mmap_mode="r")
    Y = np.load(yp, mmap_mode="r")
    total = len(Y)
    n = total - first if n <= 0 else min(n, total - first)
    # the model's input is pixel / 255 (data/models/README.md); the .npy holds uint8 pixels
    X = np.asarray(X[first:first + n], dtype=np.float64).reshape(n, 1, side, side) / 255.0
    return X, np.asarray(Y[first:first + n]).astype(int), total, xp, yp


# ------------------------------------------------------------------ HE
def make_client_context(n_threads):
    ctx = ts.context(ts.SCHEME_TYPE.CKKS, poly_modulus_degree=POLY_N,
                     coeff_mod_bit_sizes=COEFF_BITS, n_threads=n_threads)
    ctx.global_scale = 2 ** SCALE_BITS
    ctx.generate_galois_keys()
    return ctx


class Server:
    """Holds only public material: the evaluation context and the plain weights."""

    def __init__(self, public_ctx_bytes, net, n_threads, bias_mode):
        self.ctx = ts.context_from(public_ctx_bytes, n_threads=n_threads)
        assert not self.ctx.has_secret_key()
        self.kernels = [net.conv_w[c, 0].tolist() for c in range(net.conv_w.shape[0])]
        self.kbias = [float(b) for b in net.conv_b]
        self.w1 = ts.plain_tensor(net.w1.tolist(), dtype="float")
        self.w2 = ts.plain_tensor(net.w2.tolist(), dtype="float")
        self.b1 = net.b1.tolist()
        self.b2 = net.b2.tolist()
        self.b1_ct = ts.ckks_vector(self.ctx, self.b1)  # replicated over all slots
        self.bias_mode = bias_mode

    def receive(self, blob):
        return ts.ckks_vector_from(self.ctx, blob)

    def evaluate(self, enc, windows_nb, bias_mode=None):
        bias_mode = bias_mode or self.bias_mode
        chans = [enc.conv2d_im2col(k, windows_nb) + b for k, b in zip(self.kernels, self.kbias)]
        x = ts.CKKSVector.pack_vectors(chans)
        x.square_()
        x = x.mm(self.w1)
        if bias_mode == "tutorial":
            x = x + self.b1
        else:
            x = x + self.b1_ct
        x.square_()
        x = x.mm(self.w2) + self.b2
        return x


def run_threads(net, X, Y, ref_logits, emu_logits, n_threads, bias_mode, check_fix, budget_s=0.0):
    k = net.conv_w.shape[2]
    stride = net.stride
    t0 = time.perf_counter()
    cctx = make_client_context(n_threads)
    t_keygen = time.perf_counter() - t0
    pub = cctx.serialize(save_public_key=True, save_secret_key=False,
                         save_galois_keys=True, save_relin_keys=True)
    pub_no_gal = cctx.serialize(save_public_key=True, save_secret_key=False,
                                save_galois_keys=False, save_relin_keys=True)
    only_gal = cctx.serialize(save_public_key=False, save_secret_key=False,
                              save_galois_keys=True, save_relin_keys=False)
    server = Server(pub, net, n_threads, bias_mode)

    rec = {k_: [] for k_ in ("encrypt", "ser_in", "deser_in", "eval", "ser_out", "deser_out", "decrypt")}
    in_bytes, out_bytes, preds, errs = [], [], [], []
    fix_preds, fix_errs = [], []
    windows_nb = None
    n = len(Y)
    t_start = time.perf_counter()
    for i in range(n):
        a = time.perf_counter()
        z = net.conv_input(X[i:i + 1])[0, 0]                      # client-side normalization
        enc, windows_nb = ts.im2col_encoding(cctx, z.tolist(), k, k, stride)
        b = time.perf_counter()
        blob = enc.serialize()
        c = time.perf_counter()
        senc = server.receive(blob)
        d = time.perf_counter()
        res = server.evaluate(senc, windows_nb)
        e = time.perf_counter()
        rblob = res.serialize()
        f = time.perf_counter()
        cres = ts.ckks_vector_from(cctx, rblob)
        g = time.perf_counter()
        logits = np.array(cres.decrypt())
        h = time.perf_counter()
        for key, dt in zip(rec, (b - a, c - b, d - c, e - d, f - e, g - f, h - g)):
            rec[key].append(dt)
        in_bytes.append(len(blob))
        out_bytes.append(len(rblob))
        preds.append(int(np.argmax(logits)))
        errs.append(float(np.max(np.abs(logits - ref_logits[i]))))
        if i < check_fix:
            other = "replicated" if bias_mode == "tutorial" else "tutorial"
            ol = np.array(server.evaluate(senc, windows_nb, other).decrypt(cctx.secret_key()))
            fix_preds.append(int(np.argmax(ol)))
            fix_errs.append(float(np.max(np.abs(ol - ref_logits[i]))))
        if (i + 1) % 100 == 0 or i + 1 == n:
            el = time.perf_counter() - t_start
            print(f"  [{n_threads}t] {i + 1}/{n} images, {el:.0f} s", file=sys.stderr, flush=True)
        if budget_s and time.perf_counter() - t_start > budget_s:
            break
    wall = time.perf_counter() - t_start
    n_req, n = n, len(preds)
    Y, ref_logits = Y[:n], ref_logits[:n]
    emu_logits = None if emu_logits is None else emu_logits[:n]

    preds = np.array(preds)
    ref_pred = ref_logits.argmax(1)
    res = {
        "n_threads": n_threads,
        "bias_mode": bias_mode,
        "images": n,
        "images_requested": n_req,
        "time_budget_s": budget_s or None,
        "windows_nb": int(windows_nb),
        "keygen_s": t_keygen,
        "times": {k_: stat_ms(v) for k_, v in rec.items()},
        "bytes_client_to_server": {"median": int(median(in_bytes)), "max": int(max(in_bytes))},
        "bytes_server_to_client": {"median": int(median(out_bytes)), "max": int(max(out_bytes))},
        "eval_key_bytes": {"public_ctx_with_galois": len(pub), "public_ctx_without_galois": len(pub_no_gal),
                           "galois_keys_only": len(only_gal)},
        "agreement_with_plaintext_argmax": float(np.mean(preds == ref_pred)),
        "encrypted_accuracy": float(np.mean(preds == Y)),
        "plaintext_accuracy": float(np.mean(ref_pred == Y)),
        "max_abs_logit_error": float(max(errs)),
        "median_abs_logit_error": float(median(errs)),
        "wall_s": wall,
    }
    if emu_logits is not None and bias_mode == "tutorial":
        res["agreement_with_emulated_tutorial_plaintext"] = float(np.mean(preds == emu_logits.argmax(1)))
    if fix_preds:
        other = "replicated" if bias_mode == "tutorial" else "tutorial"
        fp = np.array(fix_preds)
        res["other_bias_mode_check"] = {
            "bias_mode": other, "images": len(fp),
            "agreement_with_plaintext_argmax": float(np.mean(fp == ref_pred[:len(fp)])),
            "encrypted_accuracy": float(np.mean(fp == Y[:len(fp)])),
            "max_abs_logit_error": float(max(fix_errs)),
            "same_images_main_mode_agreement": float(np.mean(preds[:len(fp)] == ref_pred[:len(fp)])),
        }
    return res


def report(r, ref_logits, emu_logits):
    t = r["times"]
    log("-" * 78)
    if r["images"] < r["images_requested"]:
        log(f"NOTE: stopped by --time-budget {r['time_budget_s']:.0f} s after {r['images']} of "
            f"{r['images_requested']} requested images (the first {r['images']} of the selected images)")
    log(f"threads={r['n_threads']}  layer-1 bias={r['bias_mode']}  images={r['images']}  "
        f"windows_nb={r['windows_nb']}  keygen (ctx+relin+galois) {r['keygen_s']:.2f} s")
    log(f"  client encrypt (normalize+im2col+encrypt) {fmt_ms(t['encrypt'])}   serialize {fmt_ms(t['ser_in'])}")
    log(f"  server eval (conv+pack+sq+mm+sq+mm)       {fmt_ms(t['eval'])}   deserialize in {fmt_ms(t['deser_in'])}, serialize out {fmt_ms(t['ser_out'])}")
    log(f"  client decrypt                            {fmt_ms(t['decrypt'])}   deserialize {fmt_ms(t['deser_out'])}")
    tot = sum(t[k]["median_ms"] for k in t)
    log(f"  sum of medians, all steps: {tot:.1f} ms/image; wall {r['wall_s']:.1f} s for {r['images']} images "
        f"(incl. checks) -> 10,000 images ~ {r['wall_s'] / r['images'] * 10000 / 60:.0f} min")
    log(f"  bytes client->server {r['bytes_client_to_server']['median']} B (serialized encrypted image), "
        f"server->client {r['bytes_server_to_client']['median']} B (serialized encrypted logits)")
    kb = r["eval_key_bytes"]
    log(f"  evaluation keys: public context with Galois keys {kb['public_ctx_with_galois']} B "
        f"(= {kb['public_ctx_with_galois'] / 2**20:.1f} MiB; without Galois {kb['public_ctx_without_galois']} B, "
        f"Galois keys alone {kb['galois_keys_only']} B)")
    log(f"  agreement encrypted argmax == plaintext float64 argmax: {r['agreement_with_plaintext_argmax']:.4f} "
        f"({int(round(r['agreement_with_plaintext_argmax'] * r['images']))}/{r['images']})")
    log(f"  accuracy vs labels: encrypted {r['encrypted_accuracy']:.4f}, plaintext {r['plaintext_accuracy']:.4f}")
    log(f"  |encrypted logit - plaintext logit|: max {r['max_abs_logit_error']:.3e}, "
        f"median of per-image max {r['median_abs_logit_error']:.3e} "
        f"(plaintext logits span [{ref_logits.min():.2f}, {ref_logits.max():.2f}])")
    if "agreement_with_emulated_tutorial_plaintext" in r:
        log(f"  agreement with a plaintext emulation of the tutorial's slot layout (b1 in slots 0..63 only): "
            f"{r['agreement_with_emulated_tutorial_plaintext']:.4f}")
    if "other_bias_mode_check" in r:
        o = r["other_bias_mode_check"]
        log(f"  check, untimed, first {o['images']} images with bias={o['bias_mode']}: agreement "
            f"{o['agreement_with_plaintext_argmax']:.4f} (main mode on same images "
            f"{o['same_images_main_mode_agreement']:.4f}), accuracy {o['encrypted_accuracy']:.4f}, "
            f"max |logit err| {o['max_abs_logit_error']:.3e}")


def fmt_ms(s):
    return f"{s['median_ms']:8.2f} ms (p90 {s['p90_ms']:8.2f})"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=os.path.join(REPO, "data", "models", "mnist_cnn_tenseal.onnx"))
    ap.add_argument("--data", default=os.path.join(REPO, "data", "mnist"))
    ap.add_argument("--images", type=int, default=1000, help="first N test images (0 = all)")
    ap.add_argument("--first", type=int, default=0, help="index of the first test image (default 0)")
    ap.add_argument("--threads", default="1", help="comma list of TenSEAL n_threads values, e.g. 1,2")
    ap.add_argument("--bias", choices=["tutorial", "replicated"], default="tutorial")
    ap.add_argument("--check-fix", type=int, default=0,
                    help="also run the other --bias variant (untimed) on the first K images")
    ap.add_argument("--time-budget", type=float, default=0.0,
                    help="per thread setting, stop after this many seconds of the image loop (0 = no limit)")
    ap.add_argument("--random", action="store_true", help="random weights and images (development)")
    ap.add_argument("--json", default="", help="write results as JSON here")
    args = ap.parse_args()

    log(f"# tenseal_convmnist.py  {time.strftime('%Y-%m-%d %H:%M:%S %Z')}")
    log(f"# command: {' '.join([os.path.basename(sys.executable)] + sys.argv)}")
    log(f"# cpu: {cpu_model()}; {os.cpu_count()} logical cpus; load average at start {loadavg()} "
        f"(other processes may be running on this shared machine)")
    log(f"# python {platform.python_version()}  tenseal {ts.__version__}  onnx {onnx.__version__}  numpy {np.__version__}")
    log(f"# CKKS N={POLY_N} coeff_mod_bit_sizes={COEFF_BITS} (sum {sum(COEFF_BITS)} bits) scale=2^{SCALE_BITS}, "
        f"public-key encryption, relin + Galois keys")

    if args.random:
        net = RandomNet()
        rng = np.random.default_rng(1)
        n = args.images or 100
        X = rng.integers(0, 256, (n, 1, 28, 28)) / 255.0
        Y = rng.integers(0, 10, n)
        total, src = n, "random"
        log("# DEVELOPMENT RUN: random weights and random images")
    else:
        net = OnnxNet(args.model)
        side = net.input_shape[-1]
        X, Y, total, xp, yp = load_images(args.data, args.images, side, args.first)
        src = f"{os.path.relpath(xp, REPO)}, {os.path.relpath(yp, REPO)}"
        log(f"# model: {os.path.relpath(args.model, REPO)}; input {net.input_shape}; "
            f"ops before Conv (client-side, plaintext): {net.preprocess_ops or 'none'}")
        ip, op_ = args.model[:-5] + ".inputs.npy", args.model[:-5] + ".outputs.npy"
        if os.path.exists(ip) and os.path.exists(op_):
            d = np.abs(net.run(np.load(ip)).reshape(-1, 10) - np.load(op_)).max()
            log(f"# numpy float64 evaluator vs the fixture's reference outputs ({os.path.basename(op_)}): max abs diff {d:.2e}")
            if d > 1e-6:
                raise SystemExit("plaintext evaluator does not match the fixture's reference outputs")
    log(f"# layers: Conv {net.conv_w.shape} stride {net.stride} -> x^2 -> Flatten -> Gemm {net.w1.shape} "
        f"-> x^2 -> Gemm {net.w2.shape}")
    log(f"# images: {src}; test images {args.first}..{args.first + len(Y) - 1} of {total}; pixel range [{X.min():.3g}, {X.max():.3g}]")

    # plaintext reference: whole ONNX graph in float64, cross-checked against the extracted layers
    ref = net.run(X)
    ref = ref.reshape(len(Y), -1)
    z = net.conv_input(X)
    alt = net.forward_layers(z)
    if not np.allclose(ref, alt, rtol=1e-9, atol=1e-9):
        raise SystemExit(f"extracted layers disagree with the ONNX graph (max diff {np.abs(ref - alt).max()})")
    emu = emulate_tutorial_bias(net, z)
    if not args.random and len(Y) < total:
        Xa, Ya, _, _, _ = load_images(args.data, 0, net.input_shape[-1])
        ra = net.run(Xa).reshape(len(Ya), -1)
        ea = emulate_tutorial_bias(net, net.conv_input(Xa))
        log(f"# plaintext float64 on all {len(Ya)} test images: accuracy {np.mean(ra.argmax(1) == Ya):.4f}; "
            f"emulated tutorial-layout (b1 in slots 0..63 only) argmax agrees with exact on "
            f"{np.mean(ea.argmax(1) == ra.argmax(1)):.4f}, its accuracy {np.mean(ea.argmax(1) == Ya):.4f}")
    log(f"# plaintext float64: accuracy {np.mean(ref.argmax(1) == Y):.4f}; layer-1 bias |b1| max "
        f"{np.abs(net.b1).max():.3f}; emulated tutorial-layout logits agree with exact argmax on "
        f"{np.mean(emu.argmax(1) == ref.argmax(1)):.4f} of images (max logit shift {np.abs(emu - ref).max():.3f})")

    results = []
    for nt in [int(s) for s in args.threads.split(",") if s]:
        r = run_threads(net, X, Y, ref, emu, nt, args.bias, args.check_fix, args.time_budget)
        report(r, ref[:r["images"]], emu)
        results.append(r)
    log(f"# load average at end {loadavg()}")
    if args.json:
        meta = {"cpu": cpu_model(), "python": platform.python_version(), "tenseal": ts.__version__,
                "numpy": np.__version__, "onnx": onnx.__version__, "argv": sys.argv,
                "params": {"N": POLY_N, "coeff_mod_bit_sizes": COEFF_BITS, "scale_bits": SCALE_BITS},
                "images_source": src, "images_total": total}
        with open(args.json, "w") as fh:
            json.dump({"meta": meta, "runs": results}, fh, indent=1)


if __name__ == "__main__":
    main()
