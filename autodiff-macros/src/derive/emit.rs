//! Input: a checked [`Container`]. Output: the tangent struct and the impls. No checks here.
//!
//! Input:
//!
//! ```text
//! #[derive(Differentiable)]
//! struct Mlp { l1: Linear, #[no_grad] name: String }
//! ```
//!
//! Output (abridged; `krate` is `::autodiff`):
//!
//! ```text
//! /// The tangent (gradient) of [`Mlp`]: ...
//! #[derive(krate::__private::serde::Serialize, krate::__private::serde::Deserialize)]
//! #[serde(crate = "krate::__private::serde", bound(serialize = "", deserialize = ""))]
//! struct MlpTangent {
//!     /// The tangent of the `l1` field.
//!     l1: <Linear as krate::Differentiable>::Tangent,
//! }
//! const _: () = {
//!     impl Clone for MlpTangent { .. }          impl Debug for MlpTangent { .. }
//!     impl krate::Tangent for MlpTangent { leaves, leaves_mut, add_assign_tangent, scale, zero_like, dot }
//!     impl krate::Differentiable for Mlp { type Tangent = MlpTangent; zero_tangent, leaves, leaves_mut, add_scaled }
//!     impl krate::__private::Primal for Mlp { Tangent = Adj = MetaData = MlpTangent }
//!     impl krate::__private::Adjoint for MlpTangent { Value = Self }
//!     impl krate::__private::ArgKind for Mlp { Kind = Yes }
//!     impl krate::__private::NamedParameters for Mlp { visit "l1" }
//!     impl krate::__private::TrainingMode for Mlp { set_training of l1 }
//! };
//! ```

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{Generics, Ident, Path, WherePredicate};

use super::ast::{Container, Field, Role, Style};
use super::generics::{self, Params};

/// Which fields [`Cx::field_predicates`] bounds.
#[derive(Clone, Copy)]
enum Which {
    /// Those whose type mentions a type or const parameter.
    Generic,
    /// The others.
    Concrete,
    /// Every one.
    All,
}

/// Everything one expansion needs, computed once.
struct Cx<'c, 'a> {
    c: &'c Container<'a>,
    krate: &'c Path,
    /// `NameTangent`.
    tangent: Ident,
    /// The tangent struct's own generics (with the `Differentiable` predicates of its fields).
    tangent_generics: Generics,
    params: Params,
}

pub fn expand(c: &Container) -> TokenStream {
    let krate = &c.krate;
    let mut cx = Cx {
        c,
        krate,
        tangent: format_ident!("{}Tangent", c.ident),
        tangent_generics: generics::tangent_generics(
            c.generics,
            c.fields_with(Role::Param).map(|f| f.ty),
        ),
        params: Params::new(c.generics),
    };
    let predicates = cx.field_predicates(
        &[Role::Param],
        Which::Generic,
        |ty| quote_spanned!(ty.span()=> #krate::Differentiable),
    );
    if !predicates.is_empty() {
        cx.tangent_generics
            .make_where_clause()
            .predicates
            .extend(predicates);
    }

    let tangent_struct = cx.tangent_struct();
    let accumulators = cx.accumulator_structs();
    let impls = [
        cx.clone_debug_impls(),
        cx.tangent_impl(),
        cx.differentiable_impl(),
        cx.primal_impl(),
        cx.adjoint_impl(),
        cx.arg_kind_impl(),
        cx.named_parameters_impl(),
        cx.training_mode_impl(),
    ];
    quote! {
        #tangent_struct
        #accumulators
        const _: () = {
            #(#impls)*
        };
    }
}

impl Cx<'_, '_> {
    /// `Ty: Bound` for every field of `roles`, spanned on the field's type.
    ///
    /// The impls get one for every field, concrete types included: a field whose type lacks
    /// the trait then fails once per impl, at the bound, instead of at every use of the
    /// tangent in every body. The tangent struct itself gets them only for the generic
    /// fields, which need them to be well-formed: a bound on a private type would make a
    /// public tangent struct trip `private_bounds` (impls are exempt).
    fn field_predicates(
        &self,
        roles: &[Role],
        which: Which,
        bound: impl Fn(&syn::Type) -> TokenStream,
    ) -> Vec<WherePredicate> {
        self.c
            .fields
            .iter()
            .filter(|f| {
                roles.contains(&f.role)
                    && match which {
                        Which::All => true,
                        Which::Generic => self.is_generic(f.ty),
                        Which::Concrete => !self.is_generic(f.ty),
                    }
            })
            .map(|f| {
                let ty = f.ty;
                let bound = bound(ty);
                syn::parse_quote_spanned!(ty.span()=> #ty: #bound)
            })
            .collect()
    }

    /// `P: 'static` for the tangent's type parameters: `Tangent` requires `'static`.
    fn static_predicates(&self) -> Vec<WherePredicate> {
        generics::type_params(&self.tangent_generics)
            .map(|p| syn::parse_quote!(#p: 'static))
            .collect()
    }

    /// The struct's generics with `extra` appended to the where-clause.
    fn primal_generics(&self, extra: Vec<WherePredicate>) -> Generics {
        let mut generics = self.c.generics.clone();
        if !extra.is_empty() {
            generics.make_where_clause().predicates.extend(extra);
        }
        generics
    }

    /// The tangent struct's generics for its impls: with the concrete fields' predicates
    /// (see [`Cx::field_predicates`]) and, when `statics`, `'static` bounds.
    fn tangent_impl_generics(&self, statics: bool) -> Generics {
        let krate = self.krate;
        let mut generics = self.tangent_generics.clone();
        let mut extra = self.field_predicates(
            &[Role::Param],
            Which::Concrete,
            |ty| quote_spanned!(ty.span()=> #krate::Differentiable),
        );
        if statics {
            extra.extend(self.static_predicates());
        }
        if !extra.is_empty() {
            generics.make_where_clause().predicates.extend(extra);
        }
        generics
    }

    /// `NameTangent<A, ..>`, the tangent as a type.
    fn tangent_type(&self) -> TokenStream {
        let tangent = &self.tangent;
        let (_, ty_generics, _) = self.tangent_generics.split_for_impl();
        quote!(#tangent #ty_generics)
    }

    fn params(&self) -> impl Iterator<Item = &Field<'_>> {
        self.c.fields_with(Role::Param)
    }

    /// `NameTangent { a: f(a), b: f(b) }` for the parameter fields.
    fn tangent_literal(&self, value: impl Fn(&Field) -> TokenStream) -> TokenStream {
        let tangent = &self.tangent;
        let fields = self.params().map(|f| {
            let ident = f.ident;
            let value = value(f);
            quote!(#ident: #value)
        });
        quote!(#tangent { #(#fields,)* })
    }

    // Input:  `struct Linear<A: Real = f32> { weight: Array2<A>, #[no_grad] name: String }`
    // Output: `/// doc  #[derive(serde..)] #[serde(..)]
    //          struct LinearTangent<A: Real = f32> where Array2<A>: Differentiable
    //          { /// doc  weight: <Array2<A> as Differentiable>::Tangent }`
    fn tangent_struct(&self) -> TokenStream {
        let krate = self.krate;
        let vis = self.c.vis;
        let tangent = &self.tangent;
        let generics = &self.tangent_generics;
        let where_clause = &generics.where_clause;
        let doc = format!(
            " The tangent (gradient) of [`{}`]: one field per parameter field of it, \
             generated by `#[derive(Differentiable)]`.",
            self.c.ident
        );
        let serde_path = format!("{}::__private::serde", path_string(krate));
        let serde_helpers = format!("{}::__private", path_string(krate));
        // Generic fields go through `__private::{serialize,deserialize}_tangent::<FieldTy, _>`
        // under the bound `FieldTy: SerdeTangent` (see there why not a bound on the tangent).
        let bound = self.serde_bound();
        let attrs = quote! {
            #[doc = #doc]
            #[derive(#krate::__private::serde::Serialize, #krate::__private::serde::Deserialize)]
            #[serde(crate = #serde_path, bound = #bound)]
        };
        match self.c.style {
            Style::Unit => quote! {
                #attrs
                #vis struct #tangent #generics #where_clause;
            },
            Style::Named => {
                let fields = self.params().map(|f| {
                    let (ident, vis, ty) = (f.ident, f.vis, f.ty);
                    let doc = format!(" The tangent of the `{}` field.", ident.unraw());
                    let field_ty =
                        quote_spanned!(ty.span()=> <#ty as #krate::Differentiable>::Tangent);
                    let ser = format!(
                        "{serde_helpers}::serialize_tangent::<{}, _>",
                        tokens_string(ty)
                    );
                    let de = format!(
                        "{serde_helpers}::deserialize_tangent::<{}, _>",
                        tokens_string(ty)
                    );
                    let with = quote!(#[serde(serialize_with = #ser, deserialize_with = #de)]);
                    quote! {
                        #[doc = #doc]
                        #with
                        #vis #ident: #field_ty
                    }
                });
                quote! {
                    #attrs
                    #vis struct #tangent #generics #where_clause {
                        #(#fields,)*
                    }
                }
            }
        }
    }

    /// serde's `bound`: `FieldTy: SerdeTangent` for the generic fields.
    fn serde_bound(&self) -> String {
        let krate = self.krate;
        let predicates: Vec<String> = self
            .params()
            .map(|f| {
                let ty = f.ty;
                tokens_string(&quote!(#ty: #krate::__private::SerdeTangent))
            })
            .collect();
        predicates.join(", ")
    }

    /// Whether `ty` mentions a type or const parameter of the struct.
    fn is_generic(&self, ty: &syn::Type) -> bool {
        !self.params.find_in_type(ty).params.is_empty()
    }

    fn clone_debug_impls(&self) -> TokenStream {
        let tangent = &self.tangent;
        let generics = self.tangent_impl_generics(false);
        let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
        let clone = self.tangent_literal(|f| {
            let ident = f.ident;
            quote!(::core::clone::Clone::clone(&self.#ident))
        });
        let name = tangent.to_string();
        let debug_fields = self.params().map(|f| {
            let ident = f.ident;
            let name = ident.unraw().to_string();
            quote!(.field(#name, &self.#ident))
        });
        let debug = match self.c.style {
            Style::Unit => quote!(f.write_str(#name)),
            Style::Named => quote!(f.debug_struct(#name) #(#debug_fields)* .finish()),
        };
        quote! {
            #[automatically_derived]
            impl #impl_generics ::core::clone::Clone for #tangent #ty_generics #where_clause {
                #[inline]
                fn clone(&self) -> Self {
                    #clone
                }
            }
            #[automatically_derived]
            impl #impl_generics ::core::fmt::Debug for #tangent #ty_generics #where_clause {
                fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                    #debug
                }
            }
        }
    }

    fn tangent_impl(&self) -> TokenStream {
        let krate = self.krate;
        let tangent = &self.tangent;
        let generics = self.tangent_impl_generics(true);
        let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
        let trait_path = quote!(#krate::Tangent);
        let leaves = concat_leaves(self.params().map(|f| {
            let ident = f.ident;
            quote!(#trait_path::leaves(&self.#ident))
        }));
        let leaves_mut = concat_leaves(self.params().map(|f| {
            let ident = f.ident;
            quote!(#trait_path::leaves_mut(&mut self.#ident))
        }));
        // Field by field rather than through the flat leaves: no `Vec` of leaves to build.
        let arithmetic = if self.params().next().is_none() {
            TokenStream::new()
        } else {
            let idents: Vec<_> = self.params().map(|f| f.ident).collect();
            let zero = self.tangent_literal(|f| {
                let ident = f.ident;
                quote!(#trait_path::zero_like(&self.#ident))
            });
            quote! {
                fn add_assign_tangent(&mut self, other: &Self) {
                    #(#trait_path::add_assign_tangent(&mut self.#idents, &other.#idents);)*
                }
                fn scale(&mut self, factor: f64) {
                    #(#trait_path::scale(&mut self.#idents, factor);)*
                }
                fn dot(&self, other: &Self) -> f64 {
                    0.0 #(+ #trait_path::dot(&self.#idents, &other.#idents))*
                }
                fn zero_like(&self) -> Self {
                    #zero
                }
            }
        };
        quote! {
            #[automatically_derived]
            impl #impl_generics #trait_path for #tangent #ty_generics #where_clause {
                fn leaves(&self) -> ::std::vec::Vec<#krate::Leaf<'_>> {
                    #leaves
                }
                fn leaves_mut(&mut self) -> ::std::vec::Vec<#krate::LeafMut<'_>> {
                    #leaves_mut
                }
                #arithmetic
            }
        }
    }

    fn differentiable_impl(&self) -> TokenStream {
        let krate = self.krate;
        let ident = self.c.ident;
        let generics = self.primal_generics(self.diff_and_static_predicates());
        let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
        let tangent_type = self.tangent_type();
        let trait_path = quote!(#krate::Differentiable);
        let zero = self.tangent_literal(|f| {
            let ident = f.ident;
            quote_spanned!(f.ty.span()=> #trait_path::zero_tangent(&self.#ident))
        });
        let leaves = concat_leaves(self.params().map(|f| {
            let ident = f.ident;
            quote!(#trait_path::leaves(&self.#ident))
        }));
        let leaves_mut = concat_leaves(self.params().map(|f| {
            let ident = f.ident;
            quote!(#trait_path::leaves_mut(&mut self.#ident))
        }));
        let add_scaled = if self.params().next().is_none() {
            TokenStream::new()
        } else {
            let idents = self.params().map(|f| f.ident);
            quote! {
                fn add_scaled(&mut self, t: &Self::Tangent, factor: f64) {
                    #(#trait_path::add_scaled(&mut self.#idents, &t.#idents, factor);)*
                }
            }
        };
        quote! {
            #[automatically_derived]
            impl #impl_generics #trait_path for #ident #ty_generics #where_clause {
                type Tangent = #tangent_type;
                fn zero_tangent(&self) -> Self::Tangent {
                    #zero
                }
                fn leaves(&self) -> ::std::vec::Vec<#krate::Leaf<'_>> {
                    #leaves
                }
                fn leaves_mut(&mut self) -> ::std::vec::Vec<#krate::LeafMut<'_>> {
                    #leaves_mut
                }
                #add_scaled
            }
        }
    }

    fn diff_and_static_predicates(&self) -> Vec<WherePredicate> {
        let krate = self.krate;
        let mut predicates = self.field_predicates(
            &[Role::Param],
            Which::All,
            |ty| quote_spanned!(ty.span()=> #krate::Differentiable),
        );
        predicates.extend(self.static_predicates());
        predicates
    }

    /// `__NameAdj` and `__NameMeta`: the reverse sweep's accumulator of a struct, one
    /// accumulator per parameter field (lazy for arrays, so that a gradient arriving from a
    /// layer is moved in, not added to zeros), and the shapes it needs to finish.
    fn accumulator_structs(&self) -> TokenStream {
        if self.c.style == Style::Unit {
            return TokenStream::new();
        }
        let krate = self.krate;
        let vis = self.c.vis;
        let (adj, meta) = (self.adj_ident(), self.meta_ident());
        let mut generics = self.tangent_generics.clone();
        let primal = self.field_predicates(&[Role::Param], Which::Generic, |ty| {
            quote_spanned!(ty.span()=> #krate::__private::Primal<Tangent = <#ty as #krate::Differentiable>::Tangent>)
        });
        if !primal.is_empty() {
            generics.make_where_clause().predicates.extend(primal);
        }
        let where_clause = &generics.where_clause;
        let field = |assoc: TokenStream| {
            self.params()
                .map(|f| {
                    let (ident, ty) = (f.ident, f.ty);
                    quote_spanned!(ty.span()=> pub #ident: <#ty as #krate::__private::Primal>::#assoc)
                })
                .collect::<Vec<_>>()
        };
        let adj_fields = field(quote!(Adj));
        let meta_fields = field(quote!(MetaData));
        quote! {
            #[doc(hidden)]
            #vis struct #adj #generics #where_clause {
                #(#adj_fields,)*
            }
            #[doc(hidden)]
            #vis struct #meta #generics #where_clause {
                #(#meta_fields,)*
            }
        }
    }

    fn adj_ident(&self) -> syn::Ident {
        format_ident!("__{}Adj", self.c.ident)
    }

    fn meta_ident(&self) -> syn::Ident {
        format_ident!("__{}Meta", self.c.ident)
    }

    /// Generics of the impls that involve the accumulator structs: every parameter field is
    /// `Differentiable` and `Primal`, type parameters are `'static`.
    fn accumulator_generics(&self) -> Generics {
        let krate = self.krate;
        let mut extra = self.diff_and_static_predicates();
        extra.extend(self.field_predicates(&[Role::Param], Which::All, |ty| {
            quote_spanned!(ty.span()=> #krate::__private::Primal<Tangent = <#ty as #krate::Differentiable>::Tangent>)
        }));
        self.primal_generics(extra)
    }

    // Input:  `struct Mlp { l1: Linear, l2: Linear }`
    // Output: `impl Primal for Mlp { type Tangent = MlpTangent; type Adj = __MlpAdj;
    //          type MetaData = __MlpMeta; .. }` plus `Adjoint for __MlpAdj` and
    //          `Clone for __MlpMeta`, each field delegating to its own type.
    fn primal_impl(&self) -> TokenStream {
        let krate = self.krate;
        let ident = self.c.ident;
        let tangent_type = self.tangent_type();
        if self.c.style == Style::Unit {
            let generics = self.primal_generics(self.diff_and_static_predicates());
            let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
            return quote! {
                #[automatically_derived]
                impl #impl_generics #krate::__private::Primal for #ident #ty_generics #where_clause {
                    type Tangent = #tangent_type;
                    type Adj = #tangent_type;
                    type MetaData = ();
                    fn meta_data(&self) {}
                    fn zero_adj(_: &()) -> Self::Adj {
                        #tangent_type
                    }
                    fn finish(adj: Self::Adj, _: &()) -> Self::Tangent {
                        adj
                    }
                }
            };
        }
        let generics = self.accumulator_generics();
        let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
        let (_, acc_generics, _) = self.tangent_generics.split_for_impl();
        // The accumulator structs have the tangent's generics (only the parameters fields use).
        let mut acc_impl = self.tangent_impl_generics(true);
        let primal = self.field_predicates(&[Role::Param], Which::All, |ty| {
            quote_spanned!(ty.span()=> #krate::__private::Primal<Tangent = <#ty as #krate::Differentiable>::Tangent>)
        });
        if !primal.is_empty() {
            acc_impl.make_where_clause().predicates.extend(primal);
        }
        let (acc_impl_generics, _, acc_where) = acc_impl.split_for_impl();
        let (adj, meta) = (self.adj_ident(), self.meta_ident());
        let names: Vec<_> = self.params().map(|f| f.ident).collect();
        let tys: Vec<_> = self.params().map(|f| f.ty).collect();
        let p = quote!(#krate::__private);
        let tangent = &self.tangent;
        quote! {
            #[automatically_derived]
            impl #impl_generics #p::Primal for #ident #ty_generics #where_clause {
                type Tangent = #tangent_type;
                type Adj = #adj #acc_generics;
                type MetaData = #meta #acc_generics;
                #[inline]
                fn meta_data(&self) -> Self::MetaData {
                    #meta { #(#names: <#tys as #p::Primal>::meta_data(&self.#names),)* }
                }
                #[inline]
                fn zero_adj(meta: &Self::MetaData) -> Self::Adj {
                    #adj { #(#names: <#tys as #p::Primal>::zero_adj(&meta.#names),)* }
                }
                #[inline]
                fn finish(adj: Self::Adj, meta: &Self::MetaData) -> Self::Tangent {
                    #tangent { #(#names: <#tys as #p::Primal>::finish(adj.#names, &meta.#names),)* }
                }
            }
            #[automatically_derived]
            impl #acc_impl_generics ::core::clone::Clone for #meta #acc_generics #acc_where {
                fn clone(&self) -> Self {
                    #meta { #(#names: ::core::clone::Clone::clone(&self.#names),)* }
                }
            }
            #[automatically_derived]
            impl #acc_impl_generics #p::Adjoint for #adj #acc_generics #acc_where {
                type Value = #tangent_type;
                fn get(&self) -> ::core::option::Option<&Self::Value> {
                    ::core::unreachable!("a struct's adjoint is read field by field")
                }
                fn materialize(&mut self) -> &mut Self::Value {
                    ::core::unreachable!("a struct's adjoint is accumulated field by field")
                }
                #[inline]
                fn add_value(&mut self, c: Self::Value) {
                    #(#p::Adjoint::add_value(&mut self.#names, c.#names);)*
                }
                #[inline]
                fn add_value_ref(&mut self, c: &Self::Value) {
                    #(#p::Adjoint::add_value_ref(&mut self.#names, &c.#names);)*
                }
                #[inline]
                fn take_value(&mut self) -> ::core::option::Option<Self::Value> {
                    ::core::option::Option::Some(#p::Adjoint::into_value(#p::Adjoint::take(self)))
                }
                #[inline]
                fn take(&mut self) -> Self {
                    #adj { #(#names: #p::Adjoint::take(&mut self.#names),)* }
                }
                #[inline]
                fn into_value(self) -> Self::Value {
                    #tangent { #(#names: #p::Adjoint::into_value(self.#names),)* }
                }
            }
        }
    }

    fn adjoint_impl(&self) -> TokenStream {
        let krate = self.krate;
        let tangent = &self.tangent;
        let generics = self.tangent_impl_generics(true);
        let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
        quote! {
            #[automatically_derived]
            impl #impl_generics #krate::__private::Adjoint for #tangent #ty_generics #where_clause {
                type Value = Self;
                #[inline]
                fn get(&self) -> ::core::option::Option<&Self> {
                    ::core::option::Option::Some(self)
                }
                #[inline]
                fn materialize(&mut self) -> &mut Self {
                    self
                }
                fn add_value(&mut self, c: Self) {
                    #krate::Tangent::add_assign_tangent(self, &c);
                }
                fn add_value_ref(&mut self, c: &Self) {
                    #krate::Tangent::add_assign_tangent(self, c);
                }
                fn take_value(&mut self) -> ::core::option::Option<Self> {
                    ::core::option::Option::Some(#krate::__private::Adjoint::take(self))
                }
                fn take(&mut self) -> Self {
                    let zero = #krate::Tangent::zero_like(self);
                    ::core::mem::replace(self, zero)
                }
                #[inline]
                fn into_value(self) -> Self {
                    self
                }
            }
        }
    }

    // Output: `impl ArgKind for Name { type Kind = Yes; }`: a struct argument of a call in
    //          `#[differentiable]` code receives a gradient (`__private::plan`).
    fn arg_kind_impl(&self) -> TokenStream {
        let krate = self.krate;
        let ident = self.c.ident;
        let (impl_generics, ty_generics, where_clause) = self.c.generics.split_for_impl();
        quote! {
            #[automatically_derived]
            impl #impl_generics #krate::__private::ArgKind for #ident #ty_generics #where_clause {
                type Kind = #krate::__private::Yes;
            }
        }
    }

    // Output: `impl NamedParameters for Name { fn visit_parameters(&self, prefix, f) {
    //          __private::visit_field(&self.l1, "l1", prefix, f); .. } .. }`: parameters and
    //          buffers, in field order.
    fn named_parameters_impl(&self) -> TokenStream {
        let krate = self.krate;
        let ident = self.c.ident;
        let roles = [Role::Param, Role::Buffer];
        let generics = self.primal_generics(self.field_predicates(
            &roles,
            Which::All,
            |ty| quote_spanned!(ty.span()=> #krate::__private::NamedParameters),
        ));
        let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
        let fields: Vec<&Field> = self
            .c
            .fields
            .iter()
            .filter(|f| roles.contains(&f.role))
            .collect();
        let (prefix, visit) = if fields.is_empty() {
            (quote!(_prefix), quote!(_f))
        } else {
            (quote!(prefix), quote!(f))
        };
        let visits = fields.iter().map(|f| {
            let (ident, name) = (f.ident, f.ident.unraw().to_string());
            quote_spanned!(f.ty.span()=> #krate::__private::visit_field(&self.#ident, #name, #prefix, #visit);)
        });
        let visits_mut = fields.iter().map(|f| {
            let (ident, name) = (f.ident, f.ident.unraw().to_string());
            quote_spanned!(f.ty.span()=> #krate::__private::visit_field_mut(&mut self.#ident, #name, #prefix, #visit);)
        });
        quote! {
            #[automatically_derived]
            impl #impl_generics #krate::__private::NamedParameters for #ident #ty_generics #where_clause {
                fn visit_parameters(
                    &self,
                    #prefix: &mut ::std::string::String,
                    #visit: &mut dyn ::core::ops::FnMut(&str, &[usize], #krate::Leaf<'_>),
                ) {
                    #(#visits)*
                }
                fn visit_parameters_mut(
                    &mut self,
                    #prefix: &mut ::std::string::String,
                    #visit: &mut dyn ::core::ops::FnMut(&str, &[usize], #krate::LeafMut<'_>),
                ) {
                    #(#visits_mut)*
                }
            }
        }
    }

    // Output: `impl TrainingMode for Name { fn set_training(&mut self, training: bool) {
    //          TrainingMode::set_training(&mut self.l1, training); self.flag = training; } }`
    fn training_mode_impl(&self) -> TokenStream {
        let krate = self.krate;
        let ident = self.c.ident;
        let trait_path = quote!(#krate::__private::TrainingMode);
        let generics = self.primal_generics(self.field_predicates(
            &[Role::Param],
            Which::All,
            |ty| quote_spanned!(ty.span()=> #trait_path),
        ));
        let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
        let nested = self.params().map(|f| {
            let ident = f.ident;
            quote_spanned!(f.ty.span()=> #trait_path::set_training(&mut self.#ident, training);)
        });
        let flags = self.c.fields_with(Role::Training).map(|f| {
            let ident = f.ident;
            quote_spanned!(f.ty.span()=> self.#ident = training;)
        });
        let used = self
            .c
            .fields
            .iter()
            .any(|f| matches!(f.role, Role::Param | Role::Training));
        let training = if used {
            quote!(training)
        } else {
            quote!(_training)
        };
        quote! {
            #[automatically_derived]
            impl #impl_generics #trait_path for #ident #ty_generics #where_clause {
                fn set_training(&mut self, #training: bool) {
                    #(#nested)*
                    #(#flags)*
                }
            }
        }
    }
}

/// The leaves of several fields as one `Vec`: no `mut` binding for zero or one field.
fn concat_leaves(calls: impl Iterator<Item = TokenStream>) -> TokenStream {
    let calls: Vec<TokenStream> = calls.collect();
    match calls.as_slice() {
        [] => quote!(::std::vec::Vec::new()),
        [one] => one.clone(),
        [first, rest @ ..] => quote! {
            let mut leaves = #first;
            #(leaves.extend(#rest);)*
            leaves
        },
    }
}

/// A path as source text, for serde's string-valued `crate = "..."`.
fn path_string(path: &Path) -> String {
    let mut out = String::new();
    if path.leading_colon.is_some() {
        out.push_str("::");
    }
    for (i, segment) in path.segments.iter().enumerate() {
        if i > 0 {
            out.push_str("::");
        }
        out.push_str(&segment.ident.to_string());
    }
    out
}

/// Tokens as source text for serde's string-valued attributes (which serde parses back).
fn tokens_string(tokens: &impl quote::ToTokens) -> String {
    tokens.to_token_stream().to_string()
}
