//! chorus-e2e: cross-crate and interoperability test suites (see `tests/`).
//!
//! The library part holds helpers shared by the suites and reads nothing outside the repository;
//! only [`native`] touches the network (the server under test).

pub mod native;

use std::path::{Path, PathBuf};

/// The repository root (the workspace directory holding this crate), independent of the working
/// directory the test runner was started in.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}
