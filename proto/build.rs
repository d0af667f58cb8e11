//! Generates the protobuf types of `proto/*.proto` without a system `protoc`.
//!
//! `protox` (a pure-Rust compiler) turns the `.proto` files into a descriptor set, `prost-build`
//! turns that into Rust. While walking the descriptors we attach serde attributes to every field so
//! the generated types read and write the JSON that Go's `encoding/json` produces for OpenIM's
//! generated Go structs: keys are the proto field names exactly as written, every field is present,
//! `null` means "absent". The helper functions named here live in `src/json.rs`.
//!
//! The descriptor set is also written to `OUT_DIR` (without source info) so the crate can expose it
//! for tests that need to walk every message.

use std::env;
use std::error::Error;
use std::fs;
use std::path::PathBuf;

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
    for message in compiler.descriptor_pool().all_messages() {
        if message.package_name() == WRAPPER_PACKAGE || message.is_map_entry() {
            continue;
        }
        annotate_message(&mut config, &message)?;
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

/// Adds the serde derive to one message and a serde attribute to each of its fields.
fn annotate_message(
    config: &mut prost_build::Config,
    message: &MessageDescriptor,
) -> Result<(), Box<dyn Error>> {
    if message.oneofs().next().is_some() {
        // The OpenIM schema has no oneofs; the per-field serde mapping below does not cover them.
        return Err(format!("{}: oneof fields are not supported", message.full_name()).into());
    }
    config.message_attribute(
        format!(".{}", message.full_name()),
        "#[derive(::serde::Serialize, ::serde::Deserialize)]\n#[serde(default)]",
    );
    for field in message.fields() {
        let attribute = field_attribute(&field)?;
        config.field_attribute(
            format!(".{}.{}", message.full_name(), field.name()),
            attribute,
        );
    }
    Ok(())
}

/// The serde attribute of one field: the JSON key plus the helper matching the field's shape.
fn field_attribute(field: &FieldDescriptor) -> Result<String, Box<dyn Error>> {
    let key = field.name();
    let helper = if field.is_map() {
        let value_is_bytes = match field.kind() {
            Kind::Message(entry) => matches!(entry.map_entry_value_field().kind(), Kind::Bytes),
            _ => false,
        };
        if value_is_bytes {
            return Err(format!("{}: maps of bytes are not supported", field.full_name()).into());
        }
        Some(r#"deserialize_with = "crate::json::map_null_as_default""#)
    } else if field.is_list() {
        if matches!(field.kind(), Kind::Bytes) {
            return Err(format!("{}: repeated bytes are not supported", field.full_name()).into());
        }
        Some(r#"deserialize_with = "crate::json::seq_null_as_default""#)
    } else {
        match field.kind() {
            Kind::Bytes => Some(r#"with = "crate::json::base64_bytes""#),
            // Singular messages are `Option<_>`: serde already reads `null` as `None` and writes
            // `None` as `null`, which is exactly Go's nil-pointer behaviour.
            Kind::Message(_) => None,
            _ => Some(r#"deserialize_with = "crate::json::null_as_default""#),
        }
    };
    Ok(match helper {
        Some(helper) => format!(r#"#[serde(rename = "{key}", {helper})]"#),
        None => format!(r#"#[serde(rename = "{key}")]"#),
    })
}
