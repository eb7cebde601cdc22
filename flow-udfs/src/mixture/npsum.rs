// numpy's float64 summation orders, reproduced so that sums round exactly as
// in the original (EM results are compared to 1e-9 after hundreds of steps).

/// `np.add.reduce` over a 1-D float64 array: numpy's pairwise summation
/// (8 accumulators, blocks of 128).
pub fn pairwise_sum(a: &[f64]) -> f64 {
    pairwise_sum_map(a, a, |v, _| v)
}

/// `np.sum(f(a, b))` for elementwise `f`: the pairwise sum of the temporary array numpy would
/// make, in the same order, without making it. `a` and `b` have the same length.
pub fn pairwise_sum_map(a: &[f64], b: &[f64], f: impl Fn(f64, f64) -> f64 + Copy) -> f64 {
    let [s] = pairwise_sums(a, b, |u, v| [f(u, v)]);
    s
}

/// `K` sums `np.sum(f(a, b)[k])` in one pass (independent chains of additions, so two sums cost
/// about as much as one), each in numpy's pairwise order.
pub fn pairwise_sums<const K: usize>(
    a: &[f64],
    b: &[f64],
    f: impl Fn(f64, f64) -> [f64; K] + Copy,
) -> [f64; K] {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    if n < 8 {
        let mut res = [0.0; K];
        for (&u, &v) in a.iter().zip(b) {
            for (r, y) in res.iter_mut().zip(f(u, v)) {
                *r += y;
            }
        }
        res
    } else if n <= 128 {
        // Eight running sums per result over whole blocks of eight (the lanes vectorise),
        // combined as numpy does, then the tail one by one.
        let whole = n - n % 8;
        let mut r = [[0.0f64; 8]; K];
        for (j, (&u, &v)) in a[..8].iter().zip(&b[..8]).enumerate() {
            for (rk, y) in r.iter_mut().zip(f(u, v)) {
                rk[j] = y;
            }
        }
        for (ba, bb) in a[8..whole].chunks_exact(8).zip(b[8..whole].chunks_exact(8)) {
            for (j, (&u, &v)) in ba.iter().zip(bb).enumerate() {
                for (rk, y) in r.iter_mut().zip(f(u, v)) {
                    rk[j] += y;
                }
            }
        }
        let mut res = r.map(|r| ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7])));
        for (&u, &v) in a[whole..].iter().zip(&b[whole..]) {
            for (r, y) in res.iter_mut().zip(f(u, v)) {
                *r += y;
            }
        }
        res
    } else {
        let h = n / 2 - n / 2 % 8;
        let (l, r) = (
            pairwise_sums(&a[..h], &b[..h], f),
            pairwise_sums(&a[h..], &b[h..], f),
        );
        std::array::from_fn(|k| l[k] + r[k])
    }
}

/// Where numpy's pairwise summation of `n` values splits them first (`None`: one block):
/// `pairwise_sum(a) == pairwise_sum(&a[..h]) + pairwise_sum(&a[h..])`.
pub fn pairwise_halves(n: usize) -> Option<usize> {
    (n > 128).then(|| n / 2 - n / 2 % 8)
}

/// Sum of an array that numpy must cast first (e.g. `np.mean` of int64):
/// the cast goes through 8192-element buffers, each summed pairwise.
pub fn buffered_sum(a: &[f64]) -> f64 {
    let mut res = 0.0;
    for chunk in a.chunks(8192) {
        res += pairwise_sum(chunk);
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairwise_differs_from_sequential_like_numpy() {
        // np.sum(np.array([1e16, 1, -1e16, 1, 1, 1, 1, 1, 1, 3.3])) == 8.3
        let a = [1e16, 1.0, -1e16, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 3.3];
        assert_eq!(pairwise_sum(&a), 8.3);
        // np.sum(np.array([1e16] + [1.0] * 300)) == 1.0000000000000292e+16
        let mut b = vec![1e16];
        b.extend(std::iter::repeat_n(1.0, 300));
        assert_eq!(pairwise_sum(&b), 1.0000000000000292e16);
    }

    #[test]
    fn mapped_sum_equals_the_sum_of_the_mapped_array() {
        // Every branch: short, one block with a tail, recursive halves with tails.
        for n in [0, 5, 8, 13, 128, 129, 1000, 4099] {
            let a: Vec<f64> = (0..n)
                .map(|i| if i % 7 == 0 { 1e16 } else { 0.3 * i as f64 })
                .collect();
            let b: Vec<f64> = (0..n)
                .map(|i| if i % 5 == 0 { -1.0 } else { 1.1 })
                .collect();
            let mapped: Vec<f64> = a.iter().zip(&b).map(|(u, v)| u * v - 0.7).collect();
            let got = pairwise_sum_map(&a, &b, |u, v| u * v - 0.7);
            assert_eq!(got.to_bits(), pairwise_sum(&mapped).to_bits(), "n = {n}");
            let [x, y] = pairwise_sums(&a, &b, |u, v| [u * v - 0.7, v]);
            assert_eq!(x.to_bits(), got.to_bits(), "n = {n}");
            assert_eq!(y.to_bits(), pairwise_sum(&b).to_bits(), "n = {n}");
            if let Some(h) = pairwise_halves(n) {
                let halves = pairwise_sum(&mapped[..h]) + pairwise_sum(&mapped[h..]);
                assert_eq!(halves.to_bits(), got.to_bits(), "n = {n}");
            }
        }
        assert_eq!(pairwise_halves(128), None);
    }
}
