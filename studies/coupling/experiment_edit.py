"""python experiment_edit.py SHAPE N_RUNS: the cross-schedule edit coupling, saved to
results/SHAPE_edit.npz (same format as experiment.py)."""
import sys, time
import numpy as np
import sim, shapes

shape, n = sys.argv[1], int(sys.argv[2])
t0 = time.process_time()
names, out, differ = sim.run_edit(shapes.table(shape), [0, 1, 2], n, seed=12345)
np.savez_compressed(f"results/{shape}_edit.npz", names=np.array(names), final=out, differ=differ)
print(shape, n, names, f"{time.process_time() - t0:.0f}s CPU")
