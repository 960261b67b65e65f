//! A one-line progress indicator on stderr: which stage is running and for how long.
//!
//! It exists for the slow steps (mining history, parsing a large repository) and is shown only
//! when stderr is a terminal — the CLI decides that and calls [`start`]; nothing is ever drawn
//! otherwise, so pipes, files and CI logs never see it. The returned [`Guard`] is the pipeline's
//! [`Observer`]: every stage shows up without the engine knowing about terminals. The line is
//! cleared when the guard is dropped, before the report is printed.
//!
//! State is process-global (one run at a time draws); a generation counter lets the ticker
//! thread of a finished run notice it is stale and stop.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use engine::pipeline::Observer;

const FRAMES: &[&str] = &["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
const TICK: Duration = Duration::from_millis(100);

struct State {
    stage: String,
    since: Instant,
    frame: usize,
}

static STATE: Mutex<Option<State>> = Mutex::new(None);
static GENERATION: AtomicU64 = AtomicU64::new(0);

/// Clears the line and stops the ticker when dropped.
#[must_use = "the indicator stops when the guard is dropped"]
pub struct Guard {
    active: bool,
}

impl Observer for Guard {
    fn stage(&self, name: &'static str) {
        if self.active {
            stage(name);
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if self.active {
            finish();
        }
    }
}

/// Start drawing on stderr when `enabled` (the caller checks that stderr is a terminal).
pub fn start(enabled: bool) -> Guard {
    if !enabled {
        return Guard { active: false };
    }
    let generation = GENERATION.fetch_add(1, Ordering::SeqCst) + 1;
    if let Ok(mut s) = STATE.lock() {
        *s = Some(State {
            stage: "starting".to_string(),
            since: Instant::now(),
            frame: 0,
        });
        draw(s.as_mut());
    }
    std::thread::spawn(move || loop {
        std::thread::sleep(TICK);
        if GENERATION.load(Ordering::SeqCst) != generation {
            return;
        }
        match STATE.lock() {
            Ok(mut s) if s.is_some() => {
                if let Some(st) = s.as_mut() {
                    st.frame += 1;
                }
                draw(s.as_mut());
            }
            _ => return,
        }
    });
    Guard { active: true }
}

/// Report that a stage began (a no-op unless [`start`] enabled the indicator).
pub fn stage(name: &str) {
    if let Ok(mut s) = STATE.lock() {
        if let Some(st) = s.as_mut() {
            st.stage = label(name).to_string();
            st.since = Instant::now();
            draw(s.as_mut());
        }
    }
}

/// Whether the indicator is drawing.
pub fn active() -> bool {
    STATE.lock().map(|s| s.is_some()).unwrap_or(false)
}

fn finish() {
    GENERATION.fetch_add(1, Ordering::SeqCst);
    if let Ok(mut s) = STATE.lock() {
        if s.take().is_some() {
            let mut err = std::io::stderr().lock();
            let _ = err.write_all(b"\r\x1b[2K");
            let _ = err.flush();
        }
    }
}

fn draw(state: Option<&mut State>) {
    let Some(st) = state else { return };
    let mut err = std::io::stderr().lock();
    let _ = write!(
        err,
        "\r\x1b[2K{} pr-risk: {}… {:.1}s",
        FRAMES[st.frame % FRAMES.len()],
        st.stage,
        st.since.elapsed().as_secs_f64()
    );
    let _ = err.flush();
}

/// What a pipeline stage is called on screen.
fn label(stage: &str) -> &str {
    match stage {
        "config" => "reading configuration",
        "revisions" => "resolving revisions",
        "change set" => "computing the change set",
        "snapshots" => "reading snapshots",
        "parse" => "parsing files",
        "graph" => "resolving imports",
        "history" => "mining history",
        "score" => "scoring",
        other => other,
    }
}
