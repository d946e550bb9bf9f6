"""The tests' own GPT-2 forward pass: plain loops over heads and rows, float64, written from the
GPT-2 paper / Illustrated GPT-2 and sharing no code with pyexplainer or export.

Returns every intermediate the trace exposes, so each traced tensor can be checked on its own.
"""

import math

import numpy as np


def _layer_norm(x, gain, shift, eps):
    out = np.empty_like(x)
    means, stds = [], []
    for t, row in enumerate(x):
        mean = sum(row) / len(row)
        var = sum((r - mean) ** 2 for r in row) / len(row)
        std = math.sqrt(var + eps)
        out[t] = (row - mean) / std * gain + shift
        means.append(mean)
        stds.append(std)
    return out, np.array(means), np.array(stds)


def _gelu(x):
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * np.power(x, 3))))


def _ablate(x, to_mean):
    """What an ablated part adds instead of x (T, ...): zeros, or x's mean over the positions."""
    return np.tile(x.mean(axis=0), (len(x),) + (1,) * (x.ndim - 1)) if to_mean else np.zeros_like(x)


def reference_forward(
    ids, weights, n_layer, n_head, eps=1e-5, ablated_heads=(), ablated_mlps=(), to_mean=False
):
    """ids: list of token ids. weights: GPT-2 names (HF Conv1D layout), any float dtype.
    ablated_heads: (layer, head) pairs and ablated_mlps: layers whose outputs are replaced by
    zeros or (to_mean) by their mean over the positions before they are added."""
    w = {k: np.asarray(v, dtype=np.float64) for k, v in weights.items()}
    T = len(ids)
    D = w["wte.weight"].shape[1]
    dh = D // n_head
    rec = {
        "token_embedding": np.stack([w["wte.weight"][i] for i in ids]),
        "position_embedding": np.stack([w["wpe.weight"][t] for t in range(T)]),
    }
    x = rec["token_embedding"] + rec["position_embedding"]
    keys = (
        "residual",
        "ln1_mean",
        "ln1_std",
        "ln1_out",
        "q",
        "k",
        "v",
        "attention_scores",
        "attention_probs",
        "head_outputs",
        "attn_out",
        "residual_mid",
        "ln2_mean",
        "ln2_std",
        "ln2_out",
        "mlp_pre",
        "mlp_act",
        "mlp_out",
    )
    per_layer = {k: [] for k in keys}
    for layer in range(n_layer):
        p = f"h.{layer}."
        per_layer["residual"].append(x)
        a, mean, std = _layer_norm(x, w[p + "ln_1.weight"], w[p + "ln_1.bias"], eps)
        qkv = a @ w[p + "attn.c_attn.weight"] + w[p + "attn.c_attn.bias"]
        q = np.zeros((n_head, T, dh))
        k = np.zeros((n_head, T, dh))
        v = np.zeros((n_head, T, dh))
        for h in range(n_head):
            q[h] = qkv[:, h * dh : (h + 1) * dh]
            k[h] = qkv[:, D + h * dh : D + (h + 1) * dh]
            v[h] = qkv[:, 2 * D + h * dh : 2 * D + (h + 1) * dh]
        raw = np.full((n_head, T, T), np.nan)  # q . k, unscaled; NaN where the mask forbids
        probs = np.zeros((n_head, T, T))
        heads = np.zeros((n_head, T, dh))
        for h in range(n_head):
            for i in range(T):
                for j in range(i + 1):
                    raw[h, i, j] = float(q[h, i] @ k[h, j])
                scores = [raw[h, i, j] / math.sqrt(dh) for j in range(i + 1)]
                top = max(scores)
                exps = [math.exp(s - top) for s in scores]
                for j in range(i + 1):
                    probs[h, i, j] = exps[j] / sum(exps)
                heads[h, i] = sum(probs[h, i, j] * v[h, j] for j in range(i + 1))
        used = [
            _ablate(heads[h], to_mean) if (layer, h) in ablated_heads else heads[h]
            for h in range(n_head)
        ]
        merged = np.concatenate(used, axis=1)
        attn = merged @ w[p + "attn.c_proj.weight"] + w[p + "attn.c_proj.bias"]
        x = x + attn
        b, mean2, std2 = _layer_norm(x, w[p + "ln_2.weight"], w[p + "ln_2.bias"], eps)
        pre = b @ w[p + "mlp.c_fc.weight"] + w[p + "mlp.c_fc.bias"]
        act = _gelu(pre)
        mlp = act @ w[p + "mlp.c_proj.weight"] + w[p + "mlp.c_proj.bias"]
        if layer in ablated_mlps:
            mlp = _ablate(mlp, to_mean)
        for name, value in [
            ("ln1_mean", mean),
            ("ln1_std", std),
            ("ln1_out", a),
            ("q", q),
            ("k", k),
            ("v", v),
            ("attention_scores", raw),
            ("attention_probs", probs),
            ("head_outputs", heads),
            ("attn_out", attn),
            ("residual_mid", x),
            ("ln2_mean", mean2),
            ("ln2_std", std2),
            ("ln2_out", b),
            ("mlp_pre", pre),
            ("mlp_act", act),
            ("mlp_out", mlp),
        ]:
            per_layer[name].append(value)
        x = x + mlp
    per_layer["residual"].append(x)
    rec |= {k: np.stack(v) for k, v in per_layer.items()}
    for name, weight in [("ln1", "ln_1"), ("ln2", "ln_2")]:  # learned scale and shift, (L, D)
        rec[name + "_gain"] = np.stack([w[f"h.{i}.{weight}.weight"] for i in range(n_layer)])
        rec[name + "_bias"] = np.stack([w[f"h.{i}.{weight}.bias"] for i in range(n_layer)])
    rec["lnf_gain"], rec["lnf_bias"] = w["ln_f.weight"], w["ln_f.bias"]
    final, rec["lnf_mean"], rec["lnf_std"] = _layer_norm(x, w["ln_f.weight"], w["ln_f.bias"], eps)
    rec["lnf_out"] = final
    rec["logits"] = final @ w["wte.weight"].T  # (T, V): tied output layer
    return rec
