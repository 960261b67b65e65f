//! What the benches share: timing a command under `/usr/bin/time` (wall time, peak RSS, the
//! `--timings` stages it prints) and medians.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

pub struct Measured {
    pub wall: f64,
    pub rss_mb: f64,
    pub stages: BTreeMap<String, f64>,
}

/// Run a command under `/usr/bin/time` (wall seconds, peak RSS) and parse `--timings` stages.
pub fn measure(dir: &Path, cmd: &str, args: &[&str]) -> Measured {
    let out_file = dir.join(".time.out");
    let t = Instant::now();
    let out = Command::new("/usr/bin/time")
        .arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(&out_file)
        .arg(cmd)
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .expect("/usr/bin/time");
    let wall = t.elapsed().as_secs_f64();
    let code = out.status.code().unwrap_or(-1);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        code == 0 || code == 1,
        "{cmd} {args:?}: exit {code}\n{stderr}"
    );
    let rss_kb: f64 = std::fs::read_to_string(&out_file)
        .ok()
        .and_then(|s| s.lines().last().and_then(|l| l.trim().parse().ok()))
        .unwrap_or(f64::NAN);
    let mut stages = BTreeMap::new();
    for l in stderr.lines() {
        let mut w = l.split_whitespace().rev();
        if let (Some("ms"), Some(v)) = (w.next(), w.next()) {
            let name: Vec<&str> = w.collect();
            let name: Vec<&str> = name.into_iter().rev().collect();
            if let Ok(v) = v.parse::<f64>() {
                stages.insert(name.join(" "), v);
            }
        }
    }
    Measured {
        wall,
        rss_mb: rss_kb / 1024.0,
        stages,
    }
}

pub fn secs(d: f64) -> String {
    if d < 1.0 {
        format!("{:.0} ms", d * 1000.0)
    } else {
        format!("{d:.2} s")
    }
}
