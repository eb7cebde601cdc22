#!/usr/bin/env python3
"""Generate reference fixtures for the flow-plot tests.

Run once (output is committed; re-run only to regenerate):

    ~/.cache/flow-models/venv/bin/python flow-udfs/flow-plot/tests/data/make_fixtures.py

Requires flow-models 2.2 (`pip install flow-models==2.2`, with pandas and
scipy).  The numbers are computed by calling flow-models 2.2's own functions
(flow_models.lib.data.load_data / pdf_from_cdf / normalize_data / avg_data,
flow_models.lib.mix.cdf / pdf / avg) and by replicating, line for line and
without matplotlib, what flow_models/plot.py and flow_models/lib/plot.py
(plot_cdf, plot_pdf, plot_avg) feed to matplotlib.

Inputs:  ../../../tests/data/mixture/reference/agh_2015061019_IPv4_anon/
         {histograms,mixtures}/all/{length,size}   (relative to this script)
Outputs: <this dir>/<case>/<figure>.csv with header `series,x,y`
         (one row per plotted point), <case>/idx.csv (header `x`) and
         <case>/avg-packet_size-stats.csv (header `name,value`).
Floats are written as repr(float(v)) (shortest round-trip), NaN as `nan`,
infinities as `inf` / `-inf`.
"""

import math
import pathlib
import sys

import numpy as np
import pandas as pd
import scipy
import scipy.interpolate
import scipy.stats

import flow_models
import flow_models.lib.data
import flow_models.lib.mix
from flow_models.lib.data import LINE_NBINS

HERE = pathlib.Path(__file__).resolve().parent
REFERENCE = (HERE / '../../../tests/data/mixture/reference/agh_2015061019_IPv4_anon').resolve()

CASES = {
    # case: (histogram csv, mixture dir, x_val)
    'length': (REFERENCE / 'histograms/all/length.csv', REFERENCE / 'mixtures/all/length', 'length'),
    'size': (REFERENCE / 'histograms/all/size.csv', REFERENCE / 'mixtures/all/size', 'size'),
}

WHATS = ['flows', 'packets', 'octets']


def fmt(v):
    v = float(v)
    if math.isnan(v):
        return 'nan'
    if math.isinf(v):
        return 'inf' if v > 0 else '-inf'
    return repr(v)


# The data-point series have one row per histogram bin (12 060 and 31 167): every POINTS_STEP-th
# row is kept, plus the last 50 (where the quirky last-bin width and sparse gaps are), so the
# fixtures stay small; the test matches rows by (series, x).
POINTS_STEP = 97


def thinned(name, xs, ys):
    if not name.startswith('points'):
        return xs, ys
    n = len(xs)
    keep = [i for i in range(n) if i % POINTS_STEP == 0 or i >= n - 50]
    return xs[keep], ys[keep]


def write_figure(path, series):
    """series: list of (name, x array, y array)."""
    with open(path, 'w', newline='\n') as f:
        f.write('series,x,y\n')
        for name, xs, ys in series:
            xs = np.asarray(xs)
            ys = np.asarray(ys, dtype=np.float64)
            assert xs.shape == ys.shape, (name, xs.shape, ys.shape)
            xs, ys = thinned(name, xs, ys)
            for x, y in zip(xs, ys):
                f.write(f'{name},{fmt(x)},{fmt(y)}\n')


def pdf_components(mix, x, x_val):
    """Per-component PDFs of a mixture, weighted by normalized weights.

    Same discrete handling as flow_models.lib.mix.pdf (via mix.mask_values):
    for x < 1024 the component value is cdf(x) - cdf(x - 1) (cdf(0) at the
    minimum x, 1 for length / 64 for size), otherwise the density pdf(x).

    NOTE: flow-models 2.2's mix.pdf_comp has a bug:
        data[mask] = dist.cdf(mu, *args) - dist.cdf(pu, *args)[mui]
    indexes only the second term with `mui`.  We compute the intended value
    (cdf(mu) - cdf(pu))[mui], exactly as mix.pdf does.  (For a sorted,
    unique idx such as the plot grid, mui is the identity permutation, so the
    bug happens not to change the result there; main() checks this too.)
    """
    if isinstance(mix, dict):
        mix = mix['mix']
    weights = np.array([mx[0] for mx in mix])
    weights /= weights.sum()  # in case these did not add up to 1
    mask, mu, pu, mui, nu, nui = flow_models.lib.mix.mask_values(x, x_val)
    comps = []
    for n, (weight, name, args) in enumerate(mix):
        dist = getattr(scipy.stats, name)
        data = np.zeros(len(x))
        data[mask] = weights[n] * (dist.cdf(mu, *args) - dist.cdf(pu, *args))[mui]
        data[~mask] = weights[n] * dist.pdf(nu, *args)[nui]
        comps.append(data)
    return comps


def make_case(case, hist_path, mix_dir, x_val):
    out = HERE / case
    out.mkdir(parents=True, exist_ok=True)

    # Exactly as plot.py: load_data([histogram, mixture_dir]).
    data = flow_models.lib.data.load_data([str(hist_path), str(mix_dir)])
    df = data[pathlib.Path(str(hist_path))]
    mixtures = data[pathlib.Path(str(mix_dir))]
    assert isinstance(df, pd.DataFrame)
    assert set(mixtures) >= set(WHATS), mixtures.keys()

    # plot.py: idx from the (first) histogram DataFrame.
    idx = np.unique(np.rint(np.geomspace(df.index.min(), df.index.max(), LINE_NBINS)).astype(np.int64))
    with open(out / 'idx.csv', 'w', newline='\n') as f:
        f.write('x\n')
        for x in idx:
            f.write(f'{int(x)}\n')

    # --- cdf (plot_cdf, mode {'line', 'mixture'}) ---
    series = []
    for what in WHATS:
        cdfd = df[what + '_sum'].cumsum() / df[what + '_sum'].sum()
        cdfi = scipy.interpolate.interp1d(cdfd.index, cdfd, 'linear', bounds_error=False)(idx)
        series.append((f'{what} line', idx, cdfi))
        series.append((f'{what} mixture', idx, flow_models.lib.mix.cdf(mixtures[what], idx)))
    write_figure(out / 'cdf.csv', series)

    # --- pdf-<what> (plot_pdf, normalize=True, modes line/points/mixture/comp) ---
    for what in WHATS:
        series = []
        d = df.loc[:, 'bin_hi':what + '_sum']
        pdfi = flow_models.lib.data.pdf_from_cdf(d, idx, what)
        series.append(('line', idx, pdfi))

        values_sum = d[what + '_sum'].sum()  # taken BEFORE normalizing
        dn = flow_models.lib.data.normalize_data(d)
        pdfd = dn[what + '_sum'] / values_sum
        series.append(('points', pdfd.index.values, pdfd.values))

        pdfd_lb = d[what + '_sum'] / values_sum  # --no-normalize
        series.append(('points log-binned', pdfd_lb.index.values, pdfd_lb.values))

        mix_pdf = flow_models.lib.mix.pdf(mixtures[what], idx, x_val)
        series.append(('mixture', idx, mix_pdf))

        comps = pdf_components(mixtures[what], idx, x_val)
        total = np.zeros(len(idx))
        for c in comps:
            total += c
        assert np.allclose(total, mix_pdf, rtol=1e-12, atol=0.0), f'{case} {what}: sum of comps != mix.pdf'
        # Cross-check against the original (buggy) pdf_comp: identical here
        # because idx is sorted and unique.
        orig = list(flow_models.lib.mix.pdf_comp(mixtures[what], idx, x_val).values())
        assert len(orig) == len(comps)
        for a, b in zip(orig, comps):
            assert np.array_equal(a, b, equal_nan=True), f'{case} {what}: pdf_comp differs'
        for i, c in enumerate(comps):
            series.append((f'comp {i}', idx, c))
        write_figure(out / f'pdf-{what}.csv', series)

    # --- avg-packets, avg-octets (plot_avg) ---
    for what in ['packets', 'octets']:
        avg_points, avg_line = flow_models.lib.data.avg_data(df, idx, what)
        avg_mix = flow_models.lib.mix.avg(mixtures, idx, x_val, what)
        write_figure(out / f'avg-{what}.csv', [
            ('points', avg_points.index.values, avg_points.values),
            ('line', idx, avg_line),
            ('mixture', idx, avg_mix),
        ])

    # --- avg-packet_size (plot_avg) ---
    num = 'octets'
    num_avg_points, num_avg_line = flow_models.lib.data.avg_data(df, idx, num)
    packets_avg_points, packets_avg_line = flow_models.lib.data.avg_data(df, idx, 'packets')
    avg_points = num_avg_points / packets_avg_points
    avg_line = num_avg_line / packets_avg_line
    mn, me, mx = avg_points.min(), df[num + '_sum'].sum() / df['packets_sum'].sum(), avg_points.max()
    avg_mix = flow_models.lib.mix.avg(mixtures, idx, x_val, 'packet_size')
    write_figure(out / 'avg-packet_size.csv', [
        ('points', avg_points.index.values, avg_points.values),
        ('line', idx, avg_line),
        ('mixture', idx, avg_mix),
    ])
    with open(out / 'avg-packet_size-stats.csv', 'w', newline='\n') as f:
        f.write('name,value\n')
        f.write(f'min,{fmt(mn)}\navg,{fmt(me)}\nmax,{fmt(mx)}\n')


def main():
    print(f'flow-models {getattr(flow_models, "__version__", "?")} numpy {np.__version__} '
          f'scipy {scipy.__version__} pandas {pd.__version__}', file=sys.stderr)
    for case, (hist_path, mix_dir, x_val) in CASES.items():
        make_case(case, hist_path, mix_dir, x_val)


if __name__ == '__main__':
    main()
