# Generates the scipy/numpy/flow-models fixtures in tests/data (run once with the
# flow-models 2.2 venv; pandas is needed by flow_models.fit, matplotlib is stubbed).
# usage: PYTHONPATH=<pandas> python flow-udfs/tests/data/mixture/make_fixtures.py
import json, sys, types, pathlib
import numpy as np
import scipy.stats, scipy.special
plot = types.ModuleType('flow_models.lib.plot')
plot.plot_avg = plot.plot_cdf = plot.plot_pdf = None
sys.modules['flow_models.lib.plot'] = plot
import warnings
warnings.simplefilter('ignore')
from flow_models.fit import fit_mix, initial_mix
from flow_models.lib.mix import to_json, pdf, cdf, avg

D = pathlib.Path(__file__).resolve().parent

# 1. pdf/cdf of every component type (plus ndtr) at awkward points.
rows = []
cases = [
    ('uniform', [0, 1]), ('uniform', [0, 6]), ('uniform', [2.5, 3.0]),
    ('norm', [0.0, 1.0]), ('norm', [3.0, 2.5]),
    ('lognorm', [0.49364076506762783, 0, 7.379776617881778]), ('lognorm', [2.0387101598164863, 0, 1373.9749450320094]),
    ('lognorm', [2.0, 0.5, 3.0]),
    ('genpareto', [0.5, 6, 10.0]), ('genpareto', [-0.25, 1.0, 2.0]), ('genpareto', [0.0, 0.0, 1.0]),
    ('gamma', [0.5, 0, 2.0]), ('gamma', [3.7, 0, 120.0]), ('gamma', [1.0, 0, 1.0]),
    ('weibull_min', [0.7, 0, 50.0]), ('weibull_min', [2.5, 0, 3.0]),
]
xs = [0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 6.0, 7.0, 10.0, 64.0, 100.0, 1023.0, 1024.0, 5000.0, 1e6, 1e9, -1.0]
for name, params in cases:
    d = getattr(scipy.stats, name)
    for x in xs:
        rows.append(f"{name},{' '.join(repr(p) for p in params)},{x!r},{float(d.pdf(x, *params))!r},{float(d.cdf(x, *params))!r}")
for a in np.concatenate([np.linspace(-40, 40, 161), [-0.7071, 0.7071, 0.70710678, -1e-3, 1e-300, 8.5, -8.5, 37.6]]):
    rows.append(f"ndtr,,{float(a)!r},0.0,{float(scipy.special.ndtr(a))!r}")
(D / 'scipy_values.csv').write_text('dist,params,x,pdf,cdf\n' + '\n'.join(rows) + '\n')

# 2. initial_mix for every reference histogram and count set.
out = {}
for ds in ['agh_2015', 'agh_2015061019_IPv4_anon']:
    for s in ['all', 'tcp', 'udp']:
        for xv in ['length', 'size']:
            x = np.loadtxt(D / 'reference' / ds / 'histograms' / s / f'{xv}.csv', delimiter=',', skiprows=1, usecols=0, dtype=np.int64)
            for mode in [{'U': 6, 'L': 4}, {'L': 8}, {'L': 5}, {'U': 2, 'L': 4}, {'U': 4, 'L': 9}, {'U': 7, 'L': 5}, {'L': 9}, {'U': 3, 'P': 3, 'L': 3}]:
                key = f"{ds}/{s}/{xv}/" + ','.join(f'{k}{v}' for k, v in mode.items())
                out[key] = json.loads(to_json(initial_mix(mode, x)))
(D / 'initial_mix.json').write_text('{\n' + ',\n'.join(f'{json.dumps(k)}: {json.dumps(v)}' for k, v in out.items()) + '\n}\n')

# 3. EM on synthetic samples (no data weights), like the original's tests.
rng = np.random.default_rng(20240601)
syn = {
    'genpareto_lognorm': (np.concatenate([scipy.stats.genpareto.rvs(0.5, 1.0, 5.0, size=3000, random_state=rng),
                                          scipy.stats.lognorm.rvs(0.6, 0, 40.0, size=3000, random_state=rng)]),
                          [[0.5, 'genpareto', [1.0, 1.0, 10.0]], [0.5, 'lognorm', [1.0, 0, 30.0]]]),
    'two_gammas': (np.concatenate([scipy.stats.gamma.rvs(2.0, 0, 3.0, size=3000, random_state=rng),
                                   scipy.stats.gamma.rvs(9.0, 0, 10.0, size=3000, random_state=rng)]),
                   [[0.5, 'gamma', [1.5, 0, 2.0]], [0.5, 'gamma', [5.0, 0, 20.0]]]),
    'two_weibulls': (np.concatenate([scipy.stats.weibull_min.rvs(0.8, 0, 5.0, size=3000, random_state=rng),
                                     scipy.stats.weibull_min.rvs(3.0, 0, 80.0, size=3000, random_state=rng)]),
                     [[0.5, 'weibull_min', [1.0, 0, 3.0]], [0.5, 'weibull_min', [2.0, 0, 60.0]]]),
    'two_norms': (np.concatenate([rng.normal(10.0, 2.0, 3000), rng.normal(30.0, 5.0, 3000)]) ,
                  [[0.5, 'norm', [8.0, 3.0]], [0.5, 'norm', [25.0, 3.0]]]),
}
(D / 'synthetic').mkdir(exist_ok=True)
for name, (x, mix) in syn.items():
    x = np.sort(x)
    (D / 'synthetic' / f'{name}.x').write_text('\n'.join(repr(float(v)) for v in x) + '\n')
    (D / 'synthetic' / f'{name}.init.json').write_text(to_json(mix) + '\n')
    for iters in [1, 30]:
        res = fit_mix(x, json.loads(json.dumps(mix)), None, max_iter=iters)
        (D / 'synthetic' / f'{name}.fit{iters}.json').write_text(to_json(res) + '\n')
    if name == 'genpareto_lognorm':
        res = fit_mix(x, json.loads(json.dumps(mix)), np.arange(1, len(x) + 1) % 7, max_iter=30, max_pareto_w=0.2)
        (D / 'synthetic' / f'{name}.fit30_w_mpw0.2.json').write_text(to_json(res) + '\n')

# 4. Mixture pdf / cdf / avg on the published one-hour length mixtures.
mdir = D / 'reference' / 'agh_2015061019_IPv4_anon' / 'mixtures' / 'all'
xq = np.array([1, 2, 3, 10, 63, 64, 65, 100, 1000, 1023, 1024, 1025, 5000, 1e5, 1e7], dtype=np.float64)
lines = ['x_kind,y,x,pdf,cdf']
for xv in ['length', 'size']:
    data = {y: json.load(open(mdir / xv / f'{y}.json')) for y in ['flows', 'packets', 'octets']}
    for y, m in data.items():
        p, c = pdf(m, xq, xv), cdf(m, xq)
        lines += [f'{xv},{y},{float(a)!r},{float(b)!r},{float(d)!r}' for a, b, d in zip(xq, p, c)]
    for what in ['packets', 'octets']:
        a = avg(data, xq, xv, what)
        lines += [f'{xv},avg_{what},{float(u)!r},{float(v)!r},0.0' for u, v in zip(xq, a)]
(D / 'mix_values.csv').write_text('\n'.join(lines) + '\n')

# 5. Python float repr of awkward numbers.
vals = [0.1, 1e-5, 1e16, 1e15, 123456789.0, 5e-324, 2.0**60, 1/3, 1e22, 1.5e-7, 9.999999999999999e15, 0.0001, 0.00012345]
(D / 'py_repr.csv').write_text('\n'.join(f'{int(np.float64(v).view(np.uint64))},{v!r}' for v in vals) + '\n')
print('ok')
