//! The driver of `#[differentiable]`: arguments → resolve → lower → emit, or a fallback.
//!
//! Input: the attribute's arguments and the function. Output: the function unchanged (but
//! for `#[no_grad]` markers on its parameters), `NAME_vjp`, and `NAME_grad` when the result
//! is a scalar.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, format_ident, quote};
use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;
use syn::{FnArg, ItemFn, Pat, ReturnType, Type};

use crate::args::Args;
use crate::ctxt::Ctxt;
use crate::emit::Emitter;
use crate::lower;
use crate::merge_loops;
use crate::resolve::{self, Resolved, VarId, is_scalar_type, node_key};

/// One parameter of the function, as the generated companions see it.
struct Param {
    ident: syn::Ident,
    ty: Type,
    wrt: bool,
    key: usize,
}

pub fn expand(args: TokenStream, input: TokenStream) -> TokenStream {
    let mut item: ItemFn = match syn::parse2(input.clone()) {
        Ok(item) => item,
        Err(err) => {
            let err = err.to_compile_error();
            return quote!(#input #err);
        }
    };
    let args = match Args::parse(args) {
        Ok(a) => a,
        Err(err) => {
            let err = err.to_compile_error();
            strip_no_grad(&mut item);
            return quote!(#item #err);
        }
    };
    match expand_fn(&args, &mut item) {
        Ok(tokens) => {
            if args.debug {
                eprintln!("{tokens}");
            }
            tokens
        }
        Err(err) => {
            strip_no_grad(&mut item);
            let stubs = fallback(&args, &item);
            let err = err.to_compile_error();
            quote!(#item #stubs #err)
        }
    }
}

fn expand_fn(args: &Args, item: &mut ItemFn) -> syn::Result<TokenStream> {
    let _scalars = resolve::ScalarGenerics::enter(&item.sig.generics);
    let cx = Ctxt::default();
    check_signature(&cx, item);
    let params = params(&cx, args, item);
    let ret = match &item.sig.output {
        ReturnType::Type(_, ty) => (**ty).clone(),
        ReturnType::Default => {
            cx.error_spanned_by(&item.sig, "a #[differentiable] function must return a value to differentiate; add `-> f64` or the type it computes");
            syn::parse_quote!(())
        }
    };
    cx.check()?;

    // The user's function is emitted as written: keep it before shadowed names are renamed.
    let original = {
        let mut f = item.clone();
        strip_no_grad(&mut f);
        f
    };
    let receiver = item
        .sig
        .receiver()
        .map(|r| (node_key(r), receiver_wrt(args, r)));
    let (resolved, lowered) = resolve_and_lower(&params, receiver, item)?;

    let body = vjp_body(args, item, &params, &resolved, &lowered, false);
    let grad_body = vjp_body(args, item, &params, &resolved, &lowered, true);
    Ok(companions(
        args,
        &original,
        &params,
        &ret,
        receiver.map(|r| r.1),
        (body, grad_body),
    ))
}

/// Names and activity of the body, then its lowered form (shadowed names renamed in `item`).
fn resolve_and_lower(
    params: &[Param],
    receiver: Option<(usize, bool)>,
    item: &mut ItemFn,
) -> syn::Result<(Resolved, lower::Lowered)> {
    let resolve_params: Vec<_> = params
        .iter()
        .map(|p| (p.ident.clone(), p.key, p.wrt, is_scalar_type(&p.ty)))
        .collect();
    merge_loops::merge_adjacent_loops(&mut item.block);
    let resolved = resolve::resolve(&resolve_params, receiver, &item.block);
    rename_shadowed(&resolved, &mut item.block);
    let cx = Ctxt::default();
    let lowered = lower::lower(&cx, &resolved, &item.block);
    cx.check()?;
    Ok((resolved, lowered))
}

/// Runs the analysis of `#[differentiable]` on a function given as source, for unit tests
/// of the emitter's decisions.
#[cfg(test)]
pub(crate) fn with_emitter<R>(
    seeded: bool,
    src: &str,
    f: impl FnOnce(&Emitter, &lower::Lowered) -> R,
) -> R {
    let mut item: ItemFn = syn::parse_str(src).expect("a function");
    let _scalars = resolve::ScalarGenerics::enter(&item.sig.generics);
    let args = Args::parse(TokenStream::new()).expect("default arguments");
    let cx = Ctxt::default();
    let params = params(&cx, &args, &item);
    cx.check().expect("a valid signature");
    let (_, lowered) = resolve_and_lower(&params, None, &mut item).expect("a supported body");
    let em = Emitter::new(&args.krate, &lowered, seeded);
    f(&em, &lowered)
}

/// The source of `fn NAME` in `tests/macro_checkpoint.rs`, whose gradients the integration
/// tests check: unit tests of the emitter's decisions read the same functions.
#[cfg(test)]
pub(crate) fn loop_test_fn(name: &str) -> String {
    test_fn_source(include_str!("../../tests/macro_checkpoint.rs"), name)
}

/// The source of `fn NAME` in `tests/macro_restore.rs` (as [`loop_test_fn`]).
#[cfg(test)]
pub(crate) fn restore_test_fn(name: &str) -> String {
    test_fn_source(include_str!("../../tests/macro_restore.rs"), name)
}

/// The source of `fn NAME` in `tests/macro_windows.rs` (as [`loop_test_fn`]).
#[cfg(test)]
pub(crate) fn windows_test_fn(name: &str) -> String {
    test_fn_source(include_str!("../../tests/macro_windows.rs"), name)
}

#[cfg(test)]
fn test_fn_source(source: &str, name: &str) -> String {
    let start = source
        .find(&format!("fn {name}"))
        .unwrap_or_else(|| panic!("no `fn {name}` in the test file"));
    let end = source[start..]
        .find("\n}\n")
        .expect("the end of the function")
        + start
        + 2;
    source[start..end].to_string()
}

fn receiver_wrt(args: &Args, r: &syn::Receiver) -> bool {
    let by_ref_shared = r.reference.is_some() && r.mutability.is_none();
    match &args.wrt {
        Some(list) => list.iter().any(|i| i == "self"),
        None => by_ref_shared || r.reference.is_none(),
    }
}

fn check_signature(cx: &Ctxt, item: &ItemFn) {
    let sig = &item.sig;
    if let Some(t) = &sig.asyncness {
        cx.error_spanned_by(
            t,
            "`async fn` cannot be #[differentiable]; differentiate a synchronous function",
        );
    }
    if let Some(t) = &sig.constness {
        cx.error_spanned_by(t, "`const fn` cannot be #[differentiable]; remove `const`");
    }
    if let Some(t) = &sig.unsafety {
        cx.error_spanned_by(t, "`unsafe fn` cannot be #[differentiable]; wrap the unsafe part in a safe function with a hand-written `_vjp`");
    }
    if let Some(v) = &sig.variadic {
        cx.error_spanned_by(v, "variadic functions cannot be #[differentiable]");
    }
    if let Some(r) = sig.receiver()
        && r.mutability.is_some()
        && r.reference.is_some()
    {
        cx.error_spanned_by(r, "`&mut self` cannot be #[differentiable]: the function must not modify what it differentiates; take `&self`");
    }
}

fn params(cx: &Ctxt, args: &Args, item: &ItemFn) -> Vec<Param> {
    let mut out = Vec::new();
    for input in &item.sig.inputs {
        let FnArg::Typed(pt) = input else { continue };
        let Pat::Ident(pi) = &*pt.pat else {
            cx.error_spanned_by(&pt.pat, "#[differentiable] needs a plain name for each parameter; destructure inside the body");
            continue;
        };
        let no_grad = pt.attrs.iter().any(|a| a.path().is_ident("no_grad"));
        let wrt = match &args.wrt {
            Some(list) => list.contains(&pi.ident),
            None => !no_grad && is_differentiable_type(&pt.ty),
        };
        if no_grad && args.wrt.as_ref().is_some_and(|l| l.contains(&pi.ident)) {
            cx.error_spanned_by(
                &pi.ident,
                "this parameter is both `#[no_grad]` and listed in `wrt(...)`; keep one",
            );
        }
        out.push(Param {
            ident: pi.ident.clone(),
            ty: (*pt.ty).clone(),
            wrt,
            key: node_key(pi),
        });
    }
    if let Some(list) = &args.wrt {
        for name in list {
            let known = name == "self" && item.sig.receiver().is_some()
                || out.iter().any(|p| p.ident == *name);
            if !known {
                cx.error_spanned_by(
                    name,
                    format!("`{name}` in `wrt(...)` is not a parameter of this function"),
                );
            }
        }
    }
    out
}

/// API.md's default rule: everything but integers, `bool`, `char`, strings (and references,
/// slices, arrays and `Vec`s of these); also never `&mut` or `impl Trait` parameters.
fn is_differentiable_type(ty: &Type) -> bool {
    match ty {
        Type::Reference(r) => r.mutability.is_none() && is_differentiable_type(&r.elem),
        Type::Slice(s) => is_differentiable_type(&s.elem),
        Type::Array(a) => is_differentiable_type(&a.elem),
        Type::Paren(p) => is_differentiable_type(&p.elem),
        Type::Tuple(t) => t.elems.iter().any(is_differentiable_type),
        Type::ImplTrait(_)
        | Type::Never(_)
        | Type::Ptr(_)
        | Type::BareFn(_)
        | Type::TraitObject(_) => false,
        Type::Path(p) => {
            let Some(last) = p.path.segments.last() else {
                return true;
            };
            let name = last.ident.to_string();
            const PASSIVE: &[&str] = &[
                "usize", "isize", "u8", "u16", "u32", "u64", "u128", "i8", "i16", "i32", "i64",
                "i128", "bool", "char", "str", "String", "Axis",
            ];
            if PASSIVE.contains(&name.as_str()) {
                return false;
            }
            if (name == "Vec" || name == "Option" || name == "Box")
                && let syn::PathArguments::AngleBracketed(a) = &last.arguments
                && let Some(syn::GenericArgument::Type(inner)) = a.args.first()
            {
                return is_differentiable_type(inner);
            }
            true
        }
        _ => true,
    }
}

fn strip_no_grad(item: &mut ItemFn) {
    for input in &mut item.sig.inputs {
        if let FnArg::Typed(pt) = input {
            pt.attrs.retain(|a| !a.path().is_ident("no_grad"));
        }
    }
}

/// Renames shadowed bindings so that every variable has one name in generated code.
fn rename_shadowed(res: &Resolved, body: &mut syn::Block) {
    struct Renamer<'r>(&'r Resolved);
    impl VisitMut for Renamer<'_> {
        fn visit_expr_path_mut(&mut self, p: &mut syn::ExprPath) {
            if let Some(&v) = self.0.uses.get(&node_key(&*p))
                && self.0.renamed.contains(&v)
            {
                let span = p.path.segments[0].ident.span();
                p.path.segments[0].ident =
                    format_ident!("{}__{}", self.0.vars[v].name, v, span = span);
            }
        }
        fn visit_pat_ident_mut(&mut self, p: &mut syn::PatIdent) {
            if let Some(&v) = self.0.bindings.get(&node_key(&*p))
                && self.0.renamed.contains(&v)
            {
                p.ident = format_ident!("{}__{}", self.0.vars[v].name, v, span = p.ident.span());
            }
            syn::visit_mut::visit_pat_ident_mut(self, p);
        }
        /// Names inside macro arguments, and variables a format string captures by name
        /// (`println!("{i}")` becomes `println!("{i}", i = i__3)`).
        fn visit_macro_mut(&mut self, m: &mut syn::Macro) {
            let res = self.0;
            let Some(names) = res.macros.get(&node_key(&*m)) else {
                return;
            };
            let renamed = |v: &VarId| res.renamed.contains(v);
            let new_name =
                |v: VarId, span| format_ident!("{}__{}", res.vars[v].name, v, span = span);
            let captures: Vec<_> = (names.captures.iter())
                .filter(|(_, v)| renamed(v))
                .map(|(name, v)| (name.clone(), new_name(*v, m.path.span())))
                .collect();
            if captures.is_empty() && !names.paths.iter().flatten().any(renamed) {
                return;
            }
            // The resolver's parse of these arguments, whose paths `names.paths` follows.
            let Some(args) = res.macro_args.get(&node_key(&*m)).map(|a| (**a).clone()) else {
                return;
            };
            let mut paths = names.paths.iter();
            m.tokens = args.rewrite(
                |p| {
                    if let Some(Some(v)) = paths.next()
                        && renamed(v)
                    {
                        let ident = &mut p.path.segments[0].ident;
                        *ident = new_name(*v, ident.span());
                    }
                },
                &captures,
            );
        }
    }
    if res.renamed.is_empty() {
        return;
    }
    Renamer(res).visit_block_mut(body);
}

/// The body of `NAME_vjp`: forward sweep, then the value and its pullback. For `NAME_grad`
/// (`seeded`: the pullback is called with one at once), a last loop that only accumulates
/// the output runs its reverse in the forward sweep (see `Emitter::fusable_loop`).
fn vjp_body(
    args: &Args,
    item: &ItemFn,
    params: &[Param],
    res: &Resolved,
    lowered: &lower::Lowered,
    seeded: bool,
) -> TokenStream {
    let k = &args.krate;
    let em = Emitter::new(k, lowered, seeded);

    // wrt inputs: the receiver first, then parameters in order.
    let mut wrt_vars = Vec::new();
    if let Some(v) = res.self_var
        && item.sig.receiver().is_some_and(|r| receiver_wrt(args, r))
    {
        wrt_vars.push(v);
    }
    let param_vars = res
        .vars
        .iter()
        .enumerate()
        .filter(|(_, v)| v.is_param && v.name != "self")
        .map(|(i, _)| i);
    for (p, v) in params.iter().zip(param_vars) {
        if p.wrt {
            wrt_vars.push(v);
        }
    }
    let metas: Vec<_> = wrt_vars
        .iter()
        .map(|&v| {
            let (m, id) = (em.meta_ident(v), em.id(v));
            if item.sig.receiver().is_some() && res.self_var == Some(v) {
                quote!(let #m = #k::__private::meta(self);)
            } else {
                quote!(let #m = #k::__private::meta(&#id);)
            }
        })
        .collect();

    // The output, its adjoint seeded with the pullback's argument.
    let seed = format_ident!("__seed", span = Span::mixed_site());
    let (out_value, seed_adj, tail_var) = match &lowered.tail {
        crate::ir::Operand::Var(v, fields) if fields.is_empty() && lowered.vars[*v].active => {
            let id = em.id(*v);
            let value = if em.needed.contains(v) || lowered.vars[*v].is_param {
                quote!(::core::clone::Clone::clone(&#id))
            } else {
                quote!(#id)
            };
            let (d, m) = (em.adj_ident(*v), em.meta_ident(*v));
            (
                value,
                quote!(let mut #d = #k::__private::seed(&#m, #seed);),
                Some(*v),
            )
        }
        other => {
            let value = em.operand(other);
            (value, quote!(let _ = #seed;), None)
        }
    };

    // Adjoints of the top level: wrt inputs and active top-level locals.
    let mut decl_vars: Vec<usize> = wrt_vars.clone();
    for v in em.declared_active(&lowered.body) {
        if !decl_vars.contains(&v) {
            decl_vars.push(v);
        }
    }
    // Where each variable is declared: a fused loop declares the adjoints of those before it.
    // A variable declared without a value (`let y;`) has its metadata once it is assigned.
    let mut position = vec![0; lowered.vars.len()];
    for (t, s) in lowered.body.stmts.iter().enumerate() {
        if let crate::ir::Stmt::Let { var, .. } | crate::ir::Stmt::Meta(var) = s {
            position[*var] = t + 1;
        }
    }
    let accs: Vec<usize> = em.fused.values().map(|f| f.acc).collect();
    let decl = |v: usize| {
        let (d, m) = (em.adj_ident(v), em.meta_ident(v));
        quote!(let mut #d = #k::__private::zero_adj(&#m);)
    };
    let (early, late): (Vec<usize>, Vec<usize>) = decl_vars
        .iter()
        .copied()
        .filter(|v| Some(*v) != tail_var)
        .partition(|v| !em.fused.is_empty() && !accs.contains(v));
    *em.pending_decls.borrow_mut() = early.iter().map(|&v| (position[v], decl(v))).collect();
    let forward = em.forward_block(&lowered.body, true);
    let reverse = em.reverse_block(&lowered.body, true);
    // The adjoints no fused loop declared, then those of the fused loops' accumulators (the
    // forward sweep's were private to their loops).
    let decls: Vec<TokenStream> = em
        .pending_decls
        .borrow_mut()
        .drain(..)
        .map(|(_, d)| d)
        .chain(late.into_iter().map(decl))
        .collect();
    let hoisted: Vec<_> = em
        .hoisted
        .borrow()
        .iter()
        .map(|name| quote!(let mut #name = ::std::vec::Vec::new();))
        .chain(
            em.hoisted_once
                .borrow()
                .iter()
                .map(|name| quote!(let mut #name = ::core::option::Option::None;)),
        )
        .collect();
    let grads: Vec<_> = wrt_vars
        .iter()
        .map(|&v| {
            let (d, m) = (em.adj_ident(v), em.meta_ident(v));
            quote!(#k::__private::finish(#d, &#m))
        })
        .collect();
    let grad = if grads.len() == 1 {
        quote!(#(#grads)*)
    } else {
        quote!((#(#grads),*))
    };
    // The pullback moves what it captured into locals first: fields of the closure are
    // memory the compiler must reload after every store through a pointer, locals are not.
    let mentioned = crate::passive::idents(&reverse);
    let rebind: Vec<_> = (0..lowered.vars.len())
        .filter(|&v| {
            let var = &lowered.vars[v];
            var.scope == 0
                && (var.is_param || em.needed.contains(&v) || em.rerun_writes.contains(&v))
                && var.ident != "self"
                && mentioned.contains(&var.ident.to_string())
        })
        .map(|v| em.id(v).clone())
        .chain(em.hoisted.borrow().iter().cloned())
        .chain(em.hoisted_once.borrow().iter().cloned())
        .map(|id| quote!(let mut #id = #id;))
        .collect();
    let out = format_ident!("__out", span = Span::mixed_site());
    quote! {
        #(#metas)*
        #(#hoisted)*
        #forward
        let #out = #out_value;
        (#out, move |#seed| {
            #(#rebind)*
            #seed_adj
            #(#decls)*
            #reverse
            #grad
        })
    }
}

/// The type whose tangent a parameter has, written without lifetimes so that it can appear
/// in the return type: references are removed, views become owned arrays (same tangent), and
/// explicit lifetimes become `'static` (tangents never borrow).
fn strip_refs(ty: &Type) -> Type {
    match ty {
        Type::Reference(r) => strip_refs(&r.elem),
        Type::Paren(p) => strip_refs(&p.elem),
        Type::Path(p) => {
            let mut p = p.clone();
            if let Some(last) = p.path.segments.last_mut() {
                let name = last.ident.to_string();
                if let Some(rest) = name.strip_prefix("ArrayView") {
                    last.ident = format_ident!("Array{}", rest, span = last.ident.span());
                }
                if let syn::PathArguments::AngleBracketed(args) = &mut last.arguments {
                    args.args = args
                        .args
                        .iter()
                        .filter(|a| {
                            !matches!(a, syn::GenericArgument::Lifetime(_))
                                || !name.starts_with("ArrayView")
                        })
                        .map(|a| match a {
                            syn::GenericArgument::Lifetime(_) => syn::parse_quote!('static),
                            syn::GenericArgument::Type(t) => {
                                syn::GenericArgument::Type(strip_refs(t))
                            }
                            other => other.clone(),
                        })
                        .collect();
                }
            }
            Type::Path(p)
        }
        Type::Tuple(t) => {
            let mut t = t.clone();
            t.elems = t.elems.iter().map(strip_refs).collect();
            Type::Tuple(t)
        }
        other => other.clone(),
    }
}

fn gradient_type(k: &syn::Path, params: &[Param], self_wrt: Option<bool>) -> TokenStream {
    let mut tys: Vec<TokenStream> = Vec::new();
    if self_wrt == Some(true) {
        tys.push(quote!(#k::__private::TangentOf<Self>));
    }
    for p in params.iter().filter(|p| p.wrt) {
        let t = strip_refs(&p.ty);
        tys.push(quote!(#k::__private::TangentOf<#t>));
    }
    if tys.len() == 1 {
        quote!(#(#tys)*)
    } else {
        quote!((#(#tys),*))
    }
}

/// Whether `NAME_grad` exists: the result is `f32`, `f64` or a generic scalar parameter.
fn has_grad(item: &ItemFn, ret: &Type) -> bool {
    let Type::Path(p) = ret else { return false };
    let Some(ident) = p.path.get_ident() else {
        return false;
    };
    if ident == "f32" || ident == "f64" {
        return true;
    }
    let is_fn_generic = item.sig.generics.type_params().any(|t| t.ident == *ident);
    let name = ident.to_string();
    is_fn_generic
        || (name.len() <= 2 && name.chars().next().is_some_and(|c| c.is_ascii_uppercase()))
}

fn lint_allows() -> TokenStream {
    quote! {
        #[allow(
            unused_mut,
            unused_variables,
            unused_assignments,
            unused_parens,
            unused_braces,
            unreachable_code,
            non_snake_case,
            clippy::all,
            clippy::pedantic
        )]
    }
}

fn companions(
    args: &Args,
    original: &ItemFn,
    params: &[Param],
    ret: &Type,
    self_wrt: Option<bool>,
    (body, grad_body): (TokenStream, TokenStream),
) -> TokenStream {
    let k = &args.krate;
    let vis = &original.vis;
    let sig = &original.sig;
    let name = &sig.ident;
    let vjp = format_ident!("{}_vjp", name, span = name.span());
    let grad = format_ident!("{}_grad", name, span = name.span());
    let generics = &sig.generics;
    let where_clause = &sig.generics.where_clause;
    let inputs = &sig.inputs;
    let cfgs: Vec<_> = original
        .attrs
        .iter()
        .filter(|a| a.path().is_ident("cfg"))
        .collect();
    let g = gradient_type(k, params, self_wrt);
    let ret_t = strip_refs(ret);
    let allows = lint_allows();
    let vjp_doc = format!(
        "Vector-Jacobian product of [`{name}`]: its value and a pullback from an output tangent to the gradient of its differentiable inputs."
    );
    let grad_doc =
        format!("Value and gradient of [`{name}`] with respect to its differentiable inputs.");
    let mut out = quote! {
        #original
        #(#cfgs)*
        #[doc = #vjp_doc]
        #allows
        #vis fn #vjp #generics (#inputs) -> (#ret, impl ::core::ops::FnOnce(#k::__private::TangentOf<#ret_t>) -> #g) #where_clause {
            #body
        }
    };
    if has_grad(original, ret) {
        out.extend(quote! {
            #(#cfgs)*
            #[doc = #grad_doc]
            #allows
            #vis fn #grad #generics (#inputs) -> (#ret, #g) #where_clause {
                let (__value, mut __pullback) = { #grad_body };
                (__value, __pullback(#k::__private::one()))
            }
        });
    }
    out
}

/// On error: the user's function and right-signature stubs, so that call sites do not pile
/// up secondary errors.
fn fallback(args: &Args, item: &ItemFn) -> TokenStream {
    let cx = Ctxt::default();
    let params = params(&cx, args, item);
    let _ = cx.check();
    let ReturnType::Type(_, ret) = &item.sig.output else {
        return TokenStream::new();
    };
    let self_wrt = item.sig.receiver().map(|r| receiver_wrt(args, r));
    let k = &args.krate;
    let g = gradient_type(k, &params, self_wrt);
    let ret_t = strip_refs(ret);
    let body = quote! {
        (::core::unreachable!(), move |_: #k::__private::TangentOf<#ret_t>| -> #g { ::core::unreachable!() })
    };
    let mut original = item.clone();
    original.block = syn::parse_quote!({ ::core::unreachable!() });
    let tokens = companions(
        args,
        &original,
        &params,
        ret,
        self_wrt,
        (body.clone(), body),
    );
    // Drop the (stub) original from the companions: the real one is emitted by the caller.
    let file: syn::File = match syn::parse2(tokens) {
        Ok(f) => f,
        Err(_) => return TokenStream::new(),
    };
    file.items
        .into_iter()
        .skip(1)
        .map(|i| i.into_token_stream())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::expand;
    use proc_macro2::TokenStream;

    /// Inputs a user could write (or mistype): every one must expand to tokens, with errors
    /// reported as `compile_error!`, never a panic.
    const CORPUS: &[(&str, &str)] = &[
        ("", ""),
        ("", "struct S;"),
        ("", "fn f() {}"),
        ("", "fn f(x: f64) -> f64"),
        ("", "fn f(x: f64) -> f64 { }"),
        ("", "fn f(x: f64) -> f64 { x +"),
        ("wrt(", "fn f(x: f64) -> f64 { x }"),
        ("wrt(x.y)", "fn f(x: f64) -> f64 { x }"),
        ("crate = 3", "fn f(x: f64) -> f64 { x }"),
        ("crate = \"::\"", "fn f(x: f64) -> f64 { x }"),
        ("", "fn f(x: f64) -> f64 { let y = |a: f64| a * x; y(1.0) }"),
        ("", "fn f(x: f64) -> f64 { match x { _ => x } }"),
        ("", "fn f(x: f64) -> f64 { loop { break x; } }"),
        (
            "",
            "fn f(x: f64) -> f64 { let (a, (b, _)) = (x, (x, 1)); a * b }",
        ),
        ("", "fn f(x: f64) -> f64 { let [a, b] = [x, x]; a }"),
        (
            "",
            "fn f(x: f64) -> f64 { if let Some(v) = Some(x) { v } else { x } }",
        ),
        (
            "",
            "fn f(x: f64) -> f64 { while let Some(_) = None::<u8> {} x }",
        ),
        ("", "fn f(x: f64) -> f64 { 'a: for i in 0..3 { x; } x }"),
        ("", "fn f(x: f64) -> f64 { return; }"),
        (
            "",
            "fn f(x: f64) -> f64 { x.unknown_method(1, 2).another() }",
        ),
        ("", "fn f(x: f64) -> f64 { (x,).0 * [x][0] }"),
        (
            "",
            "fn f(x: f64) -> f64 { let y; if x > 0.0 { y = x; } else { y = -x; } y }",
        ),
        ("", "fn f(x: f64) -> f64 { x as u8 as f64 }"),
        ("", "fn f(x: f64) -> f64 { S { a: x }.a }"),
        ("", "fn f(x: f64) -> f64 { unsafe { x } }"),
        ("", "fn f(x: f64) -> f64 { async { x }; x }"),
        ("", "fn f(x: f64) -> f64 { x? }"),
        ("", "fn f(x: f64) -> f64 { *&mut x.clone() }"),
        ("", "fn f(x: f64) -> f64 { { { x } } }"),
        ("", "fn f(x: f64) -> f64 { let x = x; let x = x * x; x }"),
        ("", "fn f(&mut self) -> f64 { 1.0 }"),
        ("", "fn f(self: Box<Self>) -> f64 { 1.0 }"),
        ("", "fn f<T>(x: T) -> T where T: Copy { x }"),
        ("", "async unsafe extern \"C\" fn f(x: f64) -> f64 { x }"),
        ("", "fn f(x: f64) -> f64 { x += 1.0 }"),
        ("", "fn f(x: &mut [f64]) -> f64 { x[0] = 1.0; x[0] }"),
        ("", "fn f(x: f64) -> impl Fn() { move || () }"),
    ];

    #[test]
    fn never_panics() {
        for (args, input) in CORPUS {
            let args: TokenStream = args.parse().unwrap_or_default();
            let input: TokenStream = input.parse().unwrap_or_default();
            let out = expand(args, input.clone());
            assert!(!out.is_empty() || input.is_empty(), "no output for {input}");
        }
    }
}
