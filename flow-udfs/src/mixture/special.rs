// Special functions with the exact algorithms scipy uses (Cephes ndtr/erf/erfc),
// plus thin wrappers over statrs for the gamma family.
// Cephes coefficients are kept verbatim so they parse to the same doubles.
#![allow(clippy::excessive_precision)]

const MAXLOG: f64 = 7.09782712893383996843e2;

const P: [f64; 9] = [
    2.46196981473530512524e-10,
    5.64189564831068821977e-1,
    7.46321056442269912687e0,
    4.86371970985681366614e1,
    1.96520832956077098242e2,
    5.26445194995477358631e2,
    9.34528527171957607540e2,
    1.02755188689515710272e3,
    5.57535335369399327526e2,
];
const Q: [f64; 8] = [
    1.32281951154744992508e1,
    8.67072140885989742329e1,
    3.54937778887819891062e2,
    9.75708501743205489753e2,
    1.82390916687909736289e3,
    2.24633760818710981792e3,
    1.65666309194161350182e3,
    5.57535340817727675546e2,
];
const R: [f64; 6] = [
    5.64189583547755073984e-1,
    1.27536670759978104416e0,
    5.01905042251180477414e0,
    6.16021097993053585195e0,
    7.40974269950448939160e0,
    2.97886665372100240670e0,
];
const S: [f64; 6] = [
    2.26052863220117276590e0,
    9.39603524938001434673e0,
    1.20489539808096656605e1,
    1.70814450747565897222e1,
    9.60896809063285878198e0,
    3.36907645100081516050e0,
];
const T: [f64; 5] = [
    9.60497373987051638749e0,
    9.00260197203842689217e1,
    2.23200534594684319226e3,
    7.00332514112805075473e3,
    5.55923013010394962768e4,
];
const U: [f64; 5] = [
    3.35617141647503099647e1,
    5.21357949780152679795e2,
    4.59432382970980127987e3,
    2.26290000613890934246e4,
    4.92673942608635921086e4,
];

fn polevl(x: f64, coef: &[f64]) -> f64 {
    let mut ans = coef[0];
    for c in &coef[1..] {
        ans = ans * x + c;
    }
    ans
}

fn p1evl(x: f64, coef: &[f64]) -> f64 {
    let mut ans = x + coef[0];
    for c in &coef[1..] {
        ans = ans * x + c;
    }
    ans
}

/// Cephes `erf`.
pub fn erf(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    if x < 0.0 {
        return -erf(-x);
    }
    if x.abs() > 1.0 {
        return 1.0 - erfc(x);
    }
    let z = x * x;
    x * polevl(z, &T) / p1evl(z, &U)
}

/// Cephes `erfc`.
pub fn erfc(a: f64) -> f64 {
    if a.is_nan() {
        return f64::NAN;
    }
    let x = a.abs();
    if x < 1.0 {
        return 1.0 - erf(a);
    }
    let z = -a * a;
    let under = if a < 0.0 { 2.0 } else { 0.0 };
    if z < -MAXLOG {
        return under;
    }
    let z = z.exp();
    let (p, q) = if x < 8.0 {
        (polevl(x, &P), p1evl(x, &Q))
    } else {
        (polevl(x, &R), p1evl(x, &S))
    };
    let mut y = (z * p) / q;
    if a < 0.0 {
        y = 2.0 - y;
    }
    if y != 0.0 { y } else { under }
}

/// Standard normal CDF, `scipy.special.ndtr`.
pub fn ndtr(a: f64) -> f64 {
    if a.is_nan() {
        return f64::NAN;
    }
    let x = a * std::f64::consts::FRAC_1_SQRT_2;
    let z = x.abs();
    if z < std::f64::consts::FRAC_1_SQRT_2 {
        0.5 + 0.5 * erf(x)
    } else {
        let y = 0.5 * erfc(z);
        if x > 0.0 { 1.0 - y } else { y }
    }
}

/// `scipy.special.xlogy`: 0 when `a == 0` (and `b` is not NaN).
pub fn xlogy(a: f64, b: f64) -> f64 {
    if a == 0.0 && !b.is_nan() {
        0.0
    } else {
        a * b.ln()
    }
}

/// `scipy.special.xlog1py`.
pub fn xlog1py(a: f64, b: f64) -> f64 {
    if a == 0.0 && !b.is_nan() {
        0.0
    } else {
        a * b.ln_1p()
    }
}

/// `scipy.special.inv_boxcox1p`.
pub fn inv_boxcox1p(x: f64, lmbda: f64) -> f64 {
    if lmbda == 0.0 {
        return x.exp_m1();
    }
    let lx = lmbda * x;
    if lx.abs() < 1e-154 {
        x
    } else {
        (lx.ln_1p() / lmbda).exp_m1()
    }
}

/// `scipy.special.gammaln` for positive arguments.
pub fn gammaln(a: f64) -> f64 {
    statrs::function::gamma::ln_gamma(a)
}

/// `scipy.special.psi` (digamma).
pub fn digamma(a: f64) -> f64 {
    statrs::function::gamma::digamma(a)
}

/// `scipy.special.gammainc`: regularized lower incomplete gamma P(a, x).
pub fn gammainc(a: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x.is_infinite() {
        return 1.0;
    }
    statrs::function::gamma::gamma_lr(a, x)
}
