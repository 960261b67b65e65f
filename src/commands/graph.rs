//! `pr-risk graph`: inspect the dependency graph of one revision — the same graph the scorers use.
//!
//! A user debugging a coupling violation needs to see why one file depends on another: `--path A B`
//! prints the shortest chain of imports with their lines, `--dependents FILE` everything that
//! depends on a file, `--cycles` the dependency cycles as `no-cycle` sees them, `--symbols FILE` a
//! file's declarations with their users (what impact follows). Without a query it prints the
//! whole graph. Every view comes as text, Graphviz dot or JSON.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use engine::error::{Error, ExitCode, Result};
use engine::git::{revisions, Repo};
use engine::graph::json::Import;
use engine::graph::{DepGraph, NodeIndex};
use engine::pipeline::{self, Side};
use engine::score::coupling::cycles;
use engine::score::coupling::rules::TypeOnly;

use crate::config;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GraphFormat {
    Text,
    Dot,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct GraphArgs {
    /// Repository (default: the repository containing the current directory).
    #[arg(long, value_name = "PATH", default_value = ".")]
    pub repo: PathBuf,

    /// Revision whose graph to show.
    #[arg(long, value_name = "REV", default_value = "HEAD")]
    pub rev: String,

    /// Configuration file (its include/exclude globs and `coupling.cycles.type-only` apply).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: GraphFormat,

    /// Show every file that depends on FILE, directly or through other files.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["path", "cycles"])]
    pub dependents: Option<String>,

    /// Why does A depend on B: the shortest chain of imports from A to B, with lines.
    #[arg(long, num_args = 2, value_names = ["A", "B"], conflicts_with = "cycles")]
    pub path: Option<Vec<String>>,

    /// Show the dependency cycles (strongly-connected components) with one cycle each.
    #[arg(long)]
    pub cycles: bool,

    /// List FILE's declarations with what each uses and which declarations use it (in FILE and
    /// in the files that import it).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["dependents", "path", "cycles"])]
    pub symbols: Option<String>,

    /// Write the output to FILE instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// One import, for output (the graph's one shape, [`engine::graph::json`]).
pub type Hop = Import;

#[derive(Debug, Serialize)]
struct Rev<'a> {
    rev: &'a str,
    sha: String,
}

/// Build the graph of one revision the way `pr-risk score` builds it for head and base.
pub fn build(
    repo_path: &Path,
    rev: &str,
    config_path: Option<&Path>,
) -> Result<(Side, String, config::Config)> {
    let repo = Repo::discover(repo_path)?;
    let cfg = config::load(repo.workdir(), config_path)?.config;
    let oid = revisions::commit_of(&repo, rev, "graph").map_err(|e| match e {
        Error::RevisionNotFound { rev, detail, .. } => Error::RevisionNotFound {
            what: "graph",
            rev,
            detail,
            hint: "pass a branch, tag or commit sha with --rev".to_string(),
        },
        other => other,
    })?;
    let sha = oid.to_string();
    super::warn_notes(&super::fetch_missing(&repo, Some(&sha), Some(&sha), false));
    let side = pipeline::side_at(&repo, &sha, &cfg.files())?;
    Ok((side, sha, cfg))
}

pub fn run(args: &GraphArgs) -> Result<ExitCode> {
    let (side, sha, cfg) = build(&args.repo, &args.rev, args.config.as_deref())?;
    let g = &side.graph;
    let rev = Rev {
        rev: &args.rev,
        sha,
    };
    let text = if let Some(file) = &args.symbols {
        let n = find(g, file, &args.repo)?;
        let repo = Repo::discover(&args.repo)?;
        let path = g.path(n).to_string();
        let listing =
            pipeline::symbol_listing(repo.git_dir(), &side, &path, cfg.files().max_file_size)
                .ok_or_else(|| {
                    Error::Usage(format!(
                        "`{path}` is not a parsed source file (a data file, an asset, or a file that could not be read), so it has no symbols\n  hint: name a TypeScript, JavaScript or Rust file"
                    ))
                })?;
        symbols_view(&path, &listing, &rev, args.format)?
    } else if let Some(file) = &args.dependents {
        let n = find(g, file, &args.repo)?;
        dependents(g, n, &rev, args.format)?
    } else if let Some(ab) = &args.path {
        let (a, b) = (find(g, &ab[0], &args.repo)?, find(g, &ab[1], &args.repo)?);
        path(g, a, b, &rev, args.format)?
    } else if args.cycles {
        let type_only = cfg.coupling.cycle_type_only() == TypeOnly::Count;
        cycles_view(g, type_only, &rev, args.format)?
    } else {
        whole(g, &rev, args.format)?
    };
    match &args.output {
        Some(p) => std::fs::write(p, &text).map_err(|source| Error::Io {
            path: p.clone(),
            source,
        })?,
        None => {
            // On a terminal, file names (which a commit chooses) are escaped line by line.
            let shown = if args.format == GraphFormat::Text {
                text.split('\n')
                    .map(outlets::render::style::escape)
                    .collect::<Vec<_>>()
                    .join("\n")
            } else {
                text
            };
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(shown.as_bytes());
            let _ = out.flush();
        }
    }
    Ok(ExitCode::Pass)
}

/// A file of the graph named by the user: repository-relative, `./`-prefixed, or relative to the
/// current directory.
fn find(g: &DepGraph, name: &str, repo: &Path) -> Result<NodeIndex> {
    let clean = name.trim_start_matches("./");
    if let Some(n) = g.node(clean) {
        return Ok(n);
    }
    // Relative to the current directory, inside the repository.
    if let (Ok(cwd), Ok(r)) = (std::env::current_dir(), revisions::open(repo)) {
        if let Some(root) = r.workdir().and_then(|w| w.canonicalize().ok()) {
            if let Ok(abs) = cwd.join(clean).canonicalize() {
                if let Some(rel) = abs.strip_prefix(&root).ok().and_then(|p| p.to_str()) {
                    if let Some(n) = g.node(rel) {
                        return Ok(n);
                    }
                }
            }
        }
    }
    let paths: Vec<&str> = g.graph.node_weights().map(|n| n.path.as_str()).collect();
    let hint = match engine::error::nearest(clean, &paths) {
        Some(best) => format!("did you mean `{best}`?"),
        None => "name a source file by its path from the repository root".to_string(),
    };
    Err(Error::Usage(format!(
        "`{name}` is not a file of the dependency graph\n  hint: {hint}"
    )))
}

fn symbols_view(
    file: &str,
    listing: &[pipeline::SymbolEntry],
    rev: &Rev,
    format: GraphFormat,
) -> Result<String> {
    match format {
        GraphFormat::Json => {
            #[derive(Serialize)]
            struct Out<'a> {
                revision: &'a Rev<'a>,
                file: &'a str,
                symbols: &'a [pipeline::SymbolEntry],
            }
            json(&Out {
                revision: rev,
                file,
                symbols: listing,
            })
        }
        GraphFormat::Dot => {
            let mut s = format!(
                "digraph {} {{\n  rankdir=LR;\n  node [shape=box, fontname=\"monospace\"];\n",
                quote("symbols")
            );
            for e in listing {
                let me = format!("{file}#{}", e.name);
                s.push_str(&format!("  {} [style=bold];\n", quote(&me)));
                for u in &e.users {
                    let them = format!("{}#{}", u.file, u.symbol);
                    s.push_str(&format!("  {} -> {};\n", quote(&them), quote(&me)));
                }
            }
            s.push_str("}\n");
            Ok(s)
        }
        GraphFormat::Text => {
            let mut s = format!(
                "{file}: {} declaration{}\n",
                listing.len(),
                if listing.len() == 1 { "" } else { "s" }
            );
            for e in listing {
                let kind = serde_json::to_value(e.kind)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default();
                let lines = if e.start == e.end {
                    format!("line {}", e.start)
                } else {
                    format!("lines {}–{}", e.start, e.end)
                };
                s.push_str(&format!(
                    "  {} ({kind}, {}{lines})\n",
                    e.name,
                    if e.exported { "exported, " } else { "" }
                ));
                for u in &e.uses {
                    s.push_str(&format!("    uses {u}\n"));
                }
                for u in &e.users {
                    s.push_str(&format!("    used by {}#{}\n", u.file, u.symbol));
                }
            }
            Ok(s)
        }
    }
}

fn hop(g: &DepGraph, a: NodeIndex, b: NodeIndex) -> Hop {
    let e = g.graph.edges_connecting(a, b).next().map(|e| e.weight());
    Hop {
        from: g.path(a).to_string(),
        to: g.path(b).to_string(),
        line: e.map_or(0, |e| e.line),
        kind: e.map_or(engine::lang::ImportKind::Import, |e| e.kind),
        specifier: e.map(|e| e.specifier.clone()).unwrap_or_default(),
        type_only: e.is_some_and(|e| e.type_only),
    }
}

fn json<T: Serialize>(v: &T) -> Result<String> {
    let mut s = serde_json::to_string_pretty(v)
        .map_err(|e| Error::Internal(format!("serializing the graph: {e}")))?;
    s.push('\n');
    Ok(s)
}

fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Graphviz dot for a set of files and imports.
fn dot(name: &str, nodes: &BTreeSet<String>, hops: &[Hop], highlight: &[&str]) -> String {
    let mut s = format!(
        "digraph {} {{\n  rankdir=LR;\n  node [shape=box, fontname=\"monospace\"];\n",
        quote(name)
    );
    for n in nodes {
        if highlight.contains(&n.as_str()) {
            s.push_str(&format!("  {} [style=bold];\n", quote(n)));
        } else {
            s.push_str(&format!("  {};\n", quote(n)));
        }
    }
    for h in hops {
        let style = if h.type_only { ", style=dashed" } else { "" };
        s.push_str(&format!(
            "  {} -> {} [label=\"{}\"{style}];\n",
            quote(&h.from),
            quote(&h.to),
            h.line
        ));
    }
    s.push_str("}\n");
    s
}

fn hop_line(h: &Hop) -> String {
    format!(
        "{}:{} → {}  ({}{})",
        h.from,
        h.line,
        h.to,
        h.specifier,
        if h.type_only { ", type-only" } else { "" }
    )
}

fn whole(g: &DepGraph, rev: &Rev, format: GraphFormat) -> Result<String> {
    let data = g.data();
    let hops = &data.imports;
    let files: BTreeSet<String> = data.files.iter().map(|f| f.path.clone()).collect();
    match format {
        GraphFormat::Json => {
            #[derive(Serialize)]
            struct Out<'a> {
                revision: &'a Rev<'a>,
                #[serde(flatten)]
                graph: &'a engine::graph::json::GraphData,
            }
            json(&Out {
                revision: rev,
                graph: &data,
            })
        }
        GraphFormat::Dot => Ok(dot("dependencies", &files, hops, &[])),
        GraphFormat::Text => {
            let mut s = format!(
                "{} files, {} imports at {} ({})\n",
                files.len(),
                hops.len(),
                rev.rev,
                &rev.sha[..rev.sha.len().min(10)]
            );
            for h in hops {
                s.push_str(&format!("{}\n", hop_line(h)));
            }
            Ok(s)
        }
    }
}

fn dependents(g: &DepGraph, n: NodeIndex, rev: &Rev, format: GraphFormat) -> Result<String> {
    let reached = g.dependents_of(n, |_| true);
    let mut list: Vec<(u32, &str)> = reached.iter().map(|(m, d)| (*d, g.path(*m))).collect();
    list.sort();
    let file = g.path(n);
    match format {
        GraphFormat::Json => {
            #[derive(Serialize)]
            struct Dep<'a> {
                path: &'a str,
                distance: u32,
            }
            #[derive(Serialize)]
            struct Out<'a> {
                revision: &'a Rev<'a>,
                file: &'a str,
                dependents: Vec<Dep<'a>>,
            }
            json(&Out {
                revision: rev,
                file,
                dependents: list
                    .iter()
                    .map(|(d, p)| Dep {
                        path: p,
                        distance: *d,
                    })
                    .collect(),
            })
        }
        GraphFormat::Dot => {
            let mut set: BTreeSet<NodeIndex> = reached.keys().copied().collect();
            set.insert(n);
            let (nodes, hops) = induced(g, &set);
            Ok(dot("dependents", &nodes, &hops, &[file]))
        }
        GraphFormat::Text => {
            let mut s = format!(
                "{file} has {} dependent{} (distance, file):\n",
                list.len(),
                if list.len() == 1 { "" } else { "s" }
            );
            for (d, p) in &list {
                s.push_str(&format!("  {d:>3}  {p}\n"));
            }
            Ok(s)
        }
    }
}

/// The files of `set` and the imports between them.
fn induced(g: &DepGraph, set: &BTreeSet<NodeIndex>) -> (BTreeSet<String>, Vec<Hop>) {
    let nodes = set.iter().map(|m| g.path(*m).to_string()).collect();
    let hops = g
        .imports()
        .into_iter()
        .filter(|h| {
            g.node(&h.from).is_some_and(|x| set.contains(&x))
                && g.node(&h.to).is_some_and(|x| set.contains(&x))
        })
        .collect();
    (nodes, hops)
}

fn path(
    g: &DepGraph,
    a: NodeIndex,
    b: NodeIndex,
    rev: &Rev,
    format: GraphFormat,
) -> Result<String> {
    let chain = cycles::shortest_path(g, a, b, true, None);
    let hops: Vec<Hop> = chain
        .as_ref()
        .map(|c| c.windows(2).map(|w| hop(g, w[0], w[1])).collect())
        .unwrap_or_default();
    let (fa, fb) = (g.path(a), g.path(b));
    match format {
        GraphFormat::Json => {
            #[derive(Serialize)]
            struct Out<'a> {
                revision: &'a Rev<'a>,
                from: &'a str,
                to: &'a str,
                /// `null` when `from` does not depend on `to`.
                path: Option<&'a [Hop]>,
            }
            json(&Out {
                revision: rev,
                from: fa,
                to: fb,
                path: chain.as_ref().map(|_| hops.as_slice()),
            })
        }
        GraphFormat::Dot => {
            let nodes: BTreeSet<String> = chain
                .iter()
                .flatten()
                .map(|n| g.path(*n).to_string())
                .collect();
            Ok(dot("path", &nodes, &hops, &[fa, fb]))
        }
        GraphFormat::Text => Ok(match &chain {
            None => format!("{fa} does not depend on {fb} (no chain of imports leads there)\n"),
            Some(_) => {
                let mut s = format!(
                    "{fa} depends on {fb} through {} import{}:\n",
                    hops.len(),
                    if hops.len() == 1 { "" } else { "s" }
                );
                for h in &hops {
                    s.push_str(&format!("  {}\n", hop_line(h)));
                }
                s
            }
        }),
    }
}

fn cycles_view(g: &DepGraph, type_only: bool, rev: &Rev, format: GraphFormat) -> Result<String> {
    #[derive(Serialize)]
    struct Cycle {
        files: Vec<String>,
        /// A shortest cycle through the first import of the component.
        cycle: Vec<Hop>,
    }
    let comps = cycles::components(g, type_only);
    let list: Vec<Cycle> = comps
        .iter()
        .map(|c| {
            let set: BTreeSet<NodeIndex> = c.iter().copied().collect();
            let (a, b) = c
                .iter()
                .find_map(|&a| {
                    let mut next: Vec<NodeIndex> = g
                        .direct_dependencies(a)
                        .filter(|b| set.contains(b) && cycles::follows(g, a, *b, type_only))
                        .collect();
                    next.sort_by(|x, y| g.path(*x).cmp(g.path(*y)));
                    next.first().map(|b| (a, *b))
                })
                .unwrap_or((c[0], c[0]));
            let cyc = cycles::cycle_through(g, a, b, &set, type_only);
            Cycle {
                files: c.iter().map(|n| g.path(*n).to_string()).collect(),
                cycle: cyc.windows(2).map(|w| hop(g, w[0], w[1])).collect(),
            }
        })
        .collect();
    let note = if type_only {
        "type-only imports included"
    } else {
        "type-only imports ignored"
    };
    match format {
        GraphFormat::Json => {
            #[derive(Serialize)]
            struct Out<'a> {
                revision: &'a Rev<'a>,
                type_only_imports: bool,
                cycles: &'a [Cycle],
            }
            json(&Out {
                revision: rev,
                type_only_imports: type_only,
                cycles: &list,
            })
        }
        GraphFormat::Dot => {
            let set: BTreeSet<NodeIndex> = comps.iter().flatten().copied().collect();
            let (nodes, hops) = induced(g, &set);
            let hops: Vec<Hop> = hops
                .into_iter()
                .filter(|h| type_only || !h.type_only)
                .collect();
            Ok(dot("cycles", &nodes, &hops, &[]))
        }
        GraphFormat::Text => {
            if list.is_empty() {
                return Ok(format!("no dependency cycles ({note})\n"));
            }
            let mut s = format!(
                "{} dependency cycle{} ({note}):\n",
                list.len(),
                if list.len() == 1 { "" } else { "s" }
            );
            for (i, c) in list.iter().enumerate() {
                s.push_str(&format!("\ncycle {} — {} files:\n", i + 1, c.files.len()));
                for h in &c.cycle {
                    s.push_str(&format!("  {}\n", hop_line(h)));
                }
                if c.files.len() > c.cycle.len() {
                    s.push_str(&format!("  all files: {}\n", c.files.join(", ")));
                }
            }
            Ok(s)
        }
    }
}
