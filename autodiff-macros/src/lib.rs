//! Procedural macros of `autodiff`. Use them through the `autodiff` crate.

use proc_macro::TokenStream;

/// Generates `NAME_vjp` and `NAME_grad` next to a function.
#[proc_macro_attribute]
pub fn differentiable(_args: TokenStream, input: TokenStream) -> TokenStream {
    input
}

/// Derives `Differentiable` for a struct.
#[proc_macro_derive(Differentiable, attributes(no_grad))]
pub fn derive_differentiable(_input: TokenStream) -> TokenStream {
    TokenStream::new()
}
