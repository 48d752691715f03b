//! Forward and reverse sweeps of a lowered body.
//!
//! Input: a [`Lowered`] body. Output: the statements of `NAME_vjp` up to the returned value
//! (forward sweep) and the body of its pullback closure (reverse sweep).
//!
//! The reverse sweep walks the statements backwards. Values it needs are *kept*: at the
//! function's top level they are simply moved into the pullback closure; a scope that runs
//! many times (loop body) or maybe not at all (branch) pushes its kept locals onto its own
//! tape when it ends, and the reverse sweep pops them when it enters the scope. A kept
//! variable that is overwritten has its old value pushed first and restored on the way back
//! (Tapenade's scheme) where the reverse reads that old value again (see `restore`). For
//!
//! ```text
//! fn f(x: f64, y: f64) -> f64 { let z = x * y; z.sin() + y }
//! ```
//!
//! the pullback is, once inlined, `d_z = d * cos(z); d_y = d + d_z * x; d_x = d_z * y`.

use std::collections::HashSet;

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::Ident;

use crate::ir::*;
use crate::lower::Lowered;
use crate::symbol::{Keep, MethodKind};

pub struct Emitter<'a> {
    pub krate: &'a syn::Path,
    pub vars: &'a [Var],
    /// Values the reverse sweep reads.
    pub(crate) needed: HashSet<VarId>,
    /// Variables whose old value is pushed before an overwrite and popped back somewhere.
    pub(crate) restored: HashSet<VarId>,
    /// The assignments that do so, by statement address (see `restore`).
    pub(crate) restore_at: HashSet<usize>,
    /// Scopes with reverse work.
    pub(crate) structural: HashSet<usize>,
    /// Kept locals of inner scopes that the reverse sweep recomputes instead of taping:
    /// pure scalar expressions of values that do not change while the scope runs.
    pub(crate) remat: HashSet<VarId>,
    /// Where each recomputed local is recomputed: before the reverse of this statement of
    /// its block (the last statement that reads it).
    pub(crate) remat_at: std::collections::HashMap<VarId, usize>,
    /// Loops whose range is evaluated again in the reverse sweep instead of being kept.
    pub(crate) remat_iter: HashSet<VarId>,
    /// Passive counters updated by `+= <integer literal>`: restored by the inverse update.
    pub(crate) inverted: std::cell::RefCell<HashSet<usize>>,
    next_stack: std::cell::Cell<usize>,
    /// The stack each restoring assignment pushes to, by statement address.
    pub(crate) stacks: std::cell::RefCell<std::collections::HashMap<usize, Ident>>,
    /// Loop bodies run plainly in the forward sweep and again, with their tape, in the
    /// reverse sweep (see `checkpoint`).
    pub(crate) checkpointed: HashSet<usize>,
    /// Checkpointed bodies that keep copies of their written arrays at the end of each
    /// iteration instead of running again: the arrays and the lengths kept, by scope.
    pub(crate) snapshots: std::collections::HashMap<usize, Vec<(VarId, TokenStream)>>,
    /// Element reads in checkpointed bodies of arrays that do not change between the read
    /// and its reverse: recomputed like reads of inputs.
    pub(crate) stable_reads: HashSet<VarId>,
    /// The same in fused loops (see `Emitter::fused_stable_reads`). Their arrays are read
    /// back only as the iteration left them, so these reads alone do not make an array
    /// needed (which would keep its loop from being checkpointed or fused).
    pub(crate) fused_stable: HashSet<VarId>,
    /// What checkpointed bodies write from outside: read back only by their stable reads.
    pub(crate) rerun_writes: HashSet<VarId>,
    /// In `NAME_grad`: loops whose reverse runs in the forward sweep, iteration by
    /// iteration, by body scope (see `fuse`).
    pub(crate) fused: std::collections::HashMap<usize, crate::fuse::Fused>,
    /// Element reads in fused loops whose reverse stores the adjoint instead of adding it
    /// (see `Emitter::stored_reads`).
    pub(crate) stored_reads: HashSet<VarId>,
    /// Adjoint declarations not emitted yet, with the position of their variable: `0` for a
    /// parameter, `t + 1` for a `let` at top-level statement `t`. A fused loop declares the
    /// adjoints of the variables before it, and the pullback the rest.
    pub(crate) pending_decls: std::cell::RefCell<Vec<(usize, TokenStream)>>,
    /// A block `collect_needs` leaves out (see `needed_outside`).
    pub(crate) skip_scope: Option<usize>,
    /// Element reads whose adjoint the reverse sweep sums in a local over their loop: the
    /// local's name.
    pub(crate) loop_sums: std::cell::RefCell<std::collections::HashMap<VarId, Ident>>,
    /// Emitting the forward code of a checkpointed body for the forward sweep: no tapes, no
    /// saved values.
    plain: std::cell::Cell<bool>,
    /// Emitting the statements directly in the body of a `for` loop that reserves room on
    /// its stacks for one push per iteration: pushes cannot grow them (see the runtime's
    /// `push_reserved`).
    reserved: std::cell::Cell<bool>,
    /// Stacks declared at the top of the forward sweep (scope tapes and save-stacks), in
    /// order of creation: `let mut NAME = Vec::new();` each.
    pub hoisted: std::cell::RefCell<Vec<Ident>>,
    /// Declared at the top of the forward sweep as `let mut NAME = None;`: the one copy of
    /// the metadata a scope keeps when it keeps nothing else.
    pub hoisted_once: std::cell::RefCell<Vec<Ident>>,
}

impl<'a> Emitter<'a> {
    /// The emitter of `NAME_vjp`, or of `NAME_grad` when `seeded` (its pullback is called
    /// with one at once).
    pub fn new(krate: &'a syn::Path, lowered: &'a Lowered, seeded: bool) -> Self {
        let tail = match &lowered.tail {
            Operand::Var(v, _) => vec![*v],
            Operand::Passive(p) => p.vars.clone(),
        };
        let mut e = Self::blank(krate, lowered);
        if !e.analyze(&lowered.body, &tail, seeded.then_some(&lowered.tail)) {
            // A fused loop stopped qualifying once the rest was decided: decide again
            // without fusing (what was chosen inside it assumed it).
            e = Self::blank(krate, lowered);
            e.analyze(&lowered.body, &tail, None);
        }
        e
    }

    fn blank(krate: &'a syn::Path, lowered: &'a Lowered) -> Self {
        Emitter {
            krate,
            vars: &lowered.vars,
            needed: HashSet::new(),
            restored: HashSet::new(),
            restore_at: HashSet::new(),
            structural: HashSet::new(),
            remat: HashSet::new(),
            remat_at: Default::default(),
            remat_iter: HashSet::new(),
            inverted: Default::default(),
            next_stack: std::cell::Cell::new(0),
            stacks: Default::default(),
            hoisted: Default::default(),
            hoisted_once: Default::default(),
            checkpointed: HashSet::new(),
            snapshots: Default::default(),
            stable_reads: HashSet::new(),
            fused_stable: HashSet::new(),
            rerun_writes: HashSet::new(),
            skip_scope: None,
            fused: Default::default(),
            stored_reads: HashSet::new(),
            pending_decls: Default::default(),
            loop_sums: Default::default(),
            plain: std::cell::Cell::new(false),
            reserved: std::cell::Cell::new(false),
        }
    }

    // ---- analysis: what the reverse sweep needs ----

    /// Decides everything; `false` when a fused loop chosen first no longer qualifies at
    /// the end.
    fn analyze(&mut self, body: &Block, tail: &[VarId], seeded: Option<&Operand>) -> bool {
        let written = assigned_vars(body);
        self.settle(body, &written);
        if let Some(out) = seeded {
            self.fused = self.fusable_loops(body, out);
            self.fused_stable = self.fused_stable_reads(body);
            if !self.fused_stable.is_empty() {
                self.settle(body, &written);
            }
        }
        // Loops run again in the reverse sweep need what they read from outside; that may
        // make other values needed, which may in turn disqualify a loop that writes them.
        let mut candidates = self.checkpoint_candidates(body, tail);
        while !candidates.is_empty() {
            for c in &candidates {
                self.needed.extend(c.reads.iter().copied());
            }
            self.settle(body, &written);
            let before = candidates.len();
            let all_reads: Vec<HashSet<VarId>> =
                candidates.iter().map(|c| c.reads.clone()).collect();
            let outside: Vec<HashSet<VarId>> = candidates
                .iter()
                .map(|c| self.needed_outside(body, c.scope))
                .collect();
            let mut i = 0;
            candidates.retain(|c| {
                let others = all_reads
                    .iter()
                    .enumerate()
                    .filter(|&(j, _)| j != i)
                    .flat_map(|(_, r)| r);
                let read_back: HashSet<VarId> = outside[i].iter().chain(others).copied().collect();
                i += 1;
                c.writes.iter().all(|w| !read_back.contains(w))
            });
            if candidates.len() == before {
                break;
            }
        }
        if !candidates.is_empty() {
            // What the chosen bodies write and nobody reads back: their stable element reads
            // are recomputed from those arrays, which need no restoring for it.
            for c in &candidates {
                self.stable_reads.extend(c.stable.iter().copied());
                let unread = c.writes.iter().filter(|w| !self.needed.contains(w));
                self.rerun_writes.extend(unread.copied());
            }
            self.checkpointed = candidates
                .iter()
                .filter(|c| c.snapshot.is_none())
                .map(|c| c.scope)
                .collect();
            self.snapshots = candidates
                .iter()
                .filter_map(|c| Some((c.scope, c.snapshot.clone()?)))
                .collect();
            self.settle(body, &written);
        }
        if let Some(out) = seeded
            && !self.fused.is_empty()
        {
            // Checkpoints may have made a work array of a fused loop needed: check again.
            let still = self.fusable_loops(body, out);
            if self.fused.keys().any(|scope| !still.contains_key(scope)) {
                return false;
            }
        }
        self.stored_reads = self.stored_reads(body);
        self.collect_restored(body);
        true
    }

    /// Needs do not depend on the structure, but which statements are structural depends
    /// on needs (a passive assignment to a needed variable must be restored), and what is
    /// recomputed needs its operands: iterate to a fixed point.
    fn settle(&mut self, body: &Block, written: &HashSet<VarId>) {
        for round in 0.. {
            let before = (
                self.needed.len(),
                self.structural.len(),
                self.remat_at.clone(),
            );
            if round == 32 {
                // Never reached in practice; recomputation is an optimization, so drop it.
                self.remat.clear();
                self.remat_at.clear();
                self.collect_needs(body);
                self.mark_structural(body);
                break;
            }
            self.collect_needs(body);
            self.mark_structural(body);
            self.collect_remat(body, written);
            if (
                self.needed.len(),
                self.structural.len(),
                self.remat_at.clone(),
            ) == before
            {
                break;
            }
        }
    }

    /// Decides which locals of inner scopes the reverse sweep recomputes instead of taping,
    /// and where: just before the reverse of the last statement of the block that reads
    /// them, provided nothing they read is assigned from their `let` to that statement.
    fn collect_remat(&mut self, b: &Block, written: &HashSet<VarId>) {
        let declared: HashSet<VarId> = b
            .stmts
            .iter()
            .filter_map(|s| match s {
                Stmt::Let { var, .. } => Some(*var),
                _ => None,
            })
            .collect();
        // Reads and writes of each statement, nested blocks included.
        let reads: Vec<HashSet<VarId>> = b.stmts.iter().map(stmt_reads).collect();
        let writes: Vec<HashSet<VarId>> = b.stmts.iter().map(stmt_writes).collect();
        // Start from every local recomputed and drop those that cannot be, given the others,
        // until none is dropped: decisions only ever go one way, so this ends, and what is
        // left is consistent. Later lets first in each pass: a local's last use counts the
        // recomputation of those that read it.
        let lets: Vec<(usize, VarId)> = b
            .stmts
            .iter()
            .enumerate()
            .filter_map(|(k, s)| match s {
                Stmt::Let {
                    var, init: Some(_), ..
                } => Some((k, *var)),
                _ => None,
            })
            .collect();
        for (_, v) in &lets {
            self.remat.insert(*v);
        }
        loop {
            let mut dropped = false;
            for &(k, var) in lets.iter().rev() {
                let Stmt::Let { init: Some(e), .. } = &b.stmts[k] else {
                    continue;
                };
                if !self.remat.contains(&var) {
                    continue;
                }
                match self.remat_position(b, k, var, e, &declared, &reads, &writes, written) {
                    Some(last) => {
                        self.remat_at.insert(var, last);
                    }
                    None => {
                        self.remat.remove(&var);
                        self.remat_at.remove(&var);
                        dropped = true;
                    }
                }
            }
            if !dropped {
                break;
            }
        }
        for v in &declared {
            if let Some(Stmt::Let { init: Some(e), .. }) = b
                .stmts
                .iter()
                .find(|s| matches!(s, Stmt::Let { var, .. } if var == v))
                && self.remat.contains(v)
            {
                let operands = self.remat_operands(*v, e);
                self.needed.extend(operands);
            }
        }
        for s in &b.stmts {
            match s {
                Stmt::If { then_b, else_b, .. } => {
                    self.collect_remat(then_b, written);
                    self.collect_remat(else_b, written);
                }
                Stmt::For { body, .. } | Stmt::While { body, .. } => {
                    self.collect_remat(body, written)
                }
                _ => {}
            }
        }
    }

    /// What recomputing `let var = e` in the reverse sweep reads back: its operands, except
    /// the array of a fused loop's stable read, which it sees as the iteration left it.
    pub(crate) fn remat_operands(&self, var: VarId, e: &Expr) -> Vec<VarId> {
        match e {
            Expr::Index { index, .. } if self.fused_stable.contains(&var) => index.vars.clone(),
            _ => expr_vars(e),
        }
    }

    /// Where the `let` of `var` (statement `k` of `b`) is recomputed, if it can be.
    #[allow(clippy::too_many_arguments)]
    fn remat_position(
        &self,
        b: &Block,
        k: usize,
        var: VarId,
        e: &Expr,
        declared: &HashSet<VarId>,
        reads: &[HashSet<VarId>],
        writes: &[HashSet<VarId>],
        written: &HashSet<VarId>,
    ) -> Option<usize> {
        if b.scope == 0 || written.contains(&var) {
            return None;
        }
        let wanted = self.needed.contains(&var) || self.vars[var].active;
        if !wanted || !self.is_pure_scalar(var, e, written) {
            return None;
        }
        let mut last = k;
        for (j, r) in reads.iter().enumerate().skip(k + 1) {
            if r.contains(&var) {
                last = j;
            }
        }
        for (&u, &at) in &self.remat_at {
            if at > last && declared.contains(&u) && expr_vars_of_let(b, u).contains(&var) {
                last = at;
            }
        }
        let operands = expr_vars(e);
        if !(k + 1..=last).all(|j| operands.iter().all(|u| !writes[j].contains(u))) {
            return None;
        }
        // A value nobody needs is recomputed only for its adjoint's type: only when that adds
        // no tape elsewhere (operands recomputed, loop-bound or top-level).
        if !self.needed.contains(&var) {
            let cheap = operands.iter().all(|u| {
                self.remat.contains(u)
                    || self.vars[*u].scope == 0
                    || (self.vars[*u].scope == b.scope && !declared.contains(u))
            });
            if !cheap {
                return None;
            }
        }
        Some(last)
    }

    /// Scalar arithmetic, float methods and element reads of arrays nobody writes: cheap to
    /// recompute and free of side effects.
    fn is_pure_scalar(&self, var: VarId, e: &Expr, written: &HashSet<VarId>) -> bool {
        let scalar = |o: &Operand| match o {
            Operand::Var(v, f) => f.is_empty() && (self.vars[*v].scalar || self.remat.contains(v)),
            Operand::Passive(p) => is_simple_passive(&p.tokens),
        };
        match e {
            Expr::Index {
                base: Operand::Var(v, _),
                index,
            } => {
                // Recomputing an element read needs the array restored wherever it is written:
                // only arrays the function never writes (its inputs) are worth it.
                (!written.contains(v)
                    || self.stable_reads.contains(&var)
                    || self.fused_stable.contains(&var))
                    && is_simple_passive(&index.tokens)
            }
            Expr::Binary(_, l, r, _) => scalar(l) && scalar(r),
            Expr::Neg(x, _) | Expr::Use(x) => scalar(x),
            Expr::Method {
                kind, recv, args, ..
            } => {
                matches!(
                    kind,
                    MethodKind::FloatUnary(_) | MethodKind::Powi | MethodKind::FloatNary(_)
                ) && scalar(recv)
                    && args.iter().all(scalar)
            }
            _ => false,
        }
    }

    pub(crate) fn collect_needs(&mut self, b: &Block) {
        if self.skip_scope == Some(b.scope) {
            return;
        }
        for s in &b.stmts {
            match s {
                Stmt::Let {
                    var, init: Some(e), ..
                } if self.vars[*var].active => self.expr_needs(e, Some(*var)),
                Stmt::Assign { place, value, .. } if self.vars[place.var].active => {
                    if let Some(idx) = &place.index {
                        self.needed.extend(idx.vars.iter().copied());
                    }
                    self.expr_needs(value, Some(place.var));
                }
                Stmt::If {
                    flag,
                    then_b,
                    else_b,
                    ..
                } => {
                    self.collect_needs(then_b);
                    self.collect_needs(else_b);
                    if self.structural.contains(&then_b.scope)
                        || self.structural.contains(&else_b.scope)
                    {
                        self.needed.insert(*flag);
                    }
                }
                Stmt::For {
                    iter_var,
                    iter,
                    iter_vars,
                    body,
                    ..
                } => {
                    self.collect_needs(body);
                    if self.structural.contains(&body.scope) {
                        // A simple range of values the body leaves alone is evaluated again.
                        let body_writes = assigned_vars(body);
                        if is_simple_passive(iter)
                            && iter_vars.iter().all(|v| !body_writes.contains(v))
                        {
                            self.remat_iter.insert(*iter_var);
                            self.needed.extend(iter_vars.iter().copied());
                        } else {
                            self.needed.insert(*iter_var);
                        }
                    }
                }
                Stmt::While { count, body, .. } => {
                    self.collect_needs(body);
                    if self.structural.contains(&body.scope) {
                        self.needed.insert(*count);
                    }
                }
                _ => {}
            }
        }
    }

    fn is_active_op(&self, op: &Operand) -> bool {
        matches!(op, Operand::Var(v, _) if self.vars[*v].active)
    }

    fn expr_needs(&mut self, e: &Expr, target: Option<VarId>) {
        let reads = self.backward_reads(e, target);
        self.needed.extend(reads);
    }

    /// The values the backward rule of `e` (assigned to `target`) reads.
    pub(crate) fn backward_reads(&self, e: &Expr, target: Option<VarId>) -> HashSet<VarId> {
        let mut out = HashSet::new();
        let mut ops: Vec<&Operand> = Vec::new();
        let mut operand = |op| ops.push(op);
        match e {
            Expr::Binary(op, l, r, _) => match op {
                BinOp::Mul => {
                    if self.is_active_op(l) {
                        operand(r);
                    }
                    if self.is_active_op(r) {
                        operand(l);
                    }
                }
                BinOp::Div => {
                    if self.is_active_op(l) || self.is_active_op(r) {
                        operand(r);
                    }
                    if self.is_active_op(r) {
                        operand(l);
                    }
                }
                _ => {}
            },
            Expr::Method {
                kind, recv, args, ..
            } => match kind {
                MethodKind::FloatUnary(Keep::Input)
                | MethodKind::Powi
                | MethodKind::FloatNary(_)
                | MethodKind::Dot => {
                    operand(recv);
                    args.iter().for_each(operand);
                }
                MethodKind::FloatUnary(_) => out.extend(target),
                MethodKind::ArrayUnary => args.iter().for_each(operand),
                _ => {}
            },
            Expr::Index { index, .. } => out.extend(index.vars.iter().copied()),
            Expr::Rule { spec, args, .. } => {
                for (i, a) in args.iter().enumerate() {
                    if self.is_active_op(&a.op) {
                        for &j in spec.needs[i] {
                            if let Some(b) = args.get(j) {
                                operand(&b.op);
                            }
                        }
                        if spec.output {
                            out.extend(target);
                        }
                    }
                }
            }
            Expr::Call { plan, pullback, .. } => {
                out.insert(*plan);
                out.insert(*pullback);
            }
            _ => {}
        }
        for op in ops {
            match op {
                Operand::Var(v, _) => {
                    out.insert(*v);
                }
                Operand::Passive(p) => out.extend(p.vars.iter().copied()),
            }
        }
        out
    }

    fn mark_structural(&mut self, b: &Block) -> bool {
        let mut any = false;
        for s in &b.stmts {
            any |= match s {
                Stmt::Let { var, init, .. } => {
                    self.vars[*var].active
                        && init
                            .as_ref()
                            .is_some_and(|e| !matches!(e, Expr::Passive(_)))
                }
                Stmt::Assign { place, .. } => {
                    self.vars[place.var].active || self.needed.contains(&place.var)
                }
                Stmt::If { then_b, else_b, .. } => {
                    let a = self.mark_structural(then_b);
                    let c = self.mark_structural(else_b);
                    a || c
                }
                Stmt::For { body, .. } | Stmt::While { body, .. } => self.mark_structural(body),
                Stmt::Passive(_) | Stmt::Meta(_) => false,
            };
        }
        // A scope that declares an active variable needs its adjoint, hence a reverse scope.
        if any
            || b.stmts
                .iter()
                .any(|s| matches!(s, Stmt::Let { var, .. } if self.vars[*var].active))
        {
            self.structural.insert(b.scope);
            any = true;
        }
        any
    }

    // ---- names ----

    pub(crate) fn id(&self, v: VarId) -> &Ident {
        &self.vars[v].ident
    }

    pub(crate) fn adj_ident(&self, v: VarId) -> Ident {
        let var = &self.vars[v];
        format_ident!(
            "d_{}",
            var.ident.to_string().trim_start_matches('_'),
            span = Span::mixed_site().located_at(var.span)
        )
    }

    pub(crate) fn meta_ident(&self, v: VarId) -> Ident {
        let var = &self.vars[v];
        format_ident!(
            "__m_{}",
            var.ident.to_string().trim_start_matches('_'),
            span = Span::mixed_site().located_at(var.span)
        )
    }

    pub(crate) fn fresh(&self, prefix: &str) -> Ident {
        let n = self.next_stack.get();
        self.next_stack.set(n + 1);
        format_ident!("__{}{}", prefix, n, span = Span::mixed_site())
    }

    fn hoist_stack(&self, prefix: &str) -> Ident {
        let name = self.fresh(prefix);
        self.hoisted.borrow_mut().push(name.clone());
        name
    }

    pub(crate) fn operand(&self, op: &Operand) -> TokenStream {
        match op {
            Operand::Var(v, fields) => {
                let id = self.id(*v);
                quote!(#id #(.#fields)*)
            }
            Operand::Passive(p) => {
                let t = &p.tokens;
                quote!((#t))
            }
        }
    }

    /// `&mut d_x.field` for an active operand.
    pub(crate) fn adj_of(&self, op: &Operand) -> Option<TokenStream> {
        match op {
            Operand::Var(v, fields) if self.vars[*v].active => {
                let d = self.adj_ident(*v);
                Some(quote!(#d #(.#fields)*))
            }
            _ => None,
        }
    }

    // ---- forward sweep ----

    pub fn forward_block(&self, b: &Block, top: bool) -> TokenStream {
        let mut out = TokenStream::new();
        for s in &b.stmts {
            out.extend(self.forward_stmt(s));
        }
        if !top && self.structural.contains(&b.scope) && !self.plain.get() {
            let kept = self.kept(b);
            if !kept.is_empty() && self.keeps_only_scalar_metadata(b) {
                let once = self.once_ident(b.scope);
                out.extend(quote!(#once = ::core::option::Option::Some((#(#kept,)*));));
                if !self.hoisted_once.borrow().contains(&once) {
                    self.hoisted_once.borrow_mut().push(once);
                }
            } else if !kept.is_empty() {
                let tape = self.tape_ident(b.scope);
                out.extend(self.push(&tape, quote!((#(#kept,)*))));
                self.hoisted.borrow_mut().push(tape);
            }
        }
        out
    }

    /// The one copy of a scope's kept scalar metadata (see `keeps_only_scalar_metadata`).
    pub(crate) fn once_ident(&self, scope: usize) -> Ident {
        format_ident!("__once{}", scope, span = Span::mixed_site())
    }

    pub(crate) fn tape_ident(&self, scope: usize) -> Ident {
        format_ident!("__tape{}", scope, span = Span::mixed_site())
    }

    /// The kept locals of an inner scope, in declaration order: needed values and the
    /// metadata of active variables.
    pub(crate) fn kept(&self, b: &Block) -> Vec<Ident> {
        self.kept_items(b).into_iter().map(|(id, _)| id).collect()
    }

    /// Whether everything `b` keeps is the metadata of scalars (zero-sized, the same in
    /// every run): one copy serves every iteration, no tape is needed.
    pub(crate) fn keeps_only_scalar_metadata(&self, b: &Block) -> bool {
        self.kept_items(b).iter().all(|(_, weightless)| *weightless)
    }

    /// [`kept`](Self::kept), each with whether it is the metadata of a scalar.
    fn kept_items(&self, b: &Block) -> Vec<(Ident, bool)> {
        let mut out = Vec::new();
        let push_var = |v: VarId, out: &mut Vec<(Ident, bool)>| {
            if self.remat.contains(&v) {
                return;
            }
            if self.needed.contains(&v) {
                out.push((self.id(v).clone(), false));
            }
            if self.vars[v].active {
                out.push((self.meta_ident(v), self.vars[v].scalar));
            }
        };
        for s in &b.stmts {
            match s {
                Stmt::Let { var, init, .. } => {
                    if let Some(Expr::Call { plan, pullback, .. }) = init {
                        push_var(*plan, &mut out);
                        push_var(*pullback, &mut out);
                    }
                    push_var(*var, &mut out);
                }
                Stmt::Assign {
                    value: Expr::Call { plan, pullback, .. },
                    ..
                } => {
                    push_var(*plan, &mut out);
                    push_var(*pullback, &mut out);
                }
                Stmt::If { flag, .. } => push_var(*flag, &mut out),
                Stmt::For { iter_var, .. } if !self.remat_iter.contains(iter_var) => {
                    push_var(*iter_var, &mut out)
                }
                Stmt::While { count, .. } => push_var(*count, &mut out),
                _ => {}
            }
        }
        out
    }

    fn forward_stmt(&self, s: &Stmt) -> TokenStream {
        let k = self.krate;
        match s {
            Stmt::Let {
                var,
                mutable,
                ty,
                init,
            } => {
                let id = self.id(*var);
                let mutability = if *mutable { quote!(mut) } else { quote!() };
                let ty = ty.as_ref().map(|t| quote!(: #t));
                let mut out = match init {
                    None => quote!(let #mutability #id #ty;),
                    Some(Expr::Call { .. }) => {
                        let (pre, call, pb) =
                            self.forward_call(init.as_ref().unwrap_or_else(|| unreachable!()));
                        quote!(#pre let (#mutability #id, #pb) #ty = #call;)
                    }
                    Some(e) => {
                        let value = self.forward_expr(e);
                        quote!(let #mutability #id #ty = #value;)
                    }
                };
                if self.vars[*var].active && init.is_some() {
                    let m = self.meta_ident(*var);
                    out.extend(quote!(let #m = #k::__private::meta(&#id);));
                }
                out
            }
            Stmt::Assign {
                place,
                op,
                value,
                first,
            } => self.forward_assign(s as *const Stmt as usize, place, *op, value, *first),
            Stmt::If {
                flag,
                cond,
                then_b,
                else_b,
            } => {
                let t = self.forward_block(then_b, false);
                let e = self.forward_block(else_b, false);
                if self.needed.contains(flag) {
                    let f = self.id(*flag);
                    quote!(let #f: bool = #cond; if #f { #t } else { #e })
                } else {
                    quote!(if #cond { #t } else { #e })
                }
            }
            Stmt::For {
                iter_var,
                iter,
                pat,
                body,
                ..
            } => {
                // Stacks created for this body (its tape, its overwrites) are reserved for
                // the trip count: the pushes directly in the body cannot grow them.
                if let Some(f) = self.fused.get(&body.scope) {
                    let decls: Vec<TokenStream> = {
                        let mut pending = self.pending_decls.borrow_mut();
                        let (now, later) = pending.drain(..).partition(|(at, _)| *at <= f.top);
                        *pending = later;
                        now.into_iter().map(|(_, d)| d).collect()
                    };
                    let (d, m) = (self.adj_ident(f.acc), self.meta_ident(f.acc));
                    // Its body's stacks are emptied every iteration: nothing reserved.
                    let (forward, reverse) = self.with_reserved(false, || {
                        (
                            self.forward_block(body, false),
                            self.reverse_block(body, false),
                        )
                    });
                    return quote! {
                        #(#decls)*
                        let #d = #k::__private::seed_one(&#m);
                        for #pat in #iter { #forward #reverse }
                    };
                }
                let first_new = self.hoisted.borrow().len();
                let checkpointed = self.checkpointed.contains(&body.scope);
                let was_plain = self.plain.replace(self.plain.get() || checkpointed);
                let mut b = self.with_reserved(true, || self.forward_block(body, false));
                self.plain.set(was_plain);
                if !self.plain.get() {
                    b.extend(self.snapshot_saves(body.scope));
                }
                let grown: Vec<Ident> = self.hoisted.borrow()[first_new..].to_vec();
                let stored = self.needed.contains(iter_var) && !self.remat_iter.contains(iter_var);
                let it = if stored {
                    let id = self.id(*iter_var);
                    quote!(#id)
                } else {
                    quote!((#iter))
                };
                let trips = format_ident!("__trips", span = Span::mixed_site());
                let counted = if stored {
                    quote!(::core::clone::Clone::clone(&#it))
                } else {
                    it
                };
                let reserve = (!grown.is_empty()).then(|| {
                    quote! {
                        let #trips = #k::__private::trip_count(#counted);
                        #(#k::__private::reserve_stack(&mut #grown, #trips);)*
                    }
                });
                if stored {
                    let id = self.id(*iter_var);
                    quote!(let #id = #iter; { #reserve } for #pat in ::core::clone::Clone::clone(&#id) { #b })
                } else {
                    quote!({ #reserve } for #pat in #iter { #b })
                }
            }
            Stmt::While { count, cond, body } => {
                let b = self.with_reserved(false, || self.forward_block(body, false));
                if self.needed.contains(count) {
                    let n = self.id(*count);
                    quote!(let mut #n: usize = 0; while #cond { #b #n += 1; })
                } else {
                    quote!(while #cond { #b })
                }
            }
            Stmt::Meta(v) if self.vars[*v].active => {
                let (m, id) = (self.meta_ident(*v), self.id(*v));
                quote!(let #m = #k::__private::meta(&#id);)
            }
            Stmt::Meta(_) => TokenStream::new(),
            Stmt::Passive(ts) => ts.clone(),
        }
    }

    fn forward_assign(
        &self,
        key: usize,
        place: &Place,
        op: AssignOp,
        value: &Expr,
        first: bool,
    ) -> TokenStream {
        let k = self.krate;
        let id = self.id(place.var);
        let fields = &place.fields;
        let target = match &place.index {
            Some(idx) => {
                let i = &idx.tokens;
                quote!(#id #(.#fields)* [#i])
            }
            None => quote!(#id #(.#fields)*),
        };
        let invertible = self.is_invertible(place, op, value);
        let restore = !first && self.restore_at.contains(&key);
        if invertible && restore {
            self.inverted.borrow_mut().insert(key);
        }
        let push = restore && !invertible && !self.plain.get();
        let stack = push.then(|| self.hoist_stack("s"));
        let mut out = TokenStream::new();
        let new = self.fresh("new");
        if let Expr::Call { .. } = value {
            let (pre, call, pb) = self.forward_call(value);
            out.extend(quote!(#pre let (#new, #pb) = #call;));
        } else if op == AssignOp::Set {
            let v = self.forward_expr(value);
            out.extend(quote!(let #new = #v;));
        }
        match (&stack, op) {
            // The old value is replaced, not copied: it moves onto the stack.
            (Some(s), AssignOp::Set) => {
                out.extend(self.push(s, quote!(::core::mem::replace(&mut #target, #new))))
            }
            (None, AssignOp::Set) => out.extend(quote!(#target = #new;)),
            (_, AssignOp::Add | AssignOp::Sub) => {
                if let Some(s) = &stack {
                    out.extend(self.push(s, quote!(::core::clone::Clone::clone(&#target))));
                }
                let v = self.forward_expr(value);
                let passive_var = !self.vars[place.var].active;
                out.extend(match (op, place.index.is_some() || passive_var) {
                    (AssignOp::Add, true) => quote!(#target += #v;),
                    (AssignOp::Sub, true) => quote!(#target -= #v;),
                    (AssignOp::Add, false) => quote!(#k::__private::add_assign(&mut #target, &#v);),
                    _ => quote!(#k::__private::sub_assign(&mut #target, &#v);),
                });
            }
        }
        if let Some(s) = stack {
            self.stacks.borrow_mut().insert(key, s);
        }
        out
    }

    /// `f()` with [`reserved`](Self::reserved) set to `on`, then as it was.
    fn with_reserved<R>(&self, on: bool, f: impl FnOnce() -> R) -> R {
        let was = self.reserved.replace(on);
        let out = f();
        self.reserved.set(was);
        out
    }

    /// `stack.push(value);`, through `push_reserved` directly in a `for` body that reserved
    /// room for it.
    fn push(&self, stack: &Ident, value: TokenStream) -> TokenStream {
        if self.reserved.get() {
            let k = self.krate;
            quote!(#k::__private::push_reserved(&mut #stack, #value);)
        } else {
            quote!(#stack.push(#value);)
        }
    }

    /// The copies a snapshot body keeps at the end of each iteration (see `snapshots`).
    fn snapshot_saves(&self, scope: usize) -> TokenStream {
        let k = self.krate;
        let mut out = TokenStream::new();
        for (i, (w, n)) in self.snapshots.get(&scope).into_iter().flatten().enumerate() {
            let tape = self.snapshot_tape(scope, i);
            let w = self.id(*w);
            out.extend(quote!(#k::__private::snapshot(&mut #tape, &#w, #n);));
            if !self.hoisted.borrow().contains(&tape) {
                self.hoisted.borrow_mut().push(tape);
            }
        }
        out
    }

    /// What the reverse of `body` does with the copies [`snapshot_saves`](Self::snapshot_saves)
    /// kept: the statements before it and those after it. An array the reverse only reads
    /// by element is shadowed by a view of its copy where the copy lies on the tape
    /// (`__private::kept`), dropped after (`__private::release`); any other array is put
    /// back (`__private::restore`).
    pub(crate) fn snapshot_restores(&self, body: &Block) -> (TokenStream, TokenStream) {
        let k = self.krate;
        let (mut before, mut after) = (TokenStream::new(), TokenStream::new());
        for (i, (w, n)) in self
            .snapshots
            .get(&body.scope)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let tape = self.snapshot_tape(body.scope, i);
            let name = self.id(*w).to_string();
            let in_place = !self.restored.contains(w)
                && !crate::passive::idents(n).contains(&name)
                && only_indexed(body, *w, &name);
            let w = self.id(*w);
            if in_place {
                before.extend(quote!(let #w = #k::__private::kept(&#tape, &#w, #n);));
                after.extend(quote!(#k::__private::release(&mut #tape, #n);));
            } else {
                before.extend(quote!(#k::__private::restore(&mut #tape, &mut #w, #n);));
            }
        }
        (before, after)
    }

    fn snapshot_tape(&self, scope: usize, i: usize) -> Ident {
        format_ident!("__snap{}_{}", scope, i, span = Span::mixed_site())
    }

    /// `n += 3` on a passive variable: the reverse sweep restores it with `n -= 3`, exactly
    /// (an integer literal), instead of taping the old value.
    fn is_invertible(&self, place: &Place, op: AssignOp, value: &Expr) -> bool {
        let literal = match value {
            Expr::Use(Operand::Passive(p)) | Expr::Passive(p) => {
                syn::parse2::<syn::Expr>(p.tokens.clone()).is_ok_and(|e| {
                    matches!(
                        strip_parens(&e),
                        syn::Expr::Lit(syn::ExprLit {
                            lit: syn::Lit::Int(_),
                            ..
                        })
                    )
                })
            }
            _ => false,
        };
        literal
            && place.index.is_none()
            && place.fields.is_empty()
            && op != AssignOp::Set
            && !self.vars[place.var].active
    }

    /// The value of a recomputed expression (no clone: the reverse sweep owns it).
    pub(crate) fn forward_value(&self, e: &Expr) -> TokenStream {
        match e {
            Expr::Use(op) => self.operand(op),
            other => self.forward_expr(other),
        }
    }

    /// The forward value of a non-call expression.
    fn forward_expr(&self, e: &Expr) -> TokenStream {
        let k = self.krate;
        match e {
            Expr::Use(op) => match op {
                Operand::Var(v, _) if self.needed.contains(v) && !self.vars[*v].is_param => {
                    let o = self.operand(op);
                    quote!(::core::clone::Clone::clone(&#o))
                }
                _ => self.operand(op),
            },
            Expr::Ref(op) => {
                let o = self.operand(op);
                quote!(&#o)
            }
            Expr::Binary(op, l, r, span) => {
                let f = format_ident!("{}", op.name(), span = *span);
                let (l, r) = (self.operand(l), self.operand(r));
                quote_spanned!(*span=> #k::__private::#f(&#l, &#r))
            }
            Expr::Neg(x, span) => {
                let x = self.operand(x);
                quote_spanned!(*span=> #k::__private::neg(&#x))
            }
            Expr::Cast(x, ty) => {
                let x = self.operand(x);
                quote!(#x as #ty)
            }
            Expr::Method {
                kind,
                name,
                recv,
                args,
            } => {
                let r = self.operand(recv);
                let args: Vec<_> = args.iter().map(|a| self.operand(a)).collect();
                match kind {
                    MethodKind::Identity => quote!(#r.#name(#(#args),*)),
                    MethodKind::FloatUnary(_) | MethodKind::FloatNary(_) => {
                        quote_spanned!(name.span()=> #k::__private::method::#name(&#r #(, &#args)*))
                    }
                    MethodKind::Powi => {
                        quote_spanned!(name.span()=> #k::__private::method::#name(&#r #(, #args)*))
                    }
                    MethodKind::Dot => {
                        quote_spanned!(name.span()=> #k::__private::array::#name(&#r #(, &#args)*))
                    }
                    _ => quote_spanned!(name.span()=> #k::__private::array::#name(&#r #(, #args)*)),
                }
            }
            Expr::Index { base, index } => {
                let b = self.operand(base);
                let i = &index.tokens;
                quote!(#b[#i])
            }
            Expr::Tuple(ops) => {
                let ops: Vec<_> = ops.iter().map(|o| self.operand(o)).collect();
                quote!((#(#ops,)*))
            }
            Expr::Array(ops) => {
                let ops: Vec<_> = ops.iter().map(|o| self.operand(o)).collect();
                quote!([#(#ops),*])
            }
            Expr::Passive(p) => p.tokens.clone(),
            Expr::Rule { path, args, .. } => {
                let a: Vec<_> = args.iter().map(|a| self.arg_tokens(a)).collect();
                quote!(#path(#(#a),*))
            }
            Expr::Call { .. } => unreachable!("calls are emitted by forward_call"),
        }
    }

    fn arg_tokens(&self, a: &Arg) -> TokenStream {
        if let Some(list) = &a.list {
            let ops = list.iter().map(|o| self.operand(o));
            return quote!(&[#(&#ops),*]);
        }
        let o = self.operand(&a.op);
        if a.by_ref { quote!(&#o) } else { o }
    }

    /// `(plan statement, the call to the companion, the pullback binding)`.
    fn forward_call(&self, e: &Expr) -> (TokenStream, TokenStream, TokenStream) {
        let Expr::Call {
            callee,
            args,
            span,
            plan,
            pullback,
        } = e
        else {
            unreachable!()
        };
        let k = self.krate;
        let plan_id = self.id(*plan);
        let pb = self.id(*pullback).clone();
        // The plan and the call both name every argument: where one is an expression of its
        // own (`tick(c)`, `no_grad(v.clone())`), the arguments are evaluated once, in order,
        // into locals before both (a receiver only if it is such an expression: it is
        // borrowed, not moved, by the call).
        let mut bindings = TokenStream::new();
        let bind_args = args.iter().any(|a| runs_code(&a.op));
        let mut once = |tokens: TokenStream, bind: bool| -> TokenStream {
            if !bind {
                return tokens;
            }
            let id = self.fresh("arg");
            bindings.extend(quote!(let #id = #tokens;));
            quote!(#id)
        };
        // The companion (`foo_vjp`, or the receiver and `.foo_vjp`; the receiver runs first),
        // the receiver, and which arguments are a rule's hyper-parameters.
        let (head, recv, hyper) = match callee {
            Callee::Path(p) => {
                let hyper = crate::symbol::hyperparameters(&p.path);
                let mut p = p.clone();
                if let Some(last) = p.path.segments.last_mut() {
                    last.ident = format_ident!("{}_vjp", last.ident, span = last.ident.span());
                }
                (quote!(#p), None, hyper)
            }
            Callee::Method {
                recv,
                name,
                turbofish,
            } => {
                let r = once(self.operand(&recv.op), runs_code(&recv.op));
                let vjp = format_ident!("{}_vjp", name, span = name.span());
                (quote!(#r.#vjp #turbofish), Some(r), &[][..])
            }
        };
        let a: Vec<_> = args
            .iter()
            .map(|a| once(self.arg_tokens(a), bind_args))
            .collect();
        let call = quote_spanned!(*span=> #head(#(#a),*));
        let recv = recv.map(|r| quote!(&(&&#k::__private::Classify(&#r)).classified()));
        // The arguments as `plan` classifies them, with the `no_grad(e)` ones by their type
        // (`taken`) and as receiving nothing (`left`); see `__private::EitherPlan`.
        let classified = |left: bool| -> Vec<TokenStream> {
            let args = args.iter().zip(&a).enumerate().map(|(i, (arg, o))| {
                let hyper_parameter = hyper.contains(&i);
                plan_arg(k, o, hyper_parameter || (left && arg.no_grad))
            });
            recv.iter().cloned().chain(args).collect()
        };
        let (taken, left) = (classified(false), classified(true));
        let plan = if has_no_grad_arg(args) {
            quote_spanned!(*span=> #k::__private::either_plan((#(#taken,)*), (#(#left,)*)))
        } else {
            quote_spanned!(*span=> #k::__private::plan((#(#taken,)*)))
        };
        let pre = quote! {
            #bindings
            let #plan_id = {
                // `plan_arg`'s `classified()` is one of the two (see `Classify`).
                #[allow(unused_imports)]
                use #k::__private::{ClassifyByKind as _, ClassifyOther as _};
                #plan
            };
        };
        (pre, call, quote!(#pb))
    }
}

/// Whether a passive operand runs code whose effects or cost would show if it ran twice (a
/// call, a method call other than `len`, a macro), unlike a variable, a literal, a field or
/// simple arithmetic of those. Active operands are variables already.
fn runs_code(op: &Operand) -> bool {
    matches!(op, Operand::Passive(p) if !is_simple_passive(&p.tokens))
}

/// An argument (its tokens `o`) as `plan` classifies it: by its type (a type without a kind
/// takes no gradient, see `__private::Classify`), unless the callee takes no gradient for it
/// (a rule's hyper-parameter, or an argument written `no_grad(e)` in a `left` plan).
fn plan_arg(k: &syn::Path, o: &TokenStream, not_wrt: bool) -> TokenStream {
    if not_wrt {
        quote!(&#k::__private::NotWrt(&#o))
    } else {
        quote!(&(&&#k::__private::Classify(&#o)).classified())
    }
}

/// Whether a call has an argument written `no_grad(e)`: its plan is then an `EitherPlan`.
pub(crate) fn has_no_grad_arg(args: &[Arg]) -> bool {
    args.iter().any(|a| a.no_grad)
}

/// Whether `b` uses the array `w` (emitted as `name`) only through its elements, `w[i]` read
/// or written with an index that does not mention `w`: a slice or an array view of its
/// elements then reads the same (a view has no `push`, and its `len()` could differ).
pub(crate) fn only_indexed(b: &Block, w: VarId, name: &str) -> bool {
    let expr_ok = |e: &Expr| match e {
        Expr::Index {
            base: Operand::Var(base, fields),
            index,
        } if *base == w => fields.is_empty() && !index.vars.contains(&w),
        e => !expr_vars(e).contains(&w) && !call_takes(e, w),
    };
    let tokens_ok = |ts: &TokenStream| !crate::passive::idents(ts).contains(name);
    b.stmts.iter().all(|s| match s {
        Stmt::Let { var, init, .. } => *var != w && init.as_ref().is_none_or(expr_ok),
        Stmt::Assign { place, value, .. } => {
            let place_ok = place.var != w
                || (place.fields.is_empty()
                    && place.index.as_ref().is_some_and(|i| !i.vars.contains(&w)));
            place_ok && expr_ok(value)
        }
        Stmt::If {
            cond,
            then_b,
            else_b,
            ..
        } => tokens_ok(cond) && only_indexed(then_b, w, name) && only_indexed(else_b, w, name),
        Stmt::For {
            iter,
            iter_vars,
            body,
            ..
        } => !iter_vars.contains(&w) && tokens_ok(iter) && only_indexed(body, w, name),
        Stmt::While { cond, body, .. } => tokens_ok(cond) && only_indexed(body, w, name),
        Stmt::Meta(v) => *v != w,
        Stmt::Passive(ts) => tokens_ok(ts),
    })
}

/// Whether the call or rule `e` takes `w` (as an argument or a receiver).
fn call_takes(e: &Expr, w: VarId) -> bool {
    match e {
        Expr::Call { args, callee, .. } => {
            args.iter().any(|a| arg_vars(a).contains(&w))
                || matches!(callee, Callee::Method { recv, .. } if arg_vars(recv).contains(&w))
        }
        Expr::Rule { args, .. } => args.iter().any(|a| arg_vars(a).contains(&w)),
        _ => false,
    }
}

/// Variables assigned (`=`, `+=`, indexed writes) anywhere in `b`, nested scopes included.
pub(crate) fn assigned_vars(b: &Block) -> HashSet<VarId> {
    let mut out = HashSet::new();
    fn walk(b: &Block, out: &mut HashSet<VarId>) {
        for s in &b.stmts {
            match s {
                Stmt::Assign { place, .. } => {
                    out.insert(place.var);
                }
                Stmt::If { then_b, else_b, .. } => {
                    walk(then_b, out);
                    walk(else_b, out);
                }
                Stmt::For { body, .. } | Stmt::While { body, .. } => walk(body, out),
                _ => {}
            }
        }
    }
    walk(b, &mut out);
    out
}

/// Every variable an expression reads, passive operands included.
pub(crate) fn expr_vars(e: &Expr) -> Vec<VarId> {
    let mut out = Vec::new();
    let mut op = |o: &Operand| match o {
        Operand::Var(v, _) => out.push(*v),
        Operand::Passive(p) => out.extend(p.vars.iter().copied()),
    };
    match e {
        Expr::Use(o) | Expr::Ref(o) | Expr::Neg(o, _) | Expr::Cast(o, _) => op(o),
        Expr::Binary(_, l, r, _) => {
            op(l);
            op(r);
        }
        Expr::Method { recv, args, .. } => {
            op(recv);
            args.iter().for_each(op);
        }
        Expr::Index { base, index } => {
            op(base);
            out.extend(index.vars.iter().copied());
        }
        Expr::Tuple(ops) | Expr::Array(ops) => ops.iter().for_each(op),
        Expr::Passive(p) => out.extend(p.vars.iter().copied()),
        Expr::Call { .. } | Expr::Rule { .. } => {}
    }
    out
}

/// A passive expression made of literals, names and arithmetic (no calls that could have
/// side effects), safe to evaluate again.
pub(crate) fn is_simple_passive(tokens: &TokenStream) -> bool {
    fn simple(e: &syn::Expr) -> bool {
        match e {
            syn::Expr::Lit(_) | syn::Expr::Path(_) => true,
            syn::Expr::Binary(b) => simple(&b.left) && simple(&b.right),
            syn::Expr::Unary(u) => simple(&u.expr),
            syn::Expr::Paren(p) => simple(&p.expr),
            syn::Expr::Cast(c) => simple(&c.expr),
            syn::Expr::Array(a) => a.elems.iter().all(simple),
            syn::Expr::Tuple(t) => t.elems.iter().all(simple),
            syn::Expr::Field(f) => simple(&f.base),
            syn::Expr::MethodCall(m) => {
                m.method == "len" && simple(&m.receiver) && m.args.is_empty()
            }
            syn::Expr::Range(r) => {
                r.start.as_deref().is_none_or(simple) && r.end.as_deref().is_none_or(simple)
            }
            _ => false,
        }
    }
    syn::parse2::<syn::Expr>(tokens.clone()).is_ok_and(|e| simple(&e))
}

/// Variables a statement reads, nested blocks included.
pub(crate) fn stmt_reads(s: &Stmt) -> HashSet<VarId> {
    let mut out = HashSet::new();
    fn block(b: &Block, out: &mut HashSet<VarId>) {
        for s in &b.stmts {
            out.extend(stmt_reads(s));
        }
    }
    match s {
        Stmt::Let { init: Some(e), .. } => out.extend(expr_vars(e)),
        Stmt::Assign { place, value, .. } => {
            out.insert(place.var);
            if let Some(i) = &place.index {
                out.extend(i.vars.iter().copied());
            }
            out.extend(expr_vars(value));
            if let Expr::Call { args, .. } | Expr::Rule { args, .. } = value {
                for a in args {
                    out.extend(arg_vars(a));
                }
            }
        }
        Stmt::If { then_b, else_b, .. } => {
            block(then_b, &mut out);
            block(else_b, &mut out);
        }
        Stmt::For {
            iter_vars, body, ..
        } => {
            out.extend(iter_vars.iter().copied());
            block(body, &mut out);
        }
        Stmt::While { body, .. } => block(body, &mut out),
        Stmt::Meta(v) => {
            out.insert(*v);
        }
        _ => {}
    }
    if let Stmt::Let {
        init: Some(Expr::Call { args, callee, .. }),
        ..
    } = s
    {
        for a in args {
            out.extend(arg_vars(a));
        }
        if let Callee::Method { recv, .. } = callee {
            out.extend(arg_vars(recv));
        }
    }
    if let Stmt::Let {
        init: Some(Expr::Rule { args, .. }),
        ..
    } = s
    {
        for a in args {
            out.extend(arg_vars(a));
        }
    }
    out
}

fn arg_vars(a: &Arg) -> Vec<VarId> {
    let mut out = Vec::new();
    let mut op = |o: &Operand| match o {
        Operand::Var(v, _) => out.push(*v),
        Operand::Passive(p) => out.extend(p.vars.iter().copied()),
    };
    op(&a.op);
    if let Some(list) = &a.list {
        list.iter().for_each(op);
    }
    out
}

/// Variables a statement assigns, nested blocks included.
pub(crate) fn stmt_writes(s: &Stmt) -> HashSet<VarId> {
    match s {
        Stmt::Assign { place, .. } => [place.var].into_iter().collect(),
        Stmt::If { then_b, else_b, .. } => assigned_vars(then_b)
            .union(&assigned_vars(else_b))
            .copied()
            .collect(),
        Stmt::For { body, .. } | Stmt::While { body, .. } => assigned_vars(body),
        _ => HashSet::new(),
    }
}

/// The variables read by the `let` of `var` in `b`.
fn expr_vars_of_let(b: &Block, var: VarId) -> Vec<VarId> {
    b.stmts
        .iter()
        .find_map(|s| match s {
            Stmt::Let {
                var: v,
                init: Some(e),
                ..
            } if *v == var => Some(expr_vars(e)),
            _ => None,
        })
        .unwrap_or_default()
}

/// `e` without the parentheses around it.
pub(crate) fn strip_parens(e: &syn::Expr) -> &syn::Expr {
    match e {
        syn::Expr::Paren(p) => strip_parens(&p.expr),
        other => other,
    }
}
