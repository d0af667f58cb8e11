//! Generates the protobuf types of `proto/*.proto` without a system `protoc`.
//!
//! `protox` (a pure-Rust compiler) turns the `.proto` files into a descriptor set. Walking its
//! descriptors we write, per package:
//!
//! * `<package>.rs`: the Rust types, with the names, field types and derives `prost-build` gives
//!   the same schema (`Default` returns a constant of zero values, copied whole rather than built
//!   field by field where a message is created), and per message an impl of
//!   `crate::pb::wire::Fields` (decoding) and of
//!   `EncodeFields` that list the fields by number and call the shared, non-generic codec in
//!   `src/pb/wire.rs`;
//! * `<package>.json.rs`: the serde impls of every message, so the generated types read and write
//!   the JSON that Go's `encoding/json` produces for OpenIM's generated Go structs: keys are the
//!   proto field names exactly as written, every field is present, `null` means "absent". The
//!   impls only list the fields; the shared code they call lives in `src/msgjson.rs`.
//!
//! `prost-build` writes a second copy of the types under `OUT_DIR/prost/`, which only the crate's
//! unit tests compile, to compare both codecs byte for byte (`prost_pairs.rs` lists the pairs).
//!
//! The descriptor set is also written to `OUT_DIR` (without source info) so the crate can expose it
//! for tests that need to walk every message.

use std::collections::BTreeMap;
use std::env;
use std::error::Error;
use std::fmt::Write as _;
use std::fs;
use std::path::PathBuf;

use heck::{ToSnakeCase, ToUpperCamelCase};

use protox::prost::Message as _;
use protox::prost_reflect::{
    Cardinality, EnumDescriptor, FieldDescriptor, Kind, MessageDescriptor,
};

/// Every schema file; imports are resolved inside the same directory.
const PROTO_FILES: &[&str] = &[
    "wrapperspb.proto",
    "sdkws.proto",
    "msg.proto",
    "push.proto",
    "conversation.proto",
];

/// Wrapper messages get hand-written serde impls (bare scalars), not the derived struct form.
const WRAPPER_PACKAGE: &str = "openim.protobuf";

/// Name of the encoded descriptor set inside `OUT_DIR`.
const DESCRIPTOR_FILE: &str = "file_descriptor_set.bin";

fn main() -> Result<(), Box<dyn Error>> {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR")?);
    let out_dir = PathBuf::from(env::var("OUT_DIR")?);
    let proto_dir = manifest_dir.join("proto");

    println!("cargo:rerun-if-changed={}", proto_dir.display());
    for file in PROTO_FILES {
        println!("cargo:rerun-if-changed={}", proto_dir.join(file).display());
    }

    let mut compiler = protox::Compiler::new([&proto_dir])?;
    compiler.include_imports(true).include_source_info(true);
    compiler.open_files(PROTO_FILES)?;

    let pool = compiler.descriptor_pool();
    let mut types: BTreeMap<String, String> = BTreeMap::new();
    let mut checks = String::new();
    for message in pool.all_messages() {
        if message.is_map_entry() {
            continue;
        }
        let code = types.entry(message.package_name().to_owned()).or_default();
        message_type(code, &message)?;
        let path = format!(
            "{}::{}",
            module_name(message.package_name()),
            type_name(&message)?
        );
        writeln!(
            checks,
            "    ({:?}, pair::<crate::pb::{path}, crate::pb::reference::{path}>),",
            message.full_name()
        )?;
    }
    for enumeration in pool.all_enums() {
        let code = types
            .entry(enumeration.package_name().to_owned())
            .or_default();
        enum_type(code, &enumeration)?;
    }
    for (package, code) in &types {
        fs::write(out_dir.join(format!("{package}.rs")), code)?;
    }
    fs::write(out_dir.join("prost_pairs.rs"), format!("&[\n{checks}]\n"))?;

    let mut json_impls: BTreeMap<String, String> = BTreeMap::new();
    for message in pool.all_messages() {
        if message.package_name() == WRAPPER_PACKAGE || message.is_map_entry() {
            continue;
        }
        let code = json_impls
            .entry(message.package_name().to_owned())
            .or_default();
        message_json_impls(code, &message)?;
    }
    for (package, code) in &json_impls {
        fs::write(out_dir.join(format!("{package}.json.rs")), code)?;
    }

    let mut descriptor_set = compiler.file_descriptor_set();
    // The reference copy for the unit tests; deterministic iteration order as in our types.
    let prost_dir = out_dir.join("prost");
    fs::create_dir_all(&prost_dir)?;
    let mut config = prost_build::Config::new();
    config.btree_map(["."]).out_dir(&prost_dir);
    config.compile_fds(descriptor_set.clone())?;

    // Comments are only useful for code generation; keep the embedded copy small.
    for file in &mut descriptor_set.file {
        file.source_code_info = None;
    }
    fs::write(
        out_dir.join(DESCRIPTOR_FILE),
        descriptor_set.encode_to_vec(),
    )?;
    Ok(())
}

/// The Rust module of a protobuf package: its last segment (`openim.sdkws` → `sdkws`).
fn module_name(package: &str) -> &str {
    package.rsplit('.').next().unwrap_or(package)
}

/// The path of a message type from anywhere in the crate.
fn type_path(message: &MessageDescriptor) -> Result<String, Box<dyn Error>> {
    Ok(format!(
        "crate::pb::{}::{}",
        module_name(message.package_name()),
        type_name(message)?
    ))
}

/// Whether `to` is reachable from `from` through message-typed fields (a recursive schema).
fn reaches(from: &MessageDescriptor, to: &MessageDescriptor, seen: &mut Vec<String>) -> bool {
    if from.full_name() == to.full_name() {
        return true;
    }
    if seen.iter().any(|s| s == from.full_name()) {
        return false;
    }
    seen.push(from.full_name().to_owned());
    from.fields().any(|f| match f.kind() {
        Kind::Message(next) => reaches(&next, to, seen),
        _ => false,
    })
}

/// Whether prost-build derives `Copy` for a message: no repeated fields, no strings or bytes.
fn derives_copy(message: &MessageDescriptor) -> bool {
    message.fields().all(|f| {
        f.cardinality() != Cardinality::Repeated
            && match f.kind() {
                Kind::Message(m) => derives_copy(&m),
                Kind::String | Kind::Bytes => false,
                _ => true,
            }
    })
}

/// Whether prost-build derives `Eq` and `Hash` for a message: no floats, no repeated messages (maps
/// included).
fn derives_eq(message: &MessageDescriptor) -> bool {
    message.fields().all(|f| match f.kind() {
        Kind::Message(m) => f.cardinality() != Cardinality::Repeated && derives_eq(&m),
        Kind::Float | Kind::Double => false,
        _ => true,
    })
}

/// The Rust type of a singular value of `kind` (a map's value, a list's element).
fn value_type(kind: &Kind) -> Result<String, Box<dyn Error>> {
    Ok(match kind {
        Kind::Double => "f64".into(),
        Kind::Float => "f32".into(),
        Kind::Int32 | Kind::Enum(_) => "i32".into(),
        Kind::Int64 => "i64".into(),
        Kind::Uint32 => "u32".into(),
        Kind::Uint64 => "u64".into(),
        Kind::Bool => "bool".into(),
        Kind::String => "::std::string::String".into(),
        Kind::Bytes => "::std::vec::Vec<u8>".into(),
        Kind::Message(m) => type_path(m)?,
        other => return Err(format!("protobuf type {other:?} is not supported").into()),
    })
}

/// The schema's leading comment of the element at `path` in `file`, as doc comment lines.
fn doc_comment(
    file: &protox::prost_reflect::prost_types::FileDescriptorProto,
    path: &[i32],
    indent: &str,
) -> String {
    let mut doc = String::new();
    let comment = file
        .source_code_info
        .as_ref()
        .and_then(|info| info.location.iter().find(|l| l.path == path))
        .and_then(|l| l.leading_comments.as_deref());
    for line in comment.unwrap_or_default().trim_end().lines() {
        doc.push_str(indent);
        doc.push_str("///");
        doc.push_str(line);
        doc.push('\n');
    }
    doc
}

/// Appends a message's struct and its `Fields`, `EncodeFields` and `Message` impls.
fn message_type(code: &mut String, message: &MessageDescriptor) -> Result<(), Box<dyn Error>> {
    let name = type_name(message)?;
    let mut derives = String::from("Clone, ");
    if derives_copy(message) {
        derives.push_str("Copy, ");
    }
    derives.push_str("PartialEq, ");
    if derives_eq(message) {
        derives.push_str("Eq, Hash, ");
    }
    derives.push_str("Debug");
    let mut members = String::new();
    let mut zeros = String::new();
    let mut merges = String::new();
    let mut finishes = String::new();
    let mut encodes: Vec<(u32, String)> = Vec::new();
    for field in message.fields() {
        let field = &field;
        let rust = field_name(field);
        let number = field.number();
        let kind = field.kind();
        let what = field.full_name();
        let ty;
        if field.is_map() {
            let Kind::Message(entry) = &kind else {
                return Err(format!("{what}: map without entry").into());
            };
            let key = entry.map_entry_key_field();
            let value = entry.map_entry_value_field();
            if !matches!(key.kind(), Kind::String) {
                return Err(format!("{what}: map keys must be strings").into());
            }
            if !matches!(
                value.kind(),
                Kind::Int32 | Kind::Int64 | Kind::Bool | Kind::String | Kind::Message(_)
            ) {
                return Err(format!("{what}: map value type is not supported").into());
            }
            ty = format!(
                "crate::pb::Map<::std::string::String, {}>",
                value_type(&value.kind())?
            );
            writeln!(
                merges,
                "            {number} => r.map(wire_type, &mut self.{rust}),"
            )?;
            writeln!(finishes, "        self.{rust}.sort();")?;
            writeln!(zeros, "        {rust}: crate::pb::Map::new(),")?;
            encodes.push((
                number,
                format!("        W::map(out, {number}, &self.{rust});\n"),
            ));
        } else if field.is_list() {
            ty = format!("::std::vec::Vec<{}>", value_type(&kind)?);
            writeln!(zeros, "        {rust}: ::std::vec::Vec::new(),")?;
            let (merge, encode) = match &kind {
                Kind::String => ("push_string", "W::strings(out, {n}, &self.{f});"),
                Kind::Int32 | Kind::Enum(_) if field.is_packed() => {
                    ("push_int32", "W::packed_int32(out, {n}, &self.{f});")
                }
                Kind::Int64 if field.is_packed() => {
                    ("push_int64", "W::packed_int64(out, {n}, &self.{f});")
                }
                Kind::Message(m) => {
                    if reaches(m, message, &mut Vec::new()) {
                        return Err(format!("{what}: recursive messages are not supported").into());
                    }
                    (
                        "push_message",
                        "for m in &self.{f} {\n            W::message(out, {n}, m);\n        }",
                    )
                }
                _ => return Err(format!("{what}: repeated type is not supported").into()),
            };
            writeln!(
                merges,
                "            {number} => r.{merge}(wire_type, &mut self.{rust}),"
            )?;
            let encode = encode
                .replace("{n}", &number.to_string())
                .replace("{f}", &rust);
            encodes.push((number, format!("        {encode}\n")));
        } else {
            let (merge, encode) = match &kind {
                Kind::Double => ("double", "W::double(out, {n}, self.{f});"),
                Kind::Float => ("float", "W::float(out, {n}, self.{f});"),
                Kind::Int32 | Kind::Enum(_) => ("int32", "W::varint(out, {n}, self.{f} as u64);"),
                Kind::Int64 => ("int64", "W::varint(out, {n}, self.{f} as u64);"),
                Kind::Uint32 => ("uint32", "W::varint(out, {n}, u64::from(self.{f}));"),
                Kind::Uint64 => ("uint64", "W::varint(out, {n}, self.{f});"),
                Kind::Bool => ("bool", "W::varint(out, {n}, u64::from(self.{f}));"),
                Kind::String => ("string", "W::string(out, {n}, &self.{f});"),
                Kind::Bytes => ("bytes", "W::bytes(out, {n}, &self.{f});"),
                Kind::Message(m) => {
                    if reaches(m, message, &mut Vec::new()) {
                        return Err(format!("{what}: recursive messages are not supported").into());
                    }
                    (
                        "message",
                        "if let Some(m) = &self.{f} {\n            W::message(out, {n}, m);\n        }",
                    )
                }
                other => return Err(format!("{what}: type {other:?} is not supported").into()),
            };
            let zero = match &kind {
                Kind::Double | Kind::Float => "0.0",
                Kind::Bool => "false",
                Kind::String => "::std::string::String::new()",
                Kind::Bytes => "::std::vec::Vec::new()",
                Kind::Message(_) => "::core::option::Option::None",
                _ => "0",
            };
            writeln!(zeros, "        {rust}: {zero},")?;
            ty = if let Kind::Message(m) = &kind {
                format!("::core::option::Option<{}>", type_path(m)?)
            } else {
                value_type(&kind)?
            };
            if merge == "message" {
                writeln!(
                    merges,
                    "            {number} => r.message(wire_type, self.{rust}.get_or_insert_with(Default::default)),"
                )?;
            } else {
                writeln!(
                    merges,
                    "            {number} => r.{merge}(wire_type, &mut self.{rust}),"
                )?;
            }
            let encode = encode
                .replace("{n}", &number.to_string())
                .replace("{f}", &rust);
            encodes.push((number, format!("        {encode}\n")));
        }
        members.push_str(&doc_comment(
            message.parent_file_descriptor_proto(),
            field.path(),
            "    ",
        ));
        writeln!(members, "    pub {rust}: {ty},")?;
    }
    // Encoding writes fields in ascending number order, whatever the declaration order.
    encodes.sort_by_key(|(number, _)| *number);
    let encodes: String = encodes.into_iter().map(|(_, e)| e).collect();
    let out_name = if members.is_empty() { "_out" } else { "out" };
    let finish = if finishes.is_empty() {
        String::new()
    } else {
        format!("\n    fn finish(&mut self) {{\n{finishes}    }}\n")
    };
    let doc = doc_comment(message.parent_file_descriptor_proto(), message.path(), "");
    write!(
        code,
        r#"
{doc}#[derive({derives})]
pub struct {name} {{
{members}}}

impl {name} {{
    /// Every field at its zero value: one constant copied, not the fields built one by one.
    const ZERO: {name} = {name} {{
{zeros}    }};
}}

impl ::core::default::Default for {name} {{
    fn default() -> Self {{
        Self::ZERO
    }}
}}

impl crate::pb::wire::Fields for {name} {{
    #[allow(clippy::match_single_binding)]
    fn merge_field(
        &mut self,
        tag: u32,
        wire_type: u8,
        r: &mut crate::pb::wire::Reader<'_>,
    ) -> Result<(), crate::pb::wire::DecodeError> {{
        #[allow(unused_imports)]
        use crate::pb::wire as W;
        match tag {{
{merges}            _ => r.skip(wire_type, tag),
        }}
    }}
{finish}}}

impl crate::pb::wire::EncodeFields for {name} {{
    #[allow(clippy::cast_sign_loss)]
    fn encode_raw(&self, {out_name}: &mut ::std::vec::Vec<u8>) {{
        #[allow(unused_imports)]
        use crate::pb::wire as W;
{encodes}    }}
}}

impl crate::pb::wire::Message for {name} {{}}
"#
    )?;
    Ok(())
}

/// Appends an enumeration the way prost-build writes it: variants without the enum-name prefix.
fn enum_type(code: &mut String, enumeration: &EnumDescriptor) -> Result<(), Box<dyn Error>> {
    let name = sanitize(enumeration.name().to_upper_camel_case());
    let mut variants = String::new();
    let mut names = String::new();
    let mut froms = String::new();
    let mut tries = String::new();
    for (i, value) in enumeration.values().enumerate() {
        let full = value.name().to_upper_camel_case();
        let variant = full
            .strip_prefix(&name)
            .filter(|v| !v.is_empty())
            .unwrap_or(&full);
        let variant = sanitize(variant.to_owned());
        let number = value.number();
        if i == 0 {
            variants.push_str("    #[default]\n");
        }
        writeln!(variants, "    {variant} = {number},")?;
        writeln!(names, "            Self::{variant} => {:?},", value.name())?;
        writeln!(
            froms,
            "            {:?} => Some(Self::{variant}),",
            value.name()
        )?;
        writeln!(tries, "            {number} => Ok(Self::{variant}),")?;
    }
    write!(
        code,
        r#"
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
#[repr(i32)]
pub enum {name} {{
{variants}}}

impl {name} {{
    /// The value's name as written in the schema.
    pub fn as_str_name(&self) -> &'static str {{
        match self {{
{names}        }}
    }}

    /// The value named `value` in the schema.
    pub fn from_str_name(value: &str) -> ::core::option::Option<Self> {{
        match value {{
{froms}            _ => None,
        }}
    }}
}}

impl ::core::convert::From<{name}> for i32 {{
    fn from(value: {name}) -> i32 {{
        value as i32
    }}
}}

impl ::core::convert::TryFrom<i32> for {name} {{
    type Error = i32;

    fn try_from(value: i32) -> Result<Self, i32> {{
        match value {{
{tries}            other => Err(other),
        }}
    }}
}}
"#
    )?;
    Ok(())
}

/// The Rust name prost gives a message.
fn type_name(message: &MessageDescriptor) -> Result<String, Box<dyn Error>> {
    if message.parent_message().is_some() {
        return Err(format!("{}: nested messages are not supported", message.full_name()).into());
    }
    Ok(sanitize(message.name().to_upper_camel_case()))
}

/// The Rust name prost gives a field.
fn field_name(field: &FieldDescriptor) -> String {
    sanitize(field.name().to_snake_case())
}

/// prost's treatment of identifiers that are Rust keywords.
fn sanitize(ident: String) -> String {
    match ident.as_str() {
        "as" | "break" | "const" | "continue" | "else" | "enum" | "false" | "fn" | "for" | "if"
        | "impl" | "in" | "let" | "loop" | "match" | "mod" | "move" | "mut" | "pub" | "ref"
        | "return" | "static" | "struct" | "trait" | "true" | "type" | "unsafe" | "use"
        | "where" | "while" | "dyn" | "abstract" | "become" | "box" | "do" | "final" | "macro"
        | "override" | "priv" | "typeof" | "unsized" | "virtual" | "yield" | "async" | "await"
        | "try" | "gen" => format!("r#{ident}"),
        "_" | "super" | "self" | "Self" | "extern" | "crate" => format!("{ident}_"),
        _ => ident,
    }
}

/// Appends the serde impls of one message: `Serialize` and `Deserialize` call the shared code in
/// `crate::msgjson`, which reaches the fields through the `WriteFields` and `FromJson` impls.
fn message_json_impls(
    code: &mut String,
    message: &MessageDescriptor,
) -> Result<(), Box<dyn Error>> {
    if message.oneofs().next().is_some() {
        // The OpenIM schema has no oneofs; the per-field mapping below does not cover them.
        return Err(format!("{}: oneof fields are not supported", message.full_name()).into());
    }
    let name = type_name(message)?;
    let mut keys = String::new();
    let mut writes = String::new();
    let mut reads = String::new();
    let mut count = 0usize;
    for field in message.fields() {
        let key = field.name();
        let rust = field_name(&field);
        count += 1;
        write!(keys, "{key:?}, ")?;
        if field_is_bytes(&field)? {
            write!(writes, "&J::Base64(&self.{rust}), ")?;
            write!(
                reads,
                "&mut J::With {{ slot: &mut m.{rust}, read: J::bytes_from_json }}, "
            )?;
        } else {
            write!(writes, "&self.{rust}, ")?;
            write!(reads, "&mut m.{rust}, ")?;
        }
    }
    write!(
        code,
        r#"
const _: () = {{
    use crate::msgjson as J;

    const KEYS: &[&str] = &[{keys}];

    impl ::serde::Serialize for {name} {{
        fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {{
            J::serialize_message(self, s)
        }}
    }}

    impl<'de> ::serde::Deserialize<'de> for {name} {{
        fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {{
            J::deserialize_message(d)
        }}
    }}

    impl J::ToJson for {name} {{
        fn to_out(&self) -> J::Out<'_> {{
            J::Out::Msg(self)
        }}
    }}

    impl J::WriteFields for {name} {{
        fn field_count(&self) -> usize {{
            {count}
        }}

        fn write_fields(&self, w: &mut dyn J::FieldSink) {{
            J::write_each(w, KEYS, &[{writes}]);
        }}
    }}

    impl J::FromJson for {name} {{
        fn from_json(value: J::Json) -> Result<Self, J::JsonError> {{
            #[allow(unused_mut)]
            let mut m = Self::default();
            J::read_struct(value, KEYS, &mut [{reads}])?;
            Ok(m)
        }}
    }}
}};
"#
    )?;
    Ok(())
}

/// Whether a field is a singular `bytes` field; refuses the shapes the JSON mapping does not cover.
fn field_is_bytes(field: &FieldDescriptor) -> Result<bool, Box<dyn Error>> {
    if matches!(field.kind(), Kind::Double | Kind::Float) {
        // `msgjson` keeps non-integer numbers as their text and converts none to floating point.
        return Err(format!(
            "{}: floating-point fields are not supported",
            field.full_name()
        )
        .into());
    }
    if field.is_map() {
        if let Kind::Message(entry) = field.kind() {
            if !matches!(entry.map_entry_key_field().kind(), Kind::String) {
                return Err(format!("{}: map keys must be strings", field.full_name()).into());
            }
            if matches!(entry.map_entry_value_field().kind(), Kind::Bytes) {
                return Err(
                    format!("{}: maps of bytes are not supported", field.full_name()).into(),
                );
            }
        }
        return Ok(false);
    }
    if field.is_list() {
        if matches!(field.kind(), Kind::Bytes) {
            return Err(format!("{}: repeated bytes are not supported", field.full_name()).into());
        }
        return Ok(false);
    }
    Ok(matches!(field.kind(), Kind::Bytes))
}
