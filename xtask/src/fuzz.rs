//! `cargo xtask fuzz --seconds N`: every cargo-fuzz target of `proto/fuzz/` for N seconds each.
//!
//! Targets are the files of `proto/fuzz/fuzz_targets/`. Each run starts from the committed
//! seeds in `proto/fuzz/seeds/<target>/` and writes what it discovers to the git-ignored
//! `proto/fuzz/corpus/<target>/`, so the seeds are never modified. All targets run even after
//! a crash; the command fails if any of them crashed.

use std::fs;
use std::path::Path;

use anyhow::{bail, Context, Result};

use crate::repo::Repo;
use crate::{run, tools};

const DEFAULT_SECONDS: u64 = 60;

pub fn main(repo: &Repo, args: &[String]) -> Result<()> {
    let seconds = parse_seconds(args)?;
    let fuzz_dir = repo.path("proto/fuzz");
    let targets = list_targets(&fuzz_dir.join("fuzz_targets"))?;
    if targets.is_empty() {
        bail!(
            "no fuzz targets in {}",
            fuzz_dir.join("fuzz_targets").display()
        );
    }
    tools::ensure_nightly(repo)?;
    tools::ensure_cargo_fuzz(repo)?;

    let mut crashed = Vec::new();
    for target in &targets {
        eprintln!("\n==> fuzzing {target} for {seconds} s");
        let corpus = fuzz_dir.join("corpus").join(target);
        fs::create_dir_all(&corpus).with_context(|| format!("creating {}", corpus.display()))?;
        let seeds = fuzz_dir.join("seeds").join(target);
        let mut cmd = repo.cargo();
        // Run from proto/, whose `fuzz/` directory cargo-fuzz finds by convention.
        cmd.current_dir(repo.path("proto"))
            .env("PATH", repo.path_env())
            .args(["+nightly", "fuzz", "run", target.as_str()])
            .arg(&corpus);
        if seeds.is_dir() {
            cmd.arg(&seeds);
        } else {
            eprintln!("warning: no seeds for {target} in {}", seeds.display());
        }
        cmd.arg("--").arg(format!("-max_total_time={seconds}"));
        if let Err(err) = run::run(&mut cmd) {
            eprintln!("error: {err:#}");
            crashed.push(target.clone());
        }
    }
    if !crashed.is_empty() {
        bail!(
            "fuzzing failed for {}; crashing inputs are in {}",
            crashed.join(", "),
            fuzz_dir.join("artifacts").display()
        );
    }
    eprintln!("\nno crash in {} targets ({seconds} s each)", targets.len());
    Ok(())
}

/// `--seconds N` (or `--seconds=N`); defaults to [`DEFAULT_SECONDS`].
fn parse_seconds(args: &[String]) -> Result<u64> {
    let value = match args {
        [] => return Ok(DEFAULT_SECONDS),
        [flag, value] if flag == "--seconds" => value.as_str(),
        [flag] if flag.starts_with("--seconds=") => flag.trim_start_matches("--seconds="),
        _ => bail!("usage: cargo xtask fuzz [--seconds N]"),
    };
    match value.parse::<u64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => bail!("--seconds needs a positive whole number, got `{value}`"),
    }
}

/// Target names: the stems of the `.rs` files in `dir`, sorted.
fn list_targets(dir: &Path) -> Result<Vec<String>> {
    let entries = fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))?;
    let mut targets = Vec::new();
    for entry in entries {
        let path = entry?.path();
        if path.extension().is_some_and(|ext| ext == "rs") {
            if let Some(stem) = path.file_stem().and_then(|s| s.to_str()) {
                targets.push(stem.to_owned());
            }
        }
    }
    targets.sort();
    Ok(targets)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn seconds_are_parsed_or_defaulted() {
        assert_eq!(parse_seconds(&args(&[])).unwrap(), DEFAULT_SECONDS);
        assert_eq!(parse_seconds(&args(&["--seconds", "15"])).unwrap(), 15);
        assert_eq!(parse_seconds(&args(&["--seconds=7"])).unwrap(), 7);
        assert!(parse_seconds(&args(&["--seconds", "0"])).is_err());
        assert!(parse_seconds(&args(&["--seconds", "x"])).is_err());
        assert!(parse_seconds(&args(&["15"])).is_err());
    }

    #[test]
    fn targets_are_rs_stems_in_order() {
        let dir = std::env::temp_dir().join(format!("xtask-fuzz-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        for file in ["text_frame.rs", "gob_envelope.rs", "notes.md"] {
            fs::write(dir.join(file), "").unwrap();
        }
        let found = list_targets(&dir).unwrap();
        let _ = fs::remove_dir_all(&dir);
        assert_eq!(found, ["gob_envelope", "text_frame"]);
    }
}
