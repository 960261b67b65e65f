//! The model: L2-regularised logistic regression on standardised, log-scaled features, fitted by
//! Newton's method (iteratively reweighted least squares).
//!
//! ```text
//! z_i = (x_i − mean_i) / scale_i                       standardised on the training commits
//! p   = σ(b₀ + Σ β_i · z_i)                           σ(t) = 1 / (1 + e^(−t))
//! fit: maximise Σ w·[y·ln p + (1 − y)·ln(1 − p)] − (λ/2)·Σ β_i²   (the intercept is not penalised)
//! ```
//! A maximum-likelihood logistic model with an intercept is calibrated in the large on its
//! training data (mean p = the base rate); the backtest checks the reliability out of time.
//! `β_i · z_i` is feature i's contribution to the log-odds, relative to the average training
//! commit: the explanation ranks features by it.
//!
//! The models are data: a [`Model`] serialises to JSON, which is how the prior model ships with
//! the binary ([`prior`], `prior.json`) and how a trained model is cached between runs.

use serde::{Deserialize, Serialize};

use super::features::FEATURES;

/// What a model was trained on.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Trained {
    /// Commits in the training set, and how many of them were bug-inducing.
    pub commits: usize,
    pub bug_inducing: usize,
    /// Dates (UTC) of the oldest and newest training commit.
    pub from: String,
    pub to: String,
    /// The repositories (prior model only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub repositories: Vec<String>,
}

/// A fitted logistic model over named features.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Model {
    /// The features it uses (names from [`FEATURES`]), with their standardisation and coefficient.
    pub features: Vec<String>,
    pub mean: Vec<f64>,
    pub scale: Vec<f64>,
    pub coef: Vec<f64>,
    pub intercept: f64,
    /// The L2 penalty it was fitted with.
    pub l2: f64,
    pub trained: Trained,
}

fn sigmoid(t: f64) -> f64 {
    if t >= 0.0 {
        1.0 / (1.0 + (-t).exp())
    } else {
        let e = t.exp();
        e / (1.0 + e)
    }
}

/// The index of each feature in the full vector ([`FEATURES`]); `None` when a name is unknown.
pub fn indexes(names: &[String]) -> Option<Vec<usize>> {
    names
        .iter()
        .map(|n| FEATURES.iter().position(|f| f == n))
        .collect()
}

impl Model {
    /// Check the model's shape (a prior file or a cache entry could be wrong).
    pub fn validate(&self) -> Result<Vec<usize>, String> {
        let n = self.features.len();
        if self.mean.len() != n || self.scale.len() != n || self.coef.len() != n {
            return Err("features, mean, scale and coef differ in length".into());
        }
        let all = self
            .mean
            .iter()
            .chain(&self.scale)
            .chain(&self.coef)
            .chain([&self.intercept]);
        if all.into_iter().any(|v| !v.is_finite()) || self.scale.iter().any(|s| *s <= 0.0) {
            return Err("a non-finite value or a scale ≤ 0".into());
        }
        indexes(&self.features).ok_or_else(|| "an unknown feature name".into())
    }

    /// The standardised values of `x` (a full [`FEATURES`] vector) for this model's features.
    fn z(&self, x: &[f64]) -> Vec<f64> {
        let idx = indexes(&self.features).unwrap_or_default();
        idx.iter()
            .enumerate()
            .map(|(k, i)| (x.get(*i).copied().unwrap_or(0.0) - self.mean[k]) / self.scale[k])
            .collect()
    }

    /// `(feature, β·z)` for each of the model's features.
    pub fn contributions(&self, x: &[f64]) -> Vec<(String, f64)> {
        self.z(x)
            .iter()
            .zip(&self.coef)
            .zip(&self.features)
            .map(|((z, b), f)| (f.clone(), z * b))
            .collect()
    }

    /// The log-odds.
    pub fn logit(&self, x: &[f64]) -> f64 {
        self.intercept + self.contributions(x).iter().map(|c| c.1).sum::<f64>()
    }

    /// The probability.
    pub fn probability(&self, x: &[f64]) -> f64 {
        sigmoid(self.logit(x))
    }
}

/// Solve `a · v = b` (a symmetric positive definite, small) by Gaussian elimination with partial
/// pivoting; `None` when singular.
fn solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Option<Vec<f64>> {
    let n = b.len();
    for col in 0..n {
        let pivot = (col..n).max_by(|i, j| a[*i][col].abs().total_cmp(&a[*j][col].abs()))?;
        if a[pivot][col].abs() < 1e-12 {
            return None;
        }
        a.swap(col, pivot);
        b.swap(col, pivot);
        for row in col + 1..n {
            let f = a[row][col] / a[col][col];
            if f == 0.0 {
                continue;
            }
            let pivot_row = a[col].clone();
            for (x, p) in a[row][col..].iter_mut().zip(&pivot_row[col..]) {
                *x -= f * p;
            }
            b[row] -= f * b[col];
        }
    }
    let mut v = vec![0.0; n];
    for row in (0..n).rev() {
        let s: f64 = (row + 1..n).map(|k| a[row][k] * v[k]).sum();
        v[row] = (b[row] - s) / a[row][row];
    }
    Some(v)
}

/// Fit a model on `rows` (full [`FEATURES`] vectors) and `labels`, using the features `names`,
/// with sample `weights` (1 each when `None`) and L2 penalty `l2`.
pub fn train(
    names: &[&str],
    rows: &[Vec<f64>],
    labels: &[bool],
    weights: Option<&[f64]>,
    l2: f64,
) -> Model {
    let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    let idx = indexes(&names).expect("known feature names");
    let d = idx.len();
    let w = |i: usize| weights.map_or(1.0, |w| w[i]);
    let total_w: f64 = (0..rows.len()).map(w).sum::<f64>().max(1e-12);
    let mut mean = vec![0.0; d];
    for (i, r) in rows.iter().enumerate() {
        for (k, j) in idx.iter().enumerate() {
            mean[k] += w(i) * r[*j];
        }
    }
    mean.iter_mut().for_each(|m| *m /= total_w);
    let mut scale = vec![0.0; d];
    for (i, r) in rows.iter().enumerate() {
        for (k, j) in idx.iter().enumerate() {
            scale[k] += w(i) * (r[*j] - mean[k]).powi(2);
        }
    }
    scale
        .iter_mut()
        .for_each(|s| *s = (*s / total_w).sqrt().max(1e-6));
    let z: Vec<Vec<f64>> = rows
        .iter()
        .map(|r| {
            let mut v = Vec::with_capacity(d + 1);
            v.push(1.0);
            v.extend(
                idx.iter()
                    .enumerate()
                    .map(|(k, j)| (r[*j] - mean[k]) / scale[k]),
            );
            v
        })
        .collect();
    let y: Vec<f64> = labels.iter().map(|b| f64::from(u8::from(*b))).collect();
    let pos: f64 = (0..rows.len()).map(|i| w(i) * y[i]).sum();
    let rate = (pos / total_w).clamp(1e-6, 1.0 - 1e-6);
    let mut beta = vec![0.0; d + 1];
    beta[0] = (rate / (1.0 - rate)).ln();
    for _ in 0..50 {
        let mut grad = vec![0.0; d + 1];
        let mut hess = vec![vec![0.0; d + 1]; d + 1];
        for (i, zi) in z.iter().enumerate() {
            let t: f64 = zi.iter().zip(&beta).map(|(a, b)| a * b).sum();
            let p = sigmoid(t);
            let wi = w(i);
            let r = wi * (y[i] - p);
            let h = wi * (p * (1.0 - p)).max(1e-12);
            for (a, za) in zi.iter().enumerate() {
                grad[a] += r * za;
                let ha = h * za;
                for (cell, zb) in hess[a][a..].iter_mut().zip(&zi[a..]) {
                    *cell += ha * zb;
                }
            }
        }
        // Mirror the upper triangle.
        for a in 1..=d {
            let (upper, lower) = hess.split_at_mut(a);
            for (b, row) in upper.iter().enumerate() {
                lower[0][b] = row[a];
            }
        }
        for a in 1..=d {
            grad[a] -= l2 * beta[a];
            hess[a][a] += l2;
        }
        let Some(step) = solve(hess, grad) else {
            break;
        };
        let mut moved = 0.0f64;
        for (b, s) in beta.iter_mut().zip(&step) {
            *b += s;
            moved = moved.max(s.abs());
        }
        if moved < 1e-9 {
            break;
        }
    }
    Model {
        features: names,
        mean,
        scale,
        coef: beta[1..].to_vec(),
        intercept: beta[0],
        l2,
        trained: Trained {
            commits: rows.len(),
            bug_inducing: labels.iter().filter(|b| **b).count(),
            ..Trained::default()
        },
    }
}

/// The models shipped with the binary.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PriorFile {
    /// How the file was made (the command) and on which repositories.
    pub command: String,
    /// Uses every feature.
    pub full: Model,
    /// Uses only the change's own features (for shallow clones, whose history is cut off).
    pub change_only: Model,
}

const PRIOR: &str = include_str!("prior.json");

/// The embedded prior models.
pub fn prior() -> PriorFile {
    let p: PriorFile = serde_json::from_str(PRIOR).expect("the embedded prior.json parses");
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic generator (xorshift) for synthetic data.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> f64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 >> 11) as f64 / (1u64 << 53) as f64
        }
        fn normal(&mut self) -> f64 {
            let (u, v) = (self.next().max(1e-12), self.next());
            (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
        }
    }

    /// On data drawn from a known logistic model, the trainer recovers its coefficients.
    #[test]
    fn recovers_known_coefficients() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let truth = [1.2, -0.8, 0.0];
        let b0 = -1.0;
        let n = 20_000;
        let mut rows = Vec::with_capacity(n);
        let mut labels = Vec::with_capacity(n);
        for _ in 0..n {
            let mut x = vec![0.0; FEATURES.len()];
            // lines_added, files, entropy: standard normal.
            let v = [rng.normal(), rng.normal(), rng.normal()];
            let at = |n: &str| FEATURES.iter().position(|f| *f == n).unwrap();
            x[at("lines_added")] = v[0];
            x[at("files")] = v[1];
            x[at("entropy")] = v[2];
            let t = b0 + truth.iter().zip(&v).map(|(a, b)| a * b).sum::<f64>();
            labels.push(rng.next() < sigmoid(t));
            rows.push(x);
        }
        let m = train(
            &["lines_added", "files", "entropy"],
            &rows,
            &labels,
            None,
            0.0,
        );
        // Coefficients on the standardised scale: β / scale ≈ truth (scale ≈ 1 here).
        for (k, want) in truth.iter().enumerate() {
            let got = m.coef[k] / m.scale[k];
            assert!((got - want).abs() < 0.08, "feature {k}: {got} vs {want}");
        }
        let b0_got = m.intercept
            - m.coef
                .iter()
                .zip(&m.mean)
                .zip(&m.scale)
                .map(|((b, mu), s)| b * mu / s)
                .sum::<f64>();
        assert!((b0_got - b0).abs() < 0.08, "{b0_got}");
        // Calibrated in the large: mean p equals the base rate.
        let mean_p: f64 = rows.iter().map(|r| m.probability(r)).sum::<f64>() / n as f64;
        let rate = labels.iter().filter(|b| **b).count() as f64 / n as f64;
        assert!((mean_p - rate).abs() < 1e-6, "{mean_p} vs {rate}");
        // The penalty shrinks coefficients.
        let shrunk = train(
            &["lines_added", "files", "entropy"],
            &rows,
            &labels,
            None,
            5_000.0,
        );
        assert!(shrunk.coef[0].abs() < m.coef[0].abs());
        assert!(m.validate().is_ok());
    }

    #[test]
    fn the_prior_is_valid() {
        let p = prior();
        assert_eq!(p.full.validate().unwrap().len(), p.full.features.len());
        p.change_only.validate().unwrap();
        assert!(p
            .change_only
            .features
            .iter()
            .all(|f| super::super::features::CHANGE_ONLY.contains(&f.as_str())));
    }

    #[test]
    fn solves_small_systems() {
        let v = solve(vec![vec![2.0, 1.0], vec![1.0, 3.0]], vec![3.0, 5.0]).unwrap();
        assert!((v[0] - 0.8).abs() < 1e-12 && (v[1] - 1.4).abs() < 1e-12);
        assert!(solve(vec![vec![0.0, 0.0], vec![0.0, 0.0]], vec![1.0, 1.0]).is_none());
    }
}
