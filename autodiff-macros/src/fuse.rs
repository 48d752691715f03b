//! Loops whose reverse `NAME_grad` runs in its forward sweep, iteration by iteration.
//!
//! `NAME_grad` calls the pullback with one at once, so when a loop's only effect that
//! outlives it is `acc += e` into a scalar whose adjoint after the loop is that seed (the
//! output itself, or reached from it through `+` and the left side of `-` only), the adjoint
//! of `acc` is known before the loop runs and stays the same all along its reverse. The
//! iterations can then be reversed in any order: each one right after it runs, with its
//! tape still in cache and nothing kept for the pullback (Rosenbrock's sum, GMM's sum over
//! points). The adjoints the loop adds to are declared before it in the forward sweep and
//! the pullback carries on with them.
//!
//! Conditions (the body itself may hold anything: it runs once, as written):
//! - the other variables it assigns from outside (work arrays) are overwritten before they
//!   are read in every iteration (as for a checkpoint: `overwrite.rs`),
//!   so that no adjoint flows from one iteration to the one before; the reverse sweep does
//!   not read them back (their old values are never restored: that would rewind them
//!   between iterations) and no later statement mentions them;
//! - no later statement assigns an active variable the loop reads (its reverse would take
//!   an adjoint the loop has already added to).
//!
//! Since an iteration's reverse follows it at once, an element read of a work array that
//! the rest of the iteration does not write reads the same value again there: it is
//! recomputed instead of taped ([`Emitter::fused_stable_reads`]).

use std::collections::{HashMap, HashSet};

use crate::emit::{Emitter, assigned_vars, stmt_reads, stmt_writes};
use crate::ir::*;
use crate::overwrite::{Use, block_scopes};
use crate::passive::passive_names;

/// A loop reversed in the forward sweep of `NAME_grad`.
pub(crate) struct Fused {
    /// Its top-level statement.
    pub top: usize,
    /// The scalar it accumulates into.
    pub acc: VarId,
}

impl Emitter<'_> {
    /// The top-level loops of `body` that `NAME_grad` reverses as they run, by body scope.
    pub(crate) fn fusable_loops(&self, body: &Block, tail: &Operand) -> HashMap<usize, Fused> {
        let mut out = HashMap::new();
        let Operand::Var(tail, fields) = tail else {
            return out;
        };
        if !fields.is_empty() {
            return out;
        }
        for (top, s) in body.stmts.iter().enumerate() {
            if let Stmt::For { body: b, .. } = s
                && let Some(acc) = self.fusable(b, &body.stmts[top + 1..], *tail)
            {
                out.insert(b.scope, Fused { top, acc });
            }
        }
        out
    }

    /// Whether the loop with body `b`, followed by `after`, can be reversed as it runs: the
    /// scalar it accumulates into. The body runs once, as written: calls, array code and
    /// passive statements are fine.
    fn fusable(&self, b: &Block, after: &[Stmt], tail: VarId) -> Option<VarId> {
        if !self.structural.contains(&b.scope) {
            return None;
        }
        let mut scopes = HashSet::new();
        block_scopes(b, &mut scopes);
        let mut writes = assigned_vars(b);
        writes.retain(|v| !scopes.contains(&self.vars[*v].scope));
        let mut accs = writes
            .iter()
            .copied()
            .filter(|&w| self.only_accumulated(b, w));
        let acc = accs.next()?;
        if accs.next().is_some() || !self.unit_path(acc, after, tail) {
            return None;
        }
        let later_reads: HashSet<VarId> = after.iter().flat_map(|s| self.mentions(s)).collect();
        let later_writes: HashSet<VarId> = after.iter().flat_map(stmt_writes).collect();
        // Work arrays must not carry adjoints from one iteration to the next: each iteration
        // overwrites what it reads (as for a checkpoint), so reversing it leaves nothing.
        let work_ok = writes.iter().filter(|&&w| w != acc).all(|&w| {
            // Read back only by the stable reads of a checkpointed inner loop: never restored.
            let restored = self.needed.contains(&w) && !self.rerun_writes.contains(&w);
            !restored && !later_reads.contains(&w) && self.killed_or_accumulated(b, w)
        });
        let mut reads = HashSet::new();
        for s in &b.stmts {
            reads.extend(stmt_reads(s));
            self.cond_vars(s, &mut reads);
        }
        let inputs_ok = reads
            .iter()
            .filter(|v| self.vars[**v].active && !scopes.contains(&self.vars[**v].scope))
            .all(|v| !later_writes.contains(v));
        (work_ok && inputs_ok && !self.needed.contains(&acc)).then_some(acc)
    }

    /// Whether every use of `w` in `b` is `w += e` or `w -= e` on the variable itself.
    /// (An accumulator that reaches the output through sums has the output's type: a
    /// scalar, since `NAME_grad` seeds the output with one.)
    fn only_accumulated(&self, b: &Block, w: VarId) -> bool {
        if !self.vars[w].active {
            return false;
        }
        let mut occ = Vec::new();
        for (p, s) in b.stmts.iter().enumerate() {
            self.occurrences(s, w, p, &mut Vec::new(), &mut occ);
        }
        occ.iter()
            .all(|o| matches!(&o.kind, Use::Accumulate(index, _) if index.is_empty()))
    }

    /// Whether the adjoint of `v` after `after` runs backwards is the output's: `v` is the
    /// output, or is used once, in `let t = v + e`, `e + v`, `v - e` or `v`, with `t` such.
    fn unit_path(&self, v: VarId, after: &[Stmt], tail: VarId) -> bool {
        let mut uses = after
            .iter()
            .enumerate()
            .filter(|(_, s)| self.mentions(s).contains(&v));
        let Some((k, s)) = uses.next() else {
            return v == tail;
        };
        if v == tail || uses.next().is_some() {
            return false;
        }
        let is_v = |o: &Operand| matches!(o, Operand::Var(u, f) if *u == v && f.is_empty());
        let Stmt::Let {
            var, init: Some(e), ..
        } = s
        else {
            return false;
        };
        let unit = match e {
            Expr::Use(o) => is_v(o),
            Expr::Binary(BinOp::Add, l, r, _) => is_v(l) != is_v(r),
            Expr::Binary(BinOp::Sub, l, r, _) => is_v(l) && !is_v(r),
            _ => false,
        };
        unit && self.vars[*var].active && self.unit_path(*var, &after[k + 1..], tail)
    }

    /// The element reads of fused loops whose reverse stores their adjoint instead of
    /// adding it: `let a = x[c * i + k]` at the top of the body of `for i in <range>`, where
    /// `x` is a parameter no earlier fused loop reads, every read of `x` in the body is such
    /// a `let` with the same `c` and a different `0 <= k < c`, so that each element is read
    /// by one iteration only, once. Its adjoint is still zero there: in `NAME_grad` only
    /// earlier fused loops add to a parameter's adjoint before the pullback runs. Storing
    /// spares the load the addition needs (Rosenbrock's `d_x[2 * i] += ...`).
    pub(crate) fn stored_reads(&self, body: &Block) -> HashSet<VarId> {
        let mut tops: Vec<usize> = self.fused.values().map(|f| f.top).collect();
        tops.sort_unstable();
        let assigned = assigned_vars(body);
        let mut earlier: HashSet<VarId> = HashSet::new();
        let mut out = HashSet::new();
        for top in tops {
            if let Stmt::For {
                body: b, pat, iter, ..
            } = &body.stmts[top]
                && let Some(i) = self.distinct_loop_var(b, pat, iter)
            {
                let params = self.vars.iter().enumerate().filter(|(x, v)| {
                    v.is_param && v.active && !assigned.contains(x) && !earlier.contains(x)
                });
                for (x, _) in params {
                    out.extend(self.strided_reads(b, x, i));
                }
            }
            earlier.extend(self.mentions(&body.stmts[top]));
        }
        out
    }

    /// The variable of `for pat in iter` when `iter` is a range (possibly reversed or
    /// stepped), so that it takes each value once, and `pat` names it.
    fn distinct_loop_var(
        &self,
        b: &Block,
        pat: &proc_macro2::TokenStream,
        iter: &proc_macro2::TokenStream,
    ) -> Option<VarId> {
        let Ok(syn::Pat::Ident(p)) =
            syn::parse::Parser::parse2(syn::Pat::parse_single, pat.clone())
        else {
            return None;
        };
        if p.by_ref.is_some() || p.mutability.is_some() || p.subpat.is_some() {
            return None;
        }
        let mut e = syn::parse2::<syn::Expr>(iter.clone()).ok()?;
        loop {
            e = match e {
                syn::Expr::Paren(p) => *p.expr,
                syn::Expr::MethodCall(m) if m.method == "rev" || m.method == "step_by" => {
                    *m.receiver
                }
                syn::Expr::Range(_) => break,
                _ => return None,
            };
        }
        // Exactly one variable of that name in the body's scope: no shadowing to confuse.
        let mut named = self
            .vars
            .iter()
            .enumerate()
            .filter(|(_, v)| v.scope == b.scope && v.ident == p.ident);
        let (i, _) = named.next()?;
        named.next().is_none().then_some(i)
    }

    /// The `let a = x[c * i + k]` of `b` when they are all of its mentions of `x`, with one
    /// `c` and distinct `0 <= k < c`: the variables they declare.
    fn strided_reads(&self, b: &Block, x: VarId, i: VarId) -> Vec<VarId> {
        let mut found = Vec::new();
        let mut stride = None;
        let mut offsets = HashSet::new();
        for s in &b.stmts {
            if !self.mentions(s).contains(&x) {
                continue;
            }
            let Stmt::Let {
                var,
                init: Some(Expr::Index { base, index }),
                ..
            } = s
            else {
                return Vec::new();
            };
            let base_is_x = matches!(base, Operand::Var(v, f) if *v == x && f.is_empty());
            let Some((c, k)) = strided_index(&index.tokens).filter(|_| base_is_x) else {
                return Vec::new();
            };
            if index.vars != [i] || *stride.get_or_insert(c) != c || k >= c || !offsets.insert(k) {
                return Vec::new();
            }
            found.push(*var);
        }
        found
    }

    /// Element reads `let t = w[i]` in fused loops whose array nothing writes from the read
    /// to the end of the iteration: the iteration's reverse runs right after it, so it can
    /// read the element again instead of taping it (GMM's `main_term[c]`, read by the
    /// log-sum-exp after the loop that wrote it).
    pub(crate) fn fused_stable_reads(&self, body: &Block) -> HashSet<VarId> {
        let mut out = HashSet::new();
        for s in &body.stmts {
            if let Stmt::For { body: b, .. } = s
                && self.fused.contains_key(&b.scope)
            {
                self.stable_in(b, &HashSet::new(), &mut out);
            }
        }
        out
    }

    /// [`fused_stable_reads`](Self::fused_stable_reads) in `b`, given what may be written
    /// after `b` in the iteration (or, in an inner loop, anywhere in it).
    fn stable_in(&self, b: &Block, written_after: &HashSet<String>, out: &mut HashSet<VarId>) {
        // By name, so that passive statements (which may call methods on anything they name)
        // count as writes too. Statements last to first: `after` is what those after `s` may
        // write.
        let mut after = written_after.clone();
        for s in b.stmts.iter().rev() {
            match s {
                Stmt::Let {
                    var,
                    init:
                        Some(Expr::Index {
                            base: Operand::Var(w, _),
                            ..
                        }),
                    ..
                } if !after.contains(&self.name(*w)) => {
                    out.insert(*var);
                }
                Stmt::If { then_b, else_b, .. } => {
                    self.stable_in(then_b, &after, out);
                    self.stable_in(else_b, &after, out);
                }
                Stmt::For { body, .. } | Stmt::While { body, .. } => {
                    // A later iteration (or a `while` condition) runs after an earlier one
                    // reads.
                    let mut inside = after.clone();
                    inside.extend(assigned_vars(body).iter().map(|v| self.name(*v)));
                    passive_names(s, &mut inside);
                    self.stable_in(body, &inside, out);
                }
                _ => {}
            }
            after.extend(stmt_writes(s).iter().map(|v| self.name(*v)));
            passive_names(s, &mut after);
        }
    }

    fn name(&self, v: VarId) -> String {
        self.vars[v].ident.to_string()
    }

    /// The variables a statement reads or writes, conditions included.
    fn mentions(&self, s: &Stmt) -> HashSet<VarId> {
        let mut out = stmt_reads(s);
        out.extend(stmt_writes(s));
        self.cond_vars(s, &mut out);
        out
    }
}

/// `(c, k)` for an index written `c * i + k` (or `i * c`, `k + c * i`, `i`, `i + k`, with
/// integer literals `c` and `k`).
fn strided_index(tokens: &proc_macro2::TokenStream) -> Option<(u64, u64)> {
    use syn::{BinOp, Expr};
    fn lit(e: &Expr) -> Option<u64> {
        match e {
            Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Int(n),
                ..
            }) => n.base10_parse().ok(),
            Expr::Paren(p) => lit(&p.expr),
            _ => None,
        }
    }
    fn scaled(e: &Expr) -> Option<u64> {
        match e {
            Expr::Path(p) if p.path.get_ident().is_some() => Some(1),
            Expr::Paren(p) => scaled(&p.expr),
            Expr::Binary(m) if matches!(m.op, BinOp::Mul(_)) => match (lit(&m.left), lit(&m.right))
            {
                (Some(c), None) if matches!(&*m.right, Expr::Path(_)) => Some(c),
                (None, Some(c)) if matches!(&*m.left, Expr::Path(_)) => Some(c),
                _ => None,
            },
            _ => None,
        }
    }
    let e = syn::parse2::<Expr>(tokens.clone()).ok()?;
    if let Some(c) = scaled(&e) {
        return Some((c, 0));
    }
    match &e {
        Expr::Binary(a) if matches!(a.op, BinOp::Add(_)) => match (lit(&a.left), lit(&a.right)) {
            (None, Some(k)) => Some((scaled(&a.left)?, k)),
            (Some(k), None) => Some((scaled(&a.right)?, k)),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use crate::emit::assigned_vars;
    use crate::expand::{loop_test_fn, with_emitter};
    use crate::ir::*;

    /// How many loops `NAME_grad` of `src` reverses in its forward sweep.
    fn fused(src: &str) -> usize {
        with_emitter(true, src, |em, _| em.fused.len())
    }

    #[test]
    fn a_loop_that_only_accumulates_the_output_is_fused() {
        // The integration tests (`tests/macro_checkpoint.rs`) check their gradients.
        let accumulated = loop_test_fn("accumulated");
        assert_eq!(fused(&accumulated), 1);
        let compounding = loop_test_fn("compounding");
        assert_eq!(fused(&compounding), 0);
        // Work after the loop that scales its adjoint, or only adds to it.
        assert_eq!(fused(&accumulated.replace("    s\n}", "    s * s\n}")), 0);
        let shifted = accumulated.replace("    s\n}", "    let t = 2.0 * y + s;\n    t - y\n}");
        assert_eq!(fused(&shifted), 1);
        // A second accumulator the output depends on: two adjoints to know beforehand.
        let two = "fn f(x: &[f64]) -> f64 {
            let mut s = 0.0;
            let mut t = 0.0;
            for i in 0..x.len() { s += x[i]; t += x[i] * x[i]; }
            let u = s + t;
            u
        }";
        assert_eq!(fused(two), 0);
        // A call and a work array in the body (`tests/macro_checkpoint.rs` checks it).
        let robust = loop_test_fn("robust_fit");
        assert_eq!(fused(&robust), 1);
        // The work array read before it is written: its adjoint crosses iterations.
        assert_eq!(
            fused(&robust.replace("pred[0] = params[0]", "pred[0] = pred[1] + params[0]")),
            0
        );
        // The same second sum, unused: no adjoint, so the loop is fused.
        assert_eq!(fused(&two.replace("let u = s + t;", "let u = s + 1.0;")), 1);
    }

    /// The arrays `src` writes whose element reads `NAME_grad` may read again in a fused
    /// loop's reverse instead of taping, with how many such reads each has.
    fn stable_arrays(src: &str) -> Vec<(String, usize)> {
        fn walk(
            b: &Block,
            em: &crate::emit::Emitter,
            written: &HashSet<VarId>,
            out: &mut Vec<(String, usize)>,
        ) {
            for s in &b.stmts {
                match s {
                    Stmt::Let {
                        var,
                        init:
                            Some(Expr::Index {
                                base: Operand::Var(w, _),
                                ..
                            }),
                        ..
                    } if em.fused_stable.contains(var) && written.contains(w) => {
                        let name = em.vars[*w].ident.to_string();
                        match out.iter_mut().find(|(n, _)| *n == name) {
                            Some((_, count)) => *count += 1,
                            None => out.push((name, 1)),
                        }
                    }
                    Stmt::If { then_b, else_b, .. } => {
                        walk(then_b, em, written, out);
                        walk(else_b, em, written, out);
                    }
                    Stmt::For { body, .. } | Stmt::While { body, .. } => {
                        walk(body, em, written, out)
                    }
                    _ => {}
                }
            }
        }
        with_emitter(true, src, |em, lowered| {
            let mut out = Vec::new();
            let written = assigned_vars(&lowered.body);
            walk(&lowered.body, em, &written, &mut out);
            out.sort();
            out
        })
    }

    #[test]
    fn work_arrays_read_as_the_iteration_left_them_are_read_again() {
        // `tests/macro_checkpoint.rs` checks the gradients.
        let src = loop_test_fn("reads_after_writing");
        assert_eq!(fused(&src), 1);
        let counts = |list: &[(&str, usize)]| -> Vec<(String, usize)> {
            list.iter().map(|(n, c)| (n.to_string(), *c)).collect()
        };
        // `t` in `m = t[0]`, the max, the exponentials and `v`'s loop; `u` and `v` in the
        // sum. (`v`'s and `u`'s loops are merged into one, which writes both.)
        assert_eq!(stable_arrays(&src), counts(&[("t", 4), ("u", 1), ("v", 1)]));
        // A passive statement naming `v` after its reads may change it.
        let named = src.replace(
            "        s += e.ln()",
            "        assert!(v.len() == k);\n        s += e.ln()",
        );
        assert_eq!(fused(&named), 1);
        assert_eq!(stable_arrays(&named), counts(&[("t", 4), ("u", 1)]));
        // `NAME_vjp` fuses nothing.
        assert!(with_emitter(false, &src, |em, _| em
            .fused_stable
            .is_empty()));
    }

    /// The names of the element reads whose adjoints `NAME_grad` of `src` stores.
    fn stored(src: &str) -> Vec<String> {
        with_emitter(true, src, |em, lowered| {
            let mut names: Vec<String> = em
                .stored_reads
                .iter()
                .map(|v| lowered.vars[*v].ident.to_string())
                .collect();
            names.sort();
            names
        })
    }

    #[test]
    fn elements_read_once_have_their_adjoints_stored() {
        let strided = loop_test_fn("strided");
        assert_eq!(fused(&strided), 3);
        // `r = x[i]` would qualify but for the first loop, which already wrote `d_x`.
        assert_eq!(stored(&strided), ["a", "b", "c", "p"]);
        // Offsets that reach the next iteration's elements.
        let overlapping = strided.replace("x[3 * i + 2]", "x[3 * i + 3]");
        assert_eq!(stored(&overlapping), ["p"]);
        // Two strides, or one element read twice.
        assert_eq!(
            stored(&strided.replace("x[1 + i * 3]", "x[1 + i * 2]")),
            ["p"]
        );
        assert_eq!(stored(&strided.replace("x[1 + i * 3]", "x[i * 3]")), ["p"]);
        // The third loop once `z[i]` is read once.
        let once = strided
            .replace("let f = z[i + 1];", "let f = 0.5;")
            .replace("let w = z[i];", "let w = f;");
        assert_eq!(stored(&once), ["a", "b", "c", "e", "p"]);
        // Not a range: the loop variable may repeat.
        let listed = strided.replace("(0..y.len()).rev()", "[0, 0, 1]");
        assert_eq!(stored(&listed), ["a", "b", "c"]);
        // The loop variable shadowed before the read.
        let shadowed = strided.replace("let p = y[i];", "let i = i / 2;\n        let p = y[i];");
        assert_eq!(stored(&shadowed), ["a", "b", "c"]);
        // `NAME_vjp` fuses nothing.
        assert!(with_emitter(false, &strided, |em, _| em
            .stored_reads
            .is_empty()));
    }
}
