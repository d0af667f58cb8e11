//! `cargo xtask demo [--port N] [--fresh]`: builds the server and the web demo in release mode
//! and serves both on one local port, with seeded demo data.
//!
//! Steps: the server (`cargo build --release -p chorus-server`); the web demo (release wasm32
//! build of `chorus-web-demo` alone, as `pkg` builds the SDK alone → `wasm-bindgen --target web`
//! → glue minified by terser, and npm `wasm-opt` with `pkg::WASM_OPT_FLAGS` followed by
//! `pkg::reorder_functions` when available → import and export names shortened by
//! `pkg::shorten_names` → `index.html`) into `target/demo-dist/`; the data directory
//! `target/demo-data/` (`--fresh` wipes it); then the server in single-port mode with
//! `--seed-demo`. On Unix the server replaces this process, so Ctrl-C (and any other signal)
//! reaches it directly and it shuts down gracefully. Writes nothing outside `target/`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::repo::{Repo, WASM_TARGET};
use crate::{pkg, run, tools};

/// The web demo package, built for the browser on its own (one `-p` set per build).
const WEB_DEMO: &str = "chorus-web-demo";
/// File stem of the wasm-bindgen output in `target/demo-dist/`.
const OUT_NAME: &str = "chorus_web_demo";
const DEFAULT_PORT: u16 = 8080;
const STEPS: usize = 4;

#[derive(Debug, PartialEq, Eq)]
struct Options {
    port: u16,
    fresh: bool,
}

fn parse(args: &[String]) -> Result<Options> {
    let mut opts = Options {
        port: DEFAULT_PORT,
        fresh: false,
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--fresh" => opts.fresh = true,
            "--port" => {
                let value = it.next().context("--port needs a value")?;
                opts.port = value
                    .parse()
                    .with_context(|| format!("--port {value:?} is not a port number"))?;
            }
            other => bail!("xtask demo: unknown argument `{other}` (takes --port N and --fresh)"),
        }
    }
    Ok(opts)
}

fn step(n: usize, what: &str) {
    eprintln!("\n==> [{n}/{STEPS}] {what}");
}

pub fn main(repo: &Repo, args: &[String]) -> Result<()> {
    let opts = parse(args)?;
    let addr = format!("127.0.0.1:{}", opts.port);
    // Fail before minutes of building if the port is taken.
    drop(std::net::TcpListener::bind(&addr).with_context(|| {
        format!("{addr} is not free (is a demo already running?); choose another with --port N")
    })?);

    step(1, "building chorus-server (release)");
    run::run(
        repo.cargo()
            .args(["build", "--release", "-p", "chorus-server"]),
    )?;
    let server = repo
        .target_dir()
        .join("release")
        .join(format!("chorus-server{}", std::env::consts::EXE_SUFFIX));
    if !server.is_file() {
        bail!("the build did not produce {}", server.display());
    }

    let dist = repo.target_dir().join("demo-dist");
    if repo.path("web-demo/Cargo.toml").is_file() {
        step(2, "building the web demo (release wasm32)");
        build_web_demo(repo, &dist)?;
    } else {
        step(2, "no web-demo/ crate: serving the server alone");
        fs::create_dir_all(&dist)?;
    }

    let data = repo.target_dir().join("demo-data");
    if opts.fresh && data.exists() {
        step(3, &format!("wiping {} (--fresh)", data.display()));
        fs::remove_dir_all(&data).with_context(|| format!("removing {}", data.display()))?;
    } else {
        step(
            3,
            &format!(
                "demo data in {} ({})",
                data.display(),
                if data.exists() {
                    "kept; --fresh starts over"
                } else {
                    "new"
                }
            ),
        );
    }

    step(4, "starting chorus-server with seeded demo data");
    let mut cmd = Command::new(&server);
    cmd.current_dir(&repo.root)
        .arg("--seed-demo")
        .arg("--static")
        .arg(&dist)
        .arg("--data")
        .arg(&data)
        .args(["--single", &addr]);
    eprintln!("$ {}", run::describe(&cmd));
    println!();
    println!("    Chorus demo: http://{addr}/");
    println!();
    println!(
        "    Sign in as alice, bob, carol, dave, erin or frank: in demo mode the server hands"
    );
    println!("    out tokens without a password. Ctrl-C stops the server.");
    println!();
    serve(cmd)
}

/// Runs the server in place of this process (Unix), so that signals reach it directly.
#[cfg(unix)]
fn serve(mut cmd: Command) -> Result<()> {
    use std::os::unix::process::CommandExt as _;
    let err = cmd.exec();
    Err(err).with_context(|| format!("starting `{}`", run::describe(&cmd)))
}

/// Elsewhere the console delivers Ctrl-C to both processes; wait for the server.
#[cfg(not(unix))]
fn serve(mut cmd: Command) -> Result<()> {
    run::run(&mut cmd)
}

/// Release wasm of the web demo → `dist/` with its JS glue and an `index.html`.
pub fn build_web_demo(repo: &Repo, dist: &Path) -> Result<()> {
    tools::ensure_wasm_target(repo)?;
    tools::ensure_wasm_bindgen(repo)?;
    run::run(repo.cargo().args([
        "build",
        "--release",
        "--target",
        WASM_TARGET,
        "-p",
        WEB_DEMO,
    ]))?;
    let built = repo
        .target_dir()
        .join(WASM_TARGET)
        .join("release")
        .join(format!("{WEB_DEMO}.wasm"));
    if !built.is_file() {
        bail!("the build did not produce {}", built.display());
    }
    if dist.exists() {
        fs::remove_dir_all(dist).with_context(|| format!("removing {}", dist.display()))?;
    }
    run::run(
        repo.command(repo.tools_bin().join("wasm-bindgen"))
            .args(["--target", "web", "--out-name", OUT_NAME, "--out-dir"])
            .arg(dist)
            .arg(&built),
    )?;
    let wasm = dist.join(format!("{OUT_NAME}_bg.wasm"));
    if !wasm.is_file() {
        bail!("wasm-bindgen did not write {}", wasm.display());
    }
    pkg::minify_js(repo, &dist.join(format!("{OUT_NAME}.js")))?;
    pkg::minify_snippets(repo, dist)?;
    match pkg::npm_tool(repo, "wasm-opt")? {
        Some(wasm_opt) => {
            pkg::run_wasm_opt(repo, &wasm_opt, pkg::WASM_OPT_FLAGS, &wasm, &wasm)?;
            pkg::reorder_functions(repo, &wasm_opt, &wasm)?;
        }
        None => eprintln!(
            "warning: wasm-opt skipped (needs Node.js and `npm ci` for the npm binaryen package); \
             the demo works but is larger"
        ),
    }
    pkg::shorten_names(&wasm, &dist.join(format!("{OUT_NAME}.js")))?;
    let static_dir = repo.path("web-demo/static");
    let copied = copy_static(&static_dir, dist)?;
    let index = dist.join("index.html");
    if !index.is_file() {
        fs::write(&index, index_html(&copied))
            .with_context(|| format!("writing {}", index.display()))?;
    }
    let (raw, gz) = pkg::size(&wasm)?;
    eprintln!(
        "{}: {raw} bytes ({} gzip -9)",
        wasm.display(),
        gz.map_or_else(|| "n/a".to_owned(), |g| g.to_string())
    );
    Ok(())
}

/// Copies the files of `web-demo/static/` (stylesheets, images, an own `index.html`) next to
/// the wasm; returns their names.
fn copy_static(from: &Path, to: &Path) -> Result<Vec<String>> {
    if !from.is_dir() {
        return Ok(Vec::new());
    }
    let mut names = Vec::new();
    for entry in fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let path: PathBuf = entry?.path();
        if !path.is_file() {
            continue;
        }
        let name = path.file_name().unwrap_or_default().to_owned();
        fs::copy(&path, to.join(&name)).with_context(|| format!("copying {}", path.display()))?;
        names.push(name.to_string_lossy().into_owned());
    }
    names.sort();
    Ok(names)
}

/// The page that loads the demo; links the stylesheets among `assets`. The empty icon keeps
/// the browser from requesting `/favicon.ico`.
fn index_html(assets: &[String]) -> String {
    let styles: String = assets
        .iter()
        .filter(|name| name.ends_with(".css"))
        .map(|name| format!("  <link rel=\"stylesheet\" href=\"./{name}\">\n"))
        .collect();
    format!(
        "<!doctype html>\n\
         <html lang=\"en\">\n\
         <head>\n  \
         <meta charset=\"utf-8\">\n  \
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n  \
         <title>Chorus demo</title>\n  \
         <link rel=\"icon\" href=\"data:,\">\n\
         {styles}\
         </head>\n\
         <body>\n  \
         <script type=\"module\">\n    \
         import init from \"./{OUT_NAME}.js\";\n    \
         init();\n  \
         </script>\n\
         </body>\n\
         </html>\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn options() {
        assert_eq!(
            parse(&[]).unwrap(),
            Options {
                port: 8080,
                fresh: false
            }
        );
        assert_eq!(
            parse(&args("--fresh --port 9000")).unwrap(),
            Options {
                port: 9000,
                fresh: true
            }
        );
        assert!(parse(&args("--port")).is_err());
        assert!(parse(&args("--port 70000")).is_err());
        assert!(parse(&args("--bogus")).is_err());
    }

    #[test]
    fn index_loads_the_module_and_the_stylesheets() {
        let html = index_html(&["app.css".to_owned(), "logo.png".to_owned()]);
        assert!(html.contains("<link rel=\"icon\" href=\"data:,\">"));
        assert!(html.contains("import init from \"./chorus_web_demo.js\";"));
        assert!(html.contains("<link rel=\"stylesheet\" href=\"./app.css\">"));
        assert!(!html.contains("logo.png"));
    }
}
