//! The arguments of macro calls in a body (`println!("{}", x)`, `assert!(n > 0, "{n}")`,
//! `vec![0.0; n]`): their token streams parsed as expressions, so that names in them resolve
//! and follow the renaming of shadowed bindings, and the variables a format string captures
//! by name (`{n}`, `{:>width$}`).

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use syn::punctuated::Punctuated;
use syn::visit::Visit;
use syn::visit_mut::VisitMut;
use syn::{Expr, Ident, Token};

/// A macro's arguments, when they parse as expressions.
#[derive(Clone)]
pub enum MacroArgs {
    /// `a, b, c` (`println!`, `assert!`, `vec![a, b]`, ...).
    List(Punctuated<Expr, Token![,]>),
    /// `e; n` (`vec![0.0; n]`).
    Repeat(Box<Expr>, Box<Expr>),
}

impl MacroArgs {
    pub fn parse(mac: &syn::Macro) -> Option<Self> {
        use syn::parse::Parser;
        if let Ok(list) = Punctuated::<Expr, Token![,]>::parse_terminated.parse2(mac.tokens.clone())
        {
            return Some(MacroArgs::List(list));
        }
        let repeat = |input: syn::parse::ParseStream| {
            let e = input.parse()?;
            input.parse::<Token![;]>()?;
            Ok(MacroArgs::Repeat(Box::new(e), Box::new(input.parse()?)))
        };
        repeat.parse2(mac.tokens.clone()).ok()
    }

    /// The expressions, in order.
    pub fn exprs(&self) -> Vec<&Expr> {
        match self {
            MacroArgs::List(list) => list.iter().collect(),
            MacroArgs::Repeat(e, n) => vec![&**e, &**n],
        }
    }

    /// The paths of all the expressions (`x`, possibly a variable, or `f64::MAX`), in the
    /// order in which `syn`'s visitors reach them.
    pub fn paths(&self) -> Vec<&syn::ExprPath> {
        struct Paths<'a>(Vec<&'a syn::ExprPath>);
        impl<'a> Visit<'a> for Paths<'a> {
            fn visit_expr_path(&mut self, p: &'a syn::ExprPath) {
                self.0.push(p);
            }
        }
        let mut paths = Paths(Vec::new());
        for e in self.exprs() {
            paths.visit_expr(e);
        }
        paths.0
    }

    /// The names a format string among the arguments captures from the scope: `{name}`,
    /// `{name:?}`, `{:width$}`, except names given as named arguments (`name = e`).
    pub fn format_captures(&self, mac: &syn::Macro) -> Vec<String> {
        let (Some(at), MacroArgs::List(list)) = (format_string_index(&mac.path), self) else {
            return Vec::new();
        };
        let Some(Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(s),
            ..
        })) = list.iter().nth(at)
        else {
            return Vec::new();
        };
        let named: Vec<String> = list
            .iter()
            .filter_map(|e| match e {
                Expr::Assign(a) => match &*a.left {
                    Expr::Path(p) => p.path.get_ident().map(|i| i.to_string()),
                    _ => None,
                },
                _ => None,
            })
            .collect();
        let mut names = inline_names(&s.value());
        names.retain(|n| !named.contains(n));
        names.sort();
        names.dedup();
        names
    }

    /// Rewrites the arguments: every path the visitors reach is handed to `rename` in order
    /// (see [`MacroArgs::paths`]), and `name = value` is appended for each captured name
    /// whose variable is now called `value`.
    pub fn rewrite(
        mut self,
        mut rename: impl FnMut(&mut syn::ExprPath),
        captures: &[(String, Ident)],
    ) -> TokenStream {
        struct Renamer<'f>(&'f mut dyn FnMut(&mut syn::ExprPath));
        impl VisitMut for Renamer<'_> {
            fn visit_expr_path_mut(&mut self, p: &mut syn::ExprPath) {
                (self.0)(p);
            }
        }
        let mut renamer = Renamer(&mut rename);
        match &mut self {
            MacroArgs::List(list) => list.iter_mut().for_each(|e| renamer.visit_expr_mut(e)),
            MacroArgs::Repeat(e, n) => {
                renamer.visit_expr_mut(e);
                renamer.visit_expr_mut(n);
            }
        }
        match self {
            MacroArgs::List(list) => {
                let comma = (!list.empty_or_trailing()).then(|| quote!(,));
                let extra = captures.iter().map(|(name, value)| {
                    let name = Ident::new(name, value.span());
                    quote!(#name = #value)
                });
                let mut out = list.into_token_stream();
                if !captures.is_empty() {
                    out.extend(quote!(#comma #(#extra),*));
                }
                out
            }
            MacroArgs::Repeat(e, n) => quote!(#e; #n),
        }
    }
}

/// Which argument of a standard formatting macro is its format string.
fn format_string_index(path: &syn::Path) -> Option<usize> {
    let name = path.segments.last()?.ident.to_string();
    Some(match name.as_str() {
        "println" | "print" | "eprintln" | "eprint" | "format" | "format_args" | "panic"
        | "unreachable" | "todo" | "unimplemented" => 0,
        "write" | "writeln" | "assert" | "debug_assert" => 1,
        "assert_eq" | "assert_ne" | "debug_assert_eq" | "debug_assert_ne" => 2,
        _ => return None,
    })
}

/// The identifiers a format string names: `{name}`, `{name:spec}` and `name$` in a spec
/// (width or precision), skipping `{{` and positional or numbered arguments.
fn inline_names(fmt: &str) -> Vec<String> {
    let is_ident = |s: &str| {
        s.chars()
            .next()
            .is_some_and(|c| c == '_' || c.is_alphabetic())
            && s.chars().all(|c| c == '_' || c.is_alphanumeric())
            && s != "_"
    };
    let mut names = Vec::new();
    let mut rest = fmt;
    while let Some(open) = rest.find('{') {
        rest = &rest[open + 1..];
        if let Some(after) = rest.strip_prefix('{') {
            rest = after;
            continue;
        }
        let Some(close) = rest.find('}') else {
            break;
        };
        let inside = &rest[..close];
        rest = &rest[close + 1..];
        let (arg, spec) = inside.split_once(':').unwrap_or((inside, ""));
        let arg = arg.trim();
        if is_ident(arg) {
            names.push(arg.to_string());
        }
        // `name$` for a width or precision.
        for part in spec.split(|c: char| !(c == '_' || c == '$' || c.is_alphanumeric())) {
            if let Some(name) = part.strip_suffix('$')
                && is_ident(name)
            {
                names.push(name.to_string());
            }
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::inline_names;

    #[test]
    fn names_in_format_strings() {
        assert_eq!(inline_names("step {i} of {n:>4}"), ["i", "n"]);
        assert_eq!(
            inline_names("{{i}} {} {0} {x:.prec$} {:w$.p$}"),
            ["x", "prec", "w", "p"]
        );
        assert_eq!(inline_names("{_} {1x} {r#type}"), Vec::<String>::new());
    }
}
