//! `#[differentiable(wrt(a, b), crate = "path", debug)]`

use syn::parse::Parser;
use syn::{Ident, LitStr, Path};

/// The options of one `#[differentiable(...)]` attribute.
pub struct Args {
    /// Explicit wrt inputs, in the order written, or `None` for the default rule.
    pub wrt: Option<Vec<Ident>>,
    /// The path the generated code reaches the library through (`::autodiff` by default).
    pub krate: Path,
    /// Print the expansion at compile time.
    pub debug: bool,
}

impl Args {
    pub fn parse(tokens: proc_macro2::TokenStream) -> syn::Result<Args> {
        let mut wrt: Option<Vec<Ident>> = None;
        let mut krate: Option<Path> = None;
        let mut debug = false;
        let parser = syn::meta::parser(|meta| {
            if meta.path.is_ident("wrt") {
                if wrt.is_some() {
                    return Err(meta.error("duplicate `wrt(...)`; list every input in one `wrt`"));
                }
                let mut names = Vec::new();
                meta.parse_nested_meta(|inner| {
                    match inner.path.get_ident() {
                        Some(ident) => names.push(ident.clone()),
                        None => {
                            return Err(inner.error("expected a parameter name, as in `wrt(x, y)`"));
                        }
                    }
                    Ok(())
                })?;
                wrt = Some(names);
                Ok(())
            } else if meta.path.is_ident("crate") {
                let lit: LitStr = meta.value()?.parse()?;
                krate = Some(lit.parse()?);
                Ok(())
            } else if meta.path.is_ident("debug") {
                debug = true;
                Ok(())
            } else {
                Err(meta.error(
                    "unknown option of #[differentiable]; expected `wrt(a, b)`, `crate = \"path\"` or `debug`",
                ))
            }
        });
        parser.parse2(tokens)?;
        Ok(Args {
            wrt,
            krate: krate.unwrap_or_else(|| syn::parse_quote!(::autodiff)),
            debug,
        })
    }
}
