# Runs the original flow-models 2.2 fit() (its CLI crashes in save()) and writes
# the mixture in the original to_json layout. Used to make tests/data/py_fits/*.json.
# usage: PYTHONPATH=<pandas> python make_py_fit.py HIST Y ITER INITIAL_JSON OUT (arguments from the .mode file,
# e.g. reference/agh_2015/histograms/all/size.csv flows 400 '{"L": 8}' py_fits/agh_2015_all_size_flows.json)
import json, sys, time, types
# matplotlib is not installed in the venv; fit() never plots outside the GUI.
plot = types.ModuleType('flow_models.lib.plot')
plot.plot_avg = plot.plot_cdf = plot.plot_pdf = None
sys.modules['flow_models.lib.plot'] = plot
from flow_models.fit import fit
from flow_models.lib.mix import to_json
hist, y, it, initial, out = sys.argv[1:6]
t = time.time()
r = fit(hist, y, max_iter=int(it), initial=json.loads(initial), max_pareto_w=None)
print(f'fit() took {time.time() - t:.2f} s', file=sys.stderr)
open(out, 'w').write(to_json(r['mix'], r['sum']) + '\n')
