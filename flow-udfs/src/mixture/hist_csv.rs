// Reader for flow-models csv_hist files (`bin_lo,bin_hi,flows_sum,...`), typed
// like pandas would type them (int64 unless a cell needs float64).

use crate::mixture::npsum::pairwise_sum;
use crate::mixture::{FitError, Num};

/// One data column with its numpy-style total (`np.sum`).
#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    /// The header, e.g. `flows_sum`.
    pub name: String,
    /// One value per row.
    pub values: Vec<f64>,
    /// Whether every cell was an integer (pandas' int64), which makes `sum` an integer.
    pub is_int: bool,
    /// The column's total as numpy computes it.
    pub sum: Num,
}

/// A histogram: x = `bin_lo` (the index column) and the other columns.
#[derive(Clone, Debug, PartialEq)]
pub struct Histogram {
    /// The `bin_lo` column: the x value of each row.
    pub x: Vec<f64>,
    /// Whether every `bin_lo` was an integer (initial mixtures then get integer parameters).
    pub x_is_int: bool,
    /// The data columns after `bin_lo`, without the `*_ssq` ones.
    pub columns: Vec<Column>,
}

enum Cell {
    Int(i64),
    Float(f64),
}

fn parse_cell(s: &str, line: usize, col: &str) -> Result<Cell, FitError> {
    let t = s.trim();
    if let Ok(i) = t.parse::<i64>() {
        return Ok(Cell::Int(i));
    }
    match t.parse::<f64>() {
        Ok(f) if f.is_finite() => Ok(Cell::Float(f)),
        _ => Err(FitError::Csv {
            line,
            msg: format!("column {col:?}: {t:?} is not a finite number"),
        }),
    }
}

impl Histogram {
    /// Reads and parses a csv_hist file; [`FitError::Io`] names the file.
    pub fn from_path(path: &std::path::Path) -> Result<Histogram, FitError> {
        let text = flow_provider::store::read_to_string(path)
            .map_err(|e| FitError::Io(format!("{}: {e}", path.display())))?;
        Histogram::parse(&text)
    }

    /// Parses csv_hist text; `*_ssq` columns are skipped as the original does.
    pub fn parse(text: &str) -> Result<Histogram, FitError> {
        let mut lines = text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty());
        let (_, header) = lines.next().ok_or(FitError::EmptyHistogram)?;
        let names: Vec<&str> = header.split(',').map(|s| s.trim()).collect();
        if names.len() < 2 {
            return Err(FitError::Csv {
                line: 1,
                msg: "header needs an index column and at least one data column".into(),
            });
        }
        let keep: Vec<usize> = (1..names.len())
            .filter(|&i| !names[i].ends_with("_ssq"))
            .collect();
        let rows = text.len() / (2 * names.len()).max(1);
        let mut cells: Vec<Vec<Cell>> =
            (0..=keep.len()).map(|_| Vec::with_capacity(rows)).collect();
        let mut fields: Vec<&str> = Vec::with_capacity(names.len());
        for (ln, line) in lines {
            fields.clear();
            fields.extend(line.split(','));
            if fields.len() != names.len() {
                return Err(FitError::Csv {
                    line: ln + 1,
                    msg: format!("{} fields, header has {}", fields.len(), names.len()),
                });
            }
            cells[0].push(parse_cell(fields[0], ln + 1, names[0])?);
            for (j, &i) in keep.iter().enumerate() {
                cells[j + 1].push(parse_cell(fields[i], ln + 1, names[i])?);
            }
        }
        if cells[0].is_empty() {
            return Err(FitError::EmptyHistogram);
        }
        let mut cols = cells.into_iter().enumerate().map(|(j, c)| {
            let name = if j == 0 { names[0] } else { names[keep[j - 1]] };
            to_column(name, c)
        });
        let xcol = cols.next().ok_or(FitError::EmptyHistogram)?;
        Ok(Histogram {
            x: xcol.values,
            x_is_int: xcol.is_int,
            columns: cols.collect(),
        })
    }

    /// The column with header `name`, or [`FitError::MissingColumn`].
    pub fn column(&self, name: &str) -> Result<&Column, FitError> {
        self.columns
            .iter()
            .find(|c| c.name == name)
            .ok_or_else(|| FitError::MissingColumn(name.to_string()))
    }
}

fn to_column(name: &str, cells: Vec<Cell>) -> Column {
    let is_int = cells.iter().all(|c| matches!(c, Cell::Int(_)));
    if is_int {
        let ints: Vec<i64> = cells
            .iter()
            .map(|c| match c {
                Cell::Int(i) => *i,
                Cell::Float(f) => *f as i64,
            })
            .collect();
        // numpy's int64 sum wraps on overflow.
        let sum = ints.iter().fold(0i64, |a, b| a.wrapping_add(*b));
        Column {
            name: name.to_string(),
            values: ints.iter().map(|i| *i as f64).collect(),
            is_int,
            sum: Num::Int(sum),
        }
    } else {
        let values: Vec<f64> = cells
            .iter()
            .map(|c| match c {
                Cell::Int(i) => *i as f64,
                Cell::Float(f) => *f,
            })
            .collect();
        Column {
            name: name.to_string(),
            sum: Num::Float(pairwise_sum(&values)),
            values,
            is_int,
        }
    }
}
