import time, csd
import sim
t = csd.load_table(csd.shipped_table("livebench")).scores
for name in sim.CONSTRUCTIONS:
    t0 = time.process_time()
    names, out, _ = sim.run_many(t, [0, 1, 2], [name], 20, 1)
    print(name, (time.process_time() - t0) / 20 * 1000, "ms/run (3 schedules)", out[0].mean(axis=0)[:, :5])
