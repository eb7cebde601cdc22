// Mixture JSON in and out, byte-compatible with the original's `to_json` and
// `save()` (`{y}.json` and `{y}.mode`).

use crate::mixture::dist::Dist;
use crate::mixture::initial::InitialCounts;
use crate::mixture::pyfmt::{py_float_repr, py_json_string};
use crate::mixture::{Component, FitError, Mixture, Num};
use serde_json::Value;

fn num_text(n: Num) -> Result<String, FitError> {
    match n {
        Num::Int(i) => Ok(i.to_string()),
        Num::Float(f) if f.is_finite() => Ok(py_float_repr(f)),
        Num::Float(f) => Err(FitError::NonFinite(format!("refusing to write {f}"))),
    }
}

/// `json.dumps([weight, name, params])`.
pub fn component_to_json(c: &Component) -> Result<String, FitError> {
    let params = c
        .params
        .iter()
        .map(|p| num_text(*p))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(format!(
        "[{}, {}, [{}]]",
        num_text(Num::Float(c.weight))?,
        py_json_string(c.dist.scipy_name()),
        params.join(", ")
    ))
}

/// `to_json(mix, suma)`: one component per line; the `sum` wrapper is omitted
/// when the sum is absent or zero (the original tests `if suma:`).
pub fn mixture_to_json(m: &Mixture) -> Result<String, FitError> {
    let comps = m
        .components
        .iter()
        .map(component_to_json)
        .collect::<Result<Vec<_>, _>>()?;
    let list = format!("[\n    {}\n  ]", comps.join(",\n    "));
    match m.sum {
        Some(s) if s.value() != 0.0 => Ok(format!(
            "{{\n  \"sum\": {},\n  \"mix\": {list}\n}}",
            num_text(s)?
        )),
        _ => Ok(list),
    }
}

fn json_num(v: &Value, what: &str) -> Result<Num, FitError> {
    match v {
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Ok(Num::Int(i))
            } else if let Some(f) = n.as_f64() {
                Ok(Num::Float(f))
            } else {
                Err(FitError::BadJson(format!("{what}: unsupported number {n}")))
            }
        }
        _ => Err(FitError::BadJson(format!(
            "{what}: expected a number, got {v}"
        ))),
    }
}

/// Parses a mixture: either `{"sum": s, "mix": [...]}` or a bare component list
/// (the form the original's `--initial` actually loads).
pub fn mixture_from_json(text: &str) -> Result<Mixture, FitError> {
    let v: Value = serde_json::from_str(text).map_err(|e| FitError::BadJson(e.to_string()))?;
    let (list, sum) = match &v {
        Value::Array(a) => (a, None),
        Value::Object(o) => {
            let list = match o.get("mix") {
                Some(Value::Array(a)) => a,
                _ => return Err(FitError::BadJson("object without a \"mix\" list".into())),
            };
            let sum = match o.get("sum") {
                None | Some(Value::Null) => None,
                Some(s) => Some(json_num(s, "sum")?),
            };
            (list, sum)
        }
        _ => return Err(FitError::BadJson("expected a list or an object".into())),
    };
    let mut components = Vec::with_capacity(list.len());
    for (k, c) in list.iter().enumerate() {
        let parts = match c {
            Value::Array(p) if p.len() == 3 => p,
            _ => {
                return Err(FitError::BadJson(format!(
                    "component {k}: expected [weight, name, params]"
                )));
            }
        };
        let weight = json_num(&parts[0], "weight")?.value();
        let name = parts[1]
            .as_str()
            .ok_or_else(|| FitError::BadJson(format!("component {k}: name is not a string")))?;
        let dist = Dist::from_scipy_name(name)?;
        let params = match &parts[2] {
            Value::Array(p) => p
                .iter()
                .map(|x| json_num(x, "parameter"))
                .collect::<Result<Vec<_>, _>>()?,
            _ => {
                return Err(FitError::BadJson(format!(
                    "component {k}: params is not a list"
                )));
            }
        };
        let comp = Component {
            weight,
            dist,
            params,
        };
        comp.frozen()?;
        components.push(comp);
    }
    Ok(Mixture { components, sum })
}

/// How the fit was started, as recorded in `{y}.mode`.
#[derive(Clone, Debug, PartialEq)]
pub enum Initial {
    /// `-U/-P/-L` counts.
    Counts(InitialCounts),
    /// `--initial FILE`
    Path(String),
}

/// The arguments `save()` writes to `{y}.mode`.
#[derive(Clone, Debug, PartialEq)]
pub struct ModeArgs {
    /// Absent in files written by older versions.
    pub in_file: Option<String>,
    /// The fitted column: `flows`, `packets` or `octets`.
    pub y_value: String,
    /// EM iterations run.
    pub max_iter: usize,
    /// How the fit was started.
    pub initial: Initial,
    /// `--mpw`, if given.
    pub max_pareto_w: Option<f64>,
}

/// `json.dumps(args)` as `save()` writes it (without the trailing newline).
pub fn mode_to_json(m: &ModeArgs) -> Result<String, FitError> {
    let mut parts = Vec::new();
    if let Some(f) = &m.in_file {
        parts.push(format!("\"in_file\": {}", py_json_string(f)));
    }
    parts.push(format!("\"y_value\": {}", py_json_string(&m.y_value)));
    parts.push(format!("\"max_iter\": {}", m.max_iter));
    let initial = match &m.initial {
        Initial::Path(p) => py_json_string(p),
        Initial::Counts(c) => {
            // argparse order U, P, L; zero counts are falsy and left out.
            let kv: Vec<String> = [("U", c.uniform), ("P", c.pareto), ("L", c.lognorm)]
                .iter()
                .filter(|(_, n)| *n != 0)
                .map(|(k, n)| format!("\"{k}\": {n}"))
                .collect();
            format!("{{{}}}", kv.join(", "))
        }
    };
    parts.push(format!("\"initial\": {initial}"));
    let mpw = match m.max_pareto_w {
        None => "null".to_string(),
        Some(v) => num_text(Num::Float(v))?,
    };
    parts.push(format!("\"max_pareto_w\": {mpw}"));
    Ok(format!("{{{}}}", parts.join(", ")))
}

/// Parses a `.mode` file.
pub fn mode_from_json(text: &str) -> Result<ModeArgs, FitError> {
    let v: Value = serde_json::from_str(text).map_err(|e| FitError::BadJson(e.to_string()))?;
    let o = v
        .as_object()
        .ok_or_else(|| FitError::BadJson("mode is not an object".into()))?;
    let get_str = |k: &str| o.get(k).and_then(|v| v.as_str()).map(|s| s.to_string());
    let y_value = get_str("y_value").ok_or_else(|| FitError::BadJson("no y_value".into()))?;
    let max_iter = o
        .get("max_iter")
        .and_then(|v| v.as_u64())
        .ok_or_else(|| FitError::BadJson("no max_iter".into()))? as usize;
    let initial = match o.get("initial") {
        Some(Value::String(s)) => Initial::Path(s.clone()),
        Some(Value::Object(c)) => {
            let n = |k: &str| c.get(k).and_then(|v| v.as_u64()).unwrap_or(0) as usize;
            Initial::Counts(InitialCounts {
                uniform: n("U"),
                pareto: n("P"),
                lognorm: n("L"),
            })
        }
        _ => return Err(FitError::BadJson("no initial".into())),
    };
    let max_pareto_w = o.get("max_pareto_w").and_then(|v| v.as_f64());
    Ok(ModeArgs {
        in_file: get_str("in_file"),
        y_value,
        max_iter,
        initial,
        max_pareto_w,
    })
}
