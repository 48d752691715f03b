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
//!   wrong value left by the second run does not matter), or overwritten before it is read:
//!   a scalar by a plain assignment, an array by a loop `for j in 0..n { w[j] = ... }` whose
//!   range covers every later read `w[a]` with `a` from a loop `.. n`.

use std::collections::{HashMap, HashSet};

use proc_macro2::{Delimiter, TokenStream, TokenTree};

use crate::emit::{Emitter, assigned_vars, expr_vars, stmt_reads, stmt_writes};
use crate::ir::*;
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

/// Methods a passive expression may call and still be evaluated again: pure, cheap.
const PURE_METHODS: &[&str] = &[
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
                } if self.remat.contains(var) => out.extend(expr_vars(e)),
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
            let is_stable =
                |w: &VarId| reads.contains(w) || (writes.contains(w) && !later_writes.contains(w));
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
        occ.iter().all(|o| match &o.kind {
            Use::Write => true,
            Use::Read(index, env) | Use::Accumulate(index, env) => {
                if literal_set(index).is_some_and(|p| o.top > p) {
                    return true;
                }
                let Some((p, bound, invariant)) = &cover else {
                    return false;
                };
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
    fn array_cover(&self, b: &Block, w: VarId) -> Option<(usize, String, bool)> {
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
            let writes_all = body.stmts.iter().any(|s| {
                matches!(s, Stmt::Assign { place, op: AssignOp::Set, value, .. }
                    if place.var == w && place.fields.is_empty()
                        && place.index.as_ref().is_some_and(|i| i.tokens.to_string() == pat)
                        && !expr_vars(value).contains(&w))
            });
            let invariant = iter_vars
                .iter()
                .all(|v| !scopes.contains(&self.vars[*v].scope));
            writes_all.then_some((p, end, invariant))
        })
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

struct Context<'a> {
    /// The top-level statement holding the loop.
    top: usize,
    /// The body scope of that statement, when it is a loop.
    fused_scope: Option<usize>,
    last_write: &'a HashMap<VarId, usize>,
    passive_later: &'a HashSet<String>,
    tail: &'a [VarId],
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
    use crate::expand::{loop_test_fn, with_emitter};

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
