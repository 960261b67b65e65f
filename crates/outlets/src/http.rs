//! What both HTTP clients (GitHub and the Massu cloud) share: running their async calls from the
//! synchronous binary.

/// Run `f` to completion on a fresh single-threaded runtime.
pub fn block_on<F: std::future::Future>(f: F) -> Result<F::Output, String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("could not start the async runtime: {e}"))?;
    Ok(rt.block_on(f))
}
