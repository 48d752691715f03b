//! Procedural macros of `autodiff`. Use them through the `autodiff` crate.

mod derive;

use proc_macro::TokenStream;

mod args;
mod checkpoint;
mod ctxt;
mod emit;
mod expand;
mod fuse;
mod ir;
mod lower;
mod macro_args;
mod merge_loops;
mod overwrite;
mod passive;
mod resolve;
mod restore;
mod reverse;
mod symbol;
mod window;

/// Generates `NAME_vjp` and `NAME_grad` next to a function. See the `autodiff` crate.
#[proc_macro_attribute]
pub fn differentiable(args: TokenStream, input: TokenStream) -> TokenStream {
    expand::expand(args.into(), input.into()).into()
}

/// Derives `Differentiable` for a struct.
#[proc_macro_derive(Differentiable, attributes(autodiff, no_grad))]
pub fn derive_differentiable(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    derive::expand(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
