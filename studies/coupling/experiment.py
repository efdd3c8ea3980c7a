"""python experiment.py SHAPE N_RUNS [constructions...]: CRN runs under T = 0, 1, 2 for every
construction (all sharing the random numbers), saved to results/SHAPE.npz."""
import sys, time, os
import numpy as np
import sim, shapes

shape, n = sys.argv[1], int(sys.argv[2])
names = sys.argv[3:] or ["consecutive", "trie", "closest", "edge_greedy"]
t0 = time.process_time()
names, out, differ = sim.run_many(shapes.table(shape), [0, 1, 2], names, n, seed=12345)
os.makedirs("results", exist_ok=True)
suffix = "" if len(sys.argv) == 3 else "_" + "-".join(names)
np.savez_compressed(f"results/{shape}{suffix}.npz", names=np.array(names), final=out, differ=differ)
print(shape, n, names, f"{time.process_time() - t0:.0f}s CPU")
