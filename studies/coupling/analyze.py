"""python analyze.py SHAPE...: validation against csd.sweep and drop-SE ratios."""
import sys
import numpy as np


def ratios(final, top):
    """final (N, S, M): median ratio independent/common per schedule s>0 (all models and
    `top`), and median per-run corr(S_0, S_s)."""
    v = final.var(axis=0, ddof=1)  # (S, M)
    d = final[:, 1:] - final[:, :1]
    vd = d.var(axis=0, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.sqrt((v[1:] + v[:1]) / vd)  # (S-1, M)
        c = ((final[:, 1:] - final[:, 1:].mean(0)) * (final[:, :1] - final[:, :1].mean(0))).mean(0) / np.sqrt(v[1:] * v[:1])
    ok = np.isfinite(r)
    med = lambda x, mask: np.array([np.median(x[s][mask[s]]) for s in range(x.shape[0])])
    return med(r, ok), med(r[:, top], ok[:, top]), med(c, np.isfinite(c))


def main(shape, n_boot=200):
    import os
    import glob
    files = [f"results/{shape}.npz"] + sorted(glob.glob(f"results/{shape}_*.npz"))
    parts = [np.load(f) for f in files if os.path.exists(f)]
    names = [str(x) for p in parts for x in p["names"]]
    finals = np.concatenate([p["final"] for p in parts]).astype(float)
    differ = np.concatenate([p["differ"] for p in parts])
    ref = np.load(f"results/csd_{shape}.npz")
    top = np.argsort(-ref["es"][0], kind="stable")[:10]
    n = finals.shape[1]
    print(f"## {shape}: {finals.shape[3]} models x {differ.shape[2]} rounds, {n} runs per construction (csd.sweep reference: {int(ref['n'])} runs)")
    print("construction   | E[S] vs csd: max|z|  #|z|>2/(3M)  chi2/dof | ratio T=1 all (top10)      | ratio T=2 all (top10)      | corr T=1, T=2 | frac differing after rounds 1,2,3,5,last (T=1)")
    rng = np.random.default_rng(0)
    K = differ.shape[2]
    pick = [k for k in (0, 1, 2, 4, K - 1) if k < K]  # rounds 1, 2, 3, 5 and the last
    for c, name in enumerate(names):
        f = finals[c]
        mean, se = f.mean(0), f.std(0, ddof=1) / np.sqrt(n)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = (mean - ref["es"]) / np.sqrt(se**2 + ref["se"] ** 2)
        z = z[np.isfinite(z)]
        ra, rt, co = ratios(f, top)
        boots = np.array([np.concatenate(ratios(f[rng.integers(0, n, n)], top)) for _ in range(n_boot)])
        sd = boots.std(axis=0, ddof=1)
        fd = " ".join(f"{differ[c, 1, k]:.2f}" for k in pick)
        print(f"{name:<14} | {np.abs(z).max():5.2f}  {(np.abs(z) > 2).sum():3d}/{z.size:<4d}  {np.mean(z**2):5.2f}   "
              f"| {ra[0]:.3f}±{sd[0]:.3f} ({rt[0]:.3f}±{sd[2]:.3f}) | {ra[1]:.3f}±{sd[1]:.3f} ({rt[1]:.3f}±{sd[3]:.3f}) "
              f"| {co[0]:.3f} {co[1]:.3f}  | {fd}")
    cr = ref["ise"][1:] / ref["dse"][1:]
    print(f"csd.sweep      | ratio T=1 {np.nanmedian(cr[0]):.3f} ({np.nanmedian(cr[0][top]):.3f}), T=2 {np.nanmedian(cr[1]):.3f} ({np.nanmedian(cr[1][top]):.3f})")
    print()


if __name__ == "__main__":
    for shape in sys.argv[1:]:
        main(shape)
