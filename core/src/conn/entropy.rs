//! Injected randomness of the connection machine: operation ids and reconnect jitter.
//!
//! The machine never reads ambient randomness; a driver seeds [`SeededEntropy`] (e.g. from the
//! platform's random source) and tests use [`SequentialIds`] and [`FixedJitter`] so that every run
//! produces the same frames and the same reconnect schedule.
//!
//! Both traits require [`MaybeSend`] so that a [`super::Conn`] can move between threads natively while a
//! browser source may hold JavaScript handles.

use crate::platform::MaybeSend;

/// Produces the `operationID`s of handshakes and requests (free trace ids for the server).
pub trait IdGenerator: MaybeSend {
    fn operation_id(&mut self) -> String;
}

/// Produces reconnect jitter as a fraction of the configured spread, in permille: `-1000` shortens a
/// delay by the whole spread, `1000` lengthens it by the whole spread. Values outside are clamped.
pub trait JitterSource: MaybeSend {
    fn next_permille(&mut self) -> i32;
}

/// A small seeded generator (SplitMix64) serving both roles; the same seed gives the same sequence.
#[derive(Debug, Clone)]
pub struct SeededEntropy {
    state: u64,
}

impl SeededEntropy {
    pub const fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

impl IdGenerator for SeededEntropy {
    fn operation_id(&mut self) -> String {
        format!("{:016x}", self.next_u64())
    }
}

impl JitterSource for SeededEntropy {
    fn next_permille(&mut self) -> i32 {
        // 2001 values are few enough that the modulo bias is irrelevant for jitter.
        i32::try_from(self.next_u64() % 2001).unwrap_or(1000) - 1000
    }
}

/// Ids `<prefix>1`, `<prefix>2`, … — readable ids for tests and logs.
#[derive(Debug, Clone)]
pub struct SequentialIds {
    prefix: String,
    next: u64,
}

impl SequentialIds {
    pub fn new(prefix: impl Into<String>) -> Self {
        Self {
            prefix: prefix.into(),
            next: 1,
        }
    }
}

impl IdGenerator for SequentialIds {
    fn operation_id(&mut self) -> String {
        let id = format!("{}{}", self.prefix, self.next);
        self.next += 1;
        id
    }
}

/// The same jitter every time (permille of the spread, see [`JitterSource`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FixedJitter(pub i32);

impl JitterSource for FixedJitter {
    fn next_permille(&mut self) -> i32 {
        self.0
    }
}
