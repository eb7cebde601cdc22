"""flow_models_df against the CLI on the same data: the bundled sample trace, the nfcapd
fixtures (nfdump 1.6 and 1.7 files), the published histograms and mixtures."""

from __future__ import annotations

import filecmp
import io
import json
import math
import re

import datafusion
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

import flow_models_df as fm
from conftest import NFCAPD, REFERENCE, SAMPLE

NFCAPD_FILES = sorted(str(p) for p in NFCAPD.glob("*.nfcapd"))


def cli_table(out: bytes) -> pa.Table:
    """CSV output of the CLI (csv_hist, `sql --format csv`) as a table."""
    return pacsv.read_csv(io.BytesIO(out))


def same_rows(got: pa.Table, want: pa.Table) -> None:
    assert got.column_names == want.column_names
    assert got.num_rows == want.num_rows
    for name in got.column_names:
        a, b = got.column(name).to_pylist(), want.column(name).to_pylist()
        # Integers exactly; floats exactly too (the CLI prints the shortest repr that reads
        # back as the same double).
        assert [float(x) for x in a] == [float(x) for x in b], name


def same_trace(a, b) -> None:
    names = sorted(p.name for p in a.iterdir())
    assert names == sorted(p.name for p in b.iterdir()) and names
    for name in names:
        assert filecmp.cmp(a / name, b / name, shallow=False), name


def numbers(text: str) -> list[float]:
    return [float(t) for t in re.findall(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?", text)]


def test_every_function_and_format_is_installed(ctx):
    tfs, scalar, aggregate, factories = fm._native.functions()
    names = {f.name for f in tfs} | {f.name for f in scalar} | {f.name for f in aggregate}
    for name in ["flowbin", "nfcapd", "nfcapd_info", "csv_flow", "pipe", "flow_hist",
                 "flow_merge", "flow_sort", "flow_series", "flow_summary", "flow_cdf_summary",
                 "mixture_generate", "log_bin", "log_bin_hi", "flow_duration", "flow_rate",
                 "cryptopan", "cryptopan6", "mixture_pdf", "mixture_cdf", "mixture_fit"]:
        assert name in names
    assert {f.format for f in factories} >= {"FLOWBIN", "NFCAPD", "CSV_FLOW", "PIPE"}


def test_sql_through_the_host_session_gives_the_cli_numbers(ctx, cli):
    for query in [
        f"SELECT count(*) AS n, sum(packets) AS p, sum(octets) AS o, min(first) AS f, "
        f"max(last) AS l FROM flowbin('{SAMPLE}')",
        f"SELECT log_bin(octets, 4) AS b, count(*) AS n, sum(flow_duration(first, first_ms, "
        f"last, last_ms, packets)) AS d FROM flowbin('{SAMPLE}') GROUP BY b ORDER BY b",
        f"SELECT prot, count(*) AS n, sum(octets) AS o FROM nfcapd('{NFCAPD_FILES[0]}', "
        f"'{NFCAPD_FILES[-1]}') GROUP BY prot ORDER BY prot",
        f"SELECT cryptopan(sa3, 'boojahyoo3vaeToong0Eijee7Ahz3yee') AS a FROM "
        f"flowbin('{SAMPLE}') ORDER BY first, first_ms, a LIMIT 5",
    ]:
        got = pa.table(ctx.sql(query))
        want = cli_table(cli("sql", "-q", "--format", "csv", "-c", query))
        same_rows(got, want)


def test_create_external_table_stored_as_our_formats(ctx, cli):
    ctx.sql(f"CREATE EXTERNAL TABLE flows STORED AS FLOWBIN LOCATION '{SAMPLE}'").collect()
    ctx.sql(f"CREATE EXTERNAL TABLE nf STORED AS NFCAPD LOCATION '{NFCAPD_FILES[1]}'").collect()
    got = pa.table(ctx.sql("SELECT count(*) AS n, sum(octets) AS o FROM flows"))
    assert got.to_pylist() == [{"n": 50000, "o": sum(pa.table(fm.read_flowbin(ctx, SAMPLE))
                                                     .column("octets").to_pylist())}]
    got = pa.table(ctx.sql("SELECT count(*) AS n, sum(packets) AS p FROM nf"))
    q = f"SELECT count(*) AS n, sum(packets) AS p FROM nfcapd('{NFCAPD_FILES[1]}')"
    same_rows(got, cli_table(cli("sql", "-q", "--format", "csv", "-c", q)))


def test_the_scan_keeps_projection_and_limit_across_the_ffi(ctx):
    df = fm.read_flowbin(ctx, SAMPLE).select("packets", "octets").limit(7)
    # The host shows our scan as one FFI node; with the projection pushed into it, no
    # ProjectionExec stands above it and it yields the two columns alone.
    plan = df.execution_plan().display_indent()
    assert "FFI_ExecutionPlan: DataSourceExec" in plan and "ProjectionExec" not in plan, plan
    table = pa.table(df)
    assert table.column_names == ["packets", "octets"] and table.num_rows == 7
    # The rows are the trace's first ones, zero-copy into pandas.
    first = pa.table(fm.read_flowbin(ctx, SAMPLE)).slice(0, 7)
    assert table.to_pandas().equals(first.select(["packets", "octets"]).to_pandas())


@pytest.mark.parametrize(
    "x,bins,columns",
    [("length", 12, []), ("size", 12, ["duration", "rate"]), ("length", 0, ["aggs"]),
     ("duration", 12, []), ("rate", 4, ["duration"])],
)
def test_hist_of_a_trace_is_the_cli_histogram(cli, x, bins, columns):
    got = fm.hist(SAMPLE, x=x, bins=bins, columns=columns)
    args = ["hist", "-x", x, "-b", str(bins)] + [a for c in columns for a in ("-c", c)]
    assert fm.to_csv_hist(got).encode() == cli(*args, SAMPLE)


def test_hist_of_nfcapd_files_a_registered_table_and_flow_hist(ctx, cli):
    want = cli("hist", "-i", "nfcapd", "-x", "size", "-b", "12", "-c", "rate", *NFCAPD_FILES)
    nf = fm.read_nfcapd(ctx, *NFCAPD_FILES)
    assert fm.to_csv_hist(fm.hist(nf, x="size", bins=12, columns=["rate"])).encode() == want
    ctx.register_table("nf", fm._native.table("nfcapd", NFCAPD_FILES))
    got = fm.hist(ctx, x="size", bins=12, columns=["rate"], table="nf")
    assert fm.to_csv_hist(got).encode() == want
    # flow_hist in the host's SQL: of a path, and of the table registered above.
    q = "SELECT * FROM flow_hist('nf', 'size', 12, 'rate')"
    assert fm.to_csv_hist(pa.table(ctx.sql(q))).encode() == want
    want = cli("hist", "-x", "length", "-b", "12", SAMPLE)
    got = pa.table(ctx.sql(f"SELECT * FROM flow_hist('{SAMPLE}', 'length', 12)"))
    assert fm.to_csv_hist(got).encode() == want
    # pandas sees the same numbers.
    assert fm.hist(SAMPLE).to_pandas()["flows_sum"].sum() == 50000


def test_fit_refits_the_published_mixtures(tmp_path):
    cases = [("udp/length", "octets", "U7L5"), ("all/size", "flows", "L8")]
    for hist, y, spec in cases:
        got = fm.fit(REFERENCE / "histograms" / f"{hist}.csv", y=y, spec=spec,
                     iterations=400, out_dir=tmp_path / hist)
        want_text = (REFERENCE / "mixtures" / hist / f"{y}.json").read_text()
        a, b = numbers(json.dumps(got)), numbers(want_text)
        assert len(a) == len(b)
        for u, v in zip(a, b):
            assert abs(u - v) <= 1e-12 or abs(u - v) <= 1e-9 * max(abs(u), abs(v)), (u, v)
        assert json.loads((tmp_path / hist / f"{y}.json").read_text()) == got
        assert (tmp_path / hist / f"{y}.mode").exists()


def test_fit_of_a_hist_table_is_the_cli_fit(cli, tmp_path):
    (tmp_path / "length.csv").write_bytes(cli("hist", "-x", "length", "-b", "12", SAMPLE))
    cli("fit", "-y", "flows", "-U", "3", "-L", "2", "-i", "50", "-O", tmp_path / "cli",
        tmp_path / "length.csv")
    got = fm.fit(fm.hist(SAMPLE), y="flows", spec="U3L2", iterations=50)
    assert got == json.loads((tmp_path / "cli" / "flows.json").read_text())


def test_plot_writes_the_cli_figures(cli, tmp_path):
    hist = REFERENCE / "histograms" / "all" / "length.csv"
    mixture = REFERENCE / "mixtures" / "all" / "length"
    cli("plot", "-x", "length", "-O", tmp_path / "cli", hist, mixture)
    written = fm.plot(hist, mixture, x="length", out_dir=tmp_path / "py")
    assert len(written) == 7
    same_trace(tmp_path / "cli", tmp_path / "py")
    # From a table as hist returns it, the same figures as from the file.
    table = cli_table(hist.read_bytes())
    fm.plot(table, mixture, x="length", out_dir=tmp_path / "table")
    same_trace(tmp_path / "cli", tmp_path / "table")


def test_merge_and_sort_write_the_cli_traces(ctx, cli, tmp_path):
    cli("merge", "-I", "15", "-A", "300", "-o", "binary", "-O", tmp_path / "cli-merged", SAMPLE)
    assert fm.write_flowbin(fm.merge(ctx, SAMPLE, 15, 300), tmp_path / "merged") > 0
    # The same merged flows; flow_merge's partitions arrive in any order (as in the CLI's sql).
    def rows(trace):
        table = pa.table(fm.read_flowbin(ctx, trace))
        return table.sort_by([(c, "ascending") for c in table.column_names])
    assert rows(tmp_path / "merged").equals(rows(tmp_path / "cli-merged"))
    for keys, reverse in [(["first", "first_ms"], False), (["prot", "dp"], True)]:
        flags = ["--reverse"] if reverse else []
        cli("sort", "-k", *keys, *flags, "-O", tmp_path / f"cli-{reverse}", SAMPLE)
        fm.write_flowbin(fm.sort(ctx, SAMPLE, keys, reverse), tmp_path / f"py-{reverse}")
        same_trace(tmp_path / f"cli-{reverse}", tmp_path / f"py-{reverse}")
    # A DataFrame as the source: the merge of nfcapd flows.
    nf = fm.read_nfcapd(ctx, *NFCAPD_FILES)
    assert pa.table(fm.merge(ctx, nf)).num_rows <= pa.table(nf).num_rows


def test_generate_draws_the_cli_flows(ctx, cli):
    mixture = REFERENCE / "mixtures" / "all" / "length"
    q = f"SELECT * FROM mixture_generate('{mixture}', 2000, 'length', 7)"
    got = pa.table(fm.generate(ctx, mixture, 2000, "length", seed=7))
    same_rows(got, cli_table(cli("sql", "-q", "--format", "csv", "-c", q)))


def test_wrong_arguments_raise_with_the_message(ctx, tmp_path):
    with pytest.raises(ValueError, match="unknown x value 'nope'"):
        fm.hist(SAMPLE, x="nope")
    with pytest.raises(ValueError, match="unknown column to sum 'x'"):
        fm.hist(SAMPLE, columns=["x"])
    with pytest.raises(Exception, match="tests/data/nope"):
        fm.read_flowbin(ctx, "tests/data/nope")
    with pytest.raises(ValueError, match="give at least one path"):
        fm.read_flowbin(ctx)
    with pytest.raises(ValueError, match="neither component counts"):
        fm.fit(REFERENCE / "histograms" / "all" / "length.csv", spec="Q9")
    with pytest.raises(ValueError, match="y must be flows, packets or octets"):
        fm.fit(REFERENCE / "histograms" / "all" / "length.csv", y="bytes")
    with pytest.raises(Exception, match="give at least one key"):
        ctx.sql(f"SELECT * FROM flow_sort('{SAMPLE}')").collect()
    with pytest.raises(Exception, match="no field 'nope'"):
        fm.sort(ctx, SAMPLE, ["nope"]).collect()
    with pytest.raises(TypeError, match="__arrow_c_stream__"):
        fm.hist(42)
    with pytest.raises(Exception, match="cannot store"):
        fm.write_flowbin(pa.table({"name": ["a", "b"]}), tmp_path / "t")
    assert not (tmp_path / "t").exists()
    with pytest.raises(ValueError, match="format is 'png' or 'svg'"):
        fm.plot(REFERENCE / "histograms" / "all" / "length.csv", format="pdf")
    # The session still works after every error.
    assert pa.table(ctx.sql(f"SELECT count(*) AS n FROM flowbin('{SAMPLE}')")).to_pylist() == [
        {"n": 50000}]
    assert math.isfinite(fm.hist(SAMPLE).column("octets_sum").to_pylist()[0])


def test_the_study_example_runs_end_to_end(cli, tmp_path):
    import subprocess
    import sys

    from conftest import REPO

    files = str(NFCAPD / "*.nfcapd")
    done = subprocess.run([sys.executable, REPO / "python" / "examples" / "study.py", files,
                           tmp_path / "study"], capture_output=True, cwd=REPO)
    assert done.returncode == 0, done.stderr.decode()
    study = tmp_path / "study"
    assert sorted(p.name for p in (study / "mixture").iterdir()) == [
        f"{y}.{e}" for y in ("flows", "octets", "packets") for e in ("json", "mode")]
    assert len(list((study / "plots").iterdir())) == 7
    # Its histogram is the CLI's of the merged flows.
    cli("merge", "-i", "nfcapd", "-o", "binary", "-O", tmp_path / "merged", *NFCAPD_FILES)
    assert (study / "length.csv").read_bytes() == cli("hist", "-x", "length", "-b", "12",
                                                      tmp_path / "merged")


def test_read_csv_flow_and_pipe_give_the_cli_numbers(ctx, cli):
    from conftest import REPO

    for read, fmt, path in [(fm.read_csv_flow, "csv_flow",
                             REPO / "tests" / "data" / "original" / "head2000.csv_flow"),
                            (fm.read_pipe, "pipe", REPO / "tests" / "data" / "pipe" / "nf171_sfipfix.pipe")]:
        df = read(ctx, path)
        want = cli("hist", "-i", fmt, "-x", "size", "-b", "12", "-c", "duration", path)
        assert fm.to_csv_hist(fm.hist(df, x="size", bins=12, columns=["duration"])).encode() == want
        q = f"SELECT count(*) AS n, sum(octets) AS o, max(dp) AS d FROM {fmt}('{path}')"
        same_rows(pa.table(ctx.sql(q)), cli_table(cli("sql", "-q", "--format", "csv", "-c", q)))
