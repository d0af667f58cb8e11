//! Generates the protobuf types of `proto/*.proto` without a system `protoc`.
//!
//! `protox` (a pure-Rust compiler) turns the `.proto` files into a descriptor set, `prost-build`
//! turns that into Rust. While walking the descriptors we also write, per package, the serde impls
//! of every message (`<package>.json.rs`), so the generated types read and write the JSON that Go's
//! `encoding/json` produces for OpenIM's generated Go structs: keys are the proto field names
//! exactly as written, every field is present, `null` means "absent". The impls only list the
//! fields; the shared code they call lives in `src/msgjson.rs`.
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
use protox::prost_reflect::{FieldDescriptor, Kind, MessageDescriptor};

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

    let mut config = prost_build::Config::new();
    // Deterministic iteration order: JSON output and re-encoded protobuf bytes are reproducible.
    config.btree_map(["."]);
    let mut json_impls: BTreeMap<String, String> = BTreeMap::new();
    for message in compiler.descriptor_pool().all_messages() {
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
