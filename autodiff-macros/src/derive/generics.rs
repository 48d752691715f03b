//! Which generic parameters a type mentions, and the generics of the tangent struct.
//!
//! The tangent struct has only the parameters its fields use: for
//! `struct Dropout<A: Real = f32> { #[no_grad] p: A, .. }` the tangent is plain
//! `DropoutTangent`, since a struct cannot declare a parameter it does not use. The kept
//! parameters keep their bounds and defaults, and the where-clause keeps its predicates,
//! except those that mention a dropped parameter or one of the struct's lifetimes (the
//! tangent owns its data, so it has no lifetimes).

use std::collections::HashSet;

use proc_macro2::{TokenStream, TokenTree};
use syn::visit::{self, Visit};
use syn::{GenericParam, Generics, Ident, Lifetime, Type, TypeParamBound, WherePredicate};

/// The generic parameters of the struct being derived.
pub struct Params {
    /// Type and const parameters.
    values: HashSet<Ident>,
    lifetimes: HashSet<Ident>,
}

/// What one type, bound or predicate mentions.
#[derive(Default)]
pub struct Found {
    /// Type and const parameters of the struct, each once, in order of appearance.
    pub params: Vec<Ident>,
    /// The struct's lifetime parameters (not `'static`, not higher-ranked ones).
    pub lifetimes: Vec<Lifetime>,
    /// The first `Self`, if any.
    pub self_type: Option<Ident>,
}

impl Params {
    pub fn new(generics: &Generics) -> Params {
        let mut values = HashSet::new();
        let mut lifetimes = HashSet::new();
        for param in &generics.params {
            match param {
                GenericParam::Type(p) => values.insert(p.ident.clone()),
                GenericParam::Const(p) => values.insert(p.ident.clone()),
                GenericParam::Lifetime(p) => lifetimes.insert(p.lifetime.ident.clone()),
            };
        }
        Params { values, lifetimes }
    }

    pub fn find_in_type(&self, ty: &Type) -> Found {
        self.find(|finder| finder.visit_type(ty))
    }

    fn find_in_bound(&self, bound: &TypeParamBound) -> Found {
        self.find(|finder| finder.visit_type_param_bound(bound))
    }

    fn find_in_expr(&self, expr: &syn::Expr) -> Found {
        self.find(|finder| finder.visit_expr(expr))
    }

    fn find_in_predicate(&self, predicate: &WherePredicate) -> Found {
        self.find(|finder| finder.visit_where_predicate(predicate))
    }

    fn find(&self, walk: impl FnOnce(&mut Finder)) -> Found {
        let mut finder = Finder {
            params: self,
            found: Found::default(),
        };
        walk(&mut finder);
        finder.found
    }
}

struct Finder<'p> {
    params: &'p Params,
    found: Found,
}

impl Finder<'_> {
    fn param(&mut self, ident: &Ident) {
        if self.params.values.contains(ident) && !self.found.params.contains(ident) {
            self.found.params.push(ident.clone());
        }
        if ident == "Self" && self.found.self_type.is_none() {
            self.found.self_type = Some(ident.clone());
        }
    }

    /// Macro tokens are not parsed: every identifier in them counts.
    fn tokens(&mut self, tokens: TokenStream) {
        for token in tokens {
            match token {
                TokenTree::Ident(ident) => self.param(&ident),
                TokenTree::Group(group) => self.tokens(group.stream()),
                TokenTree::Punct(_) | TokenTree::Literal(_) => {}
            }
        }
    }
}

impl<'ast> Visit<'ast> for Finder<'_> {
    fn visit_path(&mut self, path: &'ast syn::Path) {
        // `A`, `A::Assoc`, `N` (a const parameter in `[f32; N]`), `Self::X`; not `::a::A`.
        if path.leading_colon.is_none()
            && let Some(first) = path.segments.first()
        {
            self.param(&first.ident);
        }
        visit::visit_path(self, path);
    }

    fn visit_lifetime(&mut self, lifetime: &'ast Lifetime) {
        if self.params.lifetimes.contains(&lifetime.ident) {
            self.found.lifetimes.push(lifetime.clone());
        }
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        self.tokens(mac.tokens.clone());
    }
}

/// The generics of the tangent struct: the type and const parameters that `field_types`
/// (the parameters' types) mention, with their bounds, defaults and where-predicates.
pub fn tangent_generics<'t>(
    generics: &Generics,
    field_types: impl IntoIterator<Item = &'t Type>,
) -> Generics {
    let params = Params::new(generics);
    let mut kept: HashSet<Ident> = HashSet::new();
    for ty in field_types {
        kept.extend(params.find_in_type(ty).params);
    }
    let allowed =
        |found: Found| found.lifetimes.is_empty() && found.params.iter().all(|p| kept.contains(p));

    let mut out = Generics::default();
    for param in &generics.params {
        match param {
            GenericParam::Type(p) if kept.contains(&p.ident) => {
                let mut p = p.clone();
                p.bounds = p
                    .bounds
                    .into_iter()
                    .filter(|b| allowed(params.find_in_bound(b)))
                    .collect();
                if p.bounds.is_empty() {
                    p.colon_token = None;
                }
                if let Some(default) = &p.default
                    && !allowed(params.find_in_type(default))
                {
                    p.eq_token = None;
                    p.default = None;
                }
                out.params.push(GenericParam::Type(p));
            }
            GenericParam::Const(p) if kept.contains(&p.ident) => {
                let mut p = p.clone();
                if let Some(default) = &p.default
                    && !allowed(params.find_in_expr(default))
                {
                    p.eq_token = None;
                    p.default = None;
                }
                out.params.push(GenericParam::Const(p));
            }
            _ => {}
        }
    }
    if let Some(where_clause) = &generics.where_clause {
        for predicate in &where_clause.predicates {
            if matches!(predicate, WherePredicate::Type(_))
                && allowed(params.find_in_predicate(predicate))
            {
                out.make_where_clause().predicates.push(predicate.clone());
            }
        }
    }
    if !out.params.is_empty() {
        out.lt_token = Some(Default::default());
        out.gt_token = Some(Default::default());
    }
    out
}

/// The type parameters of `generics`, in order.
pub fn type_params(generics: &Generics) -> impl Iterator<Item = &Ident> {
    generics.type_params().map(|p| &p.ident)
}
