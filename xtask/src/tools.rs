//! Tool bootstrap: makes sure each external tool a command needs is present, at the right
//! version, installing it when that can be done from the package registries.
//!
//! Every `ensure_*` is idempotent and cheap when the tool is already there. When a tool cannot
//! be installed from here, the error says exactly what to run. Nothing here ever installs
//! Debian's `binaryen`: its wasm-opt produces modules that fail at instantiation, so wasm-opt
//! comes only from the npm `binaryen` package in `package.json`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

use anyhow::{bail, Context, Result};

use crate::repo::{which, Repo, WASM_TARGET};
use crate::run;

/// cargo-fuzz release installed into `tools/`; the newest one that builds with the pinned
/// stable toolchain.
pub const CARGO_FUZZ_VERSION: &str = "0.13.2";

/// The `version` of the first `[[package]]` called `name` in a `Cargo.lock`.
pub fn lockfile_version(lock: &str, name: &str) -> Option<String> {
    let wanted = format!("name = \"{name}\"");
    lock.split("[[package]]").find_map(|block| {
        let mut lines = block.lines().map(str::trim);
        if !lines.clone().any(|line| line == wanted) {
            return None;
        }
        lines.find_map(|line| {
            line.strip_prefix("version = \"")
                .and_then(|rest| rest.strip_suffix('"'))
                .map(str::to_owned)
        })
    })
}

/// The version word of a `tool 1.2.3` line, as printed by `wasm-bindgen --version` and
/// `cargo-fuzz --version`.
pub fn reported_version(output: &str) -> Option<&str> {
    output.split_whitespace().nth(1)
}

/// `wasm32-unknown-unknown` for the pinned toolchain.
pub fn ensure_wasm_target(repo: &Repo) -> Result<()> {
    let installed = run::read(
        repo.command("rustup")
            .args(["target", "list", "--installed"]),
    )
    .context("rustup is needed to manage Rust targets; install it from https://rustup.rs")?;
    if installed.lines().any(|line| line.trim() == WASM_TARGET) {
        return Ok(());
    }
    eprintln!("xtask: installing the {WASM_TARGET} target for the pinned toolchain");
    run::run(repo.command("rustup").args(["target", "add", WASM_TARGET]))
}

/// `tools/bin/wasm-bindgen` and `wasm-bindgen-test-runner` at exactly the version of the
/// `wasm-bindgen` crate in `Cargo.lock` (the CLI refuses modules from any other version).
pub fn ensure_wasm_bindgen(repo: &Repo) -> Result<()> {
    let lock = fs::read_to_string(repo.path("Cargo.lock")).context("reading Cargo.lock")?;
    let wanted = lockfile_version(&lock, "wasm-bindgen")
        .context("Cargo.lock has no wasm-bindgen package; run `cargo generate-lockfile`")?;
    let bin = repo.tools_bin();
    let current = |tool: &str| {
        run::probe(bin.join(tool), &["--version"])
            .and_then(|out| reported_version(&out).map(str::to_owned))
    };
    let (cli, runner) = (current("wasm-bindgen"), current("wasm-bindgen-test-runner"));
    if cli.as_deref() == Some(wanted.as_str()) && runner.as_deref() == Some(wanted.as_str()) {
        return Ok(());
    }
    eprintln!(
        "xtask: installing wasm-bindgen-cli {wanted} into {} (found {}; takes about 5 minutes on 2 cores)",
        repo.tools().display(),
        cli.as_deref().unwrap_or("none"),
    );
    // No `--locked`: the lockfile shipped with wasm-bindgen-cli pins a yanked dependency.
    cargo_install(repo, "wasm-bindgen-cli", &wanted)?;
    match current("wasm-bindgen") {
        Some(v) if v == wanted => Ok(()),
        other => bail!(
            "after installing, {} reports version {:?}, expected {wanted}",
            bin.join("wasm-bindgen").display(),
            other
        ),
    }
}

/// `tools/bin/cargo-fuzz` at [`CARGO_FUZZ_VERSION`].
pub fn ensure_cargo_fuzz(repo: &Repo) -> Result<()> {
    let probe = || {
        run::probe(repo.tools_bin().join("cargo-fuzz"), &["--version"])
            .and_then(|out| reported_version(&out).map(str::to_owned))
    };
    if probe().as_deref() == Some(CARGO_FUZZ_VERSION) {
        return Ok(());
    }
    eprintln!(
        "xtask: installing cargo-fuzz {CARGO_FUZZ_VERSION} into {}",
        repo.tools().display()
    );
    cargo_install(repo, "cargo-fuzz", CARGO_FUZZ_VERSION)?;
    match probe() {
        Some(v) if v == CARGO_FUZZ_VERSION => Ok(()),
        other => bail!(
            "after installing, cargo-fuzz reports version {other:?}, expected {CARGO_FUZZ_VERSION}"
        ),
    }
}

fn cargo_install(repo: &Repo, krate: &str, version: &str) -> Result<()> {
    let mut cmd = repo.cargo();
    cmd.args(["install", krate, "--version", version, "--root"])
        .arg(repo.tools());
    run::run(&mut cmd).with_context(|| format!("installing {krate} {version}"))
}

/// A nightly toolchain (cargo-fuzz needs `-Z` sanitizer flags).
pub fn ensure_nightly(repo: &Repo) -> Result<()> {
    let list = run::read(repo.command("rustup").args(["toolchain", "list"])).context(
        "rustup is needed to find a nightly toolchain; install it from https://rustup.rs",
    )?;
    if list
        .lines()
        .any(|line| line.trim_start().starts_with("nightly"))
    {
        return Ok(());
    }
    bail!(
        "fuzzing needs a nightly toolchain, and `rustup toolchain list` shows none.\n\
         Install one with: rustup toolchain install nightly --profile minimal"
    )
}

/// Headless Chromium and its matching chromedriver; returns the chromedriver to use.
///
/// `CHROMEDRIVER` is always set for the test runner, which would otherwise take the first
/// of geckodriver, safaridriver, chromedriver, msedgedriver it finds on PATH.
pub fn ensure_chromium(repo: &Repo) -> Result<PathBuf> {
    if let Some(driver) = std::env::var_os("CHROMEDRIVER").map(PathBuf::from) {
        if driver.is_file() {
            return Ok(driver);
        }
        bail!(
            "CHROMEDRIVER is set to {}, which does not exist",
            driver.display()
        );
    }
    let found = || Some((which("chromium")?, which("chromedriver")?));
    if let Some((_, driver)) = found() {
        return Ok(driver);
    }
    const APT: &str = "apt-get update && apt-get install -y chromium chromium-driver";
    if !is_root(repo) {
        bail!("the browser tests need Chromium and chromedriver; install them with:\n  sudo sh -c '{APT}'");
    }
    eprintln!("xtask: installing chromium and chromium-driver with apt-get");
    run::run(repo.command("apt-get").arg("update"))?;
    run::run(
        repo.command("apt-get")
            .args(["install", "-y", "chromium", "chromium-driver"])
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )?;
    match found() {
        Some((_, driver)) => Ok(driver),
        None => bail!("`{APT}` ran, but `chromium` or `chromedriver` is still not on PATH"),
    }
}

fn is_root(repo: &Repo) -> bool {
    run::read(repo.command("id").arg("-u")).is_ok_and(|uid| uid.trim() == "0")
}

/// `node` and `npm` on PATH; returns node's version.
pub fn ensure_node() -> Result<String> {
    let version = run::probe("node", &["--version"]);
    let (Some(version), Some(_)) = (version, which("npm")) else {
        bail!(
            "Node.js (20 or newer) and npm are needed for the JavaScript tests and wasm-opt.\n\
             Install them from https://nodejs.org or with your package manager \
             (Debian 12 and Ubuntu: `apt-get install nodejs npm` gives an older Node; \
             prefer the NodeSource packages for Node 20+)."
        );
    };
    Ok(version.trim().to_owned())
}

/// `npm ci` in `dir` when it has a `package-lock.json` and `node_modules` is missing or older
/// than that lock file. Returns whether it ran.
pub fn npm_ci(dir: &Path) -> Result<bool> {
    let lock = dir.join("package-lock.json");
    if !lock.is_file() {
        return Ok(false);
    }
    // npm writes node_modules/.package-lock.json at the end of every install.
    let installed = dir.join("node_modules").join(".package-lock.json");
    if modified(&installed).is_some_and(|done| modified(&lock).is_some_and(|lock| done >= lock)) {
        return Ok(false);
    }
    let mut cmd = Command::new("npm");
    cmd.current_dir(dir).args(["ci", "--no-audit", "--no-fund"]);
    run::run(&mut cmd).with_context(|| format!("npm ci in {}", dir.display()))?;
    Ok(true)
}

fn modified(path: &Path) -> Option<SystemTime> {
    fs::metadata(path).and_then(|m| m.modified()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCK: &str = r#"
version = 4

[[package]]
name = "wasm-bindgen-futures"
version = "0.4.80"
source = "registry+https://github.com/rust-lang/crates.io-index"

[[package]]
name = "wasm-bindgen"
version = "0.2.130"
source = "registry+https://github.com/rust-lang/crates.io-index"
dependencies = [
 "cfg-if",
]

[[package]]
name = "xtask"
version = "0.1.0"
"#;

    #[test]
    fn lockfile_version_matches_the_exact_name() {
        assert_eq!(
            lockfile_version(LOCK, "wasm-bindgen").as_deref(),
            Some("0.2.130")
        );
        assert_eq!(
            lockfile_version(LOCK, "wasm-bindgen-futures").as_deref(),
            Some("0.4.80")
        );
        assert_eq!(lockfile_version(LOCK, "wasm"), None);
        assert_eq!(lockfile_version("", "wasm-bindgen"), None);
    }

    #[test]
    fn the_real_lockfile_pins_wasm_bindgen() {
        let repo = Repo::locate();
        let lock = fs::read_to_string(repo.path("Cargo.lock")).unwrap();
        let version = lockfile_version(&lock, "wasm-bindgen").unwrap();
        assert!(version.starts_with("0.2."), "{version}");
    }

    #[test]
    fn reported_version_is_the_second_word() {
        assert_eq!(reported_version("wasm-bindgen 0.2.130\n"), Some("0.2.130"));
        assert_eq!(reported_version("cargo-fuzz 0.13.2"), Some("0.13.2"));
        assert_eq!(reported_version("garbage"), None);
    }
}
