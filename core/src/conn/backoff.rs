//! The reconnect schedule: capped exponential back-off with proportional jitter.
//!
//! Pure arithmetic on milliseconds; the caller supplies the failure count and the jitter sample.

use std::time::Duration;

/// Delay before reconnect attempt `n` (counting consecutive failures from 0):
/// `min(initial · 2ⁿ, max)`, then moved by up to ± `jitter_percent` % of itself.
///
/// With the defaults (1 s, cap 30 s, ± 20 %) the un-jittered schedule is 1, 2, 4, 8, 16, 30, 30, … s.
/// The jitter spreads reconnecting clients apart after a server restart; it is applied after the cap,
/// so a capped delay ranges over 24–36 s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub initial: Duration,
    pub max: Duration,
    pub jitter_percent: u8,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(30),
            jitter_percent: 20,
        }
    }
}

impl Backoff {
    /// The delay after `failures` consecutive failures, before jitter.
    pub fn base_delay(&self, failures: u32) -> Duration {
        let initial = millis(self.initial);
        let factor = 1u64.checked_shl(failures).unwrap_or(u64::MAX);
        let capped = initial.saturating_mul(factor).min(millis(self.max));
        Duration::from_millis(capped)
    }

    /// The delay after `failures` consecutive failures, moved by `permille` of the jitter spread
    /// (clamped to −1000..=1000).
    pub fn delay(&self, failures: u32, permille: i32) -> Duration {
        let base = i128::from(millis(self.base_delay(failures)));
        let permille = i128::from(permille.clamp(-1000, 1000));
        let offset = base * i128::from(self.jitter_percent) * permille / 100_000;
        let ms = (base + offset).max(0);
        Duration::from_millis(u64::try_from(ms).unwrap_or(u64::MAX))
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}
