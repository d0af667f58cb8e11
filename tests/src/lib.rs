//! chorus-e2e: cross-crate and interoperability test suites (see `tests/`).
