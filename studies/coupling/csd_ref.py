"""python csd_ref.py SHAPE N: csd.sweep (common) E[S], SE and drop-SE ratio, saved to results/csd_SHAPE.npz."""
import sys, os, time
import numpy as np
import csd, shapes
shape, n = sys.argv[1], int(sys.argv[2])
t0 = time.time()
r = csd.sweep(shapes.score_table(shape), schedules=[0, 1, 2], n_runs=n, seed=7)
os.makedirs("results", exist_ok=True)
np.savez(f"results/csd_{shape}.npz", es=r.expected_score, se=r.stderr, dse=r.drop_stderr, ise=r.independent_drop_stderr, n=n)
ratio = r.independent_drop_stderr[1:] / r.drop_stderr[1:]
print(shape, n, "csd ratio median T=1,2:", np.nanmedian(ratio, axis=1), f"{time.time()-t0:.0f}s")
