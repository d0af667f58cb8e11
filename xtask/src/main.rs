//! `cargo xtask <command>`: the single entry point for checking, packaging and fuzzing Chorus.
//!
//! This file only dispatches. Each command lives in its own module; tools a command needs are
//! installed by `tools` on first use, so a fresh machine needs nothing but rustup, Node.js and
//! (for the browser tests) permission to `apt-get install` Chromium.

mod bench;
mod demo;
mod fuzz;
mod imports;
mod order;
mod pkg;
mod repo;
mod run;
mod server;
mod summary;
mod test;
mod tools;

use std::io::Write;
use std::process::ExitCode;

use repo::Repo;

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  test                 every check, in order, stopping at the first failing layer:
                       format, clippy (native), clippy (wasm32), native tests,
                       browser tests (headless Chromium), official SDK e2e
                       (OpenIM's web SDK against chorus-server), node checks;
                       the last line is `tests: N passed, N failed`
  pkg                  build the browser SDK into pkg/dist/ (wasm-bindgen, terser, wasm-opt)
                       and print its sizes
  fuzz [--seconds N]   run every fuzz target of proto/fuzz/ for N seconds each (default 60;
                       needs a nightly toolchain)
  demo [--port N] [--fresh]
                       build the server and the web demo (release) and serve both on
                       http://127.0.0.1:N/ (default 8080) with seeded demo data kept in
                       target/demo-data/ (--fresh starts over); Ctrl-C stops it
  bench                measure the SDK's size, cold start and init long tasks and the web
                       demo's bundle size against their budgets; writes BENCHMARKS.md

Missing tools (wasm32 target, wasm-bindgen-cli, cargo-fuzz, Chromium, npm packages) are
installed on first use into tools/, node_modules/ or the system.";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let repo = Repo::locate();
    let Some((command, rest)) = args.split_first() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    match command.as_str() {
        "test" => test::main(&repo, rest),
        "pkg" => report(pkg::main(&repo, rest)),
        "fuzz" => report(fuzz::main(&repo, rest)),
        "demo" => report(demo::main(&repo, rest)),
        "bench" => report(bench::main(&repo, rest)),
        "help" | "-h" | "--help" => {
            // Ignore a closed stdout (`cargo xtask help | head`) rather than panic.
            let _ = writeln!(std::io::stdout(), "{USAGE}");
            ExitCode::SUCCESS
        }
        other => {
            eprintln!("xtask: unknown command `{other}`\n\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn report(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
