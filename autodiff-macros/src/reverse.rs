//! The reverse sweep: statements backwards, each adding its operands' adjoints.
//!
//! Input: the lowered body and the [`Emitter`]'s analysis. Output: the body of the pullback
//! closure up to the final gradients. Every rule call accumulates into `&mut d_x`, so a
//! variable used several times sums its contributions in place.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};

use crate::emit::Emitter;
use crate::ir::*;
use crate::symbol::{Keep, MethodKind, nary_suffixes};

impl Emitter<'_> {
    /// The reverse of a scope. An inner scope first takes back what its forward run kept and
    /// declares the adjoints of its locals.
    pub fn reverse_block(&self, b: &Block, top: bool) -> TokenStream {
        let k = self.krate;
        let mut out = TokenStream::new();
        if !top {
            let kept = self.kept(b);
            if !kept.is_empty() {
                let tape = self.tape_ident(b.scope);
                let pats = kept.iter().map(|id| {
                    let restored = self
                        .vars
                        .iter()
                        .position(|v| &v.ident == id)
                        .is_some_and(|v| self.restored.contains(&v));
                    if restored {
                        quote!(mut #id)
                    } else {
                        quote!(#id)
                    }
                });
                if self.keeps_only_scalar_metadata(b) {
                    let once = self.once_ident(b.scope);
                    out.extend(quote!(let (#(#pats,)*) = ::core::clone::Clone::clone(&#once).unwrap_or_else(|| ::core::unreachable!());));
                } else {
                    out.extend(quote!(let (#(#pats,)*) = #tape.pop().unwrap_or_else(|| ::core::unreachable!());));
                }
            }
            for v in self.declared_active(b) {
                if self.remat.contains(&v) {
                    continue;
                }
                let (d, m) = (self.adj_ident(v), self.meta_ident(v));
                out.extend(quote!(let mut #d = #k::__private::zero_adj(&#m);));
            }
        }
        for (j, s) in b.stmts.iter().enumerate().rev() {
            out.extend(self.recompute_before(b, j));
            out.extend(self.reverse_stmt(s));
        }
        out
    }

    /// Recomputes, in declaration order, the locals of `b` whose last reader is statement
    /// `j`: the forward sweep did not tape them, and nothing they read has changed since.
    fn recompute_before(&self, b: &Block, j: usize) -> TokenStream {
        let k = self.krate;
        let mut out = TokenStream::new();
        for s in &b.stmts {
            let Stmt::Let {
                var, init: Some(e), ..
            } = s
            else {
                continue;
            };
            if self.remat_at.get(var) != Some(&j) {
                continue;
            }
            let id = self.id(*var);
            let value = self.forward_value(e);
            out.extend(quote!(let #id = #value;));
            if self.vars[*var].active {
                let (m, d) = (self.meta_ident(*var), self.adj_ident(*var));
                out.extend(quote!(let #m = #k::__private::meta(&#id);));
                out.extend(quote!(let mut #d = #k::__private::zero_adj(&#m);));
            }
        }
        out
    }

    /// Active variables declared directly in `b`.
    pub fn declared_active(&self, b: &Block) -> Vec<VarId> {
        b.stmts
            .iter()
            .filter_map(|s| match s {
                Stmt::Let { var, .. } if self.vars[*var].active => Some(*var),
                _ => None,
            })
            .collect()
    }

    fn reverse_stmt(&self, s: &Stmt) -> TokenStream {
        match s {
            Stmt::Let {
                var, init: Some(e), ..
            } if self.vars[*var].active => {
                let d = self.adj_ident(*var);
                if let Some(sum) = self.loop_sums.borrow().get(var) {
                    let k = self.krate;
                    return quote!(#k::__private::loop_sum(&mut #sum, #d););
                }
                if let (true, Expr::Index { base, index }) = (self.stored_reads.contains(var), e)
                    && let Some(a) = self.adj_of(base)
                {
                    // The only read of this element: its adjoint is still zero.
                    let (k, i) = (self.krate, &index.tokens);
                    return quote!(#k::__private::buffer(&mut #a)[#i] = #d;);
                }
                let id = self.id(*var);
                self.backward(e, &quote!(#d), &quote!(#id))
            }
            Stmt::Assign {
                place, op, value, ..
            } => self.reverse_assign(s as *const Stmt as usize, place, *op, value),
            Stmt::If {
                flag,
                then_b,
                else_b,
                ..
            } if self.structural.contains(&then_b.scope)
                || self.structural.contains(&else_b.scope) =>
            {
                let f = self.id(*flag);
                let t = self.reverse_block(then_b, false);
                let e = self.reverse_block(else_b, false);
                quote!(if #f { #t } else { #e })
            }
            Stmt::For {
                iter_var,
                iter,
                pat,
                body,
                ..
            } if self.structural.contains(&body.scope) && !self.fused.contains_key(&body.scope) => {
                // A checkpointed body runs its forward code again, with its tape, first.
                let again = self
                    .checkpointed
                    .contains(&body.scope)
                    .then(|| self.forward_block(body, false));
                let (sums, flush) = self.loop_invariant_reads(body);
                let (restores, releases) = self.snapshot_restores(body);
                let b = self.reverse_block(body, false);
                let b = quote!(#again #restores #b #releases);
                let windowed = (self.remat_iter.contains(iter_var) && again.is_none())
                    .then(|| self.window_candidates(body))
                    .and_then(|arrays| {
                        crate::window::windowed_reverse_loop(self.krate, pat, iter, &b, &arrays)
                    });
                let reversed = if let Some(w) = windowed {
                    w
                } else if self.remat_iter.contains(iter_var) {
                    quote!(for #pat in ::core::iter::Iterator::rev(#iter) { #b })
                } else {
                    let it = self.id(*iter_var);
                    quote!(for #pat in ::core::iter::Iterator::rev(#it) { #b })
                };
                quote!(#sums #reversed #flush)
            }
            Stmt::While { count, body, .. } if self.structural.contains(&body.scope) => {
                let n = self.id(*count);
                let b = self.reverse_block(body, false);
                quote!(for _ in 0..#n { #b })
            }
            _ => TokenStream::new(),
        }
    }

    /// Element reads `let t = x[a]` directly in a loop body, with `a` fixed in the loop and
    /// `x` not written in it: the adjoint of `x[a]` receives one contribution per iteration,
    /// summed in a local and added once after the loop, which keeps the sum out of memory
    /// (the compiler cannot tell that `d_x` is not the array another read adds to).
    /// Returns the declarations of the sums and the statements that add them.
    fn loop_invariant_reads(&self, body: &Block) -> (TokenStream, TokenStream) {
        let k = self.krate;
        let (mut sums, mut flush) = (TokenStream::new(), TokenStream::new());
        if contains_call(body) {
            return (sums, flush);
        }
        let assigned = crate::emit::assigned_vars(body);
        for s in &body.stmts {
            let Stmt::Let {
                var,
                init:
                    Some(Expr::Index {
                        base: Operand::Var(w, fields),
                        index,
                    }),
                ..
            } = s
            else {
                continue;
            };
            let fixed = index
                .vars
                .iter()
                .all(|v| !assigned.contains(v) && self.vars[*v].scope != body.scope);
            if !self.vars[*var].active
                || !self.vars[*var].scalar
                || !fields.is_empty()
                || !self.vars[*w].active
                || assigned.contains(w)
                || !fixed
                || !crate::emit::is_simple_passive(&index.tokens)
            {
                continue;
            }
            let sum = self.fresh("sum");
            let d_w = self.adj_ident(*w);
            let i = &index.tokens;
            sums.extend(quote!(let mut #sum = ::core::option::Option::None;));
            flush.extend(quote!(
                if let ::core::option::Option::Some(s) = #sum {
                    #k::__private::buffer(&mut #d_w)[#i] += s;
                }
            ));
            self.loop_sums.borrow_mut().insert(*var, sum);
        }
        (sums, flush)
    }

    /// The active arrays a loop body reads or writes by element (no field path): those
    /// whose reverse may run on windows (`window.rs`).
    fn window_candidates(&self, body: &Block) -> Vec<crate::window::Array> {
        fn walk(b: &Block, out: &mut Vec<VarId>) {
            for s in &b.stmts {
                match s {
                    Stmt::Let {
                        init:
                            Some(Expr::Index {
                                base: Operand::Var(w, fields),
                                ..
                            }),
                        ..
                    }
                    | Stmt::Assign {
                        value:
                            Expr::Index {
                                base: Operand::Var(w, fields),
                                ..
                            },
                        ..
                    } if fields.is_empty() => out.push(*w),
                    _ => {}
                }
                match s {
                    Stmt::Assign {
                        place:
                            Place {
                                var,
                                fields,
                                index: Some(_),
                            },
                        ..
                    } if fields.is_empty() => out.push(*var),
                    Stmt::If { then_b, else_b, .. } => {
                        walk(then_b, out);
                        walk(else_b, out);
                    }
                    _ => {}
                }
            }
        }
        let mut vars = Vec::new();
        walk(body, &mut vars);
        let mut arrays = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for v in vars {
            if self.vars[v].active && seen.insert(v) {
                arrays.push(crate::window::Array {
                    primal: self.id(v).clone(),
                    adjoint: self.adj_ident(v),
                });
            }
        }
        arrays
    }

    fn reverse_assign(&self, key: usize, place: &Place, op: AssignOp, value: &Expr) -> TokenStream {
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
        let stack = self.stacks.borrow().get(&key).cloned();
        let active = self.vars[place.var].active;
        let mut out = TokenStream::new();
        // The value the statement wrote, for rules that differentiate through their output.
        let post = if active && needs_output(value) {
            let p = self.fresh("post");
            out.extend(quote!(let #p = ::core::clone::Clone::clone(&#target);));
            quote!(#p)
        } else {
            target.clone()
        };
        if let Some(s) = &stack {
            out.extend(quote!(#target = #s.pop().unwrap_or_else(|| ::core::unreachable!());));
        } else if self.inverted.borrow().contains(&key) {
            let v = match value {
                Expr::Use(Operand::Passive(p)) | Expr::Passive(p) => p.tokens.clone(),
                _ => TokenStream::new(),
            };
            out.extend(match op {
                AssignOp::Add => quote!(#target -= #v;),
                _ => quote!(#target += #v;),
            });
        }
        if !active {
            return out;
        }
        let d_var = self.adj_ident(place.var);
        let d_place = quote!(#d_var #(.#fields)*);
        let d = self.fresh("d");
        match (&place.index, op) {
            (None, AssignOp::Set) => {
                out.extend(quote!(let #d = #k::__private::take(&mut #d_place);));
                out.extend(self.backward(value, &quote!(#d), &post));
            }
            (Some(idx), AssignOp::Set) => {
                let i = &idx.tokens;
                out.extend(quote!(let #d = ::core::mem::take(&mut #k::__private::buffer(&mut #d_place)[#i]);));
                out.extend(self.backward(value, &quote!(#d), &post));
            }
            (Some(idx), AssignOp::Add) => {
                let i = &idx.tokens;
                out.extend(quote!(let #d = #k::__private::buffer(&mut #d_place)[#i];));
                out.extend(self.backward(value, &quote!(#d), &post));
            }
            (Some(idx), AssignOp::Sub) => {
                let i = &idx.tokens;
                out.extend(quote!(let #d = -#k::__private::buffer(&mut #d_place)[#i];));
                out.extend(self.backward(value, &quote!(#d), &post));
            }
            (None, AssignOp::Add | AssignOp::Sub) => {
                // `v += e`: v's adjoint flows on unchanged, and into e (summed over broadcast axes).
                let rule = if op == AssignOp::Add {
                    quote!(add_back_rhs)
                } else {
                    quote!(sub_back_rhs)
                };
                let operand = match value {
                    Expr::Use(o) => Some(o),
                    _ => None,
                };
                if let Some(a) = operand.and_then(|o| self.adj_of(o)) {
                    out.extend(quote!(#k::__private::#rule(&#d_place, &mut #a);));
                }
            }
        }
        out
    }

    /// Adds the contributions of `e`'s operands, given `d` (an owned binding of the output's
    /// adjoint) and `y` (the output's value).
    fn backward(&self, e: &Expr, d: &TokenStream, y: &TokenStream) -> TokenStream {
        let k = self.krate;
        let p = quote!(#k::__private);
        match e {
            Expr::Use(op) | Expr::Ref(op) => match self.adj_of(op) {
                Some(a) => quote!(#p::acc(&mut #a, #d);),
                None => TokenStream::new(),
            },
            Expr::Binary(op, l, r, _) => {
                let (lv, rv) = (self.operand(l), self.operand(r));
                let mut out = TokenStream::new();
                let name = op.name();
                if let Some(a) = self.adj_of(l) {
                    let f = format_ident!("{}_back_lhs", name);
                    out.extend(match op {
                        BinOp::Add | BinOp::Sub => quote!(#p::#f(&#d, &mut #a);),
                        BinOp::Mul | BinOp::Div => quote!(#p::#f(&#d, &#rv, &mut #a);),
                    });
                }
                if let Some(a) = self.adj_of(r) {
                    let f = format_ident!("{}_back_rhs", name);
                    out.extend(match op {
                        BinOp::Add | BinOp::Sub => quote!(#p::#f(&#d, &mut #a);),
                        BinOp::Mul => quote!(#p::#f(&#d, &#lv, &mut #a);),
                        BinOp::Div => quote!(#p::#f(&#d, &#lv, &#rv, &mut #a);),
                    });
                }
                out
            }
            Expr::Neg(x, _) => match self.adj_of(x) {
                Some(a) => quote!(#p::neg_back(&#d, &mut #a);),
                None => TokenStream::new(),
            },
            Expr::Cast(x, _) => match self.adj_of(x) {
                Some(a) => quote!(#p::cast_back(&#d, &mut #a);),
                None => TokenStream::new(),
            },
            Expr::Method {
                kind,
                name,
                recv,
                args,
            } => self.backward_method(*kind, name, recv, args, d, y),
            Expr::Index { base, index } => match self.adj_of(base) {
                Some(a) => {
                    let i = &index.tokens;
                    quote!(#p::buffer(&mut #a)[#i] += #d;)
                }
                None => TokenStream::new(),
            },
            Expr::Tuple(ops) => {
                let names: Vec<_> = (0..ops.len()).map(|_| self.fresh("d")).collect();
                let mut out = quote!(let (#(mut #names,)*) = #d;);
                for (o, n) in ops.iter().zip(&names) {
                    if let Some(a) = self.adj_of(o) {
                        out.extend(quote!(#p::acc(&mut #a, #n);));
                    }
                }
                out
            }
            Expr::Array(ops) => {
                let mut out = TokenStream::new();
                for (i, o) in ops.iter().enumerate() {
                    if let Some(a) = self.adj_of(o) {
                        out.extend(quote!(#p::acc(&mut #a, #d[#i]);));
                    }
                }
                out
            }
            Expr::Call {
                callee,
                args,
                plan,
                pullback,
                span,
            } => {
                let mut sinks = Vec::new();
                if let Callee::Method { recv, .. } = callee {
                    sinks.push(self.sink(&recv.op));
                }
                // Slice arguments written as lists are handed out after the scatter.
                let mut lists = Vec::new();
                for a in args {
                    match &a.list {
                        Some(ops) if ops.iter().any(|o| self.adj_of(o).is_some()) => {
                            let cell = self.fresh("list");
                            sinks.push(quote!(#p::sink_list(&mut #cell)));
                            let takes: Vec<_> = ops
                                .iter()
                                .map(|o| match self.adj_of(o) {
                                    Some(acc) => quote!(#p::acc_next(&mut #cell, &mut #acc);),
                                    None => {
                                        quote!(let _ = ::core::iter::Iterator::next(&mut #cell);)
                                    }
                                })
                                .collect();
                            lists.push((cell, quote!(#(#takes)*)));
                        }
                        _ => sinks.push(self.sink(&a.op)),
                    }
                }
                let cells = lists
                    .iter()
                    .map(|(c, _)| quote!(let mut #c = ::core::option::Option::None;));
                let hand_out = lists.iter().map(|(c, takes)| {
                    quote! {
                        if let ::core::option::Option::Some(#c) = #c {
                            let mut #c = ::core::iter::IntoIterator::into_iter(#c);
                            #takes
                        }
                    }
                });
                let (plan, pb) = (self.id(*plan), self.id(*pullback));
                let seed = self.fresh("seed");
                // The pullback's result is named with the call's span, so that a result that
                // does not fit the arguments (see `Scatter`) is reported on the user's call.
                // The binding lives in this block only, with no user code in it.
                let mut g = self.fresh("g");
                g.set_span(*span);
                let scatter = if crate::emit::has_no_grad_arg(args) {
                    let call = quote_spanned! {*span=>
                        (&&#p::Tiers::new(#plan, #g, (#(#sinks,)*))).scatter_tier();
                    };
                    quote! {{
                        // Method lookup picks one of the two (see `Tiers`).
                        #[allow(unused_imports)]
                        use #p::{LeftTier as _, TakenTier as _};
                        #call
                    }}
                } else {
                    quote_spanned!(*span=> #plan.scatter(#g, (#(#sinks,)*));)
                };
                quote! {
                    if let ::core::option::Option::Some(#seed) = #p::into_seed(#d) {
                        #(#cells)*
                        let #g = #pb(#seed);
                        #scatter
                        #(#hand_out)*
                    }
                }
            }
            Expr::Rule { spec, args, .. } => {
                let mut out = TokenStream::new();
                for (i, a) in args.iter().enumerate() {
                    let Some(acc) = self.adj_of(&a.op) else {
                        continue;
                    };
                    let back = format_ident!("{}_back_{}", spec.name, i);
                    let kept = spec.needs[i].iter().filter_map(|&j| args.get(j)).map(|b| {
                        let v = self.operand(&b.op);
                        quote!(&#v)
                    });
                    let output = spec.output.then(|| quote!(&#y,));
                    out.extend(quote!(#p::rules::#back(&#d, #(#kept,)* #output &mut #acc);));
                }
                out
            }
            Expr::Passive(_) => TokenStream::new(),
        }
    }

    fn sink(&self, op: &Operand) -> TokenStream {
        let k = self.krate;
        match self.adj_of(op) {
            Some(a) => quote!(#k::__private::sink(&mut #a)),
            None => quote!(#k::__private::NoSink),
        }
    }

    fn backward_method(
        &self,
        kind: MethodKind,
        name: &syn::Ident,
        recv: &Operand,
        args: &[Operand],
        d: &TokenStream,
        y: &TokenStream,
    ) -> TokenStream {
        let k = self.krate;
        let m = quote!(#k::__private::method);
        let arr = quote!(#k::__private::array);
        let x = self.operand(recv);
        let argv: Vec<_> = args.iter().map(|a| self.operand(a)).collect();
        let back = format_ident!("{}_back", name);
        let ax = self.adj_of(recv);
        match kind {
            MethodKind::FloatUnary(keep) => {
                let Some(a) = ax else {
                    return TokenStream::new();
                };
                let kept = if keep == Keep::Output { y.clone() } else { x };
                quote!(#m::#back(&#d, &#kept, &mut #a);)
            }
            MethodKind::Powi => {
                let Some(a) = ax else {
                    return TokenStream::new();
                };
                quote!(#m::#back(&#d, &#x #(, #argv)*, &mut #a);)
            }
            MethodKind::FloatNary(n) => {
                let mut ops = vec![recv.clone()];
                ops.extend(args.iter().cloned());
                let vals: Vec<_> = ops.iter().map(|o| self.operand(o)).collect();
                let mut out = TokenStream::new();
                for (i, o) in ops.iter().enumerate().take(n) {
                    if let Some(a) = self.adj_of(o) {
                        let f = format_ident!("{}_back_{}", name, nary_suffixes(n)[i]);
                        out.extend(quote!(#m::#f(&#d #(, &#vals)*, &mut #a);));
                    }
                }
                out
            }
            MethodKind::Dot => {
                let mut out = TokenStream::new();
                let Some(b) = args.first() else { return out };
                let bv = self.operand(b);
                if let Some(a) = ax {
                    out.extend(quote!(#arr::dot_back_lhs(&#d, &#bv, &mut #a);));
                }
                if let Some(db) = self.adj_of(b) {
                    out.extend(quote!(#arr::dot_back_rhs(&#d, &#x, &mut #db);));
                }
                out
            }
            // A reshape's adjoint is reshaped back to the input's shape, which the sink knows.
            MethodKind::ArrayUnary if name == "into_shape_with_order" => match ax {
                Some(a) => quote!(#arr::#back(&#d, &mut #a);),
                None => TokenStream::new(),
            },
            MethodKind::ArrayUnary => match ax {
                Some(a) => quote!(#arr::#back(&#d #(, #argv)*, &mut #a);),
                None => TokenStream::new(),
            },
            MethodKind::ArrayNoArgs => match ax {
                Some(a) => quote!(#arr::#back(&#d, &mut #a);),
                None => TokenStream::new(),
            },
            MethodKind::Identity => match ax {
                Some(a) => quote!(#k::__private::acc(&mut #a, #d);),
                None => TokenStream::new(),
            },
            MethodKind::Passive => TokenStream::new(),
        }
    }
}

/// Whether the top rule of `e` differentiates through its output (`exp`, `sqrt`, `tanh`).
pub(crate) fn needs_output(e: &Expr) -> bool {
    matches!(
        e,
        Expr::Method {
            kind: MethodKind::FloatUnary(Keep::Output),
            ..
        }
    ) || matches!(e, Expr::Rule { spec, .. } if spec.output)
}

/// Whether `b` calls a function (whose pullback may read adjoints whole).
fn contains_call(b: &Block) -> bool {
    b.stmts.iter().any(|s| match s {
        Stmt::Let { init: Some(e), .. } | Stmt::Assign { value: e, .. } => {
            matches!(e, Expr::Call { .. } | Expr::Rule { .. })
        }
        Stmt::If { then_b, else_b, .. } => contains_call(then_b) || contains_call(else_b),
        Stmt::For { body, .. } | Stmt::While { body, .. } => contains_call(body),
        _ => false,
    })
}
