//! A pull request is hostile input (issue 15): each test reproduces an attack first and checks
//! that it no longer works. `scan`: attacks on the security scan (attributes, odd bytes, padding,
//! excluded paths, self-suppression); `hard`: settings, caches, secrets, injection, hangs, output
//! paths, denial of service, the git child process, tokens and origins.

mod hard;
mod scan;
