//! Packets and octets time series of flow records, as flow-models 2.2's `series.py` makes them:
//! each flow counts once in the second it starts; its packets are spread evenly over its
//! duration (one every `duration / packets` seconds from `first.first_ms`), its octets over its
//! packets (the original's integer split, the remainder on the last packets). Days are UTC days
//! since the epoch (`first / 86400`), seconds within the day.
//!
//! [`FlowSeriesFunc`] is the SQL table function `flow_series('<table or path>')`; [`spread`]
//! the arithmetic of one flow, in the original's floating-point order so that every packet
//! lands in the same second.

mod table;

pub use table::{FlowSeriesFunc, SecondsExec, SecondsTable, series_frame};

/// Seconds in a day.
pub const DAY: u32 = 86_400;

/// What a flow adds to one second of one day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Add {
    pub flows: u64,
    pub packets: u64,
    pub octets: i64,
}

/// The fields of a flow the series uses.
#[derive(Debug, Clone, Copy)]
pub struct Flow {
    pub first: u32,
    pub first_ms: u16,
    pub last: u32,
    pub last_ms: u16,
    pub packets: u64,
    pub octets: u64,
}

/// Calls `add(day, second, what)` for each second the flow adds to, in the original's order
/// (a second may come several times), and with nothing added for a day the packet schedule
/// passes into after the last packet (the original writes that day's files too).
///
/// Two differences from `series.py`, both for malformed flows: a flow that ends before it
/// starts is taken as lasting 0 s (the original steps backwards and indexes its day from the
/// end, or fails), and a flow of 0 packets counts as a flow with no packets or octets (the
/// original stops on an assertion when it has octets).
pub fn spread(flow: &Flow, mut add: impl FnMut(u64, u32, Add)) {
    let mut day = u64::from(flow.first / DAY);
    let second = flow.first % DAY;
    add(
        day,
        second,
        Add {
            flows: 1,
            ..Add::default()
        },
    );
    if flow.packets == 1 {
        let octets = flow.octets as i64;
        add(
            day,
            second,
            Add {
                packets: 1,
                octets,
                ..Add::default()
            },
        );
        return;
    }
    let packets = flow.packets;
    let mut at = f64::from(second) + f64::from(flow.first_ms) / 1000.0;
    let duration = (i64::from(flow.last) - i64::from(flow.first)) as f64
        + (i64::from(flow.last_ms) - i64::from(flow.first_ms)) as f64 / 1000.0;
    let step = duration.max(0.0) / packets as f64;
    let average = flow.octets as f64 / packets as f64;
    let whole = average.trunc() as i64;
    let mut left = flow.octets as i64;
    for n in 0..packets {
        // As Python computes it: int - int, then minus a float (the int made a float), truncated.
        let rest = (left - whole) as f64 - average * (packets - 1 - n) as f64;
        let size = whole + rest.trunc() as i64;
        add(
            day,
            at.trunc() as u32,
            Add {
                packets: 1,
                octets: size,
                ..Add::default()
            },
        );
        left -= size;
        at += step;
        while at >= f64::from(DAY) {
            day += 1;
            at -= f64::from(DAY);
            add(day, 0, Add::default());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn adds(flow: Flow) -> Vec<(u64, u32, Add)> {
        let mut out = Vec::new();
        spread(&flow, |d, s, a| out.push((d, s, a)));
        out
    }

    fn flow(first: u32, first_ms: u16, last: u32, last_ms: u16, packets: u64, octets: u64) -> Flow {
        Flow {
            first,
            first_ms,
            last,
            last_ms,
            packets,
            octets,
        }
    }

    fn packet(day: u64, second: u32, octets: i64) -> (u64, u32, Add) {
        (
            day,
            second,
            Add {
                flows: 0,
                packets: 1,
                octets,
            },
        )
    }

    #[test]
    fn one_packet_lands_with_its_flow() {
        let start = (
            0,
            10,
            Add {
                flows: 1,
                packets: 0,
                octets: 0,
            },
        );
        assert_eq!(
            adds(flow(10, 999, 10, 999, 1, 1500)),
            vec![start, packet(0, 10, 1500)]
        );
    }

    #[test]
    fn packets_are_spread_and_octets_split_as_the_original() {
        // 3 packets over 3 s from 100.5: at 100.5, 101.5, 102.5; 100 octets as 33, 33, 34
        // (series.py: 33 + trunc(100 - 33 - 33.33*2) = 33, then 33, then 34).
        let got = adds(flow(100, 500, 103, 500, 3, 100));
        let want = vec![
            (
                0,
                100,
                Add {
                    flows: 1,
                    packets: 0,
                    octets: 0,
                },
            ),
            packet(0, 100, 33),
            packet(0, 101, 33),
            packet(0, 102, 34),
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn a_flow_crossing_midnight_continues_the_next_day() {
        // Two packets 1 s apart from 86399.5 (day 0): the second at 0.5 of day 1, and a day
        // 1 marker when the schedule crosses midnight.
        let got = adds(flow(DAY - 1, 500, DAY + 1, 500, 2, 200));
        let want = vec![
            (
                0,
                DAY - 1,
                Add {
                    flows: 1,
                    packets: 0,
                    octets: 0,
                },
            ),
            packet(0, DAY - 1, 100),
            (1, 0, Add::default()),
            packet(1, 0, 100),
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn malformed_flows_stay_in_their_first_second() {
        let backwards = adds(flow(50, 0, 40, 0, 2, 10));
        assert!(
            backwards[1..].iter().all(|&(d, s, _)| (d, s) == (0, 50)),
            "{backwards:?}"
        );
        let empty = adds(flow(50, 0, 60, 0, 0, 10));
        assert_eq!(
            empty,
            vec![(
                0,
                50,
                Add {
                    flows: 1,
                    packets: 0,
                    octets: 0
                }
            )]
        );
    }
}
