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
        // Percent times permille.
        const SCALE: u64 = 100_000;
        let base = millis(self.base_delay(failures));
        let permille = permille.clamp(-1000, 1000);
        let factor = u64::from(self.jitter_percent) * u64::from(permille.unsigned_abs());
        // `base · factor / SCALE` rounded toward zero, as the sum of the whole and the remainder
        // parts of `base / SCALE` so that no product needs more than 64 bits. Saturating is
        // exact where it matters: an offset beyond `u64::MAX` takes the delay to 0 or
        // `u64::MAX` either way.
        let offset = (base / SCALE)
            .saturating_mul(factor)
            .saturating_add(base % SCALE * factor / SCALE);
        let ms = if permille < 0 {
            base.saturating_sub(offset)
        } else {
            base.saturating_add(offset)
        };
        Duration::from_millis(ms)
    }
}

/// `d` in whole milliseconds, saturating at `u64::MAX` (as `d.as_millis()` would read, without
/// its 128-bit arithmetic).
pub(super) fn millis(d: Duration) -> u64 {
    d.as_secs()
        .saturating_mul(1000)
        .saturating_add(u64::from(d.subsec_millis()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The delay worked out in 128-bit arithmetic, where nothing can overflow.
    fn reference(backoff: &Backoff, failures: u32, permille: i32) -> Duration {
        let base = i128::from(millis(backoff.base_delay(failures)));
        let permille = i128::from(permille.clamp(-1000, 1000));
        let offset = base * i128::from(backoff.jitter_percent) * permille / 100_000;
        let ms = (base + offset).max(0);
        Duration::from_millis(u64::try_from(ms).unwrap_or(u64::MAX))
    }

    proptest! {
        #[test]
        fn delay_matches_exact_arithmetic(
            initial in prop_oneof![0u64..100_000, any::<u64>()],
            max in prop_oneof![0u64..10_000_000, any::<u64>()],
            jitter_percent in any::<u8>(),
            failures in 0u32..80,
            permille in prop_oneof![-1000i32..=1000, any::<i32>()],
        ) {
            let backoff = Backoff {
                initial: Duration::from_millis(initial),
                max: Duration::from_millis(max),
                jitter_percent,
            };
            prop_assert_eq!(
                backoff.delay(failures, permille),
                reference(&backoff, failures, permille)
            );
        }
    }

    proptest! {
        #[test]
        fn millis_saturates_like_as_millis(secs in any::<u64>(), nanos in 0u32..1_000_000_000) {
            let d = Duration::new(secs, nanos);
            prop_assert_eq!(millis(d), u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        }
    }

    #[test]
    fn default_schedule_is_jittered_by_a_fifth() {
        let backoff = Backoff::default();
        assert_eq!(backoff.delay(0, 0), Duration::from_secs(1));
        assert_eq!(backoff.delay(10, 1000), Duration::from_secs(36));
        assert_eq!(backoff.delay(10, -1000), Duration::from_secs(24));
        assert_eq!(backoff.delay(1, -1), Duration::from_millis(2000));
        assert_eq!(backoff.delay(64, 1000), Duration::from_secs(36));
    }
}
