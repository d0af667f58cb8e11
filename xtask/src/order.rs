//! Function order for compression.
//!
//! A wasm module is served gzip'd, and deflate finds repeats only within its 32 KB window, so
//! a module compresses better when functions with similar code sit next to each other. The
//! order the compiler and wasm-opt leave follows source files, not similarity. [`name_for_order`]
//! picks a new order and writes it into the module's `name` section as sortable names; binaryen's
//! `--reorder-functions-by-name` then moves the functions (it renumbers every call, table entry
//! and export, which this module does not have to decode), and the final optimisation drops the
//! names again.
//!
//! The order is greedy: start from the largest function, then always take the remaining function
//! that shares the most distinct 4-byte sequences with the one just placed. Ties go to the lower
//! index, so the order depends on the module's bytes alone.

use anyhow::{bail, ensure, Context, Result};

/// The wasm binary header: magic number and version 1.
pub(crate) const HEADER: [u8; 8] = *b"\0asm\x01\0\0\0";
/// Section ids used here.
pub(crate) const CUSTOM: u8 = 0;
pub(crate) const IMPORT: u8 = 2;
pub(crate) const EXPORT: u8 = 7;
const CODE: u8 = 10;
/// Import kinds.
pub(crate) const FUNC_IMPORT: u8 = 0;
const TABLE_IMPORT: u8 = 1;
pub(crate) const MEMORY_IMPORT: u8 = 2;
const GLOBAL_IMPORT: u8 = 3;
const TAG_IMPORT: u8 = 4;

/// The module with its `name` section replaced by one whose function names sort in the chosen
/// order: imports are `i` + index, defined functions `f` + rank, both zero-padded.
pub fn name_for_order(module: &[u8]) -> Result<Vec<u8>> {
    let parsed = Module::parse(module)?;
    let order = similarity_order(&parsed.bodies);
    let mut rank = vec![0usize; order.len()];
    for (place, &function) in order.iter().enumerate() {
        rank[function] = place;
    }
    let mut names = Vec::new();
    write_u32(&mut names, u32_of(parsed.imported + rank.len())?);
    for index in 0..parsed.imported {
        write_name(&mut names, index, &format!("i{index:07}"))?;
    }
    for (defined, place) in rank.iter().enumerate() {
        write_name(
            &mut names,
            parsed.imported + defined,
            &format!("f{place:07}"),
        )?;
    }
    let mut payload = Vec::new();
    write_bytes(&mut payload, b"name")?;
    payload.push(1); // function names
    write_bytes(&mut payload, &names)?;

    let mut out = HEADER.to_vec();
    for section in &parsed.sections {
        if !section.is_name {
            out.extend_from_slice(&module[section.range.clone()]);
        }
    }
    out.push(CUSTOM);
    write_bytes(&mut out, &payload)?;
    Ok(out)
}

/// The greedy similarity order of `bodies` (indices into it; see the module docs).
pub fn similarity_order(bodies: &[&[u8]]) -> Vec<usize> {
    let grams: Vec<Vec<u32>> = bodies.iter().map(|body| grams(body)).collect();
    let mut left: Vec<usize> = (0..bodies.len()).collect();
    let mut order = Vec::with_capacity(bodies.len());
    // The largest first (the lowest index among equals).
    let Some(mut current) = (0..bodies.len()).max_by_key(|&i| (bodies[i].len(), usize::MAX - i))
    else {
        return order;
    };
    loop {
        order.push(current);
        left.retain(|&i| i != current);
        let mut best: Option<(usize, usize)> = None;
        for &candidate in &left {
            let shared = shared_count(&grams[current], &grams[candidate]);
            if best.is_none_or(|(score, _)| shared > score) {
                best = Some((shared, candidate));
            }
        }
        match best {
            Some((_, next)) => current = next,
            None => return order,
        }
    }
}

/// The distinct 4-byte sequences of `body`, sorted.
fn grams(body: &[u8]) -> Vec<u32> {
    let mut grams: Vec<u32> = body
        .windows(4)
        .map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]))
        .collect();
    grams.sort_unstable();
    grams.dedup();
    grams
}

/// How many values two sorted, duplicate-free lists share.
fn shared_count(a: &[u32], b: &[u32]) -> usize {
    let (mut i, mut j, mut shared) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                shared += 1;
                i += 1;
                j += 1;
            }
        }
    }
    shared
}

/// What [`name_for_order`] needs of a module.
struct Module<'a> {
    /// Every section, header excluded, as byte ranges of the module.
    sections: Vec<Section>,
    /// The number of imported functions (they come first in the function index space).
    imported: usize,
    /// The defined functions' bodies, in index order.
    bodies: Vec<&'a [u8]>,
}

struct Section {
    range: std::ops::Range<usize>,
    is_name: bool,
}

impl<'a> Module<'a> {
    fn parse(module: &'a [u8]) -> Result<Module<'a>> {
        ensure!(module.starts_with(&HEADER), "not a wasm module (version 1)");
        let mut sections = Vec::new();
        let mut imported = 0;
        let mut bodies = Vec::new();
        let mut reader = Reader::new(module, HEADER.len());
        while !reader.done() {
            let (id, payload, range) = reader.section()?;
            let mut is_name = false;
            let mut inner = Reader::new(payload, 0);
            match id {
                CUSTOM => is_name = inner.bytes()? == b"name",
                IMPORT => imported = count_function_imports(&mut inner)?,
                CODE => {
                    for _ in 0..inner.u32()? {
                        let len = inner.u32()? as usize;
                        bodies.push(inner.take(len)?);
                    }
                }
                _ => {}
            }
            sections.push(Section { range, is_name });
        }
        Ok(Module {
            sections,
            imported,
            bodies,
        })
    }
}

/// The function imports among the entries of an import section.
fn count_function_imports(reader: &mut Reader<'_>) -> Result<usize> {
    let mut functions = 0;
    for _ in 0..reader.u32()? {
        reader.bytes()?; // module
        reader.bytes()?; // field
        if import_kind(reader)? == FUNC_IMPORT {
            functions += 1;
        }
    }
    Ok(functions)
}

/// Reads an import's kind and skips its type; returns the kind.
pub(crate) fn import_kind(reader: &mut Reader<'_>) -> Result<u8> {
    let kind = reader.byte()?;
    match kind {
        FUNC_IMPORT => {
            reader.u32()?;
        }
        TABLE_IMPORT => {
            reader.value_type()?;
            reader.limits()?;
        }
        MEMORY_IMPORT => reader.limits()?,
        GLOBAL_IMPORT => {
            reader.value_type()?;
            reader.byte()?; // mutability
        }
        TAG_IMPORT => {
            reader.byte()?;
            reader.u32()?;
        }
        kind => bail!("unknown import kind {kind}"),
    }
    Ok(kind)
}

/// A cursor over wasm bytes.
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    pub(crate) pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8], pos: usize) -> Reader<'a> {
        Reader { bytes, pos }
    }

    pub(crate) fn done(&self) -> bool {
        self.pos >= self.bytes.len()
    }

    pub(crate) fn byte(&mut self) -> Result<u8> {
        let byte = *self.bytes.get(self.pos).context("the module ends early")?;
        self.pos += 1;
        Ok(byte)
    }

    pub(crate) fn take(&mut self, len: usize) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(len).context("length overflow")?;
        let slice = self
            .bytes
            .get(self.pos..end)
            .context("the module ends early")?;
        self.pos = end;
        Ok(slice)
    }

    /// The next section: its id, its payload, and its whole extent (id and size included).
    pub(crate) fn section(&mut self) -> Result<(u8, &'a [u8], std::ops::Range<usize>)> {
        let start = self.pos;
        let id = self.byte()?;
        let len = self.u32()? as usize;
        let payload = self.take(len)?;
        Ok((id, payload, start..self.pos))
    }

    /// An unsigned LEB128 value of at most 64 bits.
    pub(crate) fn u64(&mut self) -> Result<u64> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = self.byte()?;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        bail!("LEB128 value too long")
    }

    pub(crate) fn u32(&mut self) -> Result<u32> {
        u32::try_from(self.u64()?).context("LEB128 value above u32")
    }

    /// A length-prefixed byte string.
    pub(crate) fn bytes(&mut self) -> Result<&'a [u8]> {
        let len = self.u32()? as usize;
        self.take(len)
    }

    /// Table or memory limits.
    pub(crate) fn limits(&mut self) -> Result<()> {
        let flags = self.byte()?;
        self.u64()?;
        if flags & 1 != 0 {
            self.u64()?;
        }
        Ok(())
    }

    /// A value type: one byte, or a reference type prefix followed by its heap type.
    pub(crate) fn value_type(&mut self) -> Result<()> {
        if matches!(self.byte()?, 0x63 | 0x64) {
            self.u64()?;
        }
        Ok(())
    }
}

pub(crate) fn u32_of(value: usize) -> Result<u32> {
    u32::try_from(value).context("count above u32")
}

pub(crate) fn write_u32(out: &mut Vec<u8>, mut value: u32) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

pub(crate) fn write_bytes(out: &mut Vec<u8>, bytes: &[u8]) -> Result<()> {
    write_u32(out, u32_of(bytes.len())?);
    out.extend_from_slice(bytes);
    Ok(())
}

fn write_name(out: &mut Vec<u8>, index: usize, name: &str) -> Result<()> {
    write_u32(out, u32_of(index)?);
    write_bytes(out, name.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(id: u8, payload: &[u8]) -> Vec<u8> {
        let mut out = vec![id];
        write_bytes(&mut out, payload).unwrap();
        out
    }

    /// A module with two function imports, a memory import, and `bodies` as code, plus an old
    /// `name` section and another custom section.
    fn module(bodies: &[&[u8]]) -> Vec<u8> {
        let mut imports = Vec::new();
        write_u32(&mut imports, 3);
        for (field, kind) in [("a", FUNC_IMPORT), ("m", MEMORY_IMPORT), ("b", FUNC_IMPORT)] {
            write_bytes(&mut imports, b"env").unwrap();
            write_bytes(&mut imports, field.as_bytes()).unwrap();
            imports.push(kind);
            match kind {
                FUNC_IMPORT => imports.push(0),
                _ => imports.extend_from_slice(&[1, 1, 2]),
            }
        }
        let mut code = Vec::new();
        write_u32(&mut code, bodies.len() as u32);
        for body in bodies {
            write_bytes(&mut code, body).unwrap();
        }
        let mut old_names = Vec::new();
        write_bytes(&mut old_names, b"name").unwrap();
        old_names.extend_from_slice(&[1, 1, 0]);
        let mut producers = Vec::new();
        write_bytes(&mut producers, b"producers").unwrap();
        producers.push(0);
        let mut out = HEADER.to_vec();
        out.extend(section(IMPORT, &imports));
        out.extend(section(CODE, &code));
        out.extend(section(CUSTOM, &old_names));
        out.extend(section(CUSTOM, &producers));
        out
    }

    /// The function names of the module's one `name` section, by index.
    fn names(module: &[u8]) -> Vec<(u32, String)> {
        let parsed = Module::parse(module).unwrap();
        let named: Vec<&Section> = parsed.sections.iter().filter(|s| s.is_name).collect();
        assert_eq!(named.len(), 1, "exactly one name section");
        let mut reader = Reader::new(&module[named[0].range.clone()], 1);
        let payload = reader.bytes().unwrap();
        let mut reader = Reader::new(payload, 0);
        assert_eq!(reader.bytes().unwrap(), b"name");
        assert_eq!(reader.byte().unwrap(), 1);
        let sub = reader.bytes().unwrap();
        assert!(reader.done());
        let mut reader = Reader::new(sub, 0);
        let count = reader.u32().unwrap();
        let names: Vec<(u32, String)> = (0..count)
            .map(|_| {
                let index = reader.u32().unwrap();
                let name = String::from_utf8(reader.bytes().unwrap().to_vec()).unwrap();
                (index, name)
            })
            .collect();
        assert!(reader.done());
        names
    }

    #[test]
    fn similar_bodies_end_up_next_to_each_other() {
        let big: &[u8] = &[9, 9, 9, 9, 9, 1, 2, 3, 4, 5, 6, 7, 8, 42];
        let unlike: &[u8] = &[100, 101, 102, 103, 104];
        let like_big: &[u8] = &[1, 2, 3, 4, 5, 6, 7];
        let like_unlike: &[u8] = &[200, 100, 101, 102, 103];
        let order = similarity_order(&[unlike, like_big, big, like_unlike]);
        // Largest first, then what shares most with it; the last pair shares with each other.
        assert_eq!(order, vec![2, 1, 0, 3]);
    }

    #[test]
    fn ties_and_strangers_keep_index_order() {
        let a: &[u8] = &[1, 1, 1, 1];
        let b: &[u8] = &[2, 2, 2, 2];
        let c: &[u8] = &[3, 3, 3, 3];
        assert_eq!(similarity_order(&[a, b, c]), vec![0, 1, 2]);
        assert_eq!(similarity_order(&[]), Vec::<usize>::new());
    }

    #[test]
    fn names_sort_in_the_chosen_order_and_the_rest_is_kept() {
        let bodies: [&[u8]; 3] = [
            &[0, 0x0b],
            &[5, 6, 7, 8, 9, 10, 0x0b],
            &[0, 6, 7, 8, 9, 0x0b],
        ];
        let input = module(&bodies);
        let output = name_for_order(&input).unwrap();

        let names = names(&output);
        let indices: Vec<u32> = names.iter().map(|(i, _)| *i).collect();
        assert_eq!(
            indices,
            vec![0, 1, 2, 3, 4],
            "imports, then defined functions"
        );
        assert_eq!(names[0].1, "i0000000");
        assert_eq!(names[1].1, "i0000001");
        let mut by_name: Vec<(String, u32)> = names[2..]
            .iter()
            .map(|(i, n)| (n.clone(), *i - 2))
            .collect();
        by_name.sort();
        let sorted: Vec<usize> = by_name.iter().map(|(_, i)| *i as usize).collect();
        assert_eq!(sorted, similarity_order(&bodies));
        assert_eq!(sorted, vec![1, 2, 0]);

        // Every other section is carried over byte for byte, in order.
        let before = Module::parse(&input).unwrap();
        let after = Module::parse(&output).unwrap();
        let kept = |m: &[u8], p: &Module<'_>| -> Vec<Vec<u8>> {
            p.sections
                .iter()
                .filter(|s| !s.is_name)
                .map(|s| m[s.range.clone()].to_vec())
                .collect()
        };
        assert_eq!(kept(&input, &before), kept(&output, &after));
        assert_eq!(after.imported, 2);
        assert_eq!(after.bodies, bodies.to_vec());
    }

    #[test]
    fn malformed_modules_are_refused() {
        assert!(name_for_order(b"not wasm").is_err());
        let mut truncated = module(&[&[0, 0x0b]]);
        truncated.truncate(truncated.len() - 3);
        assert!(name_for_order(&truncated).is_err());
    }
}
