//! Scores: four independent dimensions and their composite.
//!
//! Every scorer has the same shape: its inputs in, a [`Dimension`] out — a 0–100 score, or
//! unavailable with the reason, plus the evidence that produced it. Scorers never print.

pub mod coupling;
pub mod impact;
pub mod regression;
pub mod security;

use serde::{Deserialize, Serialize};

/// `weights:` — how much each dimension counts in the composite.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct Weights {
    pub impact: f64,
    pub regression: f64,
    pub security: f64,
    pub coupling: f64,
}

impl Default for Weights {
    fn default() -> Self {
        Weights {
            impact: 0.25,
            regression: 0.30,
            security: 0.30,
            coupling: 0.15,
        }
    }
}

impl Weights {
    /// `Err((key, message))` on an invalid value.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        for (name, v) in [
            ("impact", self.impact),
            ("regression", self.regression),
            ("security", self.security),
            ("coupling", self.coupling),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return Err((
                    name,
                    format!("`weights.{name}` must be a number ≥ 0, got {v}"),
                ));
            }
        }
        if self.impact + self.regression + self.security + self.coupling <= 0.0 {
            return Err(("weights", "the weights must not all be 0".to_string()));
        }
        Ok(())
    }
}

/// One scored dimension. `E` is the dimension's own evidence.
#[derive(Debug, Clone, Serialize)]
pub struct Dimension<E> {
    /// False when the dimension could not be computed honestly; `reason` says why.
    pub available: bool,
    /// 0–100 when available.
    pub score: Option<u8>,
    /// The configured weight in the composite.
    pub weight: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// One line a reviewer can read.
    pub summary: String,
    /// How the number was computed, with the inputs filled in.
    pub formula: String,
    pub evidence: E,
}

impl<E: Default> Dimension<E> {
    pub fn unavailable(weight: f64, reason: impl Into<String>) -> Self {
        let reason = reason.into();
        Dimension {
            available: false,
            score: None,
            weight,
            summary: format!("unavailable: {reason}"),
            reason: Some(reason),
            formula: String::new(),
            evidence: E::default(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rating {
    Low,
    Medium,
    High,
    Critical,
}

impl Rating {
    /// low 0–39, medium 40–70, high 71–84, critical 85–100.
    pub fn of(score: u8) -> Rating {
        match score {
            0..=39 => Rating::Low,
            40..=70 => Rating::Medium,
            71..=84 => Rating::High,
            _ => Rating::Critical,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Rating::Low => "Low",
            Rating::Medium => "Medium",
            Rating::High => "High",
            Rating::Critical => "Critical",
        }
    }
}

/// The weighted composite of the available dimensions.
#[derive(Debug, Clone, Serialize)]
pub struct Composite {
    /// `None` when no dimension could be computed.
    pub score: Option<u8>,
    pub rating: Option<Rating>,
    /// Weights actually used (renormalised over the available dimensions, summing to 1).
    pub weights_used: Weights,
    /// True when some dimension was unavailable and the others' weights were scaled up.
    pub renormalized: bool,
    /// Each available dimension's contribution to the score (weight used × score).
    pub contributions: Weights,
    /// Why the composite is partial (`null` when all four dimensions were computed).
    pub note: Option<String>,
}

/// `round(Σ wᵢ·sᵢ / Σ wᵢ)` over the available dimensions.
pub fn composite(
    weights: &Weights,
    impact: Option<u8>,
    regression: Option<u8>,
    security: Option<u8>,
    coupling: Option<u8>,
) -> Composite {
    let dims = [
        ("impact", weights.impact, impact),
        ("regression", weights.regression, regression),
        ("security", weights.security, security),
        ("coupling", weights.coupling, coupling),
    ];
    let total: f64 = dims.iter().map(|d| d.1).sum();
    let avail: f64 = dims.iter().filter(|d| d.2.is_some()).map(|d| d.1).sum();
    let missing: Vec<&str> = dims
        .iter()
        .filter(|d| d.2.is_none() && d.1 > 0.0)
        .map(|d| d.0)
        .collect();
    let used = |i: usize| -> f64 {
        if dims[i].2.is_some() && avail > 0.0 {
            dims[i].1 / avail
        } else {
            0.0
        }
    };
    let weights_used = Weights {
        impact: used(0),
        regression: used(1),
        security: used(2),
        coupling: used(3),
    };
    let contrib = |i: usize| used(i) * f64::from(dims[i].2.unwrap_or(0));
    let contributions = Weights {
        impact: contrib(0),
        regression: contrib(1),
        security: contrib(2),
        coupling: contrib(3),
    };
    if avail <= 0.0 {
        return Composite {
            score: None,
            rating: None,
            weights_used,
            renormalized: false,
            contributions,
            note: Some("no dimension could be computed, so there is no risk score".into()),
        };
    }
    let sum = (0..4).map(contrib).sum::<f64>();
    let score = sum.round().clamp(0.0, 100.0) as u8;
    let renormalized = !missing.is_empty() && (avail - total).abs() > 1e-9;
    let note = renormalized.then(|| {
        format!(
            "computed from {} of 4 dimensions ({} unavailable); their weights were renormalised to sum to 100%",
            4 - missing.len(),
            missing.join(", ")
        )
    });
    Composite {
        score: Some(score),
        rating: Some(Rating::of(score)),
        weights_used,
        renormalized,
        contributions,
        note,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_composite_matches_the_formula() {
        let c = composite(&Weights::default(), Some(40), Some(80), Some(60), Some(20));
        // 0.25·40 + 0.30·80 + 0.30·60 + 0.15·20 = 10 + 24 + 18 + 3 = 55
        assert_eq!(c.score, Some(55));
        assert!(!c.renormalized);
        assert_eq!(c.rating, Some(Rating::Medium));
    }

    #[test]
    fn renormalises_over_available() {
        let c = composite(&Weights::default(), Some(80), None, None, Some(20));
        // (0.25·80 + 0.15·20) / 0.40 = 23 / 0.4 = 57.5 → 58
        assert_eq!(c.score, Some(58));
        assert!(c.renormalized);
        assert!(c.note.unwrap().contains("regression, security unavailable"));
    }

    #[test]
    fn nothing_available() {
        let c = composite(&Weights::default(), None, None, None, None);
        assert_eq!(c.score, None);
    }

    #[test]
    fn rating_bands() {
        assert_eq!(Rating::of(39), Rating::Low);
        assert_eq!(Rating::of(40), Rating::Medium);
        assert_eq!(Rating::of(70), Rating::Medium);
        assert_eq!(Rating::of(71), Rating::High);
        assert_eq!(Rating::of(84), Rating::High);
        assert_eq!(Rating::of(85), Rating::Critical);
    }
}
