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

use std::collections::{HashMap, HashSet};

use crate::emit::{Emitter, assigned_vars, stmt_reads, stmt_writes};
use crate::ir::*;
use crate::overwrite::{Use, block_scopes};

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

    /// The variables a statement reads or writes, conditions included.
    fn mentions(&self, s: &Stmt) -> HashSet<VarId> {
        let mut out = stmt_reads(s);
        out.extend(stmt_writes(s));
        self.cond_vars(s, &mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use crate::expand::{loop_test_fn, with_emitter};

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
}
