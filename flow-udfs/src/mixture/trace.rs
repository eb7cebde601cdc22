// Complete synthetic flow records for benchmarks: packets and octets from a FlowGenerator, plus
// random IPv4 5-tuples, start times spread over a period and durations, with long flows split
// into several records by an active timeout as a real exporter does.

use crate::mixture::generate::FlowGenerator;
use arrow::array::{ArrayRef, RecordBatch, UInt8Array, UInt16Array, UInt32Array, UInt64Array};
use datafusion::common::{DataFusionError, Result};
use flow_provider::fields::standard_schema;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::sync::Arc;

/// How records are laid out in time.
#[derive(Clone, Copy, Debug)]
pub struct TraceSpec {
    /// Unix time of the period's start (seconds).
    pub start: u32,
    /// Length of the period over which flows start (seconds).
    pub period: u32,
    /// Exporter's active timeout: a flow lasting longer becomes several records (seconds).
    pub active_timeout: u32,
    /// Mean gap between packets of a flow (milliseconds).
    pub mean_gap_ms: f64,
}

impl Default for TraceSpec {
    fn default() -> Self {
        TraceSpec {
            start: 1_433_930_400,
            period: 3600,
            active_timeout: 300,
            mean_gap_ms: 200.0,
        }
    }
}

/// Columns of the standard schema under construction.
#[derive(Default)]
struct Cols {
    prot: Vec<u8>,
    sa3: Vec<u32>,
    da3: Vec<u32>,
    sp: Vec<u16>,
    dp: Vec<u16>,
    first: Vec<u32>,
    first_ms: Vec<u16>,
    last: Vec<u32>,
    last_ms: Vec<u16>,
    packets: Vec<u64>,
    octets: Vec<u64>,
}

/// Server ports drawn for the destination: web, DNS, mail, ssh and a random high port.
const PORTS: [u16; 8] = [443, 80, 53, 443, 25, 22, 8080, 0];

impl Cols {
    /// Appends one flow as one or more records; returns how many.
    fn push_flow<R: Rng + ?Sized>(
        &mut self,
        rng: &mut R,
        spec: &TraceSpec,
        packets: u64,
        octets: u64,
    ) -> usize {
        let prot = if rng.random::<f64>() < 0.8 { 6 } else { 17 };
        let (sa, da) = (rng.random::<u32>(), rng.random::<u32>());
        let sp = rng.random_range(1024..=u16::MAX);
        let dp = match PORTS[rng.random_range(0..PORTS.len())] {
            0 => rng.random_range(1024..=u16::MAX),
            p => p,
        };
        let start_ms =
            spec.start as u64 * 1000 + rng.random_range(0..spec.period.max(1) as u64 * 1000);
        // Gaps average mean_gap_ms (a uniform factor keeps it cheap at ~10 M flows/s); flows
        // end by the end of the period, as in a capture of that length.
        let end_ms = (spec.start as u64 + spec.period.max(1) as u64) * 1000 - 1;
        let gaps = packets.saturating_sub(1) as f64 * spec.mean_gap_ms;
        let dur_ms = ((gaps * rng.random_range(0.0..2.0)) as u64).min(end_ms - start_ms);
        let timeout_ms = (spec.active_timeout.max(1) as u64) * 1000;
        let records = (dur_ms / timeout_ms + 1).min(packets.max(1));
        for r in 0..records {
            let (p0, p1) = (packets * r / records, packets * (r + 1) / records);
            let (o0, o1) = (octets * r / records, octets * (r + 1) / records);
            let t0 = start_ms + r * timeout_ms;
            let t1 = if r + 1 == records {
                start_ms + dur_ms
            } else {
                t0 + timeout_ms - 1
            };
            self.prot.push(prot);
            self.sa3.push(sa);
            self.da3.push(da);
            self.sp.push(sp);
            self.dp.push(dp);
            self.first.push((t0 / 1000) as u32);
            self.first_ms.push((t0 % 1000) as u16);
            self.last.push((t1 / 1000) as u32);
            self.last_ms.push((t1 % 1000) as u16);
            self.packets.push(p1 - p0);
            self.octets.push(o1 - o0);
        }
        records as usize
    }

    fn batch(&mut self) -> Result<RecordBatch> {
        let n = self.prot.len();
        let z16 = || Arc::new(UInt16Array::from(vec![0u16; n])) as ArrayRef;
        let z32 = || Arc::new(UInt32Array::from(vec![0u32; n])) as ArrayRef;
        let c = std::mem::take(self);
        let columns: Vec<ArrayRef> = vec![
            Arc::new(UInt8Array::from(vec![2u8; n])), // af: IPv4
            Arc::new(UInt8Array::from(c.prot)),
            z16(),
            z16(),
            z32(),
            z32(),
            z32(),
            Arc::new(UInt32Array::from(c.sa3)),
            z32(),
            z32(),
            z32(),
            Arc::new(UInt32Array::from(c.da3)),
            Arc::new(UInt16Array::from(c.sp)),
            Arc::new(UInt16Array::from(c.dp)),
            Arc::new(UInt32Array::from(c.first)),
            Arc::new(UInt16Array::from(c.first_ms)),
            Arc::new(UInt32Array::from(c.last)),
            Arc::new(UInt16Array::from(c.last_ms)),
            Arc::new(UInt64Array::from(c.packets)),
            Arc::new(UInt64Array::from(c.octets)),
            Arc::new(UInt32Array::from(vec![1u32; n])), // aggs
        ];
        Ok(RecordBatch::try_new(standard_schema(), columns)?)
    }
}

/// Flows per chunk of [`generate_trace`]: each chunk has its own random stream, so chunks are
/// generated on parallel threads and the output depends only on the seed.
const CHUNK_FLOWS: u64 = 1 << 16;

/// What one chunk produced: its records, flows and record count.
type Chunk = Result<(RecordBatch, u64, u64)>;

/// Generates `flows` flows as batches (one per chunk of 65 536 flows, all cores generating),
/// handing each batch and the number of flows in it to `sink` in order; returns the number of
/// records (>= flows: long flows are split). `rng` seeds the chunks' own generators.
pub fn generate_trace<R: Rng + ?Sized>(
    generator: &FlowGenerator,
    rng: &mut R,
    spec: &TraceSpec,
    flows: u64,
    mut sink: impl FnMut(RecordBatch, u64) -> Result<()>,
) -> Result<u64> {
    let chunks = flows.div_ceil(CHUNK_FLOWS);
    let seeds: Vec<u64> = (0..chunks).map(|_| rng.random()).collect();
    let threads = (crate::par::cores() as u64).min(chunks).max(1);
    let chunk = |j: u64, generator: &mut FlowGenerator| -> Chunk {
        let mut rng = StdRng::seed_from_u64(seeds[j as usize]);
        let n = CHUNK_FLOWS.min(flows - j * CHUNK_FLOWS);
        let mut cols = Cols::default();
        let mut records = 0u64;
        for _ in 0..n {
            let (p, o) = generator.next_flow(&mut rng)?;
            records += cols.push_flow(&mut rng, spec, p, o) as u64;
        }
        Ok((cols.batch()?, n, records))
    };
    std::thread::scope(|s| {
        // Worker t makes chunks t, t + threads, ...; each hands them over through its own
        // short queue, so the sink takes them in order and memory stays a few batches.
        let queues: Vec<_> = (0..threads)
            .map(|t| {
                let (tx, rx) = std::sync::mpsc::sync_channel::<Chunk>(2);
                let (chunk, mut generator) = (&chunk, generator.clone());
                s.spawn(move || {
                    for j in (t..chunks).step_by(threads as usize) {
                        let made = chunk(j, &mut generator);
                        let failed = made.is_err();
                        if tx.send(made).is_err() || failed {
                            break;
                        }
                    }
                });
                rx
            })
            .collect();
        let mut records = 0u64;
        for j in 0..chunks {
            let queue = &queues[(j % threads) as usize];
            let (batch, n, r) = queue.recv().map_err(|_| {
                DataFusionError::Internal("a trace generator thread stopped".into())
            })??;
            records += r;
            sink(batch, n)?;
        }
        Ok(records)
    })
}
