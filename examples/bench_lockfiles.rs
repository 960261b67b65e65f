//! Benchmark of the lock-file readers: generated lock files of each format (50,000 lines by
//! default), parsed with the reader pr-risk uses, median of several runs.
//!
//! `cargo run --release --example bench_lockfiles [LINES] [FILE...]`: with files (a real
//! `pnpm-lock.yaml`, `yarn.lock`, … from a checkout, named as the package manager names them),
//! those are measured too. Prints the median and the slowest run; the machine may be loaded by
//! other builds.

use std::time::{Duration, Instant};

use engine::deps::parse_lock;

const RUNS: usize = 9;

fn measure(name: &str, text: &str) -> (Duration, Duration, usize) {
    let mut times = Vec::with_capacity(RUNS);
    let mut packages = 0;
    for _ in 0..RUNS {
        let t = Instant::now();
        let lock = parse_lock(name, text).unwrap_or_else(|e| panic!("{name}: {e}"));
        times.push(t.elapsed());
        packages = lock.packages.len();
        std::hint::black_box(lock);
    }
    times.sort();
    (times[RUNS / 2], times[RUNS - 1], packages)
}

fn report(label: &str, name: &str, text: &str) {
    let (median, max, packages) = measure(name, text);
    println!(
        "{label:<22} {:>7} lines {:>8.1} KB {:>7} packages   median {:>7.1} ms   max {:>7.1} ms",
        text.lines().count(),
        text.len() as f64 / 1024.0,
        packages,
        median.as_secs_f64() * 1000.0,
        max.as_secs_f64() * 1000.0
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--").collect();
    let lines: usize = args.first().and_then(|l| l.parse().ok()).unwrap_or(50_000);
    let files: Vec<String> = args
        .into_iter()
        .filter(|a| a.parse::<usize>().is_err())
        .collect();
    println!("generated lock files, {lines} lines or more, {RUNS} runs each:");
    for format in testkit::lockfiles::FORMATS {
        let (name, text) = testkit::lockfiles::lock_file(format, lines, 7);
        report(format, name, &text);
    }
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap_or_else(|e| panic!("{f}: {e}"));
        let name = f.rsplit('/').next().unwrap_or(&f);
        report(name, name, &text);
    }
}
