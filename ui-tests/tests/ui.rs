//! Compile-fail cases: every rejection of the macros, with its message and span.
//!
//! `.stderr` files come from `TRYBUILD=overwrite cargo test -p autodiff-ui-tests` and are
//! reviewed, never hand-written. They depend on the rustc version (see README).

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/fail/**/*.rs");
}
