//! `cargo xtask pkg`: the browser SDK in `pkg/`: the package's entry `pkg/index.js`, one ES
//! module holding the API wrapper, the wasm-bindgen glue and the crate's JS snippets, and the
//! engine `pkg/dist/chorus_sdk_wasm_bg.wasm` (both git-ignored), which `pkg/package.json` publishes.
//!
//! Pipeline: cargo release build for wasm32 → `wasm-bindgen --target web
//! --omit-default-module-path --no-typescript` (the entry always hands the glue the compiled
//! module, and `pkg/index.d.ts` types the package) → the glue and the crate's JS snippets
//! minified by terser ([`minify_js`]) → `wasm-opt` with [`WASM_OPT_FLAGS`] (npm binaryen, when
//! Node is available) → functions reordered for gzip ([`reorder_functions`]) → import and export
//! names shortened in the module and its glue ([`shorten_names`]) → the entry's source
//! `pkg/src/index.js`, the glue and the snippets (e.g. the IndexedDB module) bundled into
//! `pkg/index.js` by esbuild and minified again ([`bundle_entry`]) → size report. One file
//! instead of four: the browser fetches one module, and gzip sees the code of all of them at
//! once. Without Node.js the glue and snippets stay in `pkg/dist/`, where the entry imports
//! them, and lose only comments and indentation.
//! Writes nothing but `pkg/dist/`, `pkg/index.js` and `target/`.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::repo::{Repo, SDK, WASM_TARGET};
use crate::{imports, order, run, tools};

pub fn main(repo: &Repo, args: &[String]) -> Result<()> {
    if let Some(extra) = args.first() {
        bail!("xtask pkg takes no arguments (got `{extra}`)");
    }
    tools::ensure_wasm_target(repo)?;
    tools::ensure_wasm_bindgen(repo)?;
    run::run(
        repo.cargo()
            .args(["build", "--release", "--target", WASM_TARGET, "-p", SDK]),
    )?;

    let built = repo
        .target_dir()
        .join(WASM_TARGET)
        .join("release")
        .join(format!("{}.wasm", SDK.replace('-', "_")));
    let dist = repo.path("pkg/dist");
    if dist.exists() {
        fs::remove_dir_all(&dist).with_context(|| format!("removing {}", dist.display()))?;
    }
    run::run(
        repo.command(repo.tools_bin().join("wasm-bindgen"))
            .args([
                "--target",
                "web",
                "--omit-default-module-path",
                "--no-typescript",
                "--out-dir",
            ])
            .arg(&dist)
            .arg(&built),
    )?;
    let wasm = dist.join(format!("{}_bg.wasm", SDK.replace('-', "_")));
    if !wasm.is_file() {
        bail!("wasm-bindgen did not write {}", wasm.display());
    }
    let glue = dist.join(format!("{}.js", SDK.replace('-', "_")));
    minify_js(repo, &glue)?;
    minify_snippets(repo, &dist)?;

    let mut sizes = vec![("cargo output".to_owned(), size(&built)?)];
    sizes.push(("after wasm-bindgen".to_owned(), size(&wasm)?));
    match npm_tool(repo, "wasm-opt")? {
        Some(wasm_opt) => {
            run_wasm_opt(repo, &wasm_opt, WASM_OPT_FLAGS, &wasm, &wasm)?;
            sizes.push(("after wasm-opt".to_owned(), size(&wasm)?));
            reorder_functions(repo, &wasm_opt, &wasm)?;
            sizes.push(("after reordering".to_owned(), size(&wasm)?));
        }
        None => eprintln!(
            "warning: wasm-opt skipped (needs Node.js and `npm ci` for the npm binaryen package); \
             the module works but is larger"
        ),
    }

    shorten_names(&wasm, &glue)?;
    sizes.push(("short names".to_owned(), size(&wasm)?));
    let entry = repo.path("pkg/index.js");
    bundle_entry(repo, &dist, &glue, &entry)?;

    println!("\n{} sizes (bytes):", wasm.display());
    println!("  {:<20} {:>10} {:>10}", "stage", "raw", "gzip -9");
    for (stage, (raw, gz)) in &sizes {
        println!("  {stage:<20} {raw:>10} {:>10}", show(*gz));
    }
    println!("\n{}:", dist.display());
    for file in files_under(&dist)? {
        let (raw, gz) = size(&file)?;
        let name = file.strip_prefix(&dist).unwrap_or(&file).to_string_lossy();
        println!("  {name:<28} {raw:>10} {:>10}", show(gz));
    }
    let (raw, gz) = size(&entry)?;
    println!("{}: {raw} bytes, gzip -9 {}", entry.display(), show(gz));
    Ok(())
}

/// Writes the package entry `entry` from `pkg/src/index.js`, which imports the glue `glue` and
/// `pkg/src/official.js` (copied to `dist/official.js`, where the entry's relative path finds
/// it). With esbuild (npm) the entry, the (minified) glue, the glue's snippets and
/// `official.js` become one minified ES module, and they leave `dist`; without it the entry is
/// minified alone and imports them.
fn bundle_entry(repo: &Repo, dist: &Path, glue: &Path, entry: &Path) -> Result<()> {
    fs::copy(repo.path("pkg/src/index.js"), entry).context("copying pkg/src/index.js")?;
    let official = dist.join("official.js");
    fs::copy(repo.path("pkg/src/official.js"), &official).context("copying pkg/src/official.js")?;
    let Some(esbuild) = npm_tool(repo, "esbuild")? else {
        eprintln!(
            "warning: esbuild unavailable (needs Node.js and `npm ci`); the glue and its snippets \
             stay separate files in {}",
            dist.display()
        );
        minify_js(repo, &official)?;
        return minify_js(repo, entry);
    };
    // The copy sits where the source's relative paths (`./dist/…`) resolve, so the bundle
    // overwrites it.
    run::run(
        repo.command(esbuild)
            .arg(entry)
            .args([
                "--bundle",
                "--format=esm",
                "--log-level=warning",
                "--allow-overwrite",
            ])
            .arg(format!("--outfile={}", entry.display())),
    )?;
    minify_js(repo, entry)?;
    let bundled =
        fs::read_to_string(entry).with_context(|| format!("reading {}", entry.display()))?;
    if [
        "./dist/chorus_sdk_wasm.js",
        "./dist/official.js",
        "snippets/",
    ]
    .iter()
    .any(|path| bundled.contains(path))
    {
        bail!(
            "{} still imports the glue: the bundle is incomplete",
            entry.display()
        );
    }
    for file in [glue, official.as_path()] {
        fs::remove_file(file).with_context(|| format!("removing {}", file.display()))?;
    }
    let snippets = dist.join("snippets");
    if snippets.is_dir() {
        fs::remove_dir_all(&snippets)
            .with_context(|| format!("removing {}", snippets.display()))?;
    }
    Ok(())
}

/// The settings of every wasm-opt run ([`run_wasm_opt`]). `--low-memory-unused`: the first
/// kilobyte of linear memory holds nothing (Rust puts the stack's far end there), so constant
/// offsets fold into loads and stores. The rest tune the passes for the gzip'd size rather than
/// the raw one. Memory packing is skipped: it cuts the data into a segment per run of non-zero bytes (empty `Vec`s in constants leave one
/// such byte every few words), and the headers of a hundred and more segments compress worse
/// than the zeros they leave out (about 0.6 KB gzip). A function with one caller is inlined only
/// when it is tiny (`--one-caller-inline-max-function-size`; LLVM has inlined what pays already):
/// merging large callees into their callers makes long functions of unique code, which gzip
/// compresses about 6 KB worse than the same code left in separate, similar functions. For the
/// same reason `local-cse` and `simplify-locals` are skipped (about 1.5 KB gzip): they keep
/// values in new locals instead of reading them again, which makes fewer bytes but fewer repeated
/// byte sequences, so a larger module after gzip.
const WASM_OPT_SETTINGS: &[&str] = &[
    "--low-memory-unused",
    "--skip-pass=memory-packing",
    "--one-caller-inline-max-function-size=8",
    "--skip-pass=local-cse",
    "--skip-pass=simplify-locals",
];

/// The wasm-opt passes of the SDK and the demo: `-Oz`, run twice around `--flatten --rereloop`
/// (control flow rebuilt from flat code, which the second `-Oz` shrinks further). Together 5–7 KB
/// gzip smaller than `-Oz` alone, for tens of seconds more build time.
pub const WASM_OPT_FLAGS: &[&str] = &["-Oz", "--flatten", "--rereloop", "-Oz"];

/// The second wasm-opt run, over the module [`order::name_for_order`] named: functions move into
/// the named order, then `-Oz` once more (reading binaryen's own output back costs a few hundred
/// bytes of local declarations, which this pass wins back), and the `producers` and
/// `target_features` sections go (tool metadata that browsers ignore).
pub const REORDER_FLAGS: &[&str] = &[
    "--reorder-functions-by-name",
    "-Oz",
    "--strip-producers",
    "--strip-target-features",
];

/// Runs `wasm_opt` with [`WASM_OPT_SETTINGS`] and `passes` over `input`, writing `output` (which
/// may be `input`).
pub fn run_wasm_opt(
    repo: &Repo,
    wasm_opt: &Path,
    passes: &[&str],
    input: &Path,
    output: &Path,
) -> Result<()> {
    run::run(
        repo.command(wasm_opt)
            .args(WASM_OPT_SETTINGS)
            .args(passes)
            .arg(input)
            .arg("-o")
            .arg(output),
    )
}

/// Puts the functions of the optimised module `wasm` in an order that compresses better (see
/// [`order`]), in place.
pub fn reorder_functions(repo: &Repo, wasm_opt: &Path, wasm: &Path) -> Result<()> {
    let module = fs::read(wasm).with_context(|| format!("reading {}", wasm.display()))?;
    let named = order::name_for_order(&module)
        .with_context(|| format!("choosing a function order for {}", wasm.display()))?;
    let staged = wasm.with_extension("named.wasm");
    fs::write(&staged, named).with_context(|| format!("writing {}", staged.display()))?;
    run_wasm_opt(repo, wasm_opt, REORDER_FLAGS, &staged, wasm)?;
    fs::remove_file(&staged).with_context(|| format!("removing {}", staged.display()))
}

/// Renames the imports and exports between the wasm-bindgen output `wasm` and its glue `glue` to
/// short names in both files, in place (see [`imports`]).
pub fn shorten_names(wasm: &Path, glue: &Path) -> Result<()> {
    let stem = wasm
        .file_stem()
        .and_then(|s| s.to_str())
        .with_context(|| format!("{} has no file name", wasm.display()))?;
    let module = fs::read(wasm).with_context(|| format!("reading {}", wasm.display()))?;
    let code = fs::read_to_string(glue).with_context(|| format!("reading {}", glue.display()))?;
    let (module, code) =
        imports::shorten(&module, &code, &format!("./{stem}.js")).with_context(|| {
            format!(
                "shortening the import and export names of {}",
                wasm.display()
            )
        })?;
    fs::write(wasm, module).with_context(|| format!("writing {}", wasm.display()))?;
    fs::write(glue, code).with_context(|| format!("writing {}", glue.display()))
}

/// `node_modules/.bin/<name>` (e.g. `wasm-opt` from the npm binaryen package), after `npm ci` if
/// needed; `None` when Node.js is not installed or the package does not provide it.
pub fn npm_tool(repo: &Repo, name: &str) -> Result<Option<PathBuf>> {
    if tools::ensure_node().is_err() {
        return Ok(None);
    }
    tools::npm_ci(&repo.root)?;
    let path = repo.path("node_modules/.bin").join(name);
    Ok(path.is_file().then_some(path))
}

/// The files under `dir` and its subdirectories, sorted.
pub fn files_under(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))? {
            let path = entry?.path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

/// Minifies the JS snippets that wasm-bindgen copied from the crates into `dist/snippets/`
/// (modules imported with `#[wasm_bindgen(module = ...)]`), if any.
pub fn minify_snippets(repo: &Repo, dist: &Path) -> Result<()> {
    let snippets = dist.join("snippets");
    if !snippets.is_dir() {
        return Ok(());
    }
    for file in files_under(&snippets)? {
        if file.extension().is_some_and(|ext| ext == "js") {
            minify_js(repo, &file)?;
        }
    }
    Ok(())
}

/// Minifies the ES module at `path` in place with terser (npm, `--module --compress --mangle`:
/// exported names stay, everything else may be renamed). Without Node.js the file keeps its code
/// and loses only comments and indentation ([`compact_glue`]).
pub fn minify_js(repo: &Repo, path: &Path) -> Result<()> {
    if let Some(terser) = npm_tool(repo, "terser")? {
        return run::run(
            repo.command(terser)
                .arg(path)
                .args(["--module", "--compress", "--mangle", "--output"])
                .arg(path),
        );
    }
    eprintln!(
        "warning: terser unavailable (needs Node.js and `npm ci`); {} only loses comments",
        path.display()
    );
    let text = fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    match compact_glue(&text) {
        Some(compact) => {
            fs::write(path, compact).with_context(|| format!("writing {}", path.display()))
        }
        None => {
            eprintln!(
                "note: {} kept as wasm-bindgen wrote it (a line may continue a template literal)",
                path.display()
            );
            Ok(())
        }
    }
}

/// Raw size, and gzip -9 size when `gzip` is available.
pub fn size(path: &Path) -> Result<(u64, Option<u64>)> {
    let raw = fs::metadata(path)
        .with_context(|| format!("reading {}", path.display()))?
        .len();
    let gz = std::process::Command::new("gzip")
        .args(["-9", "-c"])
        .arg(path)
        .output()
        .ok()
        .filter(|out| out.status.success())
        .map(|out| out.stdout.len() as u64);
    Ok((raw, gz))
}

/// The wasm-bindgen glue without its comment lines, blank lines and indentation (what the
/// browser downloads and parses, about a sixth less after gzip). The first line's
/// `/* @ts-self-types=… */` stays. `None` when a line holds an odd number of backticks (a
/// template literal could span lines, and its text must not change) or code follows a comment
/// on its line.
pub fn compact_glue(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let mut in_doc = false;
    for (index, line) in text.lines().enumerate() {
        if line.matches('`').count() % 2 == 1 {
            return None;
        }
        let line = line.trim();
        if in_doc || (index > 0 && line.starts_with("/*")) {
            // A comment line, or the last one; code after a comment's end is left alone.
            in_doc = match line.find("*/") {
                None => true,
                Some(end) if end + 2 == line.len() => false,
                Some(_) => return None,
            };
            continue;
        }
        if line.is_empty() || line.starts_with("//") {
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    Some(out)
}

fn show(size: Option<u64>) -> String {
    size.map_or_else(|| "n/a".to_owned(), |s| s.to_string())
}

#[cfg(test)]
mod tests {
    use super::compact_glue;

    #[test]
    fn glue_loses_comments_and_indentation_but_not_code() {
        let glue = "/* @ts-self-types=\"./x.d.ts\" */\n\n/**\n * Doc.\n */\nexport class A {\n    \
                    // note\n    f(a) {\n        return `${a} // kept`; /* tail */\n    }\n}\n";
        assert_eq!(
            compact_glue(glue).as_deref(),
            Some(
                "/* @ts-self-types=\"./x.d.ts\" */\nexport class A {\nf(a) {\n\
                 return `${a} // kept`; /* tail */\n}\n}\n"
            )
        );
    }

    #[test]
    fn a_template_literal_over_lines_keeps_the_glue_as_is() {
        assert_eq!(compact_glue("const a = `one\n    two`;\n"), None);
    }

    #[test]
    fn code_after_a_comment_keeps_the_glue_as_is() {
        assert_eq!(compact_glue("x();\n/* a */ y();\n"), None);
        assert_eq!(compact_glue("x();\n/* a\n b */ y();\n"), None);
    }
}
