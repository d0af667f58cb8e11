//! Counting passed and failed tests from the text test runners print.
//!
//! Pure functions over strings: nothing here runs a process or prints. Each runner has its own
//! parser, applied only to that runner's output, so a node report echoed inside a failing cargo
//! test is never counted twice.

use std::fmt;
use std::ops::AddAssign;

/// Passed and failed test counts.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    pub passed: u64,
    pub failed: u64,
}

impl Tally {
    pub fn total(self) -> u64 {
        self.passed + self.failed
    }
}

impl AddAssign for Tally {
    fn add_assign(&mut self, other: Tally) {
        self.passed += other.passed;
        self.failed += other.failed;
    }
}

impl fmt::Display for Tally {
    /// The closing line of `cargo xtask test`, in the plain `N passed, N failed` form.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "tests: {} passed, {} failed", self.passed, self.failed)
    }
}

/// Removes ANSI escape sequences (`ESC [ … final-byte`), which cargo emits when colour is on.
pub fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\u{1b}' {
            out.push(c);
            continue;
        }
        if chars.next() == Some('[') {
            // Parameters and intermediates run until a final byte in '@'..='~'.
            for c in chars.by_ref() {
                if ('@'..='~').contains(&c) {
                    break;
                }
            }
        }
    }
    out
}

/// Sums every `test result: ok. X passed; Y failed; …` line (libtest and
/// wasm-bindgen-test-runner both print one per test binary).
pub fn cargo_tally(output: &str) -> Tally {
    let mut tally = Tally::default();
    for line in strip_ansi(output).lines() {
        let Some((_, rest)) = line.split_once("test result: ") else {
            continue;
        };
        // "ok. 3 passed; 0 failed; 0 ignored; …" or "FAILED. 2 passed; 1 failed; …"
        let Some((_, counts)) = rest.split_once(". ") else {
            continue;
        };
        for part in counts.split(';') {
            match part.split_whitespace().collect::<Vec<_>>().as_slice() {
                [n, "passed"] => tally.passed += n.parse::<u64>().unwrap_or(0),
                [n, "failed"] => tally.failed += n.parse::<u64>().unwrap_or(0),
                _ => {}
            }
        }
    }
    tally
}

/// Sums the `# pass N` and `# fail N` lines of node's TAP reporter.
pub fn tap_tally(output: &str) -> Tally {
    let mut tally = Tally::default();
    for line in strip_ansi(output).lines() {
        match line.split_whitespace().collect::<Vec<_>>().as_slice() {
            ["#", "pass", n] => tally.passed += n.parse::<u64>().unwrap_or(0),
            ["#", "fail", n] => tally.failed += n.parse::<u64>().unwrap_or(0),
            _ => {}
        }
    }
    tally
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cargo_lines_are_summed_across_binaries() {
        let out = "\
running 3 tests
test a ... ok
test result: ok. 3 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.01s

running 4 tests
test result: FAILED. 2 passed; 2 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.20s

running 0 tests
test result: ok. 0 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s
";
        assert_eq!(
            cargo_tally(out),
            Tally {
                passed: 5,
                failed: 2
            }
        );
    }

    #[test]
    fn wasm_runner_line_is_counted() {
        let out = "Running headless tests in Chrome on `http://127.0.0.1:39121/`\n\
                   test result: ok. 2 passed; 0 failed; 0 ignored; 0 filtered out; finished in 1.81s\n";
        assert_eq!(
            cargo_tally(out),
            Tally {
                passed: 2,
                failed: 0
            }
        );
    }

    #[test]
    fn coloured_cargo_output_is_counted() {
        let out = "test result: \u{1b}[32mok\u{1b}[0m. 7 passed; 1 failed; 0 ignored\n";
        assert_eq!(
            cargo_tally(out),
            Tally {
                passed: 7,
                failed: 1
            }
        );
    }

    #[test]
    fn text_without_result_lines_counts_nothing() {
        let out = "error[E0425]: cannot find value `x`\n# pass 3\ntest result: garbage\n";
        assert_eq!(cargo_tally(out), Tally::default());
    }

    #[test]
    fn tap_counts_only_pass_and_fail_lines() {
        let out = "\
TAP version 13
# Subtest: round trip
ok 1 - round trip
# tests 3
# suites 0
# pass 2
# fail 1
# cancelled 0
# skipped 0
";
        assert_eq!(
            tap_tally(out),
            Tally {
                passed: 2,
                failed: 1
            }
        );
        // A cargo summary line is not TAP.
        assert_eq!(
            tap_tally("test result: ok. 9 passed; 0 failed"),
            Tally::default()
        );
    }

    #[test]
    fn ansi_stripping_keeps_plain_text() {
        assert_eq!(strip_ansi("a\u{1b}[1;31mb\u{1b}[0mc"), "abc");
        assert_eq!(strip_ansi("plain"), "plain");
    }

    #[test]
    fn closing_line_has_the_plain_form() {
        let t = Tally {
            passed: 12,
            failed: 0,
        };
        assert_eq!(t.to_string(), "tests: 12 passed, 0 failed");
        let mut sum = t;
        sum += Tally {
            passed: 1,
            failed: 3,
        };
        assert_eq!(
            sum,
            Tally {
                passed: 13,
                failed: 3
            }
        );
        assert_eq!(sum.total(), 16);
    }
}
