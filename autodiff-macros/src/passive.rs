//! What passive tokens (conditions, ranges, index expressions, passive statements) read and
//! whether evaluating them again could do something.

use std::collections::HashSet;

use proc_macro2::{Delimiter, TokenStream, TokenTree};

use crate::emit::Emitter;
use crate::ir::*;

/// Methods a passive expression may call and still be evaluated again: pure, cheap.
pub(crate) const PURE_METHODS: &[&str] = &[
    "len",
    "is_empty",
    "min",
    "max",
    "abs",
    "pow",
    "saturating_sub",
    "saturating_add",
    "rem_euclid",
    "div_euclid",
];

impl Emitter<'_> {
    /// The variables the conditions of `if` and `while` in `s` name (conditions are kept
    /// as tokens: matched by name, which may only add variables).
    pub(crate) fn cond_vars(&self, s: &Stmt, out: &mut HashSet<VarId>) {
        let mut names = HashSet::new();
        fn walk(s: &Stmt, names: &mut HashSet<String>) {
            match s {
                Stmt::If {
                    cond,
                    then_b,
                    else_b,
                    ..
                } => {
                    names.extend(idents(cond));
                    then_b.stmts.iter().for_each(|s| walk(s, names));
                    else_b.stmts.iter().for_each(|s| walk(s, names));
                }
                Stmt::While { cond, body, .. } => {
                    names.extend(idents(cond));
                    body.stmts.iter().for_each(|s| walk(s, names));
                }
                Stmt::For { body, .. } => body.stmts.iter().for_each(|s| walk(s, names)),
                _ => {}
            }
        }
        walk(s, &mut names);
        out.extend(
            (0..self.vars.len()).filter(|&v| names.contains(&self.vars[v].ident.to_string())),
        );
    }
}

/// Names mentioned by the passive statements in `s` (which may assign them).
pub(crate) fn passive_names(s: &Stmt, out: &mut HashSet<String>) {
    match s {
        Stmt::Passive(ts) => out.extend(idents(ts)),
        Stmt::If {
            cond,
            then_b,
            else_b,
            ..
        } => {
            out.extend(idents(cond));
            for s in then_b.stmts.iter().chain(&else_b.stmts) {
                passive_names(s, out);
            }
        }
        Stmt::While { cond, body, .. } => {
            out.extend(idents(cond));
            body.stmts.iter().for_each(|s| passive_names(s, out));
        }
        Stmt::For { body, .. } => body.stmts.iter().for_each(|s| passive_names(s, out)),
        _ => {}
    }
}

/// Every identifier in `ts`.
pub(crate) fn idents(ts: &TokenStream) -> HashSet<String> {
    let mut out = HashSet::new();
    for t in ts.clone() {
        match t {
            TokenTree::Ident(i) => {
                out.insert(i.to_string());
            }
            TokenTree::Group(g) => out.extend(idents(&g.stream())),
            _ => {}
        }
    }
    out
}

/// Whether evaluating `ts` again could do something: a macro, or a call of anything but a
/// pure method of [`PURE_METHODS`].
pub(crate) fn has_effects(ts: &TokenStream) -> bool {
    let tokens: Vec<TokenTree> = ts.clone().into_iter().collect();
    for (i, t) in tokens.iter().enumerate() {
        let next = tokens.get(i + 1);
        match t {
            TokenTree::Group(g) => {
                if has_effects(&g.stream()) {
                    return true;
                }
                // `f::<T>(..)`, `(f)(..)`: a call through something other than a name.
                if g.delimiter() == Delimiter::Parenthesis
                    && i > 0
                    && matches!(&tokens[i - 1], TokenTree::Punct(p) if p.as_char() == '>')
                {
                    return true;
                }
            }
            TokenTree::Ident(name) => {
                let effect = match next {
                    // `name!` but not `name != ..`
                    Some(TokenTree::Punct(p)) if p.as_char() == '!' => !matches!(
                        tokens.get(i + 2),
                        Some(TokenTree::Punct(q)) if q.as_char() == '='
                    ),
                    Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Parenthesis => {
                        !PURE_METHODS.contains(&name.to_string().as_str())
                    }
                    _ => false,
                };
                if effect {
                    return true;
                }
            }
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    #[test]
    fn has_effects_sees_macros_and_calls() {
        let ts = |s: &str| s.parse::<proc_macro2::TokenStream>().unwrap();
        assert!(super::has_effects(&ts("println!(\"{}\", a)")));
        assert!(super::has_effects(&ts("f(a) + 1")));
        assert!(super::has_effects(&ts("g::<u8>(a)")));
        assert!(!super::has_effects(&ts("a != b && x.len() > 2 * (i + 1)")));
        assert!(!super::has_effects(&ts("(a + b).min(c)")));
    }
}
