#!/usr/bin/env python3
"""Reviewer guidance on merged PRs of a real repository (docs/guidance.md, "Measured").

Usage: guidance_eval.py PR_RISK_BINARY CLONE SHA... (one squash-merged PR commit per SHA; the
clone is written to: pr-risk keeps its cache in its git dir, and a temporary worktree is added).

For each PR commit: `pr-risk score --base SHA^ --head SHA` and
- reviewers: the people suggested (teams left out) against the next 5 distinct people (not bots,
  not the PR's author) to commit to the PR's files after it, up to the clone's HEAD — a proxy for
  who reviews that code, as GitHub's reviews are not in git; baseline: the 3 most active
  committers of the year before the PR;
- affected tests: a commit with the PR's non-test changes only (tests as at the base) is built in
  a temporary worktree, and `pr-risk affected-tests` on it must reach the test files the PR
  changed (those that existed at the base).
Prints one JSON line per PR, then the totals.
"""
import json, re, subprocess, sys, collections, os, tempfile

BIN = sys.argv[1]; REPO = sys.argv[2]; SHAS = sys.argv[3:]
NEXT = 5          # ground truth: the next 5 distinct people committing to the PR's files
BOT = re.compile(r"\[bot\]|dependabot|renovate|github-actions|copilot", re.I)

def git(*a, cwd=REPO):
    return subprocess.run(["git", "-C", cwd, *a], capture_output=True, text=True, check=True).stdout

def login_of(email):
    m = re.match(r"^(?:\d+\+)?([^@]+)@users\.noreply\.github\.com$", email.lower())
    return m.group(1) if m else None

# Identity for the evaluation only: union-find over names, e-mails and no-reply logins of the
# whole history (same name or same e-mail: same person). Stricter than nothing, looser than the
# tool (which merges only by e-mail and the base's .mailmap).
parent = {}
def find(x):
    parent.setdefault(x, x)
    while parent[x] != x:
        parent[x] = parent[parent[x]]; x = parent[x]
    return x
def union(a, b): parent[find(a)] = find(b)
for line in git("log", "--format=%an\t%ae", "HEAD").splitlines():
    n, e = line.split("\t")
    union("n:" + n.lower(), "e:" + e.lower())
    if login_of(e): union("e:" + e.lower(), "l:" + login_of(e))

def ids(name, email):
    return {find("e:" + email.lower())}

def ids_of_who(who):
    return {find("l:" + who[1:].lower())} if who.startswith("@") else {find("n:" + who.lower())}

def run(args):
    p = subprocess.run([BIN, *args], capture_output=True, text=True)
    if p.returncode not in (0, 1):
        raise SystemExit(f"{args}: {p.returncode} {p.stderr[-500:]}")
    return json.loads(p.stdout)

tot = collections.Counter()
rows = []
for sha in SHAS:
    sha = git("rev-parse", sha).strip()
    an, ae, subj, date = git("show", "-s", "--format=%an\t%ae\t%s\t%ct", sha).strip().split("\t")
    author = ids(an, ae)
    files = [f for f in git("diff", "--name-only", sha + "^", sha).splitlines()]
    v = run(["score", "--repo", REPO, "--base", sha + "^", "--head", sha, "--format", "json", "--offline"])
    g = v["guidance"]
    sugg = [r["who"] for r in g["reviewers"]]
    people = [r["who"] for r in g["reviewers"] if not r["team"]]
    # Ground truth: the next people (not bots, not the author) to commit to the PR's files.
    truth, seen = [], set()
    log = git("log", "--reverse", "--first-parent", "--format=%an\t%ae", f"{sha}..HEAD", "--", *files)
    for line in log.splitlines():
        n, e = line.split("\t")
        i = ids(n, e)
        if BOT.search(n + e) or i & author or frozenset(i) in seen: continue
        if any(i & t for t in truth): continue
        truth.append(i); seen.add(frozenset(i))
        if len(truth) == NEXT: break
    hits = [w for w in people if any(ids_of_who(w) & t for t in truth)]
    # Baseline: the 3 most active non-bot committers of the year before the PR (not the author).
    counts = collections.Counter()
    ident = {}
    for line in git("log", "--first-parent", "--format=%an\t%ae", f"--since={int(date)-365*86400}", sha + "^").splitlines():
        n, e = line.split("\t")
        if BOT.search(n + e) or ids(n, e) & author: continue
        c = find("e:" + e.lower()); counts[c] += 1; ident[c] = {c}
    base3 = [ident[c] for c, _ in counts.most_common(3)]
    base_hits = sum(1 for b in base3 if any(b & t for t in truth))
    # Affected tests: the PR's changed tests (distance 0) vs the tests its other files reach.
    at = g["affected_tests"]["tests"]
    pr_tests = sorted(t["path"] for t in at if t["distance"] == 0)
    src = [f for f in files if f not in pr_tests]
    existed = [t for t in pr_tests if subprocess.run(["git", "-C", REPO, "cat-file", "-e", f"{sha}^:{t}"], capture_output=True).returncode == 0]
    reached = []
    n_reached_src = None
    if src and pr_tests:
        # A commit with the PR's non-test changes only (tests as at the base).
        wt = os.path.join(tempfile.mkdtemp(), "wt")
        git("worktree", "add", "-q", "--detach", wt, sha + "^")
        present = set(git("ls-tree", "-r", "--name-only", sha, "--", *src).splitlines())
        for f in src:
            if f in present: git("checkout", sha, "--", f, cwd=wt)
            else: subprocess.run(["git", "-C", wt, "rm", "-q", "--ignore-unmatch", f], capture_output=True)
        git("-c", "user.name=eval", "-c", "user.email=eval@example.com", "commit", "-qm", "src only", "--allow-empty", cwd=wt)
        a = run(["affected-tests", "--repo", wt, "--base", sha + "^", "--format", "json"])
        got = {t["path"] for t in a["tests"]}
        n_reached_src = len(got)
        reached = [t for t in existed if t in got]
        subprocess.run(["git", "-C", REPO, "worktree", "remove", "--force", wt], capture_output=True)
    row = dict(sha=sha[:9], subject=subj[:60], files=len(files), suggested=sugg, hits=hits,
               truth=len(truth), base_hits=base_hits, pr_tests=len(pr_tests), pr_tests_existing=len(existed),
               reached=len(reached), affected_from_src=n_reached_src, partners=[p["path"] for p in g["partners"]])
    rows.append(row)
    print(json.dumps(row), flush=True)
    tot["prs"] += 1
    tot["with_truth"] += bool(truth)
    tot["hit_any"] += bool(hits)
    tot["hits"] += len(hits); tot["people_suggested"] += len(people)
    tot["base_hit_any"] += base_hits > 0; tot["base_hits"] += base_hits
    tot["pr_tests_existing"] += len(existed); tot["reached"] += len(reached)
    tot["partners"] += len(g["partners"])
print(json.dumps(dict(tot)))
