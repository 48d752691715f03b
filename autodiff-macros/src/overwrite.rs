//! Which uses of a variable a loop body sees from the same iteration.
//!
//! A body that overwrites a variable before reading it, in every iteration, carries nothing
//! from one iteration to the next through it: running an iteration again gives the same
//! values, and its reverse leaves no adjoint for the iteration before. The analysis works
//! on the lowered body, by position:
//! - a scalar is covered by a plain assignment `w = e` at the top of the body;
//! - an array by a loop `for j in 0..n { .. w[j] = e; .. }` at the top of the body, for later
//!   reads `w[a]` with `a` bound by a loop over `.. n` (and `w[0]` when `n` is the same in
//!   every iteration and nothing else writes `w`), or by `w[2] = e` for later reads of
//!   `w[2]`;
//! - uses all inside one inner loop that covers them cover them for the body too;
//! - a variable only written, or only accumulated into (`w += e`), needs no cover.

use std::collections::HashSet;

use proc_macro2::TokenStream;

use crate::emit::{Emitter, assigned_vars, expr_vars, stmt_reads, stmt_writes};
use crate::ir::*;
use crate::passive::idents;

impl Emitter<'_> {
    /// Whether every read of `w` (declared outside `b`, written in it) sees a value the
    /// same iteration wrote first, or `w` is only written and accumulated into.
    pub(crate) fn killed_or_accumulated(&self, b: &Block, w: VarId) -> bool {
        let mut occ = Vec::new();
        for (p, s) in b.stmts.iter().enumerate() {
            self.occurrences(s, w, p, &mut Vec::new(), &mut occ);
        }
        // All uses inside one inner loop that overwrites `w` before reading it in each of
        // its iterations: so does each iteration of `b`.
        if let Some(first) = occ.first()
            && occ.iter().all(|o| o.top == first.top)
            && let Stmt::For {
                iter_vars, body, ..
            } = &b.stmts[first.top]
            && !iter_vars.contains(&w)
            && self.killed_or_accumulated(body, w)
        {
            return true;
        }
        if occ.iter().any(|o| matches!(o.kind, Use::Whole)) {
            let scalar_cover = self.scalar_cover(b, w);
            return scalar_cover.is_some_and(|p| {
                occ.iter()
                    .all(|o| matches!(o.kind, Use::Write) || o.top > p)
            });
        }
        if occ
            .iter()
            .all(|o| matches!(o.kind, Use::Write | Use::Accumulate(_, _)))
        {
            return true;
        }
        let cover = self.array_cover(b, w);
        // `w[2] = e` directly in the body covers later reads of `w[2]`.
        let literal_set = |index: &str| {
            b.stmts.iter().position(|s| {
                matches!(s, Stmt::Assign { place, op: AssignOp::Set, .. }
                if place.var == w && place.fields.is_empty()
                    && place.index.as_ref().is_some_and(|i| {
                        let i = i.tokens.to_string();
                        i == index && i.parse::<usize>().is_ok()
                    }))
            })
        };
        // `w[0]` is covered by a range cover too when the range is the same in every
        // iteration and nothing else writes `w`: an empty range writes nothing, and then
        // every iteration reads the value from before the loop, as every reverse or second
        // run does.
        let only_writer = b
            .stmts
            .iter()
            .filter(|s| stmt_writes(s).contains(&w))
            .count()
            == 1;
        let shadowed = self.let_names(b);
        let own_element_reads = cover
            .as_ref()
            .and_then(|(p, _, _)| self.reads_after_own_write(&b.stmts[*p], w));
        occ.iter().all(|o| match &o.kind {
            Use::Write => true,
            Use::Read(index, env) | Use::Accumulate(index, env) => {
                if literal_set(index).is_some_and(|p| o.top > p) {
                    return true;
                }
                let Some((p, bound, invariant)) = &cover else {
                    return false;
                };
                // Inside the cover itself: `w[j]` after the cover's own `w[j] = e`.
                if o.top == *p {
                    return matches!(o.kind, Use::Read(..))
                        && own_element_reads.as_deref() == Some(index.as_str());
                }
                if index == "0" {
                    return o.top > *p && *invariant && only_writer;
                }
                o.top > *p
                    && !shadowed.contains(index)
                    && env
                        .iter()
                        .rev()
                        .find(|(pat, _)| pat == index)
                        .is_some_and(|(_, end)| end.as_deref() == Some(bound.as_str()))
            }
            Use::Whole => false,
        })
    }

    /// Names declared by `let` anywhere in `b`.
    fn let_names(&self, b: &Block) -> HashSet<String> {
        let mut out = HashSet::new();
        for s in &b.stmts {
            match s {
                Stmt::Let { var, .. } => {
                    out.insert(self.vars[*var].ident.to_string());
                }
                Stmt::If { then_b, else_b, .. } => {
                    out.extend(self.let_names(then_b));
                    out.extend(self.let_names(else_b));
                }
                Stmt::For { body, .. } | Stmt::While { body, .. } => {
                    out.extend(self.let_names(body))
                }
                _ => {}
            }
        }
        out
    }

    /// The top-level statement of `b` that assigns the scalar `w` outright, if any.
    fn scalar_cover(&self, b: &Block, w: VarId) -> Option<usize> {
        b.stmts.iter().position(|s| {
            matches!(s, Stmt::Assign { place, op: AssignOp::Set, value, .. }
                if place.var == w && place.index.is_none() && place.fields.is_empty()
                    && !expr_vars(value).contains(&w))
        })
    }

    /// A top-level loop `for j in 0..n { .. w[j] = e; .. }` of `b`: its position, `n`, and
    /// whether `n` reads only variables from outside `b` (the same in every iteration).
    pub(crate) fn array_cover(&self, b: &Block, w: VarId) -> Option<(usize, String, bool)> {
        let written_in_b = assigned_vars(b);
        let mut scopes = HashSet::new();
        block_scopes(b, &mut scopes);
        b.stmts.iter().enumerate().find_map(|(p, s)| {
            let Stmt::For {
                iter,
                iter_vars,
                pat,
                body,
                ..
            } = s
            else {
                return None;
            };
            let (start, end) = range_bounds(iter)?;
            if start != "0" || iter_vars.iter().any(|v| written_in_b.contains(v)) {
                return None;
            }
            let pat = pat.to_string();
            let writes_all = body.stmts.iter().any(|s| sets_element(s, w, &pat));
            let invariant = iter_vars
                .iter()
                .all(|v| !scopes.contains(&self.vars[*v].scope));
            writes_all.then_some((p, end, invariant))
        })
    }

    /// For a cover `for j in 0..n { .. w[j] = e; .. }`: `j` when every other use of `w` in
    /// its body is a read `w[j]` after that write, so each iteration reads only what it
    /// wrote (as loops merged by `merge_loops.rs` do).
    pub(crate) fn reads_after_own_write(&self, cover: &Stmt, w: VarId) -> Option<String> {
        let Stmt::For { pat, body, .. } = cover else {
            return None;
        };
        let pat = pat.to_string();
        let write = body.stmts.iter().position(|s| sets_element(s, w, &pat))?;
        let mentions = |s: &Stmt| stmt_reads(s).contains(&w) || stmt_writes(s).contains(&w);
        if body.stmts[..write].iter().any(mentions) || self.let_names(body).contains(&pat) {
            return None;
        }
        let mut occ = Vec::new();
        for s in &body.stmts[write + 1..] {
            self.occurrences(s, w, 0, &mut Vec::new(), &mut occ);
        }
        occ.iter()
            .all(|o| matches!(&o.kind, Use::Read(index, _) if *index == pat))
            .then_some(pat)
    }

    /// Every use of `w` in `s` (top-level position `top` in the body), with the loops
    /// around it inside the body: `(pattern, range end)`.
    pub(crate) fn occurrences(
        &self,
        s: &Stmt,
        w: VarId,
        top: usize,
        env: &mut Vec<(String, Option<String>)>,
        out: &mut Vec<Occurrence>,
    ) {
        let whole = |out: &mut Vec<Occurrence>| {
            out.push(Occurrence {
                top,
                kind: Use::Whole,
            })
        };
        let expr = |e: &Expr, out: &mut Vec<Occurrence>| {
            if let Expr::Index {
                base: Operand::Var(v, fields),
                index,
            } = e
                && *v == w
            {
                if !fields.is_empty() || index.vars.contains(&w) {
                    whole(out);
                } else {
                    out.push(Occurrence {
                        top,
                        kind: Use::Read(index.tokens.to_string(), env.clone()),
                    });
                }
                return;
            }
            if expr_vars(e).contains(&w) {
                whole(out);
            }
        };
        // A call's arguments (and receiver) are uses of the whole value.
        let call = matches!(
            s,
            Stmt::Let {
                init: Some(Expr::Call { .. } | Expr::Rule { .. }),
                ..
            } | Stmt::Assign {
                value: Expr::Call { .. } | Expr::Rule { .. },
                ..
            }
        );
        if call && stmt_reads(s).contains(&w) {
            whole(out);
        }
        match s {
            Stmt::Let { init: Some(e), .. } => expr(e, out),
            Stmt::Assign {
                place, op, value, ..
            } => {
                expr(value, out);
                if place.index.as_ref().is_some_and(|i| i.vars.contains(&w)) {
                    whole(out);
                }
                if place.var == w {
                    let kind = match (&place.index, op) {
                        (_, AssignOp::Set) if place.fields.is_empty() => Use::Write,
                        (Some(i), _) if place.fields.is_empty() => {
                            Use::Accumulate(i.tokens.to_string(), env.clone())
                        }
                        (None, _) if place.fields.is_empty() => {
                            Use::Accumulate(String::new(), env.clone())
                        }
                        _ => Use::Whole,
                    };
                    out.push(Occurrence { top, kind });
                }
            }
            Stmt::If {
                cond,
                then_b,
                else_b,
                ..
            } => {
                for index in cond_reads(cond, &self.vars[w].ident.to_string()) {
                    out.push(Occurrence {
                        top,
                        kind: match index {
                            Some(i) => Use::Read(i, env.clone()),
                            None => Use::Whole,
                        },
                    });
                }
                for s in then_b.stmts.iter().chain(&else_b.stmts) {
                    self.occurrences(s, w, top, env, out);
                }
            }
            Stmt::For {
                iter,
                iter_vars,
                pat,
                body,
                ..
            } => {
                if iter_vars.contains(&w) {
                    whole(out);
                }
                env.push((pat.to_string(), range_bounds(iter).map(|(_, end)| end)));
                for s in &body.stmts {
                    self.occurrences(s, w, top, env, out);
                }
                env.pop();
            }
            Stmt::While { cond, body, .. } => {
                if idents(cond).contains(&self.vars[w].ident.to_string()) {
                    // Evaluated once per iteration of the `while`: not an element read of
                    // this body's iteration alone.
                    whole(out);
                }
                for s in &body.stmts {
                    self.occurrences(s, w, top, env, out);
                }
            }
            Stmt::Meta(v) if *v == w => whole(out),
            _ => {}
        }
    }
}

/// `w[index] = e` with `e` not reading `w`: the statement a cover's iteration writes its
/// element with.
fn sets_element(s: &Stmt, w: VarId, index: &str) -> bool {
    matches!(s, Stmt::Assign { place, op: AssignOp::Set, value, .. }
        if place.var == w && place.fields.is_empty()
            && place.index.as_ref().is_some_and(|i| i.tokens.to_string() == index)
            && !expr_vars(value).contains(&w))
}

pub(crate) struct Occurrence {
    /// The top-level statement of the body it is in.
    pub top: usize,
    pub kind: Use,
}

pub(crate) enum Use {
    /// `w = e` or `w[i] = e`.
    Write,
    /// `w[i] += e` (index `i`, loops around it), or `w += e` (empty index).
    Accumulate(String, Vec<(String, Option<String>)>),
    /// An element read `w[i]`.
    Read(String, Vec<(String, Option<String>)>),
    /// Any other use: the whole value.
    Whole,
}

/// The uses of `name` in a condition: `Some(i)` for each `name[i]` with `i` a plain name,
/// `None` for any other use (the whole value).
fn cond_reads(cond: &TokenStream, name: &str) -> Vec<Option<String>> {
    struct Uses<'a> {
        name: &'a str,
        out: Vec<Option<String>>,
    }
    impl<'ast> syn::visit::Visit<'ast> for Uses<'_> {
        fn visit_expr_index(&mut self, e: &'ast syn::ExprIndex) {
            let base_is_name = matches!(&*e.expr, syn::Expr::Path(p) if p.path.is_ident(self.name));
            match (&*e.index, base_is_name) {
                (syn::Expr::Path(i), true) if i.path.get_ident().is_some() => {
                    let index = quote::ToTokens::to_token_stream(i).to_string();
                    self.out.push(Some(index));
                }
                _ => syn::visit::visit_expr_index(self, e),
            }
        }
        fn visit_path(&mut self, p: &'ast syn::Path) {
            if p.is_ident(self.name) {
                self.out.push(None);
            }
            syn::visit::visit_path(self, p);
        }
    }
    match syn::parse2::<syn::Expr>(cond.clone()) {
        Ok(e) => {
            let mut uses = Uses {
                name,
                out: Vec::new(),
            };
            syn::visit::Visit::visit_expr(&mut uses, &e);
            uses.out
        }
        Err(_) if idents(cond).contains(name) => vec![None],
        Err(_) => Vec::new(),
    }
}

/// `start..end` as the strings of its bounds.
fn range_bounds(iter: &TokenStream) -> Option<(String, String)> {
    let syn::Expr::Range(r) = syn::parse2::<syn::Expr>(iter.clone()).ok()? else {
        return None;
    };
    if !matches!(r.limits, syn::RangeLimits::HalfOpen(_)) {
        return None;
    }
    let bound = |e: &Option<Box<syn::Expr>>| {
        e.as_ref()
            .map(|e| quote::ToTokens::to_token_stream(e).to_string())
    };
    Some((bound(&r.start)?, bound(&r.end)?))
}

pub(crate) fn block_scopes(b: &Block, out: &mut HashSet<usize>) {
    out.insert(b.scope);
    for s in &b.stmts {
        match s {
            Stmt::If { then_b, else_b, .. } => {
                block_scopes(then_b, out);
                block_scopes(else_b, out);
            }
            Stmt::For { body, .. } | Stmt::While { body, .. } => block_scopes(body, out),
            _ => {}
        }
    }
}
