// numpy's float64 summation orders, reproduced so that sums round exactly as
// in the original (EM results are compared to 1e-9 after hundreds of steps).

/// `np.add.reduce` over a 1-D float64 array: numpy's pairwise summation
/// (8 accumulators, blocks of 128).
pub fn pairwise_sum(a: &[f64]) -> f64 {
    let n = a.len();
    if n < 8 {
        let mut res = 0.0;
        for v in a {
            res += v;
        }
        res
    } else if n <= 128 {
        // Eight running sums over whole blocks of eight (slices, so no bounds checks and the
        // lanes vectorise), combined as numpy does, then the tail one by one.
        let (body, tail) = a.split_at(n - n % 8);
        let (head, rest) = body.split_at(8);
        let mut r: [f64; 8] = head.try_into().expect("eight values");
        for block in rest.chunks_exact(8) {
            for (acc, v) in r.iter_mut().zip(block) {
                *acc += v;
            }
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for v in tail {
            res += v;
        }
        res
    } else {
        let mut n2 = n / 2;
        n2 -= n2 % 8;
        pairwise_sum(&a[..n2]) + pairwise_sum(&a[n2..])
    }
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
}
