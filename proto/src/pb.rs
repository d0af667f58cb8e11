//! Protobuf types generated from our own `.proto` files in `proto/proto/`.
//!
//! Package names and field numbers are OpenIM's, so the types interoperate with OpenIM servers
//! and clients on the wire. Every message also implements serde in the shape Go's `encoding/json`
//! gives OpenIM's Go structs (see [`crate::json`]): field names as written in the schema, every
//! field present, `null` read as "absent".
//!
//! Module per protobuf package: [`sdkws`] (`openim.sdkws`), [`msg`] (`openim.msg`), [`push`]
//! (`openim.push`), [`conversation`] (`openim.conversation`), [`protobuf`] (`openim.protobuf`, the
//! scalar wrappers). Rust field names are prost's snake case of the schema names
//! (`sendID` → `send_id`, `conversationIDs` → `conversation_i_ds`); JSON keys keep the schema names.
//!
//! This module holds data types only; it performs no I/O.

/// `openim.sdkws`: messages, gateway payloads, entities and notification tips.
pub mod sdkws {
    include!(concat!(env!("OUT_DIR"), "/openim.sdkws.rs"));
    include!(concat!(env!("OUT_DIR"), "/openim.sdkws.json.rs"));
}

/// `openim.msg`: message-service gateway payloads (send reply, seq lists, read state, last message).
pub mod msg {
    include!(concat!(env!("OUT_DIR"), "/openim.msg.rs"));
    include!(concat!(env!("OUT_DIR"), "/openim.msg.json.rs"));
}

/// `openim.push`: logout payloads.
pub mod push {
    include!(concat!(env!("OUT_DIR"), "/openim.push.rs"));
    include!(concat!(env!("OUT_DIR"), "/openim.push.json.rs"));
}

/// `openim.conversation`: per-user conversation records.
pub mod conversation {
    include!(concat!(env!("OUT_DIR"), "/openim.conversation.rs"));
    include!(concat!(env!("OUT_DIR"), "/openim.conversation.json.rs"));
}

/// `openim.protobuf`: scalar wrapper messages; in JSON they are bare scalars (see [`crate::json`]).
pub mod protobuf {
    include!(concat!(env!("OUT_DIR"), "/openim.protobuf.rs"));
}

/// The encoded `google.protobuf.FileDescriptorSet` of every schema file (without source info),
/// for tools and tests that need to walk all messages and fields.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/file_descriptor_set.bin"));
