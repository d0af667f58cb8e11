//! Where things are in the repository, and which packages each build selects.
//!
//! Only paths and command templates live here; nothing is run or installed.

use std::env;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The browser target.
pub const WASM_TARGET: &str = "wasm32-unknown-unknown";

// Cargo unifies features over the packages one command selects, so every different `-p` set
// rebuilds the shared dependencies once more. Each build of a target therefore uses one of these
// sets and nothing else.

/// Packages checked and tested natively.
pub const NATIVE: &[&str] = &[
    "chorus-proto",
    "chorus-core",
    "chorus-server",
    "chorus-e2e",
    "xtask",
];

/// Packages checked for the browser target.
pub const WASM: &[&str] = &[
    "chorus-proto",
    "chorus-core",
    "chorus-sdk-wasm",
    "chorus-web-demo",
];

/// Packages whose tests run in headless Chromium.
pub const BROWSER_TESTS: &[&str] = &["chorus-sdk-wasm"];

/// The package behind the npm package, built in release mode for the browser.
pub const SDK: &str = "chorus-sdk-wasm";

/// The server binary (of the `chorus-server` package).
pub const SERVER_BIN: &str = "chorus-server";

/// The official OpenIM web SDK end-to-end test: its `package-lock.json` and `*.test.mjs`.
pub const OFFICIAL_SDK_TESTS: &str = "tests/official-sdk";

/// `["-p", a, "-p", b, …]`
pub fn package_args(packages: &[&str]) -> Vec<String> {
    packages
        .iter()
        .flat_map(|p| ["-p".to_owned(), (*p).to_owned()])
        .collect()
}

/// The repository checkout this xtask was built from.
#[derive(Debug, Clone)]
pub struct Repo {
    pub root: PathBuf,
}

impl Repo {
    pub fn locate() -> Repo {
        let xtask_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
        let root = xtask_dir.parent().unwrap_or(xtask_dir).to_path_buf();
        Repo { root }
    }

    pub fn path(&self, relative: &str) -> PathBuf {
        self.root.join(relative)
    }

    /// Tools installed for this checkout only (`tools/`, git-ignored).
    pub fn tools(&self) -> PathBuf {
        self.path("tools")
    }

    pub fn tools_bin(&self) -> PathBuf {
        self.tools().join("bin")
    }

    pub fn target_dir(&self) -> PathBuf {
        match env::var_os("CARGO_TARGET_DIR") {
            Some(dir) => self.root.join(dir),
            None => self.path("target"),
        }
    }

    /// PATH with `tools/bin` first, so the pinned wasm-bindgen and cargo-fuzz win over any
    /// other copy.
    pub fn path_env(&self) -> OsString {
        let mut dirs = vec![self.tools_bin()];
        if let Some(path) = env::var_os("PATH") {
            dirs.extend(env::split_paths(&path));
        }
        env::join_paths(dirs).unwrap_or_else(|_| env::var_os("PATH").unwrap_or_default())
    }

    /// `cargo` (the rustup proxy, so `rust-toolchain.toml` and `+nightly` apply) run from the
    /// repository root.
    pub fn cargo(&self) -> Command {
        self.command("cargo")
    }

    /// Any program, run from the repository root.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new(program);
        cmd.current_dir(&self.root);
        cmd
    }
}

/// The first executable called `name` on PATH.
pub fn which(name: &str) -> Option<PathBuf> {
    let path = env::var_os("PATH")?;
    env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_args_pair_each_name_with_p() {
        assert_eq!(
            package_args(&["a", "b"]),
            ["-p", "a", "-p", "b"].map(String::from).to_vec()
        );
        assert!(package_args(&[]).is_empty());
    }

    #[test]
    fn repo_root_holds_the_workspace_manifest() {
        let repo = Repo::locate();
        assert!(repo.path("Cargo.toml").is_file());
        assert!(repo.path("xtask/Cargo.toml").is_file());
    }

    #[test]
    fn tools_bin_comes_first_on_path() {
        let repo = Repo::locate();
        let path = repo.path_env();
        let first = env::split_paths(&path).next();
        assert_eq!(first, Some(repo.tools_bin()));
    }
}
