//! `#[derive(Differentiable)]`: a struct's tangent struct and the traits that make the
//! struct a parameter container (gradients, optimizers, saving, training mode).
//!
//! The pipeline (serde_derive's): [`ast::Container::from_ast`] checks the input and parses
//! its attributes, pushing every problem into one [`Ctxt`]; `cx.check()?` reports them all
//! at once; [`emit::expand`] then generates code and never checks anything.
//!
//! For
//!
//! ```text
//! #[derive(Differentiable)]
//! pub struct Linear<A: Real = f32> { pub weight: Array2<A>, pub bias: Array1<A> }
//! ```
//!
//! it emits `pub struct LinearTangent<A: Real = f32> { pub weight: <Array2<A> as
//! Differentiable>::Tangent, pub bias: ... }` next to the struct, and, inside one
//! `const _: () = { ... };`, the impls of `Clone`, `Debug` (serde's derives give
//! `Serialize`/`Deserialize`) and `Tangent` for the tangent, and `Differentiable`,
//! `__private::Primal`, `__private::Adjoint` (for the tangent), `__private::ArgKind`,
//! `NamedParameters` and `TrainingMode` for the struct.

mod ast;
mod emit;
mod generics;

use proc_macro2::TokenStream;
use syn::DeriveInput;

use crate::ctxt::Ctxt;

/// Expands `#[derive(Differentiable)]` on `input`, or reports every problem found in it.
pub fn expand(input: &DeriveInput) -> syn::Result<TokenStream> {
    let cx = Ctxt::default();
    let container = ast::Container::from_ast(&cx, input);
    cx.check()?;
    // `from_ast` returns `None` only after recording an error.
    let Some(container) = container else {
        return Err(syn::Error::new_spanned(
            &input.ident,
            "internal error: no container and no error",
        ));
    };
    Ok(emit::expand(&container))
}

#[cfg(test)]
mod tests {
    //! Expansion snapshots: every `tests/expand/derive/NAME.rs` is expanded and compared
    //! with `NAME.expanded.rs`. `AUTODIFF_EXPAND=overwrite cargo test -p autodiff-macros`
    //! rewrites the snapshots; review the diff.

    use std::path::Path;

    #[test]
    fn expansions_match_snapshots() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/expand/derive");
        let overwrite = std::env::var_os("AUTODIFF_EXPAND").is_some_and(|v| v == "overwrite");
        let mut fixtures: Vec<_> = std::fs::read_dir(&dir)
            .expect("fixture folder")
            .map(|entry| entry.expect("fixture").path())
            .filter(|p| {
                p.extension().is_some_and(|e| e == "rs")
                    && !p.to_string_lossy().ends_with(".expanded.rs")
            })
            .collect();
        fixtures.sort();
        assert!(!fixtures.is_empty(), "no fixture in {}", dir.display());
        let mut stale = Vec::new();
        for fixture in fixtures {
            let source = std::fs::read_to_string(&fixture).expect("fixture text");
            let input: syn::DeriveInput = syn::parse_str(&source).expect("fixture parses");
            let tokens =
                super::expand(&input).unwrap_or_else(|e| panic!("{}: {e}", fixture.display()));
            let file: syn::File = syn::parse2(tokens).expect("expansion parses");
            let expanded = prettyplease::unparse(&file);
            let snapshot = fixture.with_extension("expanded.rs");
            if overwrite {
                std::fs::write(&snapshot, &expanded).expect("write snapshot");
            } else if std::fs::read_to_string(&snapshot).ok().as_deref() != Some(expanded.as_str())
            {
                stale.push(snapshot.display().to_string());
            }
        }
        assert!(
            stale.is_empty(),
            "expansions differ from {stale:?}; rerun with AUTODIFF_EXPAND=overwrite and review"
        );
    }
}
