//! Black-box tests live in `tests/api/`; this crate has no code of its own.
