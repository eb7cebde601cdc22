"""A flow study in a notebook's steps: nfcapd files -> merged flows -> flow-length histogram ->
mixture models -> figures. Runs on the nfcapd files bundled with the repository:

    python python/examples/study.py [NFCAPD_GLOB] [OUT_DIR]

(from the repository root, after `pip install ./python`). Each step is one call into the same
library as the `flow-models` command, so every number matches `flow-models merge | hist | fit`.
"""

from __future__ import annotations

import pathlib
import sys

import datafusion

import flow_models_df as fm

files = sys.argv[1] if len(sys.argv) > 1 else "tests/data/nfcapd/*.nfcapd"
out = pathlib.Path(sys.argv[2] if len(sys.argv) > 2 else "study")
out.mkdir(parents=True, exist_ok=True)

# A datafusion-python session with every flow format and function of flow-models.
ctx = datafusion.SessionContext()
fm.register_all(ctx)

# 1. The collector's records, read natively (nfdump 1.6 and 1.7 files, any compression).
records = fm.read_nfcapd(ctx, files)
print(f"{records.count()} flow records in {files}")

# 2. Records of one flow split by the exporter's timeouts, merged again (flow-models merge).
merged = fm.merge(ctx, records, inactive=15, active=300)
print(f"{merged.count()} flows after merging")

# 3. The flow-length histogram (flow-models hist -x length -b 12), as a pyarrow table; pandas
#    for a look, csv_hist for the other tools.
hist = fm.hist(merged, x="length", bins=12)
print(hist.to_pandas().head())
fm.to_csv_hist(hist, out / "length.csv")

# 4. A mixture of 2 uniform and 2 lognormal components for each of flows, packets and octets
#    (flow-models fit), written as fit writes them: out/mixture/{flows,packets,octets}.json.
for y in ("flows", "packets", "octets"):
    mixture = fm.fit(hist, y=y, spec="U2L2", iterations=100, out_dir=out / "mixture")
    print(f"{y}: {len(mixture['mix'])} components, weights "
          + ", ".join(f"{c[0]:.3f}" for c in mixture["mix"]))

# 5. The figures of flow-models plot: the CDF, the PDFs and the averages, data and model.
for path in fm.plot(hist, out / "mixture", x="length", out_dir=out / "plots"):
    print(f"wrote {path}")
