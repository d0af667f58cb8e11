//! `cargo xtask test`: every check of the repository, layer by layer.
//!
//! Layers run in a fixed order and the first failing one stops the run. Whatever happens, the
//! last line printed is `tests: N passed, N failed`, summed over every test runner that ran.
//! This module decides order and policy; it never parses output itself (see `summary`).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::repo::{
    package_args, which, Repo, BROWSER_TESTS, NATIVE, OFFICIAL_SDK_TESTS, SERVER_BIN, WASM,
    WASM_TARGET,
};
use crate::server::{self, TestServer};
use crate::summary::{cargo_tally, tap_tally, Tally};
use crate::{run, tools};

type LayerFn = fn(&Repo, &mut Tally) -> Result<()>;

const LAYERS: &[(&str, LayerFn)] = &[
    ("format", format),
    ("clippy (native)", clippy_native),
    ("clippy (wasm32)", clippy_wasm),
    ("native tests", native_tests),
    ("browser tests", browser_tests),
    ("official SDK e2e", official_sdk_e2e),
    ("npm package e2e", package_e2e),
    ("web demo e2e", demo_e2e),
    ("node checks", node_checks),
];

pub fn main(repo: &Repo, args: &[String]) -> ExitCode {
    if let Some(extra) = args.first() {
        eprintln!("xtask test takes no arguments (got `{extra}`)");
        return ExitCode::from(2);
    }
    warn_if_disk_is_short(repo);
    let mut tally = Tally::default();
    let mut timings: Vec<(&str, Duration, bool)> = Vec::new();
    let mut failure = None;
    for (index, (name, layer)) in LAYERS.iter().enumerate() {
        eprintln!("\n==> [{}/{}] {name}", index + 1, LAYERS.len());
        let start = Instant::now();
        let result = layer(repo, &mut tally);
        timings.push((name, start.elapsed(), result.is_ok()));
        if let Err(err) = result {
            failure = Some(format!(
                "layer {}/{} `{name}` failed: {err:#}",
                index + 1,
                LAYERS.len()
            ));
            break;
        }
    }
    eprintln!("\nlayer timings:");
    for (name, took, ok) in &timings {
        let verdict = if *ok { "ok" } else { "FAILED" };
        eprintln!("  {name:<16} {verdict:<6} {:>7.1} s", took.as_secs_f64());
    }
    let code = match failure {
        Some(message) => {
            eprintln!("\nerror: {message}");
            ExitCode::FAILURE
        }
        None => {
            eprintln!("\nall {} layers passed", LAYERS.len());
            ExitCode::SUCCESS
        }
    };
    // The closing line goes to stdout, alone, after everything else.
    println!("{tally}");
    code
}

/// What a run from a fresh clone writes (build directories, the pinned wasm-bindgen-cli's build,
/// Chromium's profiles), rounded up.
const DISK_NEEDED_GIB: u64 = 8;

/// A full disk shows up late and far from its cause (a linker or `cargo install` failing with
/// "No space left on device"), so say it first. Only a warning: an incremental run needs less.
fn warn_if_disk_is_short(repo: &Repo) {
    let dir = repo.target_dir();
    let probe = if dir.exists() { dir } else { repo.path("") };
    let Some(free) = free_kib(&probe) else {
        return;
    };
    let free_gib = free / (1024 * 1024);
    if free_gib < DISK_NEEDED_GIB {
        eprintln!(
            "warning: {free_gib} GiB free under {}; a run from a fresh clone needs about \
             {DISK_NEEDED_GIB} GiB (free some space, or point CARGO_TARGET_DIR elsewhere)",
            probe.display()
        );
    }
}

/// Free space of the filesystem holding `path`, from POSIX `df -Pk`.
fn free_kib(path: &Path) -> Option<u64> {
    let out = Command::new("df").arg("-Pk").arg(path).output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    // Second line: filesystem, 1024-blocks, used, available, capacity, mount point.
    text.lines().nth(1)?.split_whitespace().nth(3)?.parse().ok()
}

fn format(repo: &Repo, _: &mut Tally) -> Result<()> {
    run::run(repo.cargo().args(["fmt", "--all", "--", "--check"]))
        .context("formatting differs; run `cargo fmt --all`")
}

fn clippy_native(repo: &Repo, _: &mut Tally) -> Result<()> {
    run::run(repo.cargo().arg("clippy").args(package_args(NATIVE)).args([
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))
}

fn clippy_wasm(repo: &Repo, _: &mut Tally) -> Result<()> {
    tools::ensure_wasm_target(repo)?;
    run::run(
        repo.cargo()
            .args(["clippy", "--target", WASM_TARGET])
            .args(package_args(WASM))
            .args(["--all-targets", "--", "-D", "warnings"]),
    )
}

fn native_tests(repo: &Repo, tally: &mut Tally) -> Result<()> {
    // The interoperability suites start node on scripts that use these node_modules.
    let node = tools::ensure_node()?;
    eprintln!("node {node}");
    for dir in ["", "tests/interop"] {
        tools::npm_ci(&repo.path(dir))?;
    }
    let mut cmd = repo.cargo();
    // `--tests` leaves out doc-tests, whose "0 passed" would otherwise be the closing line.
    cmd.arg("test")
        .args(package_args(NATIVE))
        .args(["--tests", "--no-fail-fast"]);
    cargo_layer(&mut cmd, tally)
}

fn browser_tests(repo: &Repo, tally: &mut Tally) -> Result<()> {
    tools::ensure_wasm_target(repo)?;
    tools::ensure_wasm_bindgen(repo)?;
    let driver = tools::ensure_chromium(repo)?;
    // Chromium writes crash reports and caches under the XDG directories; keep them in target/.
    let home = repo.target_dir().join("xtask").join("chromium");
    // The SDK's tests talk to a real server; they read its address and secret at compile time.
    let server_bin = build_server(repo)?;
    let server = TestServer::start(&server_bin, &repo.target_dir().join("xtask"))?;
    let mut cmd = repo.cargo();
    cmd.env("CHORUS_TEST_API", &server.api)
        .env("CHORUS_TEST_SECRET", &server.secret)
        .env("CHORUS_TEST_ADMIN", server::ADMIN)
        // The runner's default (20 s per suite) is too short for the server suites on a busy
        // 2-core machine; each test bounds its own waits.
        .env("WASM_BINDGEN_TEST_TIMEOUT", "600");
    cmd.args(["test", "--target", WASM_TARGET])
        .args(package_args(BROWSER_TESTS))
        .args(["--tests", "--no-fail-fast"])
        // `.cargo/config.toml` names `wasm-bindgen-test-runner` as the runner; this PATH makes
        // it the pinned one in tools/bin.
        .env("PATH", repo.path_env())
        .env("CHROMEDRIVER", driver)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_CACHE_HOME", home.join("cache"));
    cargo_layer(&mut cmd, tally)
}

/// The official OpenIM web SDK in headless Chromium against a freshly built `chorus-server`.
fn official_sdk_e2e(repo: &Repo, tally: &mut Tally) -> Result<()> {
    let node = tools::ensure_node()?;
    eprintln!("node {node}");
    tools::ensure_chromium(repo)?;
    let browser = which("chromium").context("chromium is not on PATH")?;
    // The same package set as the native layers, so the dependencies built there are reused
    // instead of being rebuilt with another feature unification.
    let server = build_server(repo)?;
    let tests = repo.path(OFFICIAL_SDK_TESTS);
    tools::npm_ci(&tests)?;
    let mut cmd = repo.command("node");
    // The test bounds each wait itself; the runner's timeout only stops a hung run.
    cmd.args(["--test", "--test-reporter=tap", "--test-timeout=600000"])
        .arg(&tests)
        .env("CHORUS_SERVER_BIN", &server)
        .env("CHROMIUM", &browser);
    node_layer(&mut cmd, tally)
}

/// Test folders of the npm package: the API suite (every method, typings) and the pages
/// (www/ page, several tabs, the Vite project).
const PACKAGE_TESTS: &[&str] = &["tests/sdk-api", "tests/sdk-e2e"];
/// The web demo's browser tests.
const DEMO_TESTS: &str = "tests/demo-e2e";

/// The npm package (release build, as published) in headless Chromium against a real server.
fn package_e2e(repo: &Repo, tally: &mut Tally) -> Result<()> {
    browser_e2e_tools(repo)?;
    let server = build_server(repo)?;
    crate::pkg::main(repo, &[])?;
    let browser = which("chromium").context("chromium is not on PATH")?;
    let mut cmd = repo.command("node");
    cmd.args(["--test", "--test-reporter=tap", "--test-timeout=600000"])
        .args(PACKAGE_TESTS.iter().map(|dir| repo.path(dir)))
        .env("CHORUS_SERVER_BIN", &server)
        .env("CHROMIUM", &browser);
    node_layer(&mut cmd, tally)
}

/// The web demo (release build, as `cargo xtask demo` serves it) with several users in
/// headless Chromium against a real server with the demo data.
fn demo_e2e(repo: &Repo, tally: &mut Tally) -> Result<()> {
    browser_e2e_tools(repo)?;
    let server = build_server(repo)?;
    let dist = repo.target_dir().join("demo-dist");
    crate::demo::build_web_demo(repo, &dist)?;
    let browser = which("chromium").context("chromium is not on PATH")?;
    let mut cmd = repo.command("node");
    cmd.args(["--test", "--test-reporter=tap", "--test-timeout=600000"])
        .arg(repo.path(DEMO_TESTS))
        .env("CHORUS_SERVER_BIN", &server)
        .env("CHORUS_DEMO_DIST", &dist)
        .env("CHROMIUM", &browser);
    node_layer(&mut cmd, tally)
}

/// Node.js, Chromium and the root npm packages (playwright-core, typescript).
fn browser_e2e_tools(repo: &Repo) -> Result<()> {
    let node = tools::ensure_node()?;
    eprintln!("node {node}");
    tools::ensure_chromium(repo)?;
    tools::npm_ci(&repo.root)?;
    Ok(())
}

/// Builds the debug server binary with the native package set (so the dependencies built by the
/// native layers are reused) and returns its path.
fn build_server(repo: &Repo) -> Result<PathBuf> {
    run::run(
        repo.cargo()
            .arg("build")
            .args(package_args(NATIVE))
            .args(["--bin", SERVER_BIN]),
    )?;
    let server = repo
        .target_dir()
        .join("debug")
        .join(format!("{SERVER_BIN}{}", std::env::consts::EXE_SUFFIX));
    if !server.is_file() {
        bail!("the build did not produce {}", server.display());
    }
    Ok(server)
}

/// Runs a cargo test command, adds its counts, and fails when it failed or ran no test at all
/// (a runner that silently found nothing must not look like success).
fn cargo_layer(cmd: &mut Command, tally: &mut Tally) -> Result<()> {
    let out = run::tee(cmd)?;
    let counted = cargo_tally(&format!("{}\n{}", out.stdout, out.stderr));
    *tally += counted;
    eprintln!(
        "counted {} passed, {} failed",
        counted.passed, counted.failed
    );
    if !out.status.success() {
        bail!("`{}` failed ({})", run::describe(cmd), out.status);
    }
    if counted.total() == 0 {
        bail!("`{}` ran no test", run::describe(cmd));
    }
    Ok(())
}

/// Directories holding hand-written JavaScript for the npm package and the static pages.
const JS_DIRS: &[&str] = &["pkg", "www"];

fn node_checks(repo: &Repo, tally: &mut Tally) -> Result<()> {
    let mut sources = Vec::new();
    for dir in JS_DIRS {
        collect_js(&repo.path(dir), &mut sources)?;
    }
    sources.sort();
    if sources.is_empty() {
        eprintln!(
            "no JavaScript sources in {} yet; nothing to check",
            JS_DIRS.join(", ")
        );
        return Ok(());
    }
    for file in &sources {
        run::run(repo.command("node").arg("--check").arg(file))?;
    }
    eprintln!("syntax ok: {} files", sources.len());
    let tests: Vec<&PathBuf> = sources.iter().filter(|p| is_node_test(p)).collect();
    if tests.is_empty() {
        return Ok(());
    }
    let mut cmd = repo.command("node");
    cmd.args(["--test", "--test-reporter=tap"]).args(&tests);
    node_layer(&mut cmd, tally)
}

/// Runs `node --test` with the TAP reporter, adds its counts, and fails when it failed or ran
/// no test at all.
fn node_layer(cmd: &mut Command, tally: &mut Tally) -> Result<()> {
    let out = run::tee(cmd)?;
    let counted = tap_tally(&out.stdout);
    *tally += counted;
    eprintln!(
        "counted {} passed, {} failed",
        counted.passed, counted.failed
    );
    if !out.status.success() {
        bail!("`{}` failed ({})", run::describe(cmd), out.status);
    }
    if counted.total() == 0 {
        bail!("`{}` ran no test", run::describe(cmd));
    }
    Ok(())
}

/// `*.js` and `*.mjs` under `dir`, skipping installed and generated folders.
fn collect_js(dir: &Path, into: &mut Vec<PathBuf>) -> Result<()> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Ok(());
    };
    for entry in entries {
        let path = entry
            .with_context(|| format!("listing {}", dir.display()))?
            .path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if path.is_dir() {
            if !matches!(name, "node_modules" | "dist") {
                collect_js(&path, into)?;
            }
        } else if name.ends_with(".js") || name.ends_with(".mjs") {
            into.push(path);
        }
    }
    Ok(())
}

fn is_node_test(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.ends_with(".test.mjs") || n.ends_with(".test.js"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_tests_are_recognised_by_suffix() {
        assert!(is_node_test(Path::new("www/a/app.test.mjs")));
        assert!(is_node_test(Path::new("pkg/index.test.js")));
        assert!(!is_node_test(Path::new("pkg/index.mjs")));
        assert!(!is_node_test(Path::new("pkg/test.mjs")));
    }

    #[test]
    fn collect_js_skips_dist_and_node_modules() {
        let root = std::env::temp_dir().join(format!("xtask-collect-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        for dir in ["a/node_modules/x", "a/dist", "a/src"] {
            fs::create_dir_all(root.join(dir)).unwrap();
        }
        for file in [
            "a/node_modules/x/i.js",
            "a/dist/gen.js",
            "a/src/keep.mjs",
            "a/index.js",
            "a/readme.md",
        ] {
            fs::write(root.join(file), "").unwrap();
        }
        let mut found = Vec::new();
        collect_js(&root, &mut found).unwrap();
        found.sort();
        let _ = fs::remove_dir_all(&root);
        assert_eq!(
            found,
            vec![root.join("a/index.js"), root.join("a/src/keep.mjs")]
        );
    }
}
