//! The CVSS v3.0/v3.1 base score of a vector string, as the FIRST specification defines it.
//!
//! `CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H` → 9.8. Every base metric must appear exactly
//! once; temporal and environmental metrics may follow and do not change the base score; anything
//! else is an error (a vector that cannot be scored is not guessed at).
//!
//! ```text
//! ISS            = 1 − (1 − C) · (1 − I) · (1 − A)
//! Impact         = 6.42 · ISS                                        (scope unchanged)
//!                = 7.52 · (ISS − 0.029) − 3.25 · (ISS − 0.02)^15     (scope changed)
//! Exploitability = 8.22 · AV · AC · PR · UI
//! Base           = 0 if Impact ≤ 0, else
//!                  Roundup(min(Impact + Exploitability, 10))          (scope unchanged)
//!                  Roundup(min(1.08 · (Impact + Exploitability), 10)) (scope changed)
//! ```
//!
//! with AV N 0.85 · A 0.62 · L 0.55 · P 0.2; AC L 0.77 · H 0.44; PR N 0.85 · L 0.62 (0.68 when the
//! scope changes) · H 0.27 (0.5); UI N 0.85 · R 0.62; C/I/A H 0.56 · L 0.22 · N 0. Roundup is the
//! smallest one-decimal number not below its input; v3.1 computes it on integers (×100,000) so
//! that floating-point noise cannot push 4.0 to 4.1, v3.0 takes the plain ceiling.

/// The base score of a CVSS v3 vector.
pub fn base_score(vector: &str) -> Result<f64, String> {
    let v = vector.trim();
    let (version, metrics) = if let Some(rest) = v.strip_prefix("CVSS:3.1/") {
        ("3.1", rest)
    } else if let Some(rest) = v.strip_prefix("CVSS:3.0/") {
        ("3.0", rest)
    } else {
        return Err(format!("`{v}` is not a CVSS v3 vector"));
    };
    let mut base: [Option<char>; 8] = [None; 8];
    const BASE: [&str; 8] = ["AV", "AC", "PR", "UI", "S", "C", "I", "A"];
    const OTHER: [&str; 14] = [
        "E", "RL", "RC", "CR", "IR", "AR", "MAV", "MAC", "MPR", "MUI", "MS", "MC", "MI", "MA",
    ];
    let mut other_seen: Vec<&str> = Vec::new();
    for part in metrics.split('/') {
        let (name, value) = part
            .split_once(':')
            .ok_or_else(|| format!("`{part}` is not a metric"))?;
        let mut chars = value.chars();
        let (Some(c), None) = (chars.next(), chars.next()) else {
            return Err(format!("`{part}`: a metric value is one letter"));
        };
        if let Some(i) = BASE.iter().position(|m| *m == name) {
            if base[i].replace(c).is_some() {
                return Err(format!("`{name}` appears twice"));
            }
        } else if OTHER.contains(&name) {
            if other_seen.contains(&name) {
                return Err(format!("`{name}` appears twice"));
            }
            other_seen.push(name);
        } else {
            return Err(format!("unknown metric `{name}`"));
        }
    }
    let get = |i: usize| base[i].ok_or_else(|| format!("missing base metric `{}`", BASE[i]));
    let bad = |m: &str, c: char| format!("`{m}:{c}` is not a valid value");
    let av = match get(0)? {
        'N' => 0.85,
        'A' => 0.62,
        'L' => 0.55,
        'P' => 0.2,
        c => return Err(bad("AV", c)),
    };
    let ac = match get(1)? {
        'L' => 0.77,
        'H' => 0.44,
        c => return Err(bad("AC", c)),
    };
    let changed = match get(4)? {
        'U' => false,
        'C' => true,
        c => return Err(bad("S", c)),
    };
    let pr = match (get(2)?, changed) {
        ('N', _) => 0.85,
        ('L', false) => 0.62,
        ('L', true) => 0.68,
        ('H', false) => 0.27,
        ('H', true) => 0.5,
        (c, _) => return Err(bad("PR", c)),
    };
    let ui = match get(3)? {
        'N' => 0.85,
        'R' => 0.62,
        c => return Err(bad("UI", c)),
    };
    let cia = |i: usize, m: &str| -> Result<f64, String> {
        match get(i)? {
            'H' => Ok(0.56),
            'L' => Ok(0.22),
            'N' => Ok(0.0),
            c => Err(bad(m, c)),
        }
    };
    let (c, i, a) = (cia(5, "C")?, cia(6, "I")?, cia(7, "A")?);
    let iss = 1.0 - (1.0 - c) * (1.0 - i) * (1.0 - a);
    let impact = if changed {
        7.52 * (iss - 0.029) - 3.25 * (iss - 0.02).powi(15)
    } else {
        6.42 * iss
    };
    let exploitability = 8.22 * av * ac * pr * ui;
    if impact <= 0.0 {
        return Ok(0.0);
    }
    let raw = if changed {
        (1.08 * (impact + exploitability)).min(10.0)
    } else {
        (impact + exploitability).min(10.0)
    };
    Ok(if version == "3.1" {
        roundup_31(raw)
    } else {
        (raw * 10.0).ceil() / 10.0
    })
}

/// CVSS v3.1 Appendix A: Roundup on integers.
fn roundup_31(x: f64) -> f64 {
    let int_input = (x * 100_000.0).round() as i64;
    if int_input % 10_000 == 0 {
        int_input as f64 / 100_000.0
    } else {
        ((int_input / 10_000) + 1) as f64 / 10.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vectors() {
        // Scores as published by NVD / the FIRST calculator.
        for (vector, score) in [
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0), // Log4Shell
            ("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H", 9.9),
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1), // reflected XSS
            ("CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N", 5.9),
            ("CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 7.8),
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", 7.5),
            ("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:L/I:N/A:N", 4.3),
            ("CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H", 7.2), // lodash CVE-2021-23337
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H", 8.8),
            ("CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H", 8.1),
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:L/A:N", 6.5),
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N", 5.3),
            ("CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", 6.5),
            ("CVSS:3.1/AV:L/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N", 5.1),
            ("CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N", 1.6),
            ("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),
            ("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0.0),
            // Temporal metrics do not change the base score.
            (
                "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:P/RL:O/RC:C",
                9.8,
            ),
        ] {
            assert_eq!(base_score(vector), Ok(score), "{vector}");
        }
    }

    #[test]
    fn vectors_that_cannot_be_scored() {
        for v in [
            "AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            "CVSS:2.0/AV:N/AC:L/Au:N/C:P/I:P/A:P",
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H",
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/A:L",
            "CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:HH",
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/ZZ:1",
            "CVSS:3.1/",
        ] {
            assert!(base_score(v).is_err(), "{v}");
        }
    }
}
