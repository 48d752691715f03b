//! Which overwrites keep the old value for the reverse sweep.
//!
//! An assignment to a variable the reverse sweep reads pushes the old value and pops it
//! back on the way back, so that what runs after it in the reverse sweep (the reverse of
//! what ran before it) sees the value it saw going forward. Only that matters: an
//! assignment whose old value nothing reads later in the reverse sweep keeps nothing. The
//! common case is an accumulator whose final value a rule reads, as in
//!
//! ```text
//! let mut s = 0.0;
//! for i in 0..n { s += x[i] * x[i]; }   // the reverse of `+=` does not read `s`
//! s.ln()                                // the reverse of `ln` reads the final `s`
//! ```
//!
//! which would otherwise keep `n` copies of `s` that are popped and never read.
//!
//! The analysis is by position. For an assignment at position `p` of a block, the reverse
//! sweep later runs the reverse of the statements before `p`, of the statement itself
//! (its operands are read after the restore), of the whole block again when it is a loop
//! body (the earlier iterations; not for a fused loop, whose iterations are reversed one
//! at a time), and of everything before the enclosing statements. What the reverse of a
//! statement reads is over-approximated by [`Emitter::reverse_reads`].

use std::collections::HashSet;

use crate::emit::{Emitter, stmt_reads};
use crate::ir::*;

impl Emitter<'_> {
    /// Fills `restore_at` (assignments that keep the old value, by statement address) and
    /// `restored` (the variables with at least one such assignment).
    pub(crate) fn collect_restored(&mut self, body: &Block) {
        self.restores_in(body, false, &HashSet::new());
    }

    /// `later`: what the reverse sweep reads after the reverse of `b` is done.
    fn restores_in(&mut self, b: &Block, loop_body: bool, later: &HashSet<VarId>) {
        let reads: Vec<HashSet<VarId>> = b.stmts.iter().map(|s| self.reverse_reads(s)).collect();
        let mut later = later.clone();
        if loop_body && !self.fused.contains_key(&b.scope) {
            // The reverse of earlier iterations runs after this one's.
            later.extend(reads.iter().flatten().copied());
        }
        for (s, here) in b.stmts.iter().zip(reads) {
            match s {
                Stmt::Assign {
                    place,
                    first: false,
                    ..
                } if self.needed.contains(&place.var)
                    && !self.rerun_writes.contains(&place.var)
                    && (later.contains(&place.var) || here.contains(&place.var)) =>
                {
                    self.restore_at.insert(s as *const Stmt as usize);
                    self.restored.insert(place.var);
                }
                Stmt::If { then_b, else_b, .. } => {
                    self.restores_in(then_b, false, &later);
                    self.restores_in(else_b, false, &later);
                }
                Stmt::For { body, .. } | Stmt::While { body, .. } => {
                    self.restores_in(body, true, &later)
                }
                _ => {}
            }
            later.extend(here);
        }
    }

    /// A superset of the values the reverse of `s` reads: the operands of its rules, the
    /// indices, the values recomputed, the branch flags and loop ranges, and for loops run
    /// again in the reverse sweep everything they read.
    fn reverse_reads(&self, s: &Stmt) -> HashSet<VarId> {
        let mut out = HashSet::new();
        match s {
            Stmt::Let { var, init, .. } => {
                out.extend(stmt_reads(s));
                // Rules that keep their output read the variable itself.
                if init.as_ref().is_some_and(crate::reverse::needs_output) {
                    out.insert(*var);
                }
            }
            Stmt::Assign { place, value, .. } => {
                // What the rule reads (`w` itself only when `e` reads it or the rule keeps
                // its output), the index, and whatever a call is given.
                out.extend(self.backward_reads(value, Some(place.var)));
                if let Some(i) = &place.index {
                    out.extend(i.vars.iter().copied());
                }
                if matches!(value, Expr::Call { .. } | Expr::Rule { .. }) {
                    out.extend(stmt_reads(s));
                }
            }
            Stmt::If {
                flag,
                then_b,
                else_b,
                ..
            } => {
                out.insert(*flag);
                for s in then_b.stmts.iter().chain(&else_b.stmts) {
                    out.extend(self.reverse_reads(s));
                }
            }
            Stmt::For { iter_var, body, .. }
            | Stmt::While {
                count: iter_var,
                body,
                ..
            } => {
                out.insert(*iter_var);
                if self.checkpointed.contains(&body.scope)
                    || self.snapshots.contains_key(&body.scope)
                {
                    out.extend(stmt_reads(s));
                }
                if let Stmt::For { iter_vars, .. } = s {
                    out.extend(iter_vars.iter().copied());
                }
                for s in &body.stmts {
                    out.extend(self.reverse_reads(s));
                }
            }
            Stmt::Meta(_) | Stmt::Passive(_) => {}
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use crate::expand::{restore_test_fn, with_emitter};

    /// The names of the variables some assignment restores, sorted.
    fn restored(seeded: bool, src: &str) -> Vec<String> {
        with_emitter(seeded, src, |em, _| {
            let mut names: Vec<String> = em
                .restored
                .iter()
                .map(|&v| em.vars[v].ident.to_string())
                .collect();
            names.sort();
            names
        })
    }

    #[test]
    fn accumulators_read_only_at_the_end_keep_nothing() {
        let src = restore_test_fn("log_of_sums");
        assert_eq!(restored(false, &src), Vec::<String>::new());
        assert_eq!(restored(true, &src), Vec::<String>::new());
    }

    #[test]
    fn values_read_back_are_kept() {
        let src = restore_test_fn("carried");
        for seeded in [false, true] {
            assert_eq!(restored(seeded, &src), ["m", "u", "v", "w"]);
        }
        let src = restore_test_fn("read_while_filling");
        assert_eq!(restored(false, &src), ["s"]);
        let src = restore_test_fn("own_old_value");
        assert_eq!(restored(false, &src), ["m"]);
    }

    #[test]
    fn a_read_before_the_loop_keeps_the_accumulator() {
        // `s` is read by the reverse of `s.ln()` before the loop (in the forward order),
        // which runs after the loop's reverse: its value from before the loop comes back.
        let src = "fn f(x: &[f64]) -> f64 {
            let mut s = x[0] + 1.0;
            let a = s.ln();
            for i in 0..x.len() { s += x[i]; }
            a * s.ln()
        }";
        assert_eq!(restored(false, src), ["s"]);
        let after_only = src.replace("let a = s.ln();", "let a = x[0];");
        assert_eq!(restored(false, &after_only), Vec::<String>::new());
    }
}
