"""python validate.py SHAPE N CONSTRUCTION: E[S | T] of the simulator (seed 999) against
csd.sweep (results/csd_SHAPE.npz): z-scores, chi2/dof, the largest |z|."""
import sys
import numpy as np
import sim, shapes
shape, n, name = sys.argv[1], int(sys.argv[2]), sys.argv[3]
names, out, _ = sim.run_many(shapes.table(shape), [0, 1, 2], [name], n, seed=999)
f = out[0].astype(float)
ref = np.load(f"results/csd_{shape}.npz")
mean, se = f.mean(0), f.std(0, ddof=1) / np.sqrt(n)
with np.errstate(divide="ignore", invalid="ignore"):
    z = (mean - ref["es"]) / np.sqrt(se**2 + ref["se"] ** 2)
ok = np.isfinite(z)
print(f"{shape} {name} n={n}: chi2/dof {np.mean(z[ok]**2):.3f} over {ok.sum()}, max|z| {np.abs(z[ok]).max():.2f}, #|z|>2 {(np.abs(z[ok])>2).sum()}, #|z|>3 {(np.abs(z[ok])>3).sum()}")
idx = np.unravel_index(np.argsort(-np.where(ok, np.abs(z), 0), axis=None)[:3], z.shape)
print("largest:", [(int(s), int(m), round(float(z[s, m]), 2)) for s, m in zip(*idx)])
