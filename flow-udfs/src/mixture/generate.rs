// `flow_models.generate`: packets and octets of synthetic flows drawn from a csv_hist
// histogram or from a mixture directory (`flows`, `packets`, `octets` .json), with the
// original's packet-size model and rounding rules.

use crate::mixture::hist_csv::Histogram;
use crate::mixture::mix::{AvgWhat, XKind, avg};
use crate::mixture::sample::MixtureSampler;
use crate::mixture::{FitError, Mixture, mixture_from_json};
use rand::Rng;
use rand::distr::Distribution;
use rand::distr::weighted::WeightedIndex;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

/// Where flows are drawn from.
pub enum Source {
    /// A csv_hist histogram: rows drawn in proportion to `flows_sum`, with the row's mean
    /// packets and octets per flow.
    Histogram(Histogram),
    /// Mixtures by y value; `flows`, `packets` and `octets` are needed.
    Mixtures(HashMap<String, Mixture>),
}

impl Source {
    /// A csv_hist file, or a directory holding `flows.json`, `packets.json`, `octets.json`.
    pub fn load(path: &Path) -> Result<Source, FitError> {
        if flow_provider::store::is_dir(path) {
            let mut m = HashMap::new();
            for y in ["flows", "packets", "octets"] {
                let p = path.join(format!("{y}.json"));
                let text = flow_provider::store::read_to_string(&p)
                    .map_err(|e| FitError::Io(format!("{}: {e}", p.display())))?;
                let mix = mixture_from_json(&text)
                    .map_err(|e| FitError::BadJson(format!("{}: {e}", p.display())))?;
                m.insert(y.to_string(), mix);
            }
            Ok(Source::Mixtures(m))
        } else {
            Ok(Source::Histogram(Histogram::from_path(path)?))
        }
    }
}

/// x values below this have their mean packet size cached in a table.
const SMALL_X: usize = 1 << 16;

/// Packets and octets of one flow before rounding (`generate_arrays`).
#[derive(Clone, Copy, Debug, PartialEq)]
struct RawFlow {
    packets: f64,
    octets: f64,
}

/// The original's packet/octet split for a drawn x and the mean packet size at x.
fn split(x: f64, packet_size: f64, kind: XKind) -> Result<RawFlow, FitError> {
    match kind {
        XKind::Length => {
            let ps = packet_size.clamp(64.0, 1522.0);
            Ok(RawFlow {
                packets: x,
                octets: x * ps,
            })
        }
        XKind::Size => {
            let mut packets = x / packet_size;
            if x / packets.ceil() < 64.0 {
                packets = packets.trunc();
            }
            Ok(RawFlow {
                packets: packets.max(1.0),
                octets: x,
            })
        }
        XKind::Other => Err(FitError::BadData(
            "generate supports x = length or size".into(),
        )),
    }
}

/// Integer packets and octets (`generate_flows`): the fractional count is rounded up with
/// probability equal to its fraction, so means are kept.
fn round<R: Rng + ?Sized>(f: RawFlow, kind: XKind, rng: &mut R) -> (u64, u64) {
    let up = |v: f64, rng: &mut R| {
        let t = v as u64;
        if rng.random::<f64>() + (t as f64) >= v {
            t
        } else {
            t + 1
        }
    };
    match kind {
        XKind::Size => (up(f.packets, rng), f.octets as u64),
        _ => (f.packets as u64, up(f.octets, rng)),
    }
}

/// Draws flows one at a time; `next_flow` gives rounded `(packets, octets)`.
#[derive(Clone)]
pub struct FlowGenerator {
    kind: XKind,
    draw: Draw,
}

#[derive(Clone)]
enum Draw {
    /// Histogram rows chosen with probability proportional to `flows_sum`.
    Rows {
        pick: WeightedIndex<f64>,
        flows: Vec<RawFlow>,
        counts: Vec<u64>,
    },
    /// Every flow of the histogram once, rows from the last to the first (`-s 0`): `left`
    /// more flows of row `row`, then the rows before it.
    Replay {
        flows: Vec<RawFlow>,
        counts: Vec<u64>,
        row: usize,
        left: u64,
    },
    /// x from the flows mixture; the mean packet size at each x is computed once and cached
    /// (in a table for the common small x, in a map above).
    Mixture {
        x: MixtureSampler,
        data: HashMap<String, Mixture>,
        small: Vec<Option<f64>>,
        large: HashMap<u64, f64>,
    },
}

impl FlowGenerator {
    /// A generator of flows whose x is `kind` (length or size; [`XKind::Other`] is refused).
    pub fn new(source: Source, kind: XKind) -> Result<FlowGenerator, FitError> {
        if kind == XKind::Other {
            return Err(FitError::BadData(
                "generate supports x = length or size".into(),
            ));
        }
        let draw = match source {
            Source::Histogram(h) => {
                let f = h.column("flows_sum")?;
                let p = h.column("packets_sum")?;
                let o = h.column("octets_sum")?;
                let flows =
                    h.x.iter()
                        .zip(p.values.iter().zip(&o.values))
                        .map(|(x, (p, o))| split(*x, o / p, kind))
                        .collect::<Result<_, _>>()?;
                let pick = WeightedIndex::new(&f.values)
                    .map_err(|e| FitError::BadData(format!("flows_sum weights: {e}")))?;
                let counts = f.values.iter().map(|&v| v as u64).collect();
                Draw::Rows {
                    pick,
                    flows,
                    counts,
                }
            }
            Source::Mixtures(data) => {
                let flows = data
                    .get("flows")
                    .ok_or_else(|| FitError::MissingColumn("mixture \"flows\"".into()))?;
                Draw::Mixture {
                    x: MixtureSampler::new(flows)?,
                    data,
                    small: vec![None; SMALL_X],
                    large: HashMap::new(),
                }
            }
        };
        Ok(FlowGenerator { kind, draw })
    }

    /// The original's `-s 0`: instead of sampling, every flow of the histogram once (each row
    /// `flows_sum` times), from the last row to the first. Returns the number of flows; a
    /// mixture has no such list (the original asserts `size > 0` there).
    pub fn replay_all(&mut self) -> Result<u64, FitError> {
        let Draw::Rows { flows, counts, .. } = &self.draw else {
            return Err(FitError::BadData(
                "generate -s 0 (every flow of a histogram) needs a csv_hist input, not mixtures"
                    .into(),
            ));
        };
        let total = counts.iter().sum();
        self.draw = Draw::Replay {
            flows: flows.clone(),
            counts: counts.clone(),
            row: flows.len(),
            left: 0,
        };
        Ok(total)
    }

    /// The next flow before rounding.
    fn next_raw<R: Rng + ?Sized>(&mut self, rng: &mut R) -> Result<RawFlow, FitError> {
        match &mut self.draw {
            Draw::Rows { pick, flows, .. } => Ok(flows[pick.sample(rng)]),
            Draw::Replay {
                flows,
                counts,
                row,
                left,
            } => {
                while *left == 0 {
                    let Some(before) = row.checked_sub(1) else {
                        return Err(FitError::BadData("every histogram flow was drawn".into()));
                    };
                    *row = before;
                    *left = counts[before];
                }
                *left -= 1;
                Ok(flows[*row])
            }
            Draw::Mixture {
                x,
                data,
                small,
                large,
            } => {
                let v = x.draw_x(rng, self.kind);
                let key = v as u64;
                let cached = match small.get(key as usize) {
                    Some(c) => *c,
                    None => large.get(&key).copied(),
                };
                let ps = match cached {
                    Some(ps) => ps,
                    None => {
                        let ps = avg(data, &[v], self.kind, AvgWhat::PacketSize)?[0];
                        match small.get_mut(key as usize) {
                            Some(c) => *c = Some(ps),
                            None => {
                                large.insert(key, ps);
                            }
                        }
                        ps
                    }
                };
                split(v, ps, self.kind)
            }
        }
    }

    /// The next flow as integer `(packets, octets)`.
    pub fn next_flow<R: Rng + ?Sized>(&mut self, rng: &mut R) -> Result<(u64, u64), FitError> {
        let f = self.next_raw(rng)?;
        Ok(round(f, self.kind, rng))
    }
}

/// `n` flows as the original writes them: every field 0 except packets and octets, in
/// batches of at most `batch_rows` rows of the standard flow schema handed to `sink`.
pub fn flow_batches<R: Rng + ?Sized>(
    generator: &mut FlowGenerator,
    rng: &mut R,
    n: u64,
    batch_rows: usize,
    mut sink: impl FnMut(arrow::array::RecordBatch) -> datafusion::common::Result<()>,
) -> datafusion::common::Result<()> {
    use arrow::array::{ArrayRef, RecordBatch, UInt64Array};
    use datafusion::common::ScalarValue;
    let schema = flow_provider::fields::standard_schema();
    let mut left = n;
    while left > 0 {
        let rows = left.min(batch_rows.max(1) as u64) as usize;
        let (mut p, mut o) = (Vec::with_capacity(rows), Vec::with_capacity(rows));
        for _ in 0..rows {
            let (pk, oc) = generator.next_flow(rng)?;
            p.push(pk);
            o.push(oc);
        }
        let p: ArrayRef = Arc::new(UInt64Array::from(p));
        let o: ArrayRef = Arc::new(UInt64Array::from(o));
        let columns = schema
            .fields()
            .iter()
            .map(|f| match f.name().as_str() {
                "packets" => Ok(p.clone()),
                "octets" => Ok(o.clone()),
                _ => ScalarValue::new_zero(f.data_type())?.to_array_of_size(rows),
            })
            .collect::<datafusion::common::Result<Vec<_>>>()?;
        sink(RecordBatch::try_new(schema.clone(), columns)?)?;
        left -= rows as u64;
    }
    Ok(())
}

/// A seed from the clock, for runs without `--seed`.
pub fn clock_seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}
