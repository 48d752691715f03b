//! `syn` body → [`ir`](crate::ir), in A-normal form, rejecting what cannot be differentiated.
//!
//! Input: the (renamed) body and its [`Resolved`] names. Output: an [`Block`] and the
//! operand the function returns. Every active expression is split into one primitive per
//! `let`; passive expressions stay the user's own tokens.

use std::collections::HashSet;

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, format_ident};
use syn::spanned::Spanned;
use syn::{Expr, Member, Pat, Stmt as SynStmt};

use crate::ctxt::Ctxt;
use crate::ir::{
    Arg, AssignOp, BinOp, Block, Callee, Expr as IrExpr, Operand, Passive, Place, Stmt, Var, VarId,
};
use crate::macro_args::MacroArgs;
use crate::resolve::{Resolved, is_no_grad_call, is_scalar_type, node_key};
use crate::symbol::{self, MethodKind};

pub struct Lowered {
    pub vars: Vec<Var>,
    pub body: Block,
    pub tail: Operand,
}

struct Lowerer<'a> {
    cx: &'a Ctxt,
    res: &'a Resolved,
    vars: Vec<Var>,
    scope: usize,
    next_scope: usize,
    next_temp: usize,
    /// Set until the function's own block is entered: only there is `return e;` the tail.
    at_fn_body: bool,
    /// Active variables declared without a value (`let y;`), with their scope and loop
    /// depth: their metadata is recorded after the statement that first assigns them, and
    /// that assignment has no old value to keep.
    pending_meta: Vec<(VarId, usize, usize)>,
    /// How many loops the statement being lowered is in.
    loop_depth: usize,
    /// The temporaries introduced for subexpressions (never shadowed, never assigned).
    temps: HashSet<VarId>,
}

/// `?` can never return from a function whose result is differentiated.
fn reject_try(cx: &Ctxt, body: &syn::Block) {
    struct Finder<'c>(&'c Ctxt);
    impl<'ast> syn::visit::Visit<'ast> for Finder<'_> {
        fn visit_expr_try(&mut self, t: &'ast syn::ExprTry) {
            self.0.error_spanned_by(
                t.question_token,
                "the `?` operator is not supported in #[differentiable]; handle the error before calling the differentiable function",
            );
        }
        fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}
        fn visit_item(&mut self, _: &'ast syn::Item) {}
    }
    syn::visit::Visit::visit_block(&mut Finder(cx), body);
}

pub fn lower(cx: &Ctxt, res: &Resolved, body: &syn::Block) -> Lowered {
    let vars = res
        .vars
        .iter()
        .enumerate()
        .map(|(id, info)| Var {
            ident: if res.renamed.contains(&id) {
                format_ident!("{}__{}", info.name, id)
            } else {
                info.name.clone()
            },
            span: info.name.span(),
            scope: 0,
            active: res.active.contains(&id),
            is_param: info.is_param,
            scalar: info.scalar,
        })
        .collect();
    reject_try(cx, body);
    let mut l = Lowerer {
        cx,
        res,
        vars,
        scope: 0,
        next_scope: 1,
        next_temp: 0,
        at_fn_body: true,
        pending_meta: Vec::new(),
        loop_depth: 0,
        temps: Default::default(),
    };
    let mut stmts = Vec::new();
    let tail = l.block_into(body, &mut stmts);
    let tail = tail.unwrap_or_else(|| {
        cx.error_spanned_by(
            quote::quote_spanned!(body.brace_token.span.close()=> fn),
            "a #[differentiable] function must end with the expression it returns",
        );
        Operand::Passive(Passive {
            tokens: quote::quote!(()),
            vars: Vec::new(),
        })
    });
    Lowered {
        vars: l.vars,
        body: Block { scope: 0, stmts },
        tail,
    }
}

impl Lowerer<'_> {
    // ---- variables ----

    fn var_of_use(&self, p: &syn::ExprPath) -> Option<VarId> {
        self.res.uses.get(&node_key(p)).copied()
    }

    fn is_active(&self, v: VarId) -> bool {
        self.vars[v].active
    }

    fn new_var(&mut self, prefix: &str, span: Span, active: bool) -> VarId {
        let ident = format_ident!(
            "__{}{}",
            prefix,
            self.next_temp,
            span = Span::mixed_site().located_at(span)
        );
        self.next_temp += 1;
        self.vars.push(Var {
            ident,
            span,
            scope: self.scope,
            active,
            is_param: false,
            scalar: false,
        });
        self.vars.len() - 1
    }

    fn temp(&mut self, expr: IrExpr, span: Span, out: &mut Vec<Stmt>) -> Operand {
        if let Some(v) = self.earlier_read(&expr, out) {
            return Operand::Var(v, Vec::new());
        }
        let scalar = self.expr_is_scalar(&expr);
        let v = self.new_var("t", span, true);
        self.vars[v].scalar = scalar;
        self.temps.insert(v);
        out.push(Stmt::Let {
            var: v,
            mutable: false,
            ty: None,
            init: Some(expr),
        });
        Operand::Var(v, Vec::new())
    }

    /// The temporary of an earlier read of the element `e` reads, when nothing since can have
    /// changed it: `x[i] * x[i]` reads one value, so the reverse sweep adds the adjoint into
    /// `d_x[i]` once instead of twice. Only lets lie in between (temporaries, declarations,
    /// arithmetic); any assignment, branch, loop, call or passive statement ends the search.
    fn earlier_read(&self, e: &IrExpr, out: &[Stmt]) -> Option<VarId> {
        let IrExpr::Index {
            base: Operand::Var(array, fields),
            index,
        } = e
        else {
            return None;
        };
        if !crate::emit::is_simple_passive(&index.tokens) {
            return None;
        }
        let same_place = |init: &IrExpr| match init {
            IrExpr::Index {
                base: Operand::Var(a, f),
                index: i,
            } => {
                a == array
                    && f == fields
                    && i.vars == index.vars
                    && i.tokens.to_string() == index.tokens.to_string()
            }
            _ => false,
        };
        for s in out.iter().rev() {
            match s {
                Stmt::Let {
                    var,
                    init: Some(init),
                    ..
                } => {
                    if self.temps.contains(var) && same_place(init) {
                        return Some(*var);
                    }
                    if matches!(init, IrExpr::Call { .. }) {
                        return None;
                    }
                }
                Stmt::Let { init: None, .. } | Stmt::Meta(_) => {}
                _ => return None,
            }
        }
        None
    }

    /// The user's expression as a passive operand, with the variables it reads.
    fn passive(&self, e: &syn::Expr) -> Passive {
        Passive {
            tokens: e.to_token_stream(),
            vars: self.free_vars(e),
        }
    }

    /// Every local variable `e` reads, in any position.
    fn free_vars(&self, e: &syn::Expr) -> Vec<VarId> {
        struct Collect<'r>(&'r Resolved, Vec<VarId>);
        impl<'ast> syn::visit::Visit<'ast> for Collect<'ast> {
            fn visit_expr_path(&mut self, p: &'ast syn::ExprPath) {
                if let Some(&v) = self.0.uses.get(&node_key(p)) {
                    self.1.push(v);
                }
            }
            fn visit_macro(&mut self, m: &'ast syn::Macro) {
                if let Some(args) = self.0.macro_args.get(&node_key(m)) {
                    for e in args.exprs() {
                        self.visit_expr(e);
                    }
                    return;
                }
                // Arguments that do not parse as expressions: any name in them, conservatively.
                for tt in m.tokens.clone() {
                    if let proc_macro2::TokenTree::Ident(i) = tt {
                        let name = i.to_string();
                        if let Some(v) = self.0.vars.iter().position(|info| info.name == name) {
                            self.1.push(v);
                        }
                    }
                }
            }
        }
        let mut c = Collect(self.res, Vec::new());
        syn::visit::Visit::visit_expr(&mut c, e);
        c.1
    }

    fn expr_is_scalar(&self, e: &IrExpr) -> bool {
        let op_scalar = |o: &Operand| match o {
            Operand::Var(v, f) => f.is_empty() && self.vars[*v].scalar,
            Operand::Passive(_) => true,
        };
        match e {
            IrExpr::Index { .. } => true,
            IrExpr::Cast(_, ty) => is_scalar_type(ty),
            IrExpr::Binary(_, a, b, _) => op_scalar(a) && op_scalar(b),
            IrExpr::Neg(a, _) | IrExpr::Use(a) => op_scalar(a),
            IrExpr::Method {
                kind, recv, args, ..
            } => {
                matches!(
                    kind,
                    MethodKind::FloatUnary(_) | MethodKind::Powi | MethodKind::FloatNary(_)
                ) && op_scalar(recv)
                    && args.iter().all(op_scalar)
            }
            _ => false,
        }
    }

    // ---- activity of syn expressions ----

    /// Whether `e` mentions an active variable in a differentiable position.
    fn mentions_active(&self, e: &Expr) -> bool {
        match e {
            Expr::Path(p) => self.var_of_use(p).is_some_and(|v| self.is_active(v)),
            Expr::Binary(b) => {
                use syn::BinOp::*;
                match b.op {
                    Add(_) | Sub(_) | Mul(_) | Div(_) => {
                        self.mentions_active(&b.left) || self.mentions_active(&b.right)
                    }
                    _ => false,
                }
            }
            Expr::Unary(u) => !matches!(u.op, syn::UnOp::Not(_)) && self.mentions_active(&u.expr),
            Expr::Paren(p) => self.mentions_active(&p.expr),
            Expr::Group(g) => self.mentions_active(&g.expr),
            Expr::Reference(r) => self.mentions_active(&r.expr),
            Expr::Cast(c) => is_scalar_type(&c.ty) && self.mentions_active(&c.expr),
            Expr::Field(f) => self.mentions_active(&f.base),
            Expr::Index(i) => self.mentions_active(&i.expr),
            Expr::Tuple(t) => t.elems.iter().any(|e| self.mentions_active(e)),
            Expr::Array(a) => a.elems.iter().any(|e| self.mentions_active(e)),
            Expr::Block(b) => self.block_mentions_active(&b.block),
            Expr::Unsafe(b) => self.block_mentions_active(&b.block),
            Expr::If(i) => {
                self.block_mentions_active(&i.then_branch)
                    || i.else_branch
                        .as_ref()
                        .is_some_and(|(_, e)| self.mentions_active(e))
            }
            Expr::Match(m) => m.arms.iter().any(|a| self.mentions_active(&a.body)),
            Expr::Closure(c) => self.mentions_active(&c.body),
            Expr::MethodCall(m) => match symbol::method_kind(&m.method.to_string()) {
                Some(MethodKind::Passive) => false,
                Some(
                    MethodKind::Powi
                    | MethodKind::ArrayUnary
                    | MethodKind::ArrayNoArgs
                    | MethodKind::Identity,
                ) => self.mentions_active(&m.receiver),
                _ => {
                    self.mentions_active(&m.receiver)
                        || m.args.iter().any(|a| self.mentions_active(a))
                }
            },
            Expr::Call(c) => {
                !is_no_grad_call(&c.func) && c.args.iter().any(|a| self.mentions_active(a))
            }
            Expr::Macro(m) => m.mac.path.is_ident("vec") && self.macro_mentions_active(&m.mac),
            Expr::Return(r) => r.expr.as_ref().is_some_and(|e| self.mentions_active(e)),
            Expr::Try(t) => self.mentions_active(&t.expr),
            Expr::Await(a) => self.mentions_active(&a.base),
            Expr::Async(a) => self.block_mentions_active(&a.block),
            Expr::Loop(l) => self.block_mentions_active(&l.body),
            Expr::Struct(s) => s.fields.iter().any(|f| self.mentions_active(&f.expr)),
            _ => false,
        }
    }

    fn block_mentions_active(&self, b: &syn::Block) -> bool {
        b.stmts.iter().any(|s| match s {
            SynStmt::Local(l) => l
                .init
                .as_ref()
                .is_some_and(|i| self.mentions_active(&i.expr)),
            SynStmt::Expr(e, _) => self.mentions_active(e) || self.assigns_active(e),
            _ => false,
        })
    }

    /// Whether `e` assigns to an active variable anywhere inside.
    fn assigns_active(&self, e: &Expr) -> bool {
        struct Finder<'b, 'c> {
            l: &'b Lowerer<'c>,
            found: bool,
        }
        impl<'ast> syn::visit::Visit<'ast> for Finder<'_, '_> {
            fn visit_expr(&mut self, e: &'ast Expr) {
                let left = match e {
                    Expr::Assign(a) => Some(&*a.left),
                    Expr::Binary(b) if is_compound(&b.op) => Some(&*b.left),
                    _ => None,
                };
                if let Some(root) = left.and_then(|l| self.l.place_root(l)) {
                    self.found |= self.l.is_active(root);
                }
                syn::visit::visit_expr(self, e);
            }
        }
        let mut f = Finder {
            l: self,
            found: false,
        };
        syn::visit::Visit::visit_expr(&mut f, e);
        f.found
    }

    fn macro_mentions_active(&self, mac: &syn::Macro) -> bool {
        match self.res.macro_args.get(&node_key(mac)).map(|a| &**a) {
            Some(MacroArgs::List(args)) => args.iter().any(|a| self.mentions_active(a)),
            _ => false,
        }
    }

    fn place_root(&self, e: &Expr) -> Option<VarId> {
        match e {
            Expr::Path(p) => self.var_of_use(p),
            Expr::Index(i) => self.place_root(&i.expr),
            Expr::Field(f) => self.place_root(&f.base),
            Expr::Paren(p) => self.place_root(&p.expr),
            Expr::Unary(u) => self.place_root(&u.expr),
            _ => None,
        }
    }

    // ---- blocks and statements ----

    /// Lowers the statements of `b` into `out`; returns the operand of its tail expression.
    fn block_into(&mut self, b: &syn::Block, out: &mut Vec<Stmt>) -> Option<Operand> {
        let fn_body = std::mem::take(&mut self.at_fn_body);
        let mut tail = None;
        let n = b.stmts.len();
        for (i, stmt) in b.stmts.iter().enumerate() {
            let last = i + 1 == n;
            let start = out.len();
            self.lower_stmt(stmt, last, fn_body, &mut tail, out);
            self.record_assigned_meta(start, out);
        }
        tail
    }

    /// After a statement of the current block: the metadata of `let y;` variables it
    /// assigned (in every branch, as Rust requires before `y` is read).
    fn record_assigned_meta(&mut self, start: usize, out: &mut Vec<Stmt>) {
        let scope = self.scope;
        let (now, later): (Vec<_>, Vec<_>) = std::mem::take(&mut self.pending_meta)
            .into_iter()
            .partition(|&(v, s, _)| s == scope && assigns(&out[start..], v));
        self.pending_meta = later;
        out.extend(now.into_iter().map(|(v, _, _)| Stmt::Meta(v)));
    }

    fn lower_stmt(
        &mut self,
        stmt: &SynStmt,
        last: bool,
        fn_body: bool,
        tail: &mut Option<Operand>,
        out: &mut Vec<Stmt>,
    ) {
        {
            match stmt {
                SynStmt::Local(local) => self.local(local, out),
                SynStmt::Expr(Expr::Return(r), _) if last && fn_body => {
                    *tail = Some(match &r.expr {
                        Some(e) => self.operand(e, out),
                        None => Operand::Passive(Passive {
                            tokens: quote::quote!(()),
                            vars: Vec::new(),
                        }),
                    });
                }
                SynStmt::Expr(e, None) if last => *tail = Some(self.tail_value(e, out)),
                SynStmt::Expr(e, _) => self.stmt_expr(e, out),
                SynStmt::Macro(m) => out.push(Stmt::Passive(m.to_token_stream())),
                SynStmt::Item(item) => out.push(Stmt::Passive(item.to_token_stream())),
            }
        }
    }

    /// A block's tail: control flow used as a statement (`if` with unit arms) or a value.
    fn tail_value(&mut self, e: &Expr, out: &mut Vec<Stmt>) -> Operand {
        match e {
            Expr::If(i) if !if_has_value(i) => {
                self.stmt_expr(e, out);
                Operand::Passive(Passive {
                    tokens: quote::quote!(()),
                    vars: Vec::new(),
                })
            }
            Expr::ForLoop(_) | Expr::While(_) | Expr::Assign(_) => {
                self.stmt_expr(e, out);
                Operand::Passive(Passive {
                    tokens: quote::quote!(()),
                    vars: Vec::new(),
                })
            }
            Expr::Binary(b) if is_compound(&b.op) => {
                self.stmt_expr(e, out);
                Operand::Passive(Passive {
                    tokens: quote::quote!(()),
                    vars: Vec::new(),
                })
            }
            _ => self.operand(e, out),
        }
    }

    fn local(&mut self, local: &syn::Local, out: &mut Vec<Stmt>) {
        let (pat, ty) = match &local.pat {
            Pat::Type(t) => (&*t.pat, Some((*t.ty).clone())),
            p => (p, None),
        };
        if let Some(init) = &local.init
            && init.diverge.is_some()
        {
            if self.mentions_active(&init.expr) {
                self.cx.error_spanned_by(
                    local,
                    "`let ... else` on an active value is not supported in #[differentiable]; use `if`/`else`",
                );
            }
            out.push(Stmt::Passive(local.to_token_stream()));
            return;
        }
        match pat {
            Pat::Ident(p) if p.subpat.is_none() => {
                let Some(&var) = self.res.bindings.get(&node_key(p)) else {
                    out.push(Stmt::Passive(local.to_token_stream()));
                    return;
                };
                self.vars[var].scope = self.scope;
                let init = local.init.as_ref().map(|i| self.rhs(&i.expr, out));
                if let Some(e) = &init
                    && self.expr_is_scalar(e)
                {
                    self.vars[var].scalar = true;
                }
                if init.is_none() && self.vars[var].active {
                    self.pending_meta.push((var, self.scope, self.loop_depth));
                }
                out.push(Stmt::Let {
                    var,
                    mutable: p.mutability.is_some(),
                    ty,
                    init,
                });
            }
            Pat::Tuple(t) if local.init.is_some() => {
                let Some(init) = &local.init else { return };
                let value = if self.mentions_active(&init.expr) {
                    self.operand(&init.expr, out)
                } else {
                    let v = self.new_var("t", init.expr.span(), false);
                    out.push(Stmt::Let {
                        var: v,
                        mutable: false,
                        ty,
                        init: Some(IrExpr::Passive(self.passive(&init.expr))),
                    });
                    Operand::Var(v, Vec::new())
                };
                self.destructure(t, value, out);
            }
            Pat::Wild(_) => {
                if let Some(init) = &local.init {
                    if self.mentions_active(&init.expr) {
                        self.operand(&init.expr, out);
                    } else {
                        out.push(Stmt::Passive(local.to_token_stream()));
                    }
                }
            }
            _ => {
                if local
                    .init
                    .as_ref()
                    .is_some_and(|i| self.mentions_active(&i.expr))
                {
                    self.cx.error_spanned_by(
                        &local.pat,
                        "this pattern is not supported on an active value in #[differentiable]; \
                         bind a plain name or a tuple of names",
                    );
                }
                out.push(Stmt::Passive(local.to_token_stream()));
            }
        }
    }

    fn destructure(&mut self, t: &syn::PatTuple, value: Operand, out: &mut Vec<Stmt>) {
        let Operand::Var(base, fields) = value else {
            self.cx.error_spanned_by(
                t,
                "cannot destructure this value in #[differentiable]; bind it to a name first",
            );
            return;
        };
        for (i, elem) in t.elems.iter().enumerate() {
            let mut path = fields.clone();
            path.push(Member::Unnamed(syn::Index {
                index: i as u32,
                span: elem.span(),
            }));
            let operand = Operand::Var(base, path);
            match elem {
                Pat::Ident(p) if p.subpat.is_none() => {
                    let Some(&var) = self.res.bindings.get(&node_key(p)) else { continue };
                    self.vars[var].scope = self.scope;
                    out.push(Stmt::Let { var, mutable: p.mutability.is_some(), ty: None, init: Some(IrExpr::Use(operand)) });
                }
                Pat::Tuple(inner) => {
                    let v = self.new_var("t", inner.span(), self.vars[base].active);
                    out.push(Stmt::Let { var: v, mutable: false, ty: None, init: Some(IrExpr::Use(operand)) });
                    self.destructure(inner, Operand::Var(v, Vec::new()), out);
                }
                Pat::Wild(_) => {}
                other => self.cx.error_spanned_by(
                    other,
                    "this pattern is not supported in #[differentiable]; bind a plain name or a tuple of names",
                ),
            }
        }
    }

    /// An expression statement.
    fn stmt_expr(&mut self, e: &Expr, out: &mut Vec<Stmt>) {
        match e {
            Expr::Assign(a) => self.assign(&a.left, AssignOp::Set, &a.right, out),
            Expr::Binary(b) if is_compound(&b.op) => {
                let op = match b.op {
                    syn::BinOp::AddAssign(_) => Some(AssignOp::Add),
                    syn::BinOp::SubAssign(_) => Some(AssignOp::Sub),
                    _ => None,
                };
                match op {
                    Some(op) => self.assign(&b.left, op, &b.right, out),
                    None => {
                        // `x *= e` / `x /= e` → `x = x * e`.
                        let bin = match b.op {
                            syn::BinOp::MulAssign(t) => syn::BinOp::Mul(syn::Token![*](t.span())),
                            _ => syn::BinOp::Div(syn::Token![/](b.op.span())),
                        };
                        let rhs = Expr::Binary(syn::ExprBinary {
                            attrs: Vec::new(),
                            left: b.left.clone(),
                            op: bin,
                            right: Box::new(Expr::Paren(syn::ExprParen {
                                attrs: Vec::new(),
                                paren_token: Default::default(),
                                expr: b.right.clone(),
                            })),
                        });
                        // The clone of `left` shares no node with the resolved tree: resolve
                        // its uses through the original.
                        self.assign_computed(&b.left, &b.right, &rhs, bin, out);
                    }
                }
            }
            Expr::If(i) => self.if_stmt(i, None, out),
            Expr::ForLoop(f) => self.for_loop(f, out),
            Expr::While(w) => self.while_loop(w, out),
            Expr::Block(b) if b.label.is_none() => {
                if let Some(tail) = self.block_into(&b.block, out)
                    && let Operand::Passive(Passive { tokens: ts, .. }) = tail
                    && !ts.is_empty()
                {
                    out.push(Stmt::Passive(quote::quote!(#ts;)));
                }
            }
            Expr::Loop(l) => {
                if self.block_mentions_active(&l.body) {
                    self.cx.error_spanned_by(
                        l.loop_token,
                        "`loop` is not supported in #[differentiable]; use `while` with a condition or `for` over a range",
                    );
                }
                out.push(Stmt::Passive(quote::quote!(#e;)));
            }
            Expr::Return(r) => {
                self.cx.error_spanned_by(
                    r.return_token,
                    "early `return` is not supported in #[differentiable]; compute the result in a variable and return it at the end",
                );
            }
            _ => {
                self.reject_unsupported(e);
                out.push(Stmt::Passive(quote::quote!(#e;)));
            }
        }
    }

    /// An expression statement that touches active values but is no assignment, loop or
    /// branch: lowering it reports the precise construct it contains.
    fn reject_unsupported(&mut self, e: &Expr) {
        if self.mentions_active(e) {
            let mut scratch = Vec::new();
            self.operand(e, &mut scratch);
        }
    }

    fn assign(&mut self, left: &Expr, op: AssignOp, right: &Expr, out: &mut Vec<Stmt>) {
        let Some(place) = self.place(left) else {
            if self.mentions_active(right) {
                self.cx.error_spanned_by(left, "cannot assign an active value here in #[differentiable]; assign to a local variable or an indexed element of one");
            }
            out.push(Stmt::Passive(assign_tokens(left, op, right)));
            return;
        };
        let mut value = self.rhs(right, out);
        if place.index.is_none() && op != AssignOp::Set {
            // `v += e` differentiates through an operand: `e` becomes one.
            value = IrExpr::Use(self.as_operand(value, right.span(), out));
        }
        if let Some(idx) = &place.index {
            // `y[i] -= e` → `y[i] = y[i] - e` keeps the rules to `=` and `+=` for elements.
            if op == AssignOp::Sub && self.vars[place.var].active {
                let read = self.temp(
                    IrExpr::Index {
                        base: Operand::Var(place.var, place.fields.clone()),
                        index: idx.clone(),
                    },
                    left.span(),
                    out,
                );
                let value = self.as_operand(value, right.span(), out);
                let diff = self.temp(
                    IrExpr::Binary(BinOp::Sub, read, value, right.span()),
                    right.span(),
                    out,
                );
                out.push(Stmt::Assign {
                    place,
                    op: AssignOp::Set,
                    value: IrExpr::Use(diff),
                    first: false,
                });
                return;
            }
        }
        // The first assignment of `let y;` (outside any loop it is not declared in) has no
        // old value: nothing to keep.
        let first = op == AssignOp::Set
            && place.index.is_none()
            && place.fields.is_empty()
            && self
                .pending_meta
                .iter()
                .any(|&(v, _, depth)| v == place.var && depth == self.loop_depth);
        out.push(Stmt::Assign {
            place,
            op,
            value,
            first,
        });
    }

    fn assign_computed(
        &mut self,
        left: &Expr,
        right: &Expr,
        _rhs: &Expr,
        bin: syn::BinOp,
        out: &mut Vec<Stmt>,
    ) {
        let Some(place) = self.place(left) else {
            out.push(Stmt::Passive(quote::quote!(#left #bin= #right;)));
            return;
        };
        let active = self.vars[place.var].active || self.mentions_active(right);
        if !active {
            let mut vars = self.free_vars(left);
            vars.extend(self.free_vars(right));
            let value = IrExpr::Passive(Passive {
                tokens: quote::quote!(#left #bin (#right)),
                vars,
            });
            out.push(Stmt::Assign {
                place,
                op: AssignOp::Set,
                value,
                first: false,
            });
            return;
        }
        let current = match &place.index {
            Some(idx) => self.temp(
                IrExpr::Index {
                    base: Operand::Var(place.var, place.fields.clone()),
                    index: idx.clone(),
                },
                left.span(),
                out,
            ),
            None => Operand::Var(place.var, place.fields.clone()),
        };
        let rhs = self.operand(right, out);
        let op = if matches!(bin, syn::BinOp::Mul(_)) {
            BinOp::Mul
        } else {
            BinOp::Div
        };
        out.push(Stmt::Assign {
            place,
            op: AssignOp::Set,
            value: IrExpr::Binary(op, current, rhs, right.span()),
            first: false,
        });
    }

    /// `x`, `x.field`, `x[i]`, `self.w[[i, j]]` as an assignment target.
    fn place(&mut self, e: &Expr) -> Option<Place> {
        match e {
            Expr::Path(p) => self.var_of_use(p).map(|var| Place {
                var,
                fields: Vec::new(),
                index: None,
            }),
            Expr::Paren(p) => self.place(&p.expr),
            Expr::Field(f) => {
                let mut p = self.place(&f.base)?;
                if p.index.is_some() {
                    return None;
                }
                p.fields.push(f.member.clone());
                Some(p)
            }
            Expr::Index(i) => {
                let mut p = self.place(&i.expr)?;
                if p.index.is_some() {
                    return None;
                }
                p.index = Some(self.passive(&i.index));
                Some(p)
            }
            Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) => self.place(&u.expr),
            _ => None,
        }
    }

    fn if_stmt(&mut self, i: &syn::ExprIf, result: Option<VarId>, out: &mut Vec<Stmt>) {
        if let Expr::Let(l) = &*i.cond {
            if self.block_mentions_active(&i.then_branch) || result.is_some() {
                self.cx.error_spanned_by(
                    l.let_token,
                    "`if let` is not supported around active code in #[differentiable]; use `if` with a boolean condition",
                );
            }
            out.push(Stmt::Passive(quote::quote!(#i)));
            return;
        }
        let flag = self.new_var("b", i.if_token.span, false);
        let cond = i.cond.to_token_stream();
        let then_b = self.branch(|l, out| {
            let tail = l.block_into(&i.then_branch, out);
            l.branch_result(result, tail, i.then_branch.brace_token.span.close(), out);
        });
        let else_b = self.branch(|l, out| match &i.else_branch {
            Some((_, els)) => match &**els {
                Expr::If(inner) => l.if_stmt(inner, result, out),
                Expr::Block(b) => {
                    let tail = l.block_into(&b.block, out);
                    l.branch_result(result, tail, b.block.brace_token.span.close(), out);
                }
                other => {
                    let tail = l.operand(other, out);
                    l.branch_result(result, Some(tail), other.span(), out);
                }
            },
            None => l.branch_result(result, None, i.if_token.span, out),
        });
        out.push(Stmt::If {
            flag,
            cond,
            then_b,
            else_b,
        });
    }

    fn branch_result(
        &mut self,
        result: Option<VarId>,
        tail: Option<Operand>,
        span: Span,
        out: &mut Vec<Stmt>,
    ) {
        let Some(var) = result else {
            if let Some(Operand::Passive(Passive { tokens: ts, .. })) = tail
                && !ts.is_empty()
            {
                out.push(Stmt::Passive(quote::quote!(#ts;)));
            }
            return;
        };
        let Some(tail) = tail else {
            self.cx.error_spanned_by(quote::quote_spanned!(span=> if), "this `if` is used as a value, so every branch needs a final expression (and an `else`)");
            return;
        };
        out.push(Stmt::Assign {
            place: Place {
                var,
                fields: Vec::new(),
                index: None,
            },
            op: AssignOp::Set,
            value: IrExpr::Use(tail),
            first: true,
        });
    }

    fn branch(&mut self, f: impl FnOnce(&mut Self, &mut Vec<Stmt>)) -> Block {
        let saved = self.scope;
        self.scope = self.next_scope;
        self.next_scope += 1;
        let mut stmts = Vec::new();
        f(self, &mut stmts);
        let block = Block {
            scope: self.scope,
            stmts,
        };
        self.scope = saved;
        block
    }

    fn for_loop(&mut self, f: &syn::ExprForLoop, out: &mut Vec<Stmt>) {
        if f.label.is_some() {
            self.cx.error_spanned_by(
                &f.label,
                "loop labels are not supported in #[differentiable]",
            );
        }
        let iter_var = self.new_var("it", f.for_token.span, false);
        let iter = f.expr.to_token_stream();
        let iter_vars = self.free_vars(&f.expr);
        let pat = f.pat.to_token_stream();
        self.loop_depth += 1;
        let body = self.branch(|l, out| {
            for v in pat_vars(&f.pat, l.res) {
                l.vars[v].scope = l.scope;
            }
            l.check_no_break(&f.body);
            if let Some(Operand::Passive(Passive { tokens: ts, .. })) = l.block_into(&f.body, out)
                && !ts.is_empty()
            {
                out.push(Stmt::Passive(quote::quote!(#ts;)));
            }
        });
        self.loop_depth -= 1;
        out.push(Stmt::For {
            iter_var,
            iter,
            iter_vars,
            pat,
            body,
        });
    }

    fn while_loop(&mut self, w: &syn::ExprWhile, out: &mut Vec<Stmt>) {
        if let Expr::Let(l) = &*w.cond {
            if self.block_mentions_active(&w.body) {
                self.cx.error_spanned_by(l.let_token, "`while let` is not supported around active code in #[differentiable]; use `while` with a boolean condition");
            }
            out.push(Stmt::Passive(quote::quote!(#w)));
            return;
        }
        let count = self.new_var("n", w.while_token.span, false);
        let cond = w.cond.to_token_stream();
        self.loop_depth += 1;
        let body = self.branch(|l, out| {
            l.check_no_break(&w.body);
            if let Some(Operand::Passive(Passive { tokens: ts, .. })) = l.block_into(&w.body, out)
                && !ts.is_empty()
            {
                out.push(Stmt::Passive(quote::quote!(#ts;)));
            }
        });
        self.loop_depth -= 1;
        out.push(Stmt::While { count, cond, body });
    }

    /// `break` and `continue` in a loop that computes active values.
    fn check_no_break(&self, body: &syn::Block) {
        if !self.block_mentions_active(body) {
            return;
        }
        struct Finder<'b>(&'b Ctxt);
        impl<'ast> syn::visit::Visit<'ast> for Finder<'_> {
            fn visit_expr_break(&mut self, b: &'ast syn::ExprBreak) {
                self.0.error_spanned_by(b.break_token, "`break` is not supported in a loop that computes active values in #[differentiable]; use `while` with a condition");
            }
            fn visit_expr_continue(&mut self, c: &'ast syn::ExprContinue) {
                self.0.error_spanned_by(c.continue_token, "`continue` is not supported in a loop that computes active values in #[differentiable]; use `if` around the rest of the body");
            }
            fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}
            fn visit_expr_for_loop(&mut self, _: &'ast syn::ExprForLoop) {}
            fn visit_expr_while(&mut self, _: &'ast syn::ExprWhile) {}
            fn visit_expr_loop(&mut self, _: &'ast syn::ExprLoop) {}
        }
        syn::visit::Visit::visit_block(&mut Finder(self.cx), body);
    }

    // ---- expressions ----

    /// The right-hand side of a `let` or assignment: the top operation is not forced into a temporary.
    fn rhs(&mut self, e: &Expr, out: &mut Vec<Stmt>) -> IrExpr {
        if !self.mentions_active(e) {
            return IrExpr::Passive(self.passive(e));
        }
        match e {
            Expr::Paren(p) => self.rhs(&p.expr, out),
            Expr::Group(g) => self.rhs(&g.expr, out),
            Expr::Reference(r) if r.mutability.is_none() => match self.operand(&r.expr, out) {
                Operand::Var(v, f) => IrExpr::Ref(Operand::Var(v, f)),
                other => IrExpr::Use(other),
            },
            Expr::Path(_) | Expr::Field(_) => IrExpr::Use(self.operand(e, out)),
            _ => self.expr(e, out),
        }
    }

    /// Lowers `e` to an operand, introducing temporaries for active operations.
    fn operand(&mut self, e: &Expr, out: &mut Vec<Stmt>) -> Operand {
        if !self.mentions_active(e) {
            return Operand::Passive(self.passive(e));
        }
        match e {
            Expr::Path(p) => match self.var_of_use(p) {
                Some(v) => Operand::Var(v, Vec::new()),
                None => Operand::Passive(self.passive(e)),
            },
            Expr::Paren(p) => self.operand(&p.expr, out),
            Expr::Group(g) => self.operand(&g.expr, out),
            Expr::Reference(r) => {
                if r.mutability.is_some() {
                    self.cx.error_spanned_by(e, "`&mut` of an active value is not supported in #[differentiable]; compute a new value and assign it");
                }
                self.operand(&r.expr, out)
            }
            Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) => self.operand(&u.expr, out),
            Expr::Field(f) => match self.operand(&f.base, out) {
                Operand::Var(v, mut fields) => {
                    fields.push(f.member.clone());
                    Operand::Var(v, fields)
                }
                passive => passive,
            },
            Expr::Block(b) if b.label.is_none() => match self.block_into(&b.block, out) {
                Some(op) => op,
                None => Operand::Passive(Passive {
                    tokens: quote::quote!(()),
                    vars: Vec::new(),
                }),
            },
            _ => {
                let ex = self.expr(e, out);
                match ex {
                    IrExpr::Use(op) => op,
                    other => self.temp(other, e.span(), out),
                }
            }
        }
    }

    fn as_operand(&mut self, e: IrExpr, span: Span, out: &mut Vec<Stmt>) -> Operand {
        match e {
            IrExpr::Use(op) => op,
            IrExpr::Passive(p) => Operand::Passive(p),
            other => self.temp(other, span, out),
        }
    }

    fn expr(&mut self, e: &Expr, out: &mut Vec<Stmt>) -> IrExpr {
        let span = e.span();
        match e {
            Expr::Binary(b) => {
                use syn::BinOp::*;
                let op = match b.op {
                    Add(_) => BinOp::Add,
                    Sub(_) => BinOp::Sub,
                    Mul(_) => BinOp::Mul,
                    Div(_) => BinOp::Div,
                    _ => {
                        self.cx.error_spanned_by(b.op, "this operator is not supported on active values in #[differentiable]; use `+ - * /`");
                        return IrExpr::Passive(self.passive(e));
                    }
                };
                let l = self.operand(&b.left, out);
                let r = self.operand(&b.right, out);
                IrExpr::Binary(op, l, r, b.op.span())
            }
            Expr::Unary(u) => match u.op {
                syn::UnOp::Neg(_) => IrExpr::Neg(self.operand(&u.expr, out), span),
                _ => IrExpr::Use(self.operand(&u.expr, out)),
            },
            Expr::Cast(c) => IrExpr::Cast(self.operand(&c.expr, out), (*c.ty).clone()),
            Expr::Index(i) => {
                let base = self.operand(&i.expr, out);
                IrExpr::Index {
                    base,
                    index: self.passive(&i.index),
                }
            }
            Expr::Tuple(t) => IrExpr::Tuple(t.elems.iter().map(|e| self.operand(e, out)).collect()),
            Expr::Array(a) => IrExpr::Array(a.elems.iter().map(|e| self.operand(e, out)).collect()),
            Expr::MethodCall(m) => self.method_call(m, e, out),
            Expr::Call(c) => self.call(c, e, out),
            Expr::If(i) => {
                let v = self.new_var("t", i.if_token.span, true);
                out.push(Stmt::Let {
                    var: v,
                    mutable: false,
                    ty: None,
                    init: None,
                });
                self.if_stmt(i, Some(v), out);
                out.push(Stmt::Meta(v));
                IrExpr::Use(Operand::Var(v, Vec::new()))
            }
            Expr::Path(_)
            | Expr::Field(_)
            | Expr::Paren(_)
            | Expr::Group(_)
            | Expr::Reference(_)
            | Expr::Block(_) => IrExpr::Use(self.operand(e, out)),
            _ => {
                self.reject(e);
                IrExpr::Passive(self.passive(e))
            }
        }
    }

    fn reject(&self, e: &Expr) {
        let (tokens, what): (TokenStream, &str) = match e {
            Expr::Closure(c) => (
                c.or1_token
                    .to_token_stream()
                    .into_iter()
                    .chain(c.or2_token.to_token_stream())
                    .collect(),
                "closures are not supported on active values in #[differentiable]; write a `for` loop or a separate #[differentiable] function",
            ),
            Expr::Match(m) => (
                m.match_token.to_token_stream(),
                "`match` on active values is not supported in #[differentiable]; use `if`/`else if`",
            ),
            Expr::Loop(l) => (
                l.loop_token.to_token_stream(),
                "`loop` is not supported in #[differentiable]; use `while` with a condition or `for` over a range",
            ),
            Expr::Try(t) => (
                t.question_token.to_token_stream(),
                "the `?` operator is not supported in #[differentiable]; handle the error before the differentiable code",
            ),
            Expr::Unsafe(u) => (
                u.unsafe_token.to_token_stream(),
                "`unsafe` blocks are not supported on active values in #[differentiable]",
            ),
            Expr::Async(a) => (
                a.async_token.to_token_stream(),
                "`async` blocks are not supported in #[differentiable]",
            ),
            Expr::Await(a) => (
                a.await_token.to_token_stream(),
                "`.await` is not supported in #[differentiable]",
            ),
            Expr::Return(r) => (
                r.return_token.to_token_stream(),
                "early `return` is not supported in #[differentiable]; compute the result in a variable and return it at the end",
            ),
            Expr::Break(b) => (
                b.break_token.to_token_stream(),
                "`break` is not supported in #[differentiable]",
            ),
            Expr::Continue(c) => (
                c.continue_token.to_token_stream(),
                "`continue` is not supported in #[differentiable]",
            ),
            Expr::Macro(m) => (
                m.mac.path.to_token_stream(),
                "macros cannot compute active values in #[differentiable]; for a buffer use `vec![0.0; n]` and assign its elements by index",
            ),
            Expr::Struct(s) => (
                s.path.to_token_stream(),
                "struct literals of active values are not supported in #[differentiable]; return a tuple",
            ),
            Expr::Range(r) => (
                r.limits.to_token_stream(),
                "ranges of active values are not supported in #[differentiable]",
            ),
            _ => (
                e.to_token_stream(),
                "this expression is not supported on active values in #[differentiable]",
            ),
        };
        self.cx.error_spanned_by(tokens, what);
    }

    fn method_call(
        &mut self,
        m: &syn::ExprMethodCall,
        whole: &syn::Expr,
        out: &mut Vec<Stmt>,
    ) -> IrExpr {
        let name = m.method.to_string();
        match symbol::method_kind(&name) {
            Some(MethodKind::Passive) => IrExpr::Passive(self.passive(whole)),
            Some(
                kind @ (MethodKind::FloatUnary(_) | MethodKind::ArrayNoArgs | MethodKind::Identity),
            ) => {
                let recv = self.operand(&m.receiver, out);
                let args = m
                    .args
                    .iter()
                    .map(|a| Operand::Passive(self.passive(a)))
                    .collect();
                IrExpr::Method {
                    kind,
                    name: m.method.clone(),
                    recv,
                    args,
                }
            }
            Some(kind @ (MethodKind::Powi | MethodKind::ArrayUnary)) => {
                let recv = self.operand(&m.receiver, out);
                let args = m
                    .args
                    .iter()
                    .map(|a| Operand::Passive(self.passive(a)))
                    .collect();
                IrExpr::Method {
                    kind,
                    name: m.method.clone(),
                    recv,
                    args,
                }
            }
            Some(kind @ (MethodKind::FloatNary(_) | MethodKind::Dot)) => {
                let recv = self.operand(&m.receiver, out);
                let args = m.args.iter().map(|a| self.operand(a, out)).collect();
                IrExpr::Method {
                    kind,
                    name: m.method.clone(),
                    recv,
                    args,
                }
            }
            None => {
                let recv = self.arg(&m.receiver, out);
                let args = m.args.iter().map(|a| self.arg(a, out)).collect();
                let span = m.method.span();
                let plan = self.new_var("plan", span, false);
                let pullback = self.new_var("pb", span, false);
                IrExpr::Call {
                    callee: Callee::Method {
                        recv,
                        name: m.method.clone(),
                        turbofish: m.turbofish.clone(),
                    },
                    args,
                    span,
                    plan,
                    pullback,
                }
            }
        }
    }

    fn call(&mut self, c: &syn::ExprCall, whole: &syn::Expr, out: &mut Vec<Stmt>) -> IrExpr {
        let Expr::Path(func) = &*c.func else {
            self.cx.error_spanned_by(
                &c.func,
                "only calls by path are supported on active values in #[differentiable]",
            );
            return IrExpr::Passive(self.passive(whole));
        };
        // `f64::sin(x)`, `T::max(a, b)`: the method form of a float method.
        if func.path.segments.len() == 2 && func.qself.is_none() {
            let name = func.path.segments[1].ident.to_string();
            let ty = func.path.segments[0].ident.to_string();
            let is_type = ty == "f32"
                || ty == "f64"
                || (ty.len() <= 2 && ty.chars().all(|ch| ch.is_ascii_uppercase()));
            if is_type && symbol::is_float_method(&name) && !c.args.is_empty() {
                let kind = symbol::method_kind(&name).unwrap_or(MethodKind::Passive);
                let recv = self.operand(&c.args[0], out);
                let args = c
                    .args
                    .iter()
                    .skip(1)
                    .map(|a| {
                        if kind == MethodKind::Powi {
                            Operand::Passive(self.passive(a))
                        } else {
                            self.operand(a, out)
                        }
                    })
                    .collect();
                return IrExpr::Method {
                    kind,
                    name: func.path.segments[1].ident.clone(),
                    recv,
                    args,
                };
            }
        }
        if let Some(spec) = symbol::rule(&func.path, c.args.len()) {
            let args = c.args.iter().map(|a| self.arg(a, out)).collect();
            return IrExpr::Rule {
                path: func.clone(),
                spec,
                args,
            };
        }
        let args = c.args.iter().map(|a| self.arg(a, out)).collect();
        let span = c.func.span();
        let plan = self.new_var("plan", span, false);
        let pullback = self.new_var("pb", span, false);
        IrExpr::Call {
            callee: Callee::Path(func.clone()),
            args,
            span,
            plan,
            pullback,
        }
    }

    fn arg(&mut self, e: &Expr, out: &mut Vec<Stmt>) -> Arg {
        if let Expr::Reference(r) = e
            && r.mutability.is_none()
            && let Expr::Array(list) = &*r.expr
            && self.mentions_active(e)
        {
            let ops = list
                .elems
                .iter()
                .map(|el| match el {
                    Expr::Reference(inner) => self.operand(&inner.expr, out),
                    other => {
                        self.cx.error_spanned_by(other, "write each element of a slice argument as a reference, as in `&[&a, &b]`");
                        self.operand(other, out)
                    }
                })
                .collect();
            let placeholder = Operand::Passive(Passive {
                tokens: quote::quote!(()),
                vars: Vec::new(),
            });
            return Arg {
                by_ref: true,
                no_grad: false,
                op: placeholder,
                list: Some(ops),
            };
        }
        match e {
            Expr::Reference(r) if r.mutability.is_none() => Arg {
                by_ref: true,
                no_grad: is_no_grad_value(&r.expr),
                op: self.operand(&r.expr, out),
                list: None,
            },
            Expr::Paren(p) => self.arg(&p.expr, out),
            _ => Arg {
                by_ref: false,
                no_grad: is_no_grad_value(e),
                op: self.operand(e, out),
                list: None,
            },
        }
    }
}

/// `no_grad(e)`, in parentheses or not.
fn is_no_grad_value(e: &Expr) -> bool {
    match e {
        Expr::Paren(p) => is_no_grad_value(&p.expr),
        Expr::Call(c) => is_no_grad_call(&c.func),
        _ => false,
    }
}

/// Whether an `if` produces a value: its first branch ends with an expression.
fn if_has_value(i: &syn::ExprIf) -> bool {
    match i.then_branch.stmts.last() {
        Some(SynStmt::Expr(e, None)) => match e {
            Expr::If(inner) => if_has_value(inner),
            Expr::ForLoop(_) | Expr::While(_) | Expr::Assign(_) => false,
            Expr::Binary(b) => !is_compound(&b.op),
            _ => true,
        },
        _ => false,
    }
}

fn is_compound(op: &syn::BinOp) -> bool {
    use syn::BinOp::*;
    matches!(
        op,
        AddAssign(_) | SubAssign(_) | MulAssign(_) | DivAssign(_)
    )
}

fn assign_tokens(left: &Expr, op: AssignOp, right: &Expr) -> TokenStream {
    match op {
        AssignOp::Set => quote::quote!(#left = #right;),
        AssignOp::Add => quote::quote!(#left += #right;),
        AssignOp::Sub => quote::quote!(#left -= #right;),
    }
}

fn pat_vars(p: &Pat, res: &Resolved) -> Vec<VarId> {
    struct Collect<'r>(&'r Resolved, Vec<VarId>);
    impl<'ast> syn::visit::Visit<'ast> for Collect<'_> {
        fn visit_pat_ident(&mut self, p: &'ast syn::PatIdent) {
            if let Some(&v) = self.0.bindings.get(&node_key(p)) {
                self.1.push(v);
            }
            syn::visit::visit_pat_ident(self, p);
        }
    }
    let mut c = Collect(res, Vec::new());
    syn::visit::Visit::visit_pat(&mut c, p);
    c.1
}

/// Whether `stmts` assign `v` (nested blocks included).
fn assigns(stmts: &[Stmt], v: VarId) -> bool {
    stmts.iter().any(|s| match s {
        Stmt::Assign { place, .. } => place.var == v,
        Stmt::If { then_b, else_b, .. } => assigns(&then_b.stmts, v) || assigns(&else_b.stmts, v),
        Stmt::For { body, .. } | Stmt::While { body, .. } => assigns(&body.stmts, v),
        _ => false,
    })
}
