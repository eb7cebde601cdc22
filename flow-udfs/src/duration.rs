//! Flow duration and rate exactly as the original computes them in `hist.py`: the duration in
//! milliseconds (0 for single-packet flows) and the rate in bits per second (0 for zero duration).

/// `0 if packets == 1 else (last − first)·1000 + last_ms − first_ms`; negative when a record's
/// end precedes its start, as in the original (which uses Python integers).
#[inline]
pub fn flow_duration(first: i64, first_ms: i64, last: i64, last_ms: i64, packets: u64) -> i64 {
    if packets == 1 {
        0
    } else {
        (last - first) * 1000 + last_ms - first_ms
    }
}

/// [`flow_duration`] of any i64 arguments (SQL's; flow fields are u32/u16 and cannot overflow):
/// `None` when the duration does not fit i64.
pub fn flow_duration_checked(
    first: i64,
    first_ms: i64,
    last: i64,
    last_ms: i64,
    packets: u64,
) -> Option<i64> {
    let [f, fm, l, lm] = [first, first_ms, last, last_ms].map(i128::from);
    let d = if packets == 1 {
        0
    } else {
        (l - f) * 1000 + lm - fm
    };
    i64::try_from(d).ok()
}

/// `0 if duration == 0 else 8000·octets / duration`, rounded once to the nearest f64 like
/// Python's true division of integers (plain f64 division would round `8000·octets` first
/// when it exceeds 2^53).
#[inline]
pub fn flow_rate(octets: u64, duration: i64) -> f64 {
    if duration == 0 {
        return 0.0;
    }
    let n = 8000u128 * octets as u128;
    if n < 1 << 53 {
        // Both exact in f64 (or the duration rounded once, as its magnitude would be): one
        // rounded division, whose sign is the duration's.
        return n as u64 as i64 as f64 / duration as f64;
    }
    let magnitude = divide_rounded(n, duration.unsigned_abs() as u128);
    if duration < 0 { -magnitude } else { magnitude }
}

/// `n / d` correctly rounded, for `n < 2^77` and `0 < d < 2^43` (durations
/// of u32 timestamps): scale `n` until the quotient has
/// at least 55 bits, fold the remainder into a sticky bit, and let the u128 → f64 conversion
/// round (to nearest, ties to even). The power-of-two rescale is exact.
#[cold]
fn divide_rounded(n: u128, d: u128) -> f64 {
    let k = (d.ilog2() + 56).saturating_sub(n.ilog2()).min(50);
    let scaled = n << k;
    let q = scaled / d;
    let sticky = !scaled.is_multiple_of(d) as u128;
    (q | sticky) as f64 / (k as f64).exp2()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checked_duration_is_the_duration_or_none() {
        for args in [(10, 500, 20, 100, 2), (20, 0, 10, 0, 2), (7, 1, 9, 2, 1)] {
            let (f, fm, l, lm, p) = args;
            assert_eq!(
                flow_duration_checked(f, fm, l, lm, p),
                Some(flow_duration(f, fm, l, lm, p))
            );
        }
        assert_eq!(flow_duration_checked(i64::MIN, 0, i64::MAX, 0, 2), None);
        assert_eq!(flow_duration_checked(i64::MIN, 0, i64::MAX, 0, 1), Some(0));
        // (l − f)·1000 overflows i64 on the way, the result does not.
        let l = i64::MAX / 1000 + 1;
        assert_eq!(
            flow_duration_checked(0, 0, l, -1000, 2),
            Some((l - 1) * 1000)
        );
    }

    #[test]
    fn duration_of_single_packet_flows_is_zero() {
        assert_eq!(flow_duration(10, 500, 20, 100, 1), 0);
        assert_eq!(flow_duration(10, 500, 20, 100, 2), 9600);
        assert_eq!(flow_duration(20, 0, 10, 0, 2), -10_000);
        assert_eq!(
            flow_duration(0, 0, u32::MAX as i64, 999, 5),
            u32::MAX as i64 * 1000 + 999
        );
    }

    #[test]
    fn rate_is_bits_per_second() {
        assert_eq!(flow_rate(1000, 0), 0.0);
        assert_eq!(flow_rate(1000, 1000), 8000.0);
        assert_eq!(flow_rate(1500, 7), 8000.0 * 1500.0 / 7.0);
        assert_eq!(flow_rate(1000, -1000), -8000.0);
    }

    #[test]
    fn rate_of_huge_flows_is_correctly_rounded() {
        // Python: (8000 * (2**64 - 1)) / 3 == 4.9191317529892135e+22
        assert_eq!(flow_rate(u64::MAX, 3), 4.9191317529892135e+22);
        // Python: (8000 * 12345678901234567) / 999 == 9.886429550538192e+16
        assert_eq!(flow_rate(12345678901234567, 999), 9.886429550538192e+16);
        // Python: (8000 * 2**62) / 7 == 5.270498306774158e+21
        assert_eq!(flow_rate(1 << 62, 7), 5.270498306774158e+21);
    }
}
