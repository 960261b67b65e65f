//! The graph stage alone on a real repository: both sides' graphs of `BASE..HEAD`, the head side
//! resolved from scratch or from the base's resolution (the incremental head graph), with the way
//! the incremental build takes and what it resolves again.
//!
//! `cargo run --release --example bench_head_graph -- REPO BASE HEAD [RUNS]` (default 5 runs), or
//! `-- --synth FILES [RUNS]`: a generated TypeScript monorepo (`testkit::synth`) and a 250-file
//! pull request on it that reorders the imports of 230 files and adds 20.
//! Sources are parsed once, before timing; no cache is used (a cold run's graph stage). Prints
//! medians; other work on the machine shifts them, so compare the two columns of one run.

use std::time::{Duration, Instant};

use engine::git::snapshot::Snapshot;
use engine::git::Repo;
use engine::parse::{select_sources, FileSettings, Filters, ParseStore};
use engine::pipeline;
use engine::resolve::memo;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let _tmp = if args.first().is_some_and(|a| a == "--synth") {
        let files: usize = args.get(1).and_then(|n| n.parse().ok()).unwrap_or(10_000);
        let tmp = tempfile::tempdir().expect("tempdir");
        synthetic(tmp.path(), files);
        let rest: Vec<String> = args.drain(2..).collect();
        args = vec![
            tmp.path().display().to_string(),
            "main~1".into(),
            "main".into(),
        ];
        args.extend(rest);
        Some(tmp)
    } else {
        None
    };
    let [repo, base, head, rest @ ..] = args.as_slice() else {
        eprintln!("usage: bench_head_graph REPO BASE HEAD [RUNS] | --synth FILES [RUNS]");
        std::process::exit(2);
    };
    let runs: usize = rest
        .first()
        .and_then(|r| r.parse().ok())
        .unwrap_or(5)
        .max(1);
    let repo = Repo::discover(std::path::Path::new(repo)).expect("repository");
    let oid =
        |rev: &str| engine::git::revisions::commit_of(&repo, rev, "revision").expect("revision");
    let (base, head) = (oid(base), oid(head));
    let files = FileSettings::default();
    let filters = Filters::new(&files);
    let snaps = || {
        [
            Snapshot::of_commit(&repo, head).unwrap(),
            Snapshot::of_commit(&repo, base).unwrap(),
        ]
    };
    let [h, b] = snaps();
    let d = memo::delta(&b, &h);
    let way = if d.same_js() {
        "shared resolver"
    } else if !d.config {
        "base memo carried"
    } else {
        "from scratch (a resolution-config file changed)"
    };
    println!(
        "{} paths added or removed; JavaScript: {way}; Rust: {}",
        d.paths.len(),
        if d.rust { "resolved again" } else { "carried" }
    );
    let sources = [select_sources(&h, &filters), select_sources(&b, &filters)];
    let mut store = ParseStore::default();
    store.parse(
        repo.git_dir(),
        sources[0].iter().chain(&sources[1]),
        files.max_file_size,
    );
    for incremental in [false, true] {
        let mut took = Vec::new();
        let mut edges = 0;
        for _ in 0..runs {
            let (snaps, sources) = (snaps(), sources.clone());
            let t = Instant::now();
            let (h, _, _) =
                pipeline::build_sides(repo.git_dir(), snaps, sources, &store, incremental, None);
            took.push(t.elapsed());
            edges = h.graph.edge_count();
        }
        println!(
            "  {}: graph stage (both sides) {} (median of {runs}; head: {} files, {edges} edges)",
            if incremental {
                "incremental head"
            } else {
                "head from scratch"
            },
            ms(median(took)),
            sources[0].len(),
        );
    }
}

/// A generated monorepo of `files` files at `dir`, and a pull request on it (`main~1..main`) that
/// reorders the imports of 230 files and adds 20 that import their neighbours.
fn synthetic(dir: &std::path::Path, files: usize) {
    use testkit::synth;
    let repo = synth::init(dir).expect("init");
    let tree = synth::typescript_monorepo(files, 42);
    let base = synth::commit_files(&repo, &tree, None, "main", "base", 1_700_000_000).unwrap();
    let sources: Vec<&(String, String)> = tree.iter().filter(|(p, _)| p.ends_with(".ts")).collect();
    let mut pr: Vec<(String, String)> = sources
        .iter()
        .step_by((sources.len() / 230).max(1))
        .take(230)
        .map(|(p, c)| {
            let (imports, rest): (Vec<&str>, Vec<&str>) =
                c.lines().partition(|l| l.starts_with("import "));
            let mut lines: Vec<&str> = imports.into_iter().rev().collect();
            lines.extend(rest);
            (p.clone(), lines.join("\n") + "\n")
        })
        .collect();
    for (k, (p, _)) in sources
        .iter()
        .step_by(sources.len() / 20 + 1)
        .take(20)
        .enumerate()
    {
        let dir = p.rsplit_once('/').map_or("", |(d, _)| d);
        let name = p
            .rsplit_once('/')
            .map_or(p.as_str(), |(_, n)| n)
            .trim_end_matches(".ts");
        pr.push((
            format!("{dir}/added{k}.ts"),
            format!("import {{ x }} from \"./{name}\";\nexport const y{k} = x;\n"),
        ));
    }
    synth::commit_files(&repo, &pr, Some(base), "main", "pr", 1_700_000_100).unwrap();
}
