//! Loop bodies that the reverse sweep runs again instead of taping (per-iteration
//! checkpointing).
//!
//! A loop body that computes per-iteration work arrays (GMM's `xcentered`, `qxcentered`)
//! tapes every element it reads from them, and the tape of a long loop lives in main memory.
//! When an iteration depends only on values that are the same in the reverse sweep, the
//! forward sweep runs the body plainly (no tape) and the reverse sweep, for each iteration
//! in turn, runs the body's forward code with its tape and then its reverse: the tape holds
//! one iteration and stays in cache, for the price of running the body twice.
//!
//! Inside a loop that `NAME_grad` fuses (`fuse.rs`), whose tape lives for one of its
//! iterations, the body instead keeps a copy of the work arrays it reads back at the end of
//! each iteration (`__private::snapshot`), and the reverse sweep puts them back before
//! reversing it: a copy of `n` numbers instead of a second run.
//!
//! The conditions are conservative, so that running the body again yields the values the
//! forward sweep saw:
//! - the body is scalar code: arithmetic, float methods and element reads, no calls (which
//!   could be expensive or have effects) and no passive statement this analysis cannot
//!   read;
//! - every variable it reads from outside and does not write is never assigned again after
//!   the loop: it is assigned, if at all, only in top-level statements before the one
//!   holding the loop;
//! - every variable it writes from outside is a local of the function's top level (the
//!   pullback has those) that the reverse sweep reads nowhere else, and within
//!   an iteration it is either only written or accumulated into (`acc += e`, where the
//!   wrong value left by the second run does not matter), or overwritten before it is read
//!   (`overwrite.rs`).

use std::collections::{HashMap, HashSet};

use proc_macro2::TokenStream;

use crate::emit::{Emitter, assigned_vars, stmt_reads, stmt_writes};
use crate::ir::*;
use crate::overwrite::block_scopes;
use crate::passive::{has_effects, idents, passive_names};
use crate::symbol::MethodKind;

/// A loop chosen for checkpointing.
pub(crate) struct Candidate {
    /// The scope of its body.
    pub scope: usize,
    /// Variables from outside the body that it reads and does not write: the reverse
    /// sweep needs them to run the body again.
    pub reads: HashSet<VarId>,
    /// Variables from outside the body that it writes.
    pub writes: HashSet<VarId>,
    /// Its element reads (`let` variables) of arrays that do not change from the read to
    /// the end of the iteration: arrays it only reads, and arrays it writes only before.
    pub stable: Vec<VarId>,
    /// Inside a fused loop, where a tape lives for one iteration of that loop: the arrays it
    /// writes and reads back, with the length its covering loop writes (`n` of
    /// `for j in 0..n { w[j] = .. }`), to keep at the end of each iteration instead of
    /// running the body again (`None`: run it again).
    pub snapshot: Option<Vec<(VarId, TokenStream)>>,
}

impl Emitter<'_> {
    /// The innermost loops whose bodies can be run again in the reverse sweep and tape
    /// something worth not keeping for the whole loop.
    pub(crate) fn checkpoint_candidates(&self, body: &Block, tail: &[VarId]) -> Vec<Candidate> {
        // The last top-level statement that may assign each variable.
        let mut last_write: HashMap<VarId, usize> = HashMap::new();
        let mut passive_after: Vec<HashSet<String>> = vec![HashSet::new(); body.stmts.len() + 1];
        for (t, s) in body.stmts.iter().enumerate() {
            for v in stmt_writes(s) {
                last_write.insert(v, t);
            }
            let mut names = HashSet::new();
            passive_names(s, &mut names);
            passive_after[t] = names;
        }
        // Names a passive statement at or after `t` mentions (it may assign them).
        for t in (0..body.stmts.len()).rev() {
            let later = passive_after[t + 1].clone();
            passive_after[t].extend(later);
        }
        let mut out = Vec::new();
        for (t, s) in body.stmts.iter().enumerate() {
            let ctx = Context {
                top: t,
                fused_scope: match s {
                    Stmt::For { body, .. } => Some(body.scope),
                    _ => None,
                },
                last_write: &last_write,
                passive_later: &passive_after[t],
                tail,
            };
            self.find_in_stmt(s, &ctx, &mut out);
        }
        out
    }

    /// What the reverse sweep reads outside the body of scope `skip` (a checkpointed body
    /// may leave wrong values only in variables nobody else reads back).
    pub(crate) fn needed_outside(&mut self, body: &Block, skip: usize) -> HashSet<VarId> {
        let saved = std::mem::take(&mut self.needed);
        self.skip_scope = Some(skip);
        self.collect_needs(body);
        self.skip_scope = None;
        let mut out = std::mem::replace(&mut self.needed, saved);
        self.remat_operands_outside(body, skip, &mut out);
        out
    }

    /// The operands of values recomputed in the reverse sweep, outside the block `skip`.
    fn remat_operands_outside(&self, b: &Block, skip: usize, out: &mut HashSet<VarId>) {
        if b.scope == skip {
            return;
        }
        for s in &b.stmts {
            match s {
                Stmt::Let {
                    var, init: Some(e), ..
                } if self.remat.contains(var) => out.extend(self.remat_operands(*var, e)),
                Stmt::If { then_b, else_b, .. } => {
                    self.remat_operands_outside(then_b, skip, out);
                    self.remat_operands_outside(else_b, skip, out);
                }
                Stmt::For { body, .. } | Stmt::While { body, .. } => {
                    self.remat_operands_outside(body, skip, out)
                }
                _ => {}
            }
        }
    }

    fn find_in_stmt(&self, s: &Stmt, ctx: &Context, out: &mut Vec<Candidate>) {
        match s {
            Stmt::For { iter, body, .. } => {
                // The innermost loops that qualify: running an outer body again would tape
                // its inner loops in full, running an inner one keeps the tape to one of its
                // iterations. A fused loop is reversed as it runs; loops inside it may still
                // be checkpointed.
                let before = out.len();
                body.stmts
                    .iter()
                    .for_each(|s| self.find_in_stmt(s, ctx, out));
                if out.len() == before
                    && !self.fused.contains_key(&body.scope)
                    && let Some(c) = self.eligible(iter, body, ctx)
                {
                    out.push(c);
                }
            }
            Stmt::While { body, .. } => body
                .stmts
                .iter()
                .for_each(|s| self.find_in_stmt(s, ctx, out)),
            Stmt::If { then_b, else_b, .. } => {
                then_b
                    .stmts
                    .iter()
                    .for_each(|s| self.find_in_stmt(s, ctx, out));
                else_b
                    .stmts
                    .iter()
                    .for_each(|s| self.find_in_stmt(s, ctx, out));
            }
            _ => {}
        }
    }

    fn eligible(&self, iter: &TokenStream, b: &Block, ctx: &Context) -> Option<Candidate> {
        if !self.structural.contains(&b.scope) || !self.tapes_something(b) {
            return None;
        }
        if has_effects(iter) || !self.is_rerunnable(b) {
            return None;
        }
        let mut scopes = HashSet::new();
        block_scopes(b, &mut scopes);
        let inside = |v: &VarId| scopes.contains(&self.vars[*v].scope);

        let writes: HashSet<VarId> = assigned_vars(b)
            .into_iter()
            .filter(|v| !inside(v))
            .collect();
        // Inside a fused loop, the reverse runs within the same iteration of that loop, where
        // its body's locals still live.
        let fused_body = ctx
            .fused_scope
            .filter(|_| self.fused.values().any(|f| f.top == ctx.top));
        let mut fused_locals = false;
        for &w in &writes {
            // The output is moved out before the pullback is made: only a scalar (a copy)
            // may also be captured by it.
            let moved_out = ctx.tail.contains(&w) && !self.vars[w].scalar;
            // Running the body again writes `w` in the pullback: it must live there, as the
            // function's own locals do (a local of an outer loop body is gone by then).
            let scope = self.vars[w].scope;
            fused_locals |= scope != 0 && Some(scope) == fused_body;
            let outer_local = scope != 0 && Some(scope) != fused_body;
            if moved_out || outer_local || !self.killed_or_accumulated(b, w) {
                return None;
            }
        }

        let mut reads = HashSet::new();
        for s in &b.stmts {
            reads.extend(stmt_reads(s));
            self.cond_vars(s, &mut reads);
        }
        reads.retain(|v| !inside(v) && !writes.contains(v));
        for r in &reads {
            let assigned_later = ctx.last_write.get(r).is_some_and(|&t| t >= ctx.top);
            let named_later = ctx.passive_later.contains(&self.vars[*r].ident.to_string());
            if assigned_later || named_later {
                return None;
            }
        }
        let mut stable = Vec::new();
        for (p, s) in b.stmts.iter().enumerate() {
            let later_writes: HashSet<VarId> = b.stmts[p..].iter().flat_map(stmt_writes).collect();
            let after_writes: HashSet<VarId> =
                b.stmts[p + 1..].iter().flat_map(stmt_writes).collect();
            // Also stable: `w[j]` read in the loop that wrote it just before (`for j in 0..n
            // { w[j] = e; .. w[j] .. }`), when nothing after that loop writes `w`.
            let is_stable = |w: &VarId| {
                reads.contains(w)
                    || (writes.contains(w) && !later_writes.contains(w))
                    || (writes.contains(w)
                        && !after_writes.contains(w)
                        && self.reads_after_own_write(s, *w).is_some())
            };
            element_reads(s, &mut |var, base| {
                if is_stable(&base) {
                    stable.push(var);
                }
            });
        }
        let snapshot = self.snapshot_plan(b, ctx, &writes, &stable);
        if fused_locals && snapshot.is_none() {
            // Running the body again would need the fused body's locals in the pullback.
            return None;
        }
        Some(Candidate {
            scope: b.scope,
            reads,
            writes,
            stable,
            snapshot,
        })
    }

    /// What to keep of the written arrays at the end of each iteration instead of running
    /// the body again: only inside a fused loop (whose tape holds one of its iterations, so
    /// the copies stay in cache), and only when every array read back has a covering loop
    /// whose length does not change with the iteration.
    fn snapshot_plan(
        &self,
        b: &Block,
        ctx: &Context,
        writes: &HashSet<VarId>,
        stable: &[VarId],
    ) -> Option<Vec<(VarId, TokenStream)>> {
        if !self.fused.values().any(|f| f.top == ctx.top) {
            return None;
        }
        let mut read_back: Vec<VarId> = Vec::new();
        for s in &b.stmts {
            element_reads(s, &mut |var, base| {
                if stable.contains(&var) && writes.contains(&base) && !read_back.contains(&base) {
                    read_back.push(base);
                }
            });
        }
        read_back
            .into_iter()
            .map(|w| {
                let (_, bound, invariant) = self.array_cover(b, w)?;
                let n: TokenStream = bound.parse().ok()?;
                invariant.then_some((w, n))
            })
            .collect()
    }

    /// Whether running `b` keeps anything per iteration (a tape or saved old values).
    fn tapes_something(&self, b: &Block) -> bool {
        // Values on the tape: the metadata of a scalar takes no room, a value or an array's
        // shape does.
        let weighs = |v: VarId| {
            !self.remat.contains(&v)
                && (self.needed.contains(&v) || (self.vars[v].active && !self.vars[v].scalar))
        };
        let keeps = b.stmts.iter().any(|s| match s {
            Stmt::Let { var, .. } => weighs(*var),
            Stmt::If { flag, .. } => weighs(*flag),
            Stmt::For { iter_var, .. } => !self.remat_iter.contains(iter_var) && weighs(*iter_var),
            Stmt::While { count, .. } => weighs(*count),
            _ => false,
        });
        if self.structural.contains(&b.scope) && keeps {
            return true;
        }
        b.stmts.iter().any(|s| match s {
            Stmt::Assign { place, first, .. } => !first && self.needed.contains(&place.var),
            Stmt::If { then_b, else_b, .. } => {
                self.tapes_something(then_b) || self.tapes_something(else_b)
            }
            Stmt::For { body, .. } | Stmt::While { body, .. } => self.tapes_something(body),
            _ => false,
        })
    }

    /// Scalar code without calls, whose passive parts can be evaluated again.
    pub(crate) fn is_rerunnable(&self, b: &Block) -> bool {
        b.stmts.iter().all(|s| match s {
            Stmt::Let { var, init, .. } => {
                (!self.vars[*var].active || self.vars[*var].scalar)
                    && init.as_ref().is_none_or(|e| self.rerunnable_expr(e))
            }
            Stmt::Assign { place, value, .. } => {
                (place.index.is_some()
                    || !self.vars[place.var].active
                    || self.vars[place.var].scalar)
                    && place.index.as_ref().is_none_or(|i| !has_effects(&i.tokens))
                    && self.rerunnable_expr(value)
            }
            Stmt::If {
                cond,
                then_b,
                else_b,
                ..
            } => !has_effects(cond) && self.is_rerunnable(then_b) && self.is_rerunnable(else_b),
            Stmt::For { iter, body, .. } => !has_effects(iter) && self.is_rerunnable(body),
            Stmt::While { cond, body, .. } => !has_effects(cond) && self.is_rerunnable(body),
            Stmt::Meta(_) => true,
            // `();` and the like: nothing to read or write.
            Stmt::Passive(ts) => !has_effects(ts) && idents(ts).is_empty(),
        })
    }

    fn rerunnable_expr(&self, e: &Expr) -> bool {
        let op = |o: &Operand| match o {
            Operand::Var(..) => true,
            Operand::Passive(p) => !has_effects(&p.tokens),
        };
        match e {
            Expr::Use(o) | Expr::Neg(o, _) | Expr::Cast(o, _) => op(o),
            Expr::Binary(_, l, r, _) => op(l) && op(r),
            Expr::Index { base, index } => op(base) && !has_effects(&index.tokens),
            Expr::Method {
                kind, recv, args, ..
            } => {
                matches!(
                    kind,
                    MethodKind::FloatUnary(_) | MethodKind::FloatNary(_) | MethodKind::Powi
                ) && op(recv)
                    && args.iter().all(op)
            }
            Expr::Passive(p) => !has_effects(&p.tokens),
            _ => false,
        }
    }
}

struct Context<'a> {
    /// The top-level statement holding the loop.
    top: usize,
    /// The body scope of that statement, when it is a loop.
    fused_scope: Option<usize>,
    last_write: &'a HashMap<VarId, usize>,
    passive_later: &'a HashSet<String>,
    tail: &'a [VarId],
}

/// Calls `f(var, array)` for each `let var = array[index]` in `s`.
fn element_reads(s: &Stmt, f: &mut dyn FnMut(VarId, VarId)) {
    match s {
        Stmt::Let {
            var,
            init:
                Some(Expr::Index {
                    base: Operand::Var(base, fields),
                    ..
                }),
            ..
        } if fields.is_empty() => f(*var, *base),
        Stmt::If { then_b, else_b, .. } => {
            for s in then_b.stmts.iter().chain(&else_b.stmts) {
                element_reads(s, f);
            }
        }
        Stmt::For { body, .. } | Stmt::While { body, .. } => {
            body.stmts.iter().for_each(|s| element_reads(s, f))
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use crate::expand::{loop_test_fn, with_emitter};
    use crate::ir::{Block, Stmt};

    /// How many loop bodies of `src` the reverse sweep runs again.
    fn checkpointed(src: &str) -> usize {
        with_emitter(false, src, |em, _| em.checkpointed.len())
    }

    #[test]
    fn work_arrays_rewritten_every_iteration_are_checkpointed() {
        let src = "fn f(m: &[f64], x: &[f64]) -> f64 {
            let d = m.len();
            let mut w = vec![0.0; d];
            let mut s = 0.0;
            for i in 0..x.len() {
                for j in 0..d { w[j] = x[i] - m[j]; }
                for a in 0..d { for b in a + 1..d { w[b] += w[a] * m[a]; } }
                for j in 0..d { s += w[j] * w[j]; }
            }
            s
        }";
        assert_eq!(checkpointed(src), 1);
    }

    #[test]
    fn a_work_array_read_before_it_is_written_is_not() {
        // `w[0]` carries a value from one iteration to the next.
        let src = "fn f(x: &[f64]) -> f64 {
            let mut w = vec![1.0; 1];
            let mut s = 0.0;
            for i in 0..x.len() {
                let prev = w[0];
                w[0] = x[i] * prev;
                s += w[0] * w[0];
            }
            s
        }";
        assert_eq!(checkpointed(src), 0);
    }

    #[test]
    fn an_array_written_after_the_loop_is_not_read_by_a_checkpoint() {
        let src = "fn f(x: &[f64]) -> f64 {
            let mut c = vec![0.0; x.len()];
            for j in 0..x.len() { c[j] = x[j] * 2.0; }
            let mut w = vec![0.0; x.len()];
            let mut s = 0.0;
            for i in 0..x.len() {
                for j in 0..x.len() { w[j] = c[j] * x[i]; }
                for j in 0..x.len() { s += w[j] * w[j]; }
            }
            c[0] = 5.0 * x[0];
            s + c[0]
        }";
        assert_eq!(checkpointed(src), 0);
        assert_eq!(checkpointed(&src.replace("c[0] = 5.0 * x[0];", "")), 1);
    }

    #[test]
    fn a_range_shorter_than_the_reads_does_not_cover_them() {
        // `w[j]` for `j < n - 1` leaves the last element from the previous iteration.
        let src = "fn f(x: &[f64]) -> f64 {
            let n = x.len();
            let m = n - 1;
            let mut w = vec![0.0; n];
            let mut s = 0.0;
            for i in 0..n {
                for j in 0..m { w[j] = x[j] * x[i]; }
                for j in 0..n { s += w[j] * w[j]; }
            }
            s
        }";
        assert_eq!(checkpointed(src), 0);
        assert_eq!(checkpointed(&src.replace("0..m", "0..n")), 1);
    }

    #[test]
    fn a_cover_reading_back_its_own_element_covers_it() {
        // As loops merged by `merge_loops.rs` do: each `w[j]` is read after the same
        // iteration of the cover wrote it.
        let src = "fn f(x: &[f64]) -> f64 {
            let n = x.len();
            let mut w = vec![0.0; n];
            let mut s = 0.0;
            for i in 0..n {
                for j in 0..n { w[j] = x[j] * x[i]; s += w[j] * w[j]; }
            }
            s
        }";
        assert_eq!(checkpointed(src), 1);
        // Read before the write: the value of the previous iteration over `i`.
        let before = src.replace(
            "w[j] = x[j] * x[i]; s += w[j] * w[j];",
            "s += w[j] * w[j]; w[j] = x[j] * x[i];",
        );
        assert_eq!(checkpointed(&before), 0);
    }

    #[test]
    fn passive_code_with_effects_is_not_run_twice() {
        let src = "fn f(x: &[f64]) -> f64 {
            let n = x.len();
            let mut w = vec![0.0; n];
            let mut s = 0.0;
            for i in 0..n {
                println!(\"{i}\");
                for j in 0..n { w[j] = x[j] * x[i]; }
                for j in 0..n { s += w[j] * w[j]; }
            }
            s
        }";
        assert_eq!(checkpointed(src), 0);
        assert_eq!(checkpointed(&src.replace("println!(\"{i}\");", "")), 1);
    }

    #[test]
    fn bodies_with_branches_while_and_scalar_work_are_checkpointed() {
        // The integration tests (`tests/macro_checkpoint.rs`) check their gradients.
        let mixture = loop_test_fn("mixture_like");
        assert_eq!(checkpointed(&mixture), 1);
        let scalar_work = loop_test_fn("scalar_work");
        assert_eq!(checkpointed(&scalar_work), 1);
        let carried = loop_test_fn("carried_work");
        assert_eq!(checkpointed(&carried), 0);
    }

    #[test]
    fn inside_a_fused_loop_work_arrays_are_kept_not_run_again() {
        // `tests/macro_checkpoint.rs` checks its gradients.
        let src = loop_test_fn("snapshot_kinds");
        // `NAME_grad`: the loop over `i` is fused, the one over `c` keeps copies.
        let (runs, snapshots) = with_emitter(true, &src, |em, _| {
            (
                em.checkpointed.len(),
                em.snapshots.values().map(Vec::len).sum::<usize>(),
            )
        });
        assert_eq!((runs, snapshots), (0, 2));
        // `NAME_vjp`: `inner` is a local of the loop over `i`, gone in the pullback.
        assert_eq!(checkpointed(&src), 0);
    }

    /// How the reverse sweep of `src`'s `NAME_grad` gets back the copies of its work arrays:
    /// (views of the tape, copies put back).
    fn snapshot_reads(src: &str) -> (usize, usize) {
        fn find(b: &Block, scope: usize) -> Option<&Block> {
            if b.scope == scope {
                return Some(b);
            }
            b.stmts.iter().find_map(|s| match s {
                Stmt::For { body, .. } | Stmt::While { body, .. } => find(body, scope),
                Stmt::If { then_b, else_b, .. } => {
                    find(then_b, scope).or_else(|| find(else_b, scope))
                }
                _ => None,
            })
        }
        with_emitter(true, src, |em, lowered| {
            let (mut views, mut copies) = (0, 0);
            for scope in em.snapshots.keys() {
                let body = find(&lowered.body, *scope).expect("the snapshot body");
                let (before, _) = em.snapshot_restores(body);
                let text = before.to_string();
                views += text.matches("kept").count();
                copies += text.matches("restore").count();
            }
            (views, copies)
        })
    }

    #[test]
    fn kept_copies_only_read_by_element_are_read_in_place() {
        // `tests/macro_checkpoint.rs` checks the gradients of both.
        assert_eq!(snapshot_reads(&loop_test_fn("snapshot_kinds")), (2, 0));
        assert_eq!(snapshot_reads(&loop_test_fn("snapshot_read_whole")), (1, 1));
    }
}
