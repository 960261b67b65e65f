//! The regression model trained on the repository's history, kept between runs.
//!
//! Training reads every window commit's line facts, labels them and fits the model: cheap once
//! the facts are in the history cache, but still more than a score needs every time. The model is
//! kept here with what it was trained on: the settings fingerprint (the header's key; other
//! settings make another model), the training cutoff and the newest commit it learnt from. A run
//! reuses it unless the window has moved materially ([`crate::score::regression::still_fresh`]);
//! then it retrains and overwrites it.
//!
//! The file is `regression-model-v<FORMAT>.bin` in the [`super::store`] format; the body is the
//! model as JSON (the same shape as the prior model shipped with pr-risk) with the baseline (its
//! probabilities for the window's newest commits). Corrupt, truncated or
//! other-version files are ignored and overwritten.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::store::{self, Kind};
use crate::score::regression::model::Model;

pub const FORMAT: u32 = 2;
pub const KIND: Kind = Kind {
    name: "regression-model",
    format: FORMAT,
};

/// A trained model and what it was trained on.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Cached {
    /// Time of the newest commit the model learnt from.
    pub newest: i64,
    /// The merge-base time it was trained at (labels known up to then).
    pub cutoff: i64,
    pub model: Model,
    /// The model's probabilities for the newest commits of the window it was trained on,
    /// ascending (what a change's probability is ranked against).
    #[serde(default)]
    pub baseline: Vec<f64>,
}

/// The model cached in `dir` (sealed with `secret`) for settings `key`; `Err(Some(why))` when the file is unusable.
pub fn load(
    dir: &Path,
    version: &str,
    secret: &store::Key,
    key: u64,
) -> Result<Option<Cached>, String> {
    let loaded = match store::read(dir, KIND, version, secret) {
        Ok(l) => l,
        Err(None) => return Ok(None),
        Err(Some(why)) => return Err(why),
    };
    if loaded.key != key {
        return Ok(None);
    }
    let c: Cached =
        serde_json::from_slice(&loaded.body).map_err(|e| format!("corrupt body: {e}"))?;
    c.model
        .validate()
        .map_err(|e| format!("corrupt model: {e}"))?;
    Ok(Some(c))
}

/// Write `model` for settings `key` (atomically).
pub fn save(
    dir: &Path,
    version: &str,
    secret: &store::Key,
    key: u64,
    c: &Cached,
) -> std::io::Result<()> {
    let body = serde_json::to_vec(c).map_err(std::io::Error::other)?;
    store::write(dir, KIND, version, secret, key, 1, &body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::score::regression::features::FEATURES;
    use crate::score::regression::model::train;

    #[test]
    fn round_trip_keyed_by_settings() {
        let dir = tempfile::tempdir().unwrap();
        let k = store::Key::from_secret(b"test");
        let rows: Vec<Vec<f64>> = (0..40)
            .map(|i| {
                let mut x = vec![0.0; FEATURES.len()];
                x[0] = f64::from(i % 7);
                x
            })
            .collect();
        let labels: Vec<bool> = (0..40).map(|i| i % 7 > 4).collect();
        let c = Cached {
            newest: 10,
            cutoff: 20,
            model: train(&["lines_added"], &rows, &labels, None, 1.0),
            baseline: vec![0.1, 0.25],
        };
        assert_eq!(load(dir.path(), "1", &k, 7), Ok(None));
        save(dir.path(), "1", &k, 7, &c).unwrap();
        assert_eq!(load(dir.path(), "1", &k, 7), Ok(Some(c.clone())));
        assert_eq!(load(dir.path(), "1", &k, 8), Ok(None), "other settings");
        assert!(load(dir.path(), "2", &k, 7)
            .unwrap_err()
            .contains("version"));
        let file = KIND.file_in(dir.path());
        let mut data = std::fs::read(&file).unwrap();
        let n = data.len();
        data[n - 2] ^= 0x40;
        std::fs::write(&file, &data).unwrap();
        assert!(load(dir.path(), "1", &k, 7).is_err());
    }
}
