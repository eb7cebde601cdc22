"""flow-models on DataFusion, from Python.

Installs this project's formats, table functions, scalar functions and aggregates into a
``datafusion.SessionContext`` (the PyPI package ``datafusion`` 55), and wraps the tools of the
``flow-models`` command line as functions::

    import datafusion, flow_models_df as fm

    ctx = datafusion.SessionContext()
    fm.register_all(ctx)                    # flowbin(), nfcapd(), flow_hist(), mixture_fit() ...
    flows = fm.read_nfcapd(ctx, "nfcapd.201907110830")
    merged = fm.merge(ctx, "trace", inactive=15, active=300)
    h = fm.hist(merged, x="length", bins=12)          # pyarrow.Table, as `hist -x length -b 12`
    mix = fm.fit(h, y="flows", spec="U6L4")           # dict, the mixture JSON of `fit`
    fm.plot(h, out_dir="plots")                       # the PNGs of `plot`

Every function is one call into the Rust library the CLI runs, so the numbers are the CLI's.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from typing import Any

import datafusion
import pyarrow as pa
from datafusion.user_defined import AggregateUDF, ScalarUDF, TableFunction

from . import _native

__all__ = [
    "register_all",
    "read_flowbin",
    "read_nfcapd",
    "read_csv_flow",
    "read_pipe",
    "hist",
    "to_csv_hist",
    "fit",
    "plot",
    "merge",
    "sort",
    "generate",
    "write_flowbin",
]

_Source = str | os.PathLike | datafusion.DataFrame | pa.Table | Any


def register_all(ctx: datafusion.SessionContext) -> None:
    """Install every table function, scalar function, aggregate and ``STORED AS`` format.

    After it, SQL of ``ctx`` can use ``flowbin('dir')``, ``nfcapd('file')``, ``csv_flow``,
    ``pipe``, ``nfcapd_info``, ``flow_hist``, ``flow_merge``, ``flow_sort``, ``flow_series``,
    ``flow_summary``, ``flow_cdf_summary``, ``mixture_generate``, ``log_bin``,
    ``flow_duration``, ``cryptopan``, ``mixture_pdf``, ``mixture_fit`` ... and
    ``CREATE EXTERNAL TABLE t STORED AS FLOWBIN LOCATION 'dir'`` (also ``NFCAPD``,
    ``CSV_FLOW``, ``PIPE``). ``COPY ... STORED AS FLOWBIN`` is not available in a
    datafusion-python session (there is no FFI for file formats): use :func:`write_flowbin`.
    """
    table_functions, scalar, aggregate, factories = _native.functions()
    for f in table_functions:
        ctx.register_udtf(TableFunction(f.name, f, ctx))
    for f in scalar:
        ctx.register_udf(ScalarUDF.from_pycapsule(f.__datafusion_scalar_udf__()))
    for f in aggregate:
        ctx.register_udaf(AggregateUDF.from_pycapsule(f.__datafusion_aggregate_udf__()))
    for f in factories:
        ctx.register_table_factory(f.format, f)


def _paths(paths: Iterable[str | os.PathLike]) -> list[str]:
    out = [os.fspath(p) for p in paths]
    if not out:
        raise ValueError("give at least one path")
    return out


def _read(ctx: datafusion.SessionContext, function: str, args: list) -> datafusion.DataFrame:
    return ctx.read_table(_native.table(function, args))


def read_flowbin(ctx: datafusion.SessionContext, *paths: str | os.PathLike) -> datafusion.DataFrame:
    """flow-models binary traces (directories of ``{field}.{dtype}`` files) as one DataFrame."""
    return _read(ctx, "flowbin", _paths(paths))


def read_nfcapd(
    ctx: datafusion.SessionContext, *paths: str | os.PathLike, skip_corrupt: bool = False
) -> datafusion.DataFrame:
    """nfdump ``nfcapd`` files or directory trees (1.6 and 1.7 layouts, every compression)."""
    return _read(ctx, "nfcapd", _paths(paths) + ([True] if skip_corrupt else []))


def read_csv_flow(ctx: datafusion.SessionContext, *paths: str | os.PathLike) -> datafusion.DataFrame:
    """flow-models ``csv_flow`` text files."""
    return _read(ctx, "csv_flow", _paths(paths))


def read_pipe(ctx: datafusion.SessionContext, *paths: str | os.PathLike) -> datafusion.DataFrame:
    """nfdump's ``-o pipe`` text output."""
    return _read(ctx, "pipe", _paths(paths))


def _source(source: _Source, table: str | None, ctx: datafusion.SessionContext | None):
    """A trace path (str), or Arrow data: a DataFrame, a pyarrow table, or ``ctx.table(table)``."""
    if isinstance(source, datafusion.SessionContext):
        if table is None:
            raise ValueError("with a SessionContext, name the table: hist(ctx, table='flows')")
        return source.table(table)
    if isinstance(source, os.PathLike):
        return os.fspath(source)
    return source


def hist(
    source: _Source,
    x: str = "length",
    bins: int = 12,
    columns: Sequence[str] = (),
    *,
    table: str | None = None,
) -> pa.Table:
    """The histogram of ``flow-models hist -x X -b BINS -c COLUMNS``, as a pyarrow Table.

    ``source``: a binary trace directory, a DataFrame (of any flow source: nfcapd, a merge,
    a filter ...), a pyarrow Table with the flow columns, or a SessionContext with ``table=``.
    ``bins`` is the number of mantissa bits of the log bins (``-b``; 0: exact values);
    ``columns`` adds sums of ``duration``, ``rate`` or ``aggs``. The columns and numbers are
    csv_hist's (``bin_lo, bin_hi, flows_sum, packets_sum, octets_sum`` ...).
    """
    data = _source(source, table, None)
    return pa.table(_native.hist(data, x, bins, list(columns)))


def to_csv_hist(hist: pa.Table | Any, path: str | os.PathLike | None = None) -> str:
    """A histogram as :func:`hist` returns it in csv_hist text, byte for byte what
    ``flow-models hist`` writes (the table keeps the exact ``rate_sum``; the text prints it as
    flow-models 2.2 does). With ``path``, also written there."""
    text = _native.csv_hist(hist)
    if path is not None:
        with open(path, "w") as f:
            f.write(text)
    return text


def fit(
    hist: pa.Table | str | os.PathLike | Any,
    y: str = "flows",
    spec: str = "U6L4",
    iterations: int = 400,
    *,
    max_pareto_w: float | None = None,
    out_dir: str | os.PathLike | None = None,
) -> dict:
    """The mixture ``flow-models fit`` fits to column ``{y}_sum`` of a histogram.

    ``hist``: a table as :func:`hist` returns it, or a csv_hist file. ``spec``: component
    counts (``"U6L4"``: 6 uniform and 4 lognormal, ``P`` Pareto) or an initial mixture's JSON
    text. Returns the mixture JSON as a dict; with ``out_dir`` also writes ``{y}.json`` and
    ``{y}.mode`` there, as the CLI does (what :func:`plot` reads as a mixture directory).
    """
    if isinstance(hist, os.PathLike):
        hist = os.fspath(hist)
    out = None if out_dir is None else os.fspath(out_dir)
    text = _native.fit(hist, y, spec, iterations, max_pareto_w, out)
    return json.loads(text)


def plot(
    hist: pa.Table | str | os.PathLike | Any,
    mixture: str | os.PathLike | None = None,
    *,
    x: str = "length",
    out_dir: str | os.PathLike = "plots",
    format: str = "png",
    single: bool = False,
    pdf: Sequence[str] = (),
    cdf: Sequence[str] = (),
    data_out: str | os.PathLike | None = None,
) -> list[str]:
    """The figures of ``flow-models plot`` (cdf, pdf-*, avg-*) written into ``out_dir``.

    ``hist``: a csv_hist file or a table as :func:`hist` returns it; ``mixture``: a directory
    of ``flows.json``, ``packets.json``, ``octets.json`` (as :func:`fit` writes with
    ``out_dir``). ``pdf`` and ``cdf`` add the modes of ``-P`` (``points``, ``hist``, ``kde``,
    ``comp``, ``comp_stack``, ``comp_labels``) and ``-C`` (``comp``, ``comp_stack``,
    ``comp_labels``); ``data_out`` writes every plotted series as CSV. Returns the paths
    written.
    """
    if isinstance(hist, os.PathLike):
        hist = os.fspath(hist)
    mix = None if mixture is None else os.fspath(mixture)
    data = None if data_out is None else os.fspath(data_out)
    return _native.plot(hist, mix, x, os.fspath(out_dir), format, single, list(pdf), list(cdf),
                        data)


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _table_ref(ctx: datafusion.SessionContext, source) -> str:
    """A table function's source: a path or registered table name (str), or a DataFrame
    (registered as a view under a fresh name)."""
    if isinstance(source, (str, os.PathLike)):
        return _quote(os.fspath(source))
    if isinstance(source, datafusion.DataFrame):
        name = f"__flow_models_{id(source):x}"
        ctx.register_view(name, source)
        return _quote(name)
    raise TypeError(f"expected a path, a table name or a DataFrame, got {type(source).__name__}")


def merge(
    ctx: datafusion.SessionContext,
    source: str | os.PathLike | datafusion.DataFrame,
    inactive: float = 15,
    active: float = 300,
) -> datafusion.DataFrame:
    """The flows of ``flow-models merge -I INACTIVE -A ACTIVE`` (SQL ``flow_merge``)."""
    return ctx.sql(f"SELECT * FROM flow_merge({_table_ref(ctx, source)}, {inactive}, {active})")


def sort(
    ctx: datafusion.SessionContext,
    source: str | os.PathLike | datafusion.DataFrame,
    keys: Sequence[str],
    reverse: bool = False,
) -> datafusion.DataFrame:
    """The flows of ``flow-models sort -k KEYS [--reverse]``: stable, ties in input order
    (SQL ``flow_sort``)."""
    if isinstance(keys, str):
        keys = [keys]
    if not keys:
        raise ValueError("sort: give at least one key")
    args = ", ".join([_table_ref(ctx, source)] + [_quote(k) for k in keys])
    return ctx.sql(f"SELECT * FROM flow_sort({args}{', true' if reverse else ''})")


def generate(
    ctx: datafusion.SessionContext,
    source: str | os.PathLike,
    n: int,
    x: str = "length",
    seed: int | None = None,
) -> datafusion.DataFrame:
    """``n`` flows drawn from a histogram csv or a mixture directory, as ``flow-models
    generate`` (SQL ``mixture_generate``); ``seed`` makes the draw repeatable."""
    args = [_quote(os.fspath(source)), str(int(n)), _quote(x)]
    if seed is not None:
        args.append(str(int(seed)))
    return ctx.sql(f"SELECT * FROM mixture_generate({', '.join(args)})")


def write_flowbin(data: datafusion.DataFrame | pa.Table | Any, path: str | os.PathLike) -> int:
    """Writes a DataFrame (or any Arrow data) as a flow-models binary trace, atomically:
    what ``COPY ... STORED AS FLOWBIN`` writes in the CLI. Returns the rows written."""
    return _native.write_flowbin(data, os.fspath(path))
