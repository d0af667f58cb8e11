//! chorus-server: an OpenIM v3.8 compatible REST API and WebSocket gateway on SQLite.
//!
//! The server arrives with the server issue; today the crate builds against the wire layer only.

pub use chorus_proto as proto;
