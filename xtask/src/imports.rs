//! Short import and export names for a wasm-bindgen module and its JS glue.
//!
//! wasm-bindgen names every function the module imports from its glue after the JS item and a
//! 16-digit hash (`__wbg_set_onversionchange_5687722d1886fc8b`), under the module name
//! `./<stem>_bg.js`, and the module's exports after what they serve (`__wbindgen_malloc`,
//! `chorussdk_call`, closure shims with hashes). The names appear twice in what a browser
//! downloads, once in the module and once in the glue, and the hashes do not compress.
//! [`shorten`] renames them consistently in both files (`a`, `b`, … `aa`, …), like a minifier
//! renames private identifiers: nothing outside the pair refers to these names. The export
//! `memory` keeps its name.
//!
//! The rewrite is checked rather than assumed: every renamed import must occur in the glue
//! exactly once, as a whole identifier, and so must the quoted module name; otherwise nothing is
//! changed and the error says which name broke the rule. Exports are replaced wherever the glue
//! names them as a whole identifier (the glue reads them as properties of the instance's
//! exports, some several times, some never).

use anyhow::{bail, Context, Result};

use crate::order::{import_kind, write_bytes, write_u32, Reader, EXPORT, HEADER, IMPORT};

/// The module name the glue's imports take instead of `./<stem>_bg.js`.
const SHORT_MODULE: &str = "a";

/// `wasm` and `glue` with the imports of module `module` (e.g. `./chorus_sdk_wasm_bg.js`)
/// renamed, that module name shortened, and every export but `memory` renamed.
pub fn shorten(wasm: &[u8], glue: &str, module: &str) -> Result<(Vec<u8>, String)> {
    if !wasm.starts_with(&HEADER) {
        bail!("not a wasm module (version 1)");
    }
    let mut out = HEADER.to_vec();
    let mut renamed: Vec<(String, String)> = Vec::new();
    let mut exports: Vec<(String, String)> = Vec::new();
    let mut reader = Reader::new(wasm, HEADER.len());
    while !reader.done() {
        let (id, payload, range) = reader.section()?;
        if id == EXPORT {
            out.push(EXPORT);
            write_bytes(&mut out, &rename_exports(payload, &mut exports)?)?;
            continue;
        }
        if id != IMPORT {
            out.extend_from_slice(&wasm[range]);
            continue;
        }
        let mut section = Vec::new();
        let mut entries = Reader::new(payload, 0);
        let count = entries.u32()?;
        write_u32(&mut section, count);
        for _ in 0..count {
            let from = entries.bytes()?;
            let field = entries.bytes()?;
            let desc_start = entries.pos;
            import_kind(&mut entries)?;
            let desc = &payload[desc_start..entries.pos];
            if from == module.as_bytes() {
                let field = std::str::from_utf8(field).context("an import name is not UTF-8")?;
                let short = short_name(renamed.len());
                renamed.push((field.to_owned(), short.clone()));
                write_bytes(&mut section, SHORT_MODULE.as_bytes())?;
                write_bytes(&mut section, short.as_bytes())?;
            } else {
                write_bytes(&mut section, from)?;
                write_bytes(&mut section, field)?;
            }
            section.extend_from_slice(desc);
        }
        if !entries.done() {
            bail!("the import section has bytes after its entries");
        }
        out.push(IMPORT);
        write_bytes(&mut out, &section)?;
    }
    if renamed.is_empty() {
        bail!("the module imports nothing from `{module}`");
    }

    let mut glue = replace_once(
        glue,
        &format!("\"{module}\""),
        &format!("\"{SHORT_MODULE}\""),
    )?;
    for (long, short) in &renamed {
        glue = replace_once(&glue, long, short)?;
    }
    for (long, short) in &exports {
        glue = replace_all(&glue, long, short);
    }
    Ok((out, glue))
}

/// An export section with every export but `memory` renamed; the names go to `renamed` as
/// (old, new).
fn rename_exports(payload: &[u8], renamed: &mut Vec<(String, String)>) -> Result<Vec<u8>> {
    let mut section = Vec::new();
    let mut entries = Reader::new(payload, 0);
    let count = entries.u32()?;
    write_u32(&mut section, count);
    for _ in 0..count {
        let name = std::str::from_utf8(entries.bytes()?).context("an export name is not UTF-8")?;
        let desc_start = entries.pos;
        entries.byte()?; // kind
        entries.u32()?; // index
        let name = match name {
            "memory" => name.to_owned(),
            _ => {
                let short = short_name(renamed.len());
                renamed.push((name.to_owned(), short.clone()));
                short
            }
        };
        write_bytes(&mut section, name.as_bytes())?;
        section.extend_from_slice(&payload[desc_start..entries.pos]);
    }
    if !entries.done() {
        bail!("the export section has bytes after its entries");
    }
    Ok(section)
}

/// The `index`th short name: `a`…`z`, `A`…`Z`, then `aa`, `ab`, ….
fn short_name(mut index: usize) -> String {
    const LETTERS: &[u8; 52] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut name = Vec::new();
    loop {
        name.push(LETTERS[index % 52]);
        index /= 52;
        if index == 0 {
            break;
        }
        index -= 1;
    }
    name.reverse();
    String::from_utf8(name).unwrap_or_default()
}

/// Whether `c` can continue a JS identifier (ASCII; the glue's own names are ASCII).
fn ident_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'$'
}

/// Where `text` names `from` as a whole identifier (anywhere, when `from` is a quoted string).
fn occurrences(text: &str, from: &str) -> Vec<usize> {
    let bytes = text.as_bytes();
    let whole = |at: usize| {
        let before = at.checked_sub(1).map(|i| bytes[i]);
        let after = bytes.get(at + from.len()).copied();
        let quoted = from.starts_with('"');
        quoted || (!before.is_some_and(ident_char) && !after.is_some_and(ident_char))
    };
    text.match_indices(from)
        .map(|(at, _)| at)
        .filter(|&at| whole(at))
        .collect()
}

/// `text` with the occurrences `at` of `from` replaced by `to`.
fn replace_at(text: &str, at: &[usize], from: &str, to: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut done = 0;
    for &start in at {
        out.push_str(&text[done..start]);
        out.push_str(to);
        done = start + from.len();
    }
    out.push_str(&text[done..]);
    out
}

/// `text` with its one whole-identifier occurrence of `from` replaced by `to`.
fn replace_once(text: &str, from: &str, to: &str) -> Result<String> {
    let found = occurrences(text, from);
    match found.len() {
        1 => Ok(replace_at(text, &found, from, to)),
        0 => bail!("the glue never names `{from}`"),
        n => bail!("the glue names `{from}` {n} times"),
    }
}

/// `text` with every whole-identifier occurrence of `from` replaced by `to`.
fn replace_all(text: &str, from: &str, to: &str) -> String {
    replace_at(text, &occurrences(text, from), from, to)
}

/// The custom sections of `wasm`, whole.
#[cfg(test)]
fn custom_sections(wasm: &[u8]) -> Vec<Vec<u8>> {
    let mut found = Vec::new();
    let mut reader = Reader::new(wasm, HEADER.len());
    while !reader.done() {
        let (id, _, range) = reader.section().unwrap();
        if id == crate::order::CUSTOM {
            found.push(wasm[range].to_vec());
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::order::{u32_of, CUSTOM, FUNC_IMPORT, MEMORY_IMPORT};

    const MODULE: &str = "./demo_bg.js";

    /// A module importing `names` as functions from `MODULE` and a memory from `env`, exporting
    /// `memory`, `__wbindgen_malloc` and `thing_call`, with a custom section.
    fn module(names: &[&str]) -> Vec<u8> {
        let mut imports = Vec::new();
        write_u32(&mut imports, u32_of(names.len() + 1).unwrap());
        for name in names {
            write_bytes(&mut imports, MODULE.as_bytes()).unwrap();
            write_bytes(&mut imports, name.as_bytes()).unwrap();
            imports.extend_from_slice(&[FUNC_IMPORT, 0]);
        }
        write_bytes(&mut imports, b"env").unwrap();
        write_bytes(&mut imports, b"memory").unwrap();
        imports.extend_from_slice(&[MEMORY_IMPORT, 0, 1]);
        let mut exports = Vec::new();
        write_u32(&mut exports, 3);
        for (name, kind, index) in [
            ("memory", 2, 0),
            ("__wbindgen_malloc", 0, 1),
            ("thing_call", 0, 0),
        ] {
            write_bytes(&mut exports, name.as_bytes()).unwrap();
            exports.extend_from_slice(&[kind, index]);
        }
        let mut custom = Vec::new();
        write_bytes(&mut custom, b"producers").unwrap();
        custom.push(0);
        let mut out = HEADER.to_vec();
        out.push(IMPORT);
        write_bytes(&mut out, &imports).unwrap();
        out.push(EXPORT);
        write_bytes(&mut out, &exports).unwrap();
        out.push(CUSTOM);
        write_bytes(&mut out, &custom).unwrap();
        out
    }

    /// The entries of the section `id`, each read by `entry`.
    fn entries<T>(wasm: &[u8], id: u8, entry: impl Fn(&mut Reader<'_>) -> T) -> Vec<T> {
        let mut reader = Reader::new(wasm, HEADER.len());
        while !reader.done() {
            let (found, payload, _) = reader.section().unwrap();
            if found == id {
                let mut entries = Reader::new(payload, 0);
                let count = entries.u32().unwrap();
                return (0..count).map(|_| entry(&mut entries)).collect();
            }
        }
        Vec::new()
    }

    fn text(reader: &mut Reader<'_>) -> String {
        String::from_utf8(reader.bytes().unwrap().to_vec()).unwrap()
    }

    /// Every import as (module, name).
    fn imports(wasm: &[u8]) -> Vec<(String, String)> {
        entries(wasm, IMPORT, |r| {
            let (from, name) = (text(r), text(r));
            import_kind(r).unwrap();
            (from, name)
        })
    }

    /// Every export as (name, kind, index).
    fn exports(wasm: &[u8]) -> Vec<(String, u8, u32)> {
        entries(wasm, EXPORT, |r| {
            (text(r), r.byte().unwrap(), r.u32().unwrap())
        })
    }

    #[test]
    fn exports_but_memory_are_renamed_wherever_the_glue_uses_them() {
        let wasm = module(&["__wbg_f_1"]);
        let glue = r#"{"./demo_bg.js":{__wbg_f_1:1}};x.__wbindgen_malloc(1);x.__wbindgen_malloc(2);x.memory.buffer;x.thing_callback;x.thing_call()"#;
        let (wasm2, glue2) = shorten(&wasm, glue, MODULE).unwrap();
        assert_eq!(
            exports(&wasm2),
            vec![
                ("memory".to_owned(), 2, 0),
                ("a".to_owned(), 0, 1),
                ("b".to_owned(), 0, 0),
            ]
        );
        assert_eq!(
            glue2,
            r#"{"a":{a:1}};x.a(1);x.a(2);x.memory.buffer;x.thing_callback;x.b()"#
        );
    }

    #[test]
    fn names_are_shortened_in_both_files() {
        let wasm = module(&["__wbg_log_0123456789abcdef", "__wbg_log_ffff0000aaaa1111"]);
        let glue = r#"function n(){return{__proto__:null,"./demo_bg.js":{__wbg_log_0123456789abcdef:function(n){x(n)},__wbg_log_ffff0000aaaa1111:function(){y.__wbg_log_ffff0000aaaa1111x()}}}}"#;
        let (wasm2, glue2) = shorten(&wasm, glue, MODULE).unwrap();
        assert_eq!(
            imports(&wasm2),
            vec![
                ("a".to_owned(), "a".to_owned()),
                ("a".to_owned(), "b".to_owned()),
                ("env".to_owned(), "memory".to_owned()),
            ]
        );
        assert_eq!(
            glue2,
            r#"function n(){return{__proto__:null,"a":{a:function(n){x(n)},b:function(){y.__wbg_log_ffff0000aaaa1111x()}}}}"#
        );
        assert_eq!(custom_sections(&wasm), custom_sections(&wasm2));
    }

    #[test]
    fn a_name_missing_from_the_glue_or_named_twice_is_an_error() {
        let wasm = module(&["__wbg_f_1"]);
        let missing = shorten(&wasm, r#"{"./demo_bg.js":{}}"#, MODULE).unwrap_err();
        assert!(
            missing.to_string().contains("never names `__wbg_f_1`"),
            "{missing}"
        );
        let twice = r#"{"./demo_bg.js":{__wbg_f_1:1,__wbg_f_1:2}}"#;
        let err = shorten(&wasm, twice, MODULE).unwrap_err();
        assert!(err.to_string().contains("2 times"), "{err}");
        let no_module = shorten(&wasm, "{__wbg_f_1:1}", MODULE).unwrap_err();
        assert!(
            no_module.to_string().contains("./demo_bg.js"),
            "{no_module}"
        );
        let other = shorten(&module(&[]), "{}", MODULE).unwrap_err();
        assert!(other.to_string().contains("imports nothing"), "{other}");
    }

    #[test]
    fn short_names_count_up() {
        let names: Vec<String> = [0, 1, 25, 26, 51, 52, 53, 52 + 52 * 52]
            .map(short_name)
            .into();
        assert_eq!(names, ["a", "b", "z", "A", "Z", "aa", "ab", "aaa"]);
    }
}
