//! `cargo xtask bench`: measures the budgets of the browser SDK and the web demo and writes them
//! to `BENCHMARKS.md`, with the command and the machine.
//!
//! * the SDK package (`cargo xtask pkg`): wasm + JS (the entry, which bundles the glue and its
//!   snippets), gzip -9 (budget 150 KB);
//! * SDK cold start in headless Chromium, 5 fresh profiles on loopback: module fetch +
//!   instantiate + opening IndexedDB until `getSDK().ready` (budget: median ≤ 100 ms, the page
//!   opened once the browser has finished its own start-up; the median with the page opened the
//!   moment the browser launched is written beside it) and the longest main-thread task during
//!   init (budget ≤ 50 ms) — `tests/sdk-e2e/bench.mjs`;
//! * the web demo's release bundle (wasm + JS with the glue's snippets + CSS + HTML), gzip -9
//!   (budget 400 KB).
//!
//! Numbers come from this one run on this machine; nothing is compared with a stored value.
//! The command fails when a budget is missed (after writing the file).

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::repo::Repo;
use crate::{demo, pkg, run, tools};

const KB: f64 = 1000.0;
const SDK_BUDGET_BYTES: u64 = 150_000;
const COLD_START_BUDGET_MS: f64 = 100.0;
const LONG_TASK_BUDGET_MS: f64 = 50.0;
const DEMO_BUDGET_BYTES: u64 = 400_000;
/// The cold-start script, run by node.
const COLD_START_SCRIPT: &str = "tests/sdk-e2e/bench.mjs";

struct Row {
    what: String,
    measured: String,
    budget: String,
    ok: bool,
}

pub fn main(repo: &Repo, args: &[String]) -> Result<()> {
    if let Some(extra) = args.first() {
        bail!("xtask bench takes no arguments (got `{extra}`)");
    }
    let mut rows = Vec::new();

    eprintln!("\n==> [1/3] the SDK package");
    pkg::main(repo, &[])?;
    let dist = repo.path("pkg/dist");
    let wasm = gzip_total(&files_with(&dist, ".wasm")?)?;
    let mut glue_files = files_with(&dist, ".js")?;
    let entry = repo.path("pkg/index.js");
    if entry.is_file() {
        glue_files.push(entry);
    }
    let glue = gzip_total(&glue_files)?;
    let sdk = wasm + glue;
    rows.push(Row {
        what: "SDK: wasm + JS glue (gzip -9)".into(),
        measured: format!(
            "{:.1} KB (wasm {:.1} KB, glue {:.1} KB)",
            sdk as f64 / KB,
            wasm as f64 / KB,
            glue as f64 / KB
        ),
        budget: format!("≤ {:.0} KB", SDK_BUDGET_BYTES as f64 / KB),
        ok: sdk <= SDK_BUDGET_BYTES,
    });

    eprintln!("\n==> [2/3] SDK cold start in headless Chromium (5 fresh profiles)");
    let script = repo.path(COLD_START_SCRIPT);
    if !script.is_file() {
        bail!("{} is missing", script.display());
    }
    tools::ensure_node()?;
    tools::ensure_chromium(repo)?;
    tools::npm_ci(&repo.root)?;
    let out = run::read(
        repo.command("node")
            .arg(&script)
            .env("CHROMIUM", which_chromium()),
    )?;
    let json = out
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with('{'))
        .with_context(|| format!("{COLD_START_SCRIPT} printed no JSON result:\n{out}"))?;
    let runs = number_list(json, "runs")?;
    let median = number(json, "median_ms")?;
    let launch_runs = number_list(json, "launch_runs")?;
    let launch_median = number(json, "launch_median_ms")?;
    let long_task = number(json, "max_long_task_ms")?;
    // Where the settled runs' time goes, from the page asking for the package (medians).
    let imported = number(json, "imported")?;
    let ready = number(json, "ready")?;
    let database = number(json, "databaseOpen")?;
    rows.push(Row {
        what: "SDK cold start: fetch + instantiate + IndexedDB open → `getSDK().ready` \
               (median of 5 fresh Chromium profiles, loopback; the page opens once the browser \
               has finished starting, and, for comparison, at once in a just-launched browser)"
            .into(),
        measured: format!(
            "{median:.1} ms (runs: {}); just launched: {launch_median:.1} ms (runs: {}); \
             median steps: package imported {imported:.1} ms, wasm instantiated {ready:.1} ms, \
             database open {database:.1} ms",
            list(&runs),
            list(&launch_runs)
        ),
        budget: format!("≤ {COLD_START_BUDGET_MS:.0} ms"),
        ok: median <= COLD_START_BUDGET_MS,
    });
    rows.push(Row {
        what: "SDK init: longest main-thread task (PerformanceObserver `longtask`, all 10 runs)"
            .into(),
        measured: if long_task > 0.0 {
            format!("{long_task:.0} ms")
        } else {
            "none over 50 ms".into()
        },
        budget: format!("≤ {LONG_TASK_BUDGET_MS:.0} ms"),
        ok: long_task <= LONG_TASK_BUDGET_MS,
    });

    eprintln!("\n==> [3/3] the web demo's release bundle");
    let demo_dist = repo.target_dir().join("demo-dist");
    demo::build_web_demo(repo, &demo_dist)?;
    let mut demo_files = Vec::new();
    for suffix in [".wasm", ".js", ".css", ".html"] {
        demo_files.extend(files_with(&demo_dist, suffix)?);
    }
    let demo_total = gzip_total(&demo_files)?;
    rows.push(Row {
        what: "Web demo: app + SDK + glue + CSS + HTML (gzip -9)".into(),
        measured: format!("{:.1} KB", demo_total as f64 / KB),
        budget: format!("≤ {:.0} KB", DEMO_BUDGET_BYTES as f64 / KB),
        ok: demo_total <= DEMO_BUDGET_BYTES,
    });

    let report = render(&rows, &machine());
    let path = repo.path("BENCHMARKS.md");
    fs::write(&path, &report).with_context(|| format!("writing {}", path.display()))?;
    println!("{report}");
    eprintln!("wrote {}", path.display());
    let missed: Vec<&str> = rows
        .iter()
        .filter(|r| !r.ok)
        .map(|r| r.what.as_str())
        .collect();
    if !missed.is_empty() {
        bail!("budget missed: {}", missed.join("; "));
    }
    Ok(())
}

/// `1.0, 2.5`: numbers with one decimal.
fn list(numbers: &[f64]) -> String {
    numbers
        .iter()
        .map(|n| format!("{n:.1}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn render(rows: &[Row], machine: &str) -> String {
    let mut s = String::from("# Benchmarks\n\n");
    s.push_str(
        "Written by `cargo xtask bench` (see `xtask/src/bench.rs`); every number below comes \
         from the same run. Sizes are gzip -9 of the files as served. Timings are measured in \
         headless Chromium against a loopback static server; they vary with the machine's load, \
         so they are medians, never single runs.\n\n",
    );
    s.push_str(&format!("Machine: {machine}\n\n"));
    s.push_str("| What | Measured | Budget | |\n|---|---|---|---|\n");
    for r in rows {
        s.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            r.what,
            r.measured,
            r.budget,
            if r.ok { "ok" } else { "**over**" }
        ));
    }
    s
}

fn machine() -> String {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get().to_string())
        .unwrap_or_else(|_| "?".into());
    let chromium = run::probe(which_chromium(), &["--version"]).unwrap_or_else(|| "?".into());
    let date = run::probe("date", &["-u", "+%Y-%m-%d"]).unwrap_or_default();
    format!(
        "{cores} cores, {} {}; {}; measured {}",
        std::env::consts::OS,
        std::env::consts::ARCH,
        chromium.trim(),
        date.trim()
    )
}

fn which_chromium() -> String {
    std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into())
}

/// The files under `dir` (and its subdirectories, such as the glue's `snippets/`) whose names
/// end with `suffix`.
fn files_with(dir: &Path, suffix: &str) -> Result<Vec<PathBuf>> {
    let mut out = pkg::files_under(dir)?;
    out.retain(|path| path.to_string_lossy().ends_with(suffix));
    Ok(out)
}

fn gzip_total(files: &[PathBuf]) -> Result<u64> {
    let mut total = 0;
    for file in files {
        let (_, gz) = pkg::size(file)?;
        total += gz.with_context(|| format!("gzip is needed to measure {}", file.display()))?;
    }
    Ok(total)
}

/// The number after `"key":` in a flat JSON object.
fn number(json: &str, key: &str) -> Result<f64> {
    let at = json
        .find(&format!("\"{key}\""))
        .with_context(|| format!("no `{key}` in {json}"))?;
    let rest = json[at + key.len() + 2..]
        .trim_start()
        .trim_start_matches(':');
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == ' '))
        .unwrap_or(rest.len());
    rest[..end]
        .trim()
        .parse()
        .with_context(|| format!("`{key}` is not a number in {json}"))
}

/// The numbers of the array after `"key":`.
fn number_list(json: &str, key: &str) -> Result<Vec<f64>> {
    let at = json
        .find(&format!("\"{key}\""))
        .with_context(|| format!("no `{key}` in {json}"))?;
    let rest = &json[at..];
    let open = rest.find('[').context("no array")?;
    let close = rest.find(']').context("unclosed array")?;
    rest[open + 1..close]
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| {
            s.trim()
                .parse::<f64>()
                .with_context(|| format!("`{s}` is not a number"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_cold_start_result() {
        let json = r#"{"runs":[41.5, 38.2,50],"median_ms":41.5,"max_long_task_ms":0,"wasm_gzip_bytes":1,"launch_runs":[9,8],"launch_median_ms":8.5}"#;
        assert_eq!(number_list(json, "runs").unwrap(), vec![41.5, 38.2, 50.0]);
        assert_eq!(number(json, "median_ms").unwrap(), 41.5);
        assert_eq!(number_list(json, "launch_runs").unwrap(), vec![9.0, 8.0]);
        assert_eq!(number(json, "launch_median_ms").unwrap(), 8.5);
        assert_eq!(number(json, "max_long_task_ms").unwrap(), 0.0);
        assert!(number(json, "missing").is_err());
    }

    #[test]
    fn renders_over_budget_rows() {
        let rows = [Row {
            what: "x".into(),
            measured: "2".into(),
            budget: "≤ 1".into(),
            ok: false,
        }];
        let text = render(&rows, "m");
        assert!(text.contains("| x | 2 | ≤ 1 | **over** |"), "{text}");
    }
}
