//! Name resolution and activity analysis.
//!
//! Input: the function's parameters and body (`syn`). Output: [`Resolved`], which maps every
//! binding and every use of a local variable to a [`VarId`], and says which variables are
//! *active*: varied (they depend on a wrt input through differentiable operations) and
//! useful (their value reaches the output through differentiable operations). Everything
//! else is passive and is emitted exactly as the user wrote it.

use std::collections::{HashMap, HashSet};

use proc_macro2::Span;
use syn::{Expr, Ident, Pat, Stmt};

use crate::macro_args::MacroArgs;
use crate::symbol::{self, MethodKind};

/// A local variable, parameter or generated binding.
pub type VarId = usize;

/// What is known about one variable.
pub struct VarInfo {
    /// The user's name (before renaming).
    pub name: Ident,
    /// Declared as a function parameter.
    pub is_param: bool,
    /// Known to hold a scalar (declared `f32`/`f64`, or a float literal).
    pub scalar: bool,
}

/// The result of resolution: see the module documentation.
#[derive(Default)]
pub struct Resolved {
    pub vars: Vec<VarInfo>,
    /// Use sites (`ExprPath` nodes) → variable.
    pub uses: HashMap<usize, VarId>,
    /// Binding sites (`PatIdent` nodes and receiver) → variable.
    pub bindings: HashMap<usize, VarId>,
    /// The `self` receiver, if any.
    pub self_var: Option<VarId>,
    /// Variables that must be renamed because another binding shadows their name.
    pub renamed: HashSet<VarId>,
    pub active: HashSet<VarId>,
    /// Variables assigned (`=`, `op=`, `x[i] = ..`) somewhere after their declaration.
    pub assigned: HashSet<VarId>,
    /// Macro calls (`syn::Macro` nodes) → their arguments, parsed (the nodes `uses` names).
    pub macro_args: HashMap<usize, Box<MacroArgs>>,
    /// Macro calls not inside another one → the variables their arguments name.
    pub macros: HashMap<usize, MacroNames>,
}

/// The variables one macro call's arguments name (see `macro_args`).
pub struct MacroNames {
    /// For each single-segment path in its arguments, in visiting order, the variable.
    pub paths: Vec<Option<VarId>>,
    /// The names its format string captures from the scope, with their variables.
    pub captures: Vec<(String, VarId)>,
}

/// One definition of a variable: the variables its value depends on differentiably.
struct Def {
    target: VarId,
    deps: Vec<VarId>,
}

pub fn node_key<T>(node: &T) -> usize {
    node as *const T as usize
}

struct Resolver<'a> {
    out: &'a mut Resolved,
    scopes: Vec<Vec<(String, VarId)>>,
    depth: usize,
    defs: Vec<Def>,
    seen_names: HashMap<String, usize>,
    /// How many macro calls the resolver is inside.
    macro_depth: usize,
}

impl Resolver<'_> {
    fn declare(&mut self, ident: &Ident, key: usize, is_param: bool, scalar: bool) -> VarId {
        let id = self.out.vars.len();
        self.out.vars.push(VarInfo {
            name: ident.clone(),
            is_param,
            scalar,
        });
        let name = ident.to_string();
        let count = self.seen_names.entry(name.clone()).or_insert(0);
        *count += 1;
        if let Some(scope) = self.scopes.last_mut() {
            scope.push((name, id));
        }
        self.out.bindings.insert(key, id);
        id
    }

    fn lookup(&self, name: &str) -> Option<VarId> {
        self.scopes
            .iter()
            .rev()
            .flat_map(|s| s.iter().rev())
            .find(|(n, _)| n == name)
            .map(|(_, id)| *id)
    }

    /// Declares every identifier bound by a pattern; returns them in order.
    fn bind_pat(&mut self, pat: &Pat, scalar: bool) -> Vec<VarId> {
        let mut out = Vec::new();
        self.bind_pat_into(pat, scalar, &mut out);
        out
    }

    fn bind_pat_into(&mut self, pat: &Pat, scalar: bool, out: &mut Vec<VarId>) {
        match pat {
            Pat::Ident(p) => {
                if let Some((_, sub)) = &p.subpat {
                    self.bind_pat_into(sub, scalar, out);
                }
                out.push(self.declare(&p.ident, node_key(p), false, scalar));
            }
            Pat::Tuple(t) => t
                .elems
                .iter()
                .for_each(|p| self.bind_pat_into(p, false, out)),
            Pat::TupleStruct(t) => t
                .elems
                .iter()
                .for_each(|p| self.bind_pat_into(p, false, out)),
            Pat::Slice(t) => t
                .elems
                .iter()
                .for_each(|p| self.bind_pat_into(p, false, out)),
            Pat::Reference(r) => self.bind_pat_into(&r.pat, scalar, out),
            Pat::Type(t) => {
                let scalar = is_scalar_type(&t.ty);
                self.bind_pat_into(&t.pat, scalar, out)
            }
            Pat::Paren(p) => self.bind_pat_into(&p.pat, scalar, out),
            Pat::Struct(s) => s
                .fields
                .iter()
                .for_each(|f| self.bind_pat_into(&f.pat, false, out)),
            Pat::Or(o) => {
                if let Some(first) = o.cases.first() {
                    self.bind_pat_into(first, scalar, out)
                }
            }
            _ => {}
        }
    }

    fn block(&mut self, block: &syn::Block) -> Vec<VarId> {
        self.scopes.push(Vec::new());
        let mut tail = Vec::new();
        for (i, stmt) in block.stmts.iter().enumerate() {
            let last = i + 1 == block.stmts.len();
            match stmt {
                Stmt::Local(local) => {
                    let deps = match &local.init {
                        Some(init) => {
                            let d = self.expr(&init.expr);
                            if let Some((_, diverge)) = &init.diverge {
                                self.expr(diverge);
                            }
                            d
                        }
                        None => Vec::new(),
                    };
                    let scalar = local.init.as_ref().is_some_and(|i| is_scalar_expr(&i.expr));
                    let bound = self.bind_pat(&local.pat, scalar);
                    for target in bound {
                        self.defs.push(Def {
                            target,
                            deps: deps.clone(),
                        });
                    }
                }
                Stmt::Expr(e, semi) => {
                    let d = self.expr(e);
                    if last && (semi.is_none() || matches!(e, Expr::Return(_))) {
                        tail = d;
                    }
                }
                Stmt::Macro(m) => {
                    self.macro_tokens(&m.mac);
                }
                Stmt::Item(_) => {}
            }
        }
        self.scopes.pop();
        tail
    }

    /// Resolves names in `e`; returns the variables its value depends on differentiably.
    fn expr(&mut self, e: &Expr) -> Vec<VarId> {
        match e {
            Expr::Path(p) => {
                if p.qself.is_none() && p.path.segments.len() == 1 && p.path.leading_colon.is_none()
                {
                    let name = p.path.segments[0].ident.to_string();
                    if let Some(id) = self.lookup(&name) {
                        self.out.uses.insert(node_key(p), id);
                        return vec![id];
                    }
                }
                Vec::new()
            }
            Expr::Lit(_) => Vec::new(),
            Expr::Binary(b) => {
                let l = self.expr(&b.left);
                let r = self.expr(&b.right);
                use syn::BinOp::*;
                match b.op {
                    Add(_) | Sub(_) | Mul(_) | Div(_) => concat(l, r),
                    AddAssign(_) | SubAssign(_) | MulAssign(_) | DivAssign(_) => {
                        self.assignment(&b.left, concat(l, r));
                        Vec::new()
                    }
                    _ => Vec::new(), // comparisons, logic, integer-only operators
                }
            }
            Expr::Assign(a) => {
                let l = self.expr(&a.left);
                let r = self.expr(&a.right);
                // `y[i] = e` keeps y's other elements: y depends on itself too.
                let deps = if matches!(&*a.left, Expr::Index(_)) {
                    concat(l, r)
                } else {
                    r
                };
                self.assignment(&a.left, deps);
                Vec::new()
            }
            Expr::Unary(u) => {
                let d = self.expr(&u.expr);
                match u.op {
                    syn::UnOp::Neg(_) | syn::UnOp::Deref(_) => d,
                    _ => Vec::new(),
                }
            }
            Expr::Paren(p) => self.expr(&p.expr),
            Expr::Group(g) => self.expr(&g.expr),
            Expr::Reference(r) => self.expr(&r.expr),
            Expr::Cast(c) => {
                let d = self.expr(&c.expr);
                if is_scalar_type(&c.ty) { d } else { Vec::new() }
            }
            Expr::Field(f) => self.expr(&f.base),
            Expr::Index(i) => {
                let d = self.expr(&i.expr);
                self.expr(&i.index);
                d
            }
            Expr::Tuple(t) => t.elems.iter().flat_map(|e| self.expr(e)).collect(),
            Expr::Array(a) => a.elems.iter().flat_map(|e| self.expr(e)).collect(),
            Expr::Repeat(r) => {
                self.expr(&r.len);
                self.expr(&r.expr)
            }
            Expr::Block(b) => self.block(&b.block),
            Expr::Unsafe(u) => self.block(&u.block),
            Expr::If(i) => {
                self.expr(&i.cond);
                self.depth += 1;
                let mut d = self.block(&i.then_branch);
                if let Some((_, els)) = &i.else_branch {
                    d.extend(self.expr(els));
                }
                self.depth -= 1;
                d
            }
            Expr::Let(l) => {
                self.expr(&l.expr);
                self.bind_pat(&l.pat, false);
                Vec::new()
            }
            Expr::ForLoop(f) => {
                self.expr(&f.expr);
                self.depth += 1;
                self.scopes.push(Vec::new());
                self.bind_pat(&f.pat, false);
                self.block(&f.body);
                self.scopes.pop();
                self.depth -= 1;
                Vec::new()
            }
            Expr::While(w) => {
                self.depth += 1;
                self.scopes.push(Vec::new());
                self.expr(&w.cond);
                self.block(&w.body);
                self.scopes.pop();
                self.depth -= 1;
                Vec::new()
            }
            Expr::Loop(l) => {
                self.depth += 1;
                self.block(&l.body);
                self.depth -= 1;
                Vec::new()
            }
            Expr::Match(m) => {
                let mut d = self.expr(&m.expr);
                self.depth += 1;
                for arm in &m.arms {
                    self.scopes.push(Vec::new());
                    self.bind_pat(&arm.pat, false);
                    if let Some((_, g)) = &arm.guard {
                        self.expr(g);
                    }
                    d.extend(self.expr(&arm.body));
                    self.scopes.pop();
                }
                self.depth -= 1;
                d
            }
            Expr::Closure(c) => {
                self.scopes.push(Vec::new());
                for p in &c.inputs {
                    self.bind_pat(p, false);
                }
                let d = self.expr(&c.body);
                self.scopes.pop();
                d
            }
            Expr::MethodCall(m) => {
                let recv = self.expr(&m.receiver);
                let args: Vec<Vec<VarId>> = m.args.iter().map(|a| self.expr(a)).collect();
                match symbol::method_kind(&m.method.to_string()) {
                    Some(MethodKind::Passive) => Vec::new(),
                    Some(MethodKind::Powi | MethodKind::ArrayUnary | MethodKind::ArrayNoArgs) => {
                        recv
                    }
                    Some(MethodKind::Identity) => recv,
                    _ => concat(recv, args.concat()),
                }
            }
            Expr::Call(c) => {
                self.expr(&c.func);
                let args: Vec<VarId> = c.args.iter().flat_map(|a| self.expr(a)).collect();
                if is_no_grad_call(&c.func) {
                    Vec::new()
                } else {
                    args
                }
            }
            Expr::Macro(m) => self.macro_tokens(&m.mac),
            Expr::Return(r) => r.expr.as_ref().map(|e| self.expr(e)).unwrap_or_default(),
            Expr::Try(t) => self.expr(&t.expr),
            Expr::Await(a) => self.expr(&a.base),
            Expr::Async(a) => self.block(&a.block),
            Expr::Break(b) => {
                if let Some(e) = &b.expr {
                    self.expr(e);
                }
                Vec::new()
            }
            Expr::Range(r) => {
                if let Some(s) = &r.start {
                    self.expr(s);
                }
                if let Some(e) = &r.end {
                    self.expr(e);
                }
                Vec::new()
            }
            Expr::Struct(s) => s.fields.iter().flat_map(|f| self.expr(&f.expr)).collect(),
            _ => Vec::new(),
        }
    }

    /// Records `left = ...` (or `left op= ...`) as a definition of the assigned variable.
    fn assignment(&mut self, left: &Expr, deps: Vec<VarId>) {
        if let Some(target) = self.place_root(left) {
            self.out.assigned.insert(target);
            self.defs.push(Def { target, deps });
        }
    }

    fn place_root(&self, e: &Expr) -> Option<VarId> {
        match e {
            Expr::Path(p) => self.out.uses.get(&node_key(p)).copied(),
            Expr::Index(i) => self.place_root(&i.expr),
            Expr::Field(f) => self.place_root(&f.base),
            Expr::Paren(p) => self.place_root(&p.expr),
            Expr::Unary(u) => self.place_root(&u.expr),
            _ => None,
        }
    }

    /// Macro arguments are resolved when they parse as expressions (`vec![a, b]`,
    /// `println!("{}", x)`, see `macro_args`); they never make a value differentiable except
    /// `vec![..]`. The parsed arguments are kept (`Resolved::macro_args`), and the names in a
    /// macro that is not inside another one are recorded for renaming (`Resolved::macros`).
    fn macro_tokens(&mut self, mac: &syn::Macro) -> Vec<VarId> {
        let Some(args) = MacroArgs::parse(mac) else {
            return Vec::new();
        };
        // Boxed and kept in `Resolved::macro_args`: the keys of its nodes stay valid.
        let args = Box::new(args);
        self.macro_depth += 1;
        let mut deps = Vec::new();
        match &*args {
            MacroArgs::List(list) => list.iter().for_each(|a| deps.extend(self.expr(a))),
            MacroArgs::Repeat(e, n) => {
                deps.extend(self.expr(e));
                self.expr(n);
            }
        }
        self.macro_depth -= 1;
        if self.macro_depth == 0 {
            let paths = (args.paths().into_iter())
                .map(|p| self.out.uses.get(&node_key(p)).copied())
                .collect();
            let captures = (args.format_captures(mac).into_iter())
                .filter_map(|name| self.lookup(&name).map(|v| (name, v)))
                .collect();
            self.out
                .macros
                .insert(node_key(mac), MacroNames { paths, captures });
        }
        self.out.macro_args.insert(node_key(mac), args);
        if mac.path.is_ident("vec") {
            deps
        } else {
            Vec::new()
        }
    }
}

fn concat(mut a: Vec<VarId>, b: Vec<VarId>) -> Vec<VarId> {
    a.extend(b);
    a
}

/// `no_grad(e)` or `autodiff::no_grad(e)`.
pub fn is_no_grad_call(func: &Expr) -> bool {
    matches!(func, Expr::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "no_grad"))
}

thread_local! {
    /// The generic type parameters of the function being expanded that are bounded by
    /// `Real` (or `Float`): scalars, like `f32` and `f64` (see [`ScalarGenerics`]).
    static SCALAR_GENERICS: std::cell::RefCell<HashSet<String>> = Default::default();
}

/// Makes the scalar generic parameters of `generics` known to [`is_scalar_type`] while it
/// lives (one function's expansion).
pub struct ScalarGenerics(());

impl ScalarGenerics {
    pub fn enter(generics: &syn::Generics) -> Self {
        let scalar_bound = |b: &syn::TypeParamBound| {
            matches!(b, syn::TypeParamBound::Trait(t)
                if t.path.segments.last().is_some_and(|s| s.ident == "Real" || s.ident == "Float"))
        };
        let mut names: HashSet<String> = generics
            .type_params()
            .filter(|t| t.bounds.iter().any(scalar_bound))
            .map(|t| t.ident.to_string())
            .collect();
        if let Some(w) = &generics.where_clause {
            for p in &w.predicates {
                if let syn::WherePredicate::Type(t) = p
                    && let syn::Type::Path(ty) = &t.bounded_ty
                    && let Some(id) = ty.path.get_ident()
                    && t.bounds.iter().any(scalar_bound)
                {
                    names.insert(id.to_string());
                }
            }
        }
        SCALAR_GENERICS.with(|s| *s.borrow_mut() = names);
        ScalarGenerics(())
    }
}

impl Drop for ScalarGenerics {
    fn drop(&mut self) {
        SCALAR_GENERICS.with(|s| s.borrow_mut().clear());
    }
}

fn is_scalar_name(path: &syn::Path) -> bool {
    path.get_ident().is_some_and(|i| {
        i == "f32" || i == "f64" || SCALAR_GENERICS.with(|s| s.borrow().contains(&i.to_string()))
    })
}

/// `f32`, `f64`, a generic parameter bounded by `Real`, or a reference to one of these.
pub fn is_scalar_type(ty: &syn::Type) -> bool {
    match ty {
        syn::Type::Path(p) => p.qself.is_none() && is_scalar_name(&p.path),
        syn::Type::Reference(r) => is_scalar_type(&r.elem),
        syn::Type::Paren(p) => is_scalar_type(&p.elem),
        _ => false,
    }
}

fn is_scalar_expr(e: &Expr) -> bool {
    match e {
        Expr::Lit(l) => matches!(l.lit, syn::Lit::Float(_)),
        Expr::Cast(c) => is_scalar_type(&c.ty),
        // `T::zero()`, `f64::from(n)`, `T::from_f64(x)`: constructors of a scalar type.
        Expr::Call(c) => match &*c.func {
            Expr::Path(p) if p.qself.is_none() && p.path.segments.len() == 2 => {
                let ty: syn::Path = p.path.segments[0].ident.clone().into();
                let f = &p.path.segments[1].ident;
                is_scalar_name(&ty)
                    && ["zero", "one", "from", "from_f64", "from_f32", "epsilon"]
                        .iter()
                        .any(|n| f == n)
            }
            _ => false,
        },
        _ => false,
    }
}

/// Resolves the function body. `params` are `(ident, node key, is_wrt)`.
pub fn resolve(
    params: &[(Ident, usize, bool, bool)],
    receiver: Option<(usize, bool)>,
    body: &syn::Block,
) -> Resolved {
    let mut out = Resolved::default();
    let mut r = Resolver {
        out: &mut out,
        scopes: vec![Vec::new()],
        depth: 0,
        defs: Vec::new(),
        seen_names: HashMap::new(),
        macro_depth: 0,
    };
    let mut varied = HashSet::new();
    if let Some((key, wrt)) = receiver {
        let id = r.declare(&Ident::new("self", Span::call_site()), key, true, false);
        r.out.self_var = Some(id);
        if wrt {
            varied.insert(id);
        }
    }
    for (ident, key, wrt, scalar) in params {
        let id = r.declare(ident, *key, true, *scalar);
        if *wrt {
            varied.insert(id);
        }
    }
    let tail = r.block(body);
    let defs = std::mem::take(&mut r.defs);
    let seen = std::mem::take(&mut r.seen_names);
    drop(r);

    // Varied: forward closure of the wrt inputs over definitions.
    loop {
        let before = varied.len();
        for d in &defs {
            if d.deps.iter().any(|v| varied.contains(v)) {
                varied.insert(d.target);
            }
        }
        if varied.len() == before {
            break;
        }
    }
    // Useful: backward closure of the output over definitions.
    let mut useful: HashSet<VarId> = tail.into_iter().collect();
    loop {
        let before = useful.len();
        for d in &defs {
            if useful.contains(&d.target) {
                useful.extend(d.deps.iter().copied());
            }
        }
        if useful.len() == before {
            break;
        }
    }
    out.active = varied.intersection(&useful).copied().collect();
    for (id, info) in out.vars.iter().enumerate() {
        // Parameters keep their names: the signature is the user's.
        if !info.is_param && seen.get(&info.name.to_string()).copied().unwrap_or(0) > 1 {
            out.renamed.insert(id);
        }
    }
    out
}
