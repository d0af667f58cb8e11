//! Chorus core: the sans-IO sync engine.
//!
//! No I/O, no clock, no ambient randomness: the engine consumes decoded frames, REST results,
//! commands and `now`, and produces frames, requests, persistence batches and events.
//! The engine itself arrives with the core issue; this crate currently re-exports the wire layer
//! so that dependants build against the final crate graph.

pub use chorus_proto as proto;
