//! Reverse loops on windows.
//!
//! The reverse of a loop that walks arrays element by element, `d_x[b + j] += ..` with `j`
//! the loop variable and `b` fixed in the loop, is slow for a reason the user's code does
//! not have: it writes several adjoint buffers, and the compiler cannot tell that they do
//! not overlap (nor overlap the arrays the loop reads), so every store may change what the
//! next load sees and the loop is neither vectorised nor freed of its bounds checks.
//! Fortran's aliasing rules give Tapenade's adjoints that guarantee for free; here the loop
//! runs on windows instead: each array's `b + lo .. b + hi` is taken once before the loop
//! and handed to a closure as a parameter (`__private::with_windowsN`), where a `&mut [T]`
//! parameter aliases nothing else and has the trip count as its length.
//!
//! The rewrite works on the emitted tokens of the loop body. An array (a primal or an
//! adjoint buffer) is windowed when every mention of it in the body is an element access
//! at one offset: `b + j` with `b` made of names the body does not change, or a counter
//! `l` that the body steps down by one in a statement of its own and changes nowhere else
//! (the reverse of `l += 1` in the user's loop, as in a packed triangle), so that `l` too
//! walks the window one element per iteration. The other arrays stay as they are,
//! captured by the closure. The loop qualifies when it writes through at least one
//! window and the body neither leaves the loop early nor nests another loop; otherwise it
//! keeps its form.

use std::collections::{HashMap, HashSet};

use proc_macro2::{Ident, Span, TokenStream};
use quote::{ToTokens, format_ident, quote};
use syn::visit::{self, Visit};
use syn::visit_mut::{self, VisitMut};
use syn::{BinOp, Expr};

use crate::emit::strip_parens;
use crate::merge_loops::is_assign_op;
use crate::passive::idents;

/// The most windows one loop takes (`__private::with_windows1` to `with_windows8`).
const MAX_WINDOWS: usize = 8;

/// An array of the loop body: its primal's name and its adjoint buffer's.
pub(crate) struct Array {
    pub primal: Ident,
    pub adjoint: Ident,
}

/// How a loop body reaches one name: `x[i]` or `__private::buffer(&mut d_x)[i]`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct Target {
    array: usize,
    adjoint: bool,
}

/// Where in its window an element access lands.
#[derive(Clone)]
enum Offset {
    /// `b + j`, or `j` alone for `None`.
    Affine(Option<Expr>),
    /// A counter (see [`counter_steps`]), read after its step or before it.
    Counter { name: Ident, stepped: bool },
}

impl Offset {
    fn same(&self, other: &Offset) -> bool {
        match (self, other) {
            (Offset::Affine(a), Offset::Affine(b)) => {
                a.to_token_stream().to_string() == b.to_token_stream().to_string()
            }
            (
                Offset::Counter { name, stepped },
                Offset::Counter {
                    name: other,
                    stepped: other_stepped,
                },
            ) => name == other && stepped == other_stepped,
            _ => false,
        }
    }
}

/// What the body does with one target.
struct Uses {
    /// The offset of every access, or `None` when one access has none or two disagree.
    offset: Option<Offset>,
    written: bool,
}

/// A window to take: the target, where the loop's accesses land, whether it writes.
struct Window {
    target: Target,
    offset: Offset,
    written: bool,
}

/// `for pat in rev(iter) { body }` running on windows, or `None` when the loop does not
/// qualify (see the module documentation).
pub(crate) fn windowed_reverse_loop(
    krate: &syn::Path,
    pat: &TokenStream,
    iter: &TokenStream,
    body: &TokenStream,
    arrays: &[Array],
) -> Option<TokenStream> {
    let j: Ident = syn::parse2(pat.clone()).ok()?;
    let (lo_expr, hi_expr) = half_open_range(syn::parse2(iter.clone()).ok()?)?;
    let block: syn::Block = syn::parse2(quote!({ #body })).ok()?;

    let steps = counter_steps(&block, arrays, &j);
    let mut scan = Scan {
        arrays,
        j: &j,
        steps: &steps,
        statement: 0,
        uses: HashMap::new(),
        order: Vec::new(),
        changed: HashMap::new(),
        leaves: false,
        closures: 0,
        in_closures: HashSet::new(),
        writing: false,
    };
    for (i, stmt) in block.stmts.iter().enumerate() {
        scan.statement = i;
        scan.visit_stmt(stmt);
    }
    if scan.leaves {
        return None;
    }
    let mut windows: Vec<Window> = Vec::new();
    for t in &scan.order {
        let uses = &scan.uses[t];
        let qualifies = match &uses.offset {
            None => false,
            Some(Offset::Affine(base)) => base.as_ref().is_none_or(|b| scan.invariant(b)),
            Some(Offset::Counter { name, .. }) => scan.is_counter(name),
        };
        if let (true, Some(offset)) = (qualifies, &uses.offset) {
            windows.push(Window {
                target: *t,
                offset: offset.clone(),
                written: uses.written,
            });
        }
    }
    // What the loop writes first: the guarantee is about stores.
    windows.sort_by_key(|w| !w.written);

    let span = Span::mixed_site();
    let (lo, hi) = (
        format_ident!("__lo", span = span),
        format_ident!("__hi", span = span),
    );
    let names: Vec<Ident> = (0..MAX_WINDOWS)
        .map(|i| format_ident!("__window{}", i, span = span))
        .collect();
    // An array the rewrite leaves named in the body (a `len()`, a call argument) would be
    // borrowed twice: it is left out, and the rest rewritten again.
    let block = loop {
        windows.truncate(MAX_WINDOWS);
        if !windows.iter().any(|w| w.written) {
            return None;
        }
        let by_target: HashMap<Target, (Ident, bool)> = windows
            .iter()
            .zip(&names)
            .map(|(w, n)| {
                let counter = matches!(w.offset, Offset::Counter { .. });
                (w.target, (n.clone(), counter))
            })
            .collect();
        let mut rewritten = block.clone();
        Rewrite {
            arrays,
            windows: &by_target,
            j: &j,
            lo: &lo,
        }
        .visit_block_mut(&mut rewritten);
        let left = idents(&rewritten.to_token_stream());
        let named: Vec<Target> = windows
            .iter()
            .map(|w| w.target)
            .filter(|t| left.contains(&target_name(arrays, *t).to_string()))
            .collect();
        if named.is_empty() {
            break rewritten;
        }
        windows.retain(|w| !named.contains(&w.target));
    };
    let names = &names[..windows.len()];

    let p = quote!(#krate::__private);
    // The window of `b + lo .. b + hi`, or an empty one when the range is empty (then `b`
    // is not evaluated: the loop would not have evaluated it either). A counter `l` reads
    // `l - 1` down to `l - trips` after its step, `l` down to `l + 1 - trips` before it;
    // its loop variable may be of any integer type, the counter is a `usize`.
    let take = |w: &Window, empty: bool| {
        let name = target_name(arrays, w.target);
        let array = if w.target.adjoint {
            quote!(#p::buffer(&mut #name))
        } else {
            quote!(#name)
        };
        let trips = quote!((#hi - #lo) as ::core::primitive::usize);
        let (start, len) = match (empty, &w.offset) {
            (true, _) => (quote!(0), quote!(0)),
            (false, Offset::Affine(Some(b))) => (quote!((#b) + #lo), quote!(#hi - #lo)),
            (false, Offset::Affine(None)) => (quote!(#lo), quote!(#hi - #lo)),
            (false, Offset::Counter { name, stepped }) => {
                let start = if *stepped {
                    quote!(#name - #trips)
                } else {
                    quote!(#name + 1 - #trips)
                };
                (start, trips)
            }
        };
        if w.written {
            quote!(#array.ad_window_mut(#start, #len))
        } else {
            quote!(#array.ad_window(#start, #len))
        }
    };
    let takes = windows.iter().map(|w| take(w, false));
    let empties = windows.iter().map(|w| take(w, true));
    let traits = [
        windows
            .iter()
            .any(|w| !w.written)
            .then(|| quote!(#p::Window as _)),
        windows
            .iter()
            .any(|w| w.written)
            .then(|| quote!(#p::WindowMut as _)),
    ];
    let traits = traits.iter().flatten();
    let with = format_ident!("with_windows{}", windows.len());
    // An ndarray window is a view value, written through `&mut` of the binding; a slice
    // window is a reference, whose binding needs no `mut`.
    let params = windows.iter().zip(names).map(|(w, n)| {
        if w.written {
            quote!(#[allow(unused_mut)] mut #n)
        } else {
            quote!(#n)
        }
    });
    Some(quote! {{
        #(use #traits;)*
        let (#lo, #hi) = (#lo_expr, #hi_expr);
        let (#(#names,)*) = if #lo < #hi { (#(#takes,)*) } else { (#(#empties,)*) };
        #p::#with(#(#names,)* |#(#params),*| {
            for #j in ::core::iter::Iterator::rev(#lo..#hi) #block
        });
    }})
}

/// The counters of a loop body and the statement that steps each: `l -= 1;` standing as a
/// statement of its own (so it runs once in every iteration), `l` a plain name that is
/// neither the loop variable nor an array. Whether `l` changes anywhere else is for the
/// scan to tell ([`Scan::is_counter`]).
fn counter_steps(block: &syn::Block, arrays: &[Array], j: &Ident) -> Vec<(Ident, usize)> {
    let is_one = |e: &Expr| {
        matches!(strip_parens(e), Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Int(i),
            ..
        }) if i.base10_digits() == "1")
    };
    let mut steps: Vec<(Ident, usize)> = Vec::new();
    for (at, stmt) in block.stmts.iter().enumerate() {
        let syn::Stmt::Expr(Expr::Binary(b), Some(_)) = stmt else {
            continue;
        };
        let Some(name) = single_ident(&b.left) else {
            continue;
        };
        let is_array = arrays
            .iter()
            .any(|a| a.primal == *name || a.adjoint == *name);
        if matches!(b.op, BinOp::SubAssign(_))
            && is_one(&b.right)
            && name != j
            && !is_array
            && !steps.iter().any(|(n, _)| n == name)
        {
            steps.push((name.clone(), at));
        }
    }
    steps
}

/// `lo` and `hi` of `lo..hi`.
fn half_open_range(e: Expr) -> Option<(Expr, Expr)> {
    match e {
        Expr::Paren(p) => half_open_range(*p.expr),
        Expr::Group(g) => half_open_range(*g.expr),
        Expr::Range(syn::ExprRange {
            start: Some(lo),
            limits: syn::RangeLimits::HalfOpen(_),
            end: Some(hi),
            ..
        }) => Some((*lo, *hi)),
        _ => None,
    }
}

fn target_name(arrays: &[Array], t: Target) -> &Ident {
    let a = &arrays[t.array];
    if t.adjoint { &a.adjoint } else { &a.primal }
}

/// The target `e` (the indexed expression of an element access) names, if any.
fn target_of(arrays: &[Array], e: &Expr) -> Option<Target> {
    let is = |e: &Expr, name: &Ident| single_ident(e).is_some_and(|i| i == name);
    if let Some(array) = arrays.iter().position(|a| is(e, &a.primal)) {
        return Some(Target {
            array,
            adjoint: false,
        });
    }
    // `__private::buffer(&mut d_x)`, as `reverse.rs` emits it.
    let Expr::Call(call) = e else { return None };
    let Expr::Path(f) = &*call.func else {
        return None;
    };
    let segments: Vec<String> = f
        .path
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    if !segments.ends_with(&["__private".into(), "buffer".into()]) || call.args.len() != 1 {
        return None;
    }
    let Expr::Reference(r) = &call.args[0] else {
        return None;
    };
    let array = arrays
        .iter()
        .position(|a| r.mutability.is_some() && is(&r.expr, &a.adjoint))?;
    Some(Target {
        array,
        adjoint: true,
    })
}

fn single_ident(e: &Expr) -> Option<&Ident> {
    match e {
        Expr::Path(p) if p.qself.is_none() => p.path.get_ident(),
        Expr::Paren(p) => single_ident(&p.expr),
        Expr::Group(g) => single_ident(&g.expr),
        _ => None,
    }
}

/// `Some(None)` for `j`, `Some(Some(b))` for `b + j` or `j + b` (`b` without `j`).
fn affine_base(e: &Expr, j: &Ident) -> Option<Option<Expr>> {
    match e {
        Expr::Paren(p) => affine_base(&p.expr, j),
        Expr::Group(g) => affine_base(&g.expr, j),
        _ if single_ident(e) == Some(j) => Some(None),
        Expr::Binary(b) if matches!(b.op, BinOp::Add(_)) => {
            let (l, r) = (&*b.left, &*b.right);
            let mentions_j = |e: &Expr| idents(&e.to_token_stream()).contains(&j.to_string());
            if single_ident(r) == Some(j) && !mentions_j(l) {
                Some(Some(l.clone()))
            } else if single_ident(l) == Some(j) && !mentions_j(r) {
                Some(Some(r.clone()))
            } else {
                None
            }
        }
        _ => None,
    }
}

/// The root variable of a place expression (`a` of `a.f[i]`).
fn root(e: &Expr) -> Option<&Ident> {
    match e {
        Expr::Field(f) => root(&f.base),
        Expr::Index(i) => root(&i.expr),
        Expr::Paren(p) => root(&p.expr),
        Expr::Group(g) => root(&g.expr),
        Expr::Unary(u) => root(&u.expr),
        _ => single_ident(e),
    }
}

/// What a loop body does: its element accesses, the names it changes or binds, whether it
/// may leave the loop early.
struct Scan<'a> {
    arrays: &'a [Array],
    j: &'a Ident,
    uses: HashMap<Target, Uses>,
    /// Targets in order of first access.
    order: Vec<Target>,
    /// The counters' steps (see [`counter_steps`]) and the statement of the body being
    /// scanned, which tells whether a counter is read before or after its step.
    steps: &'a [(Ident, usize)],
    statement: usize,
    /// Names assigned, borrowed mutably, used as a method receiver, bound by a `let` or a
    /// closure, or passed to a macro (anything a window's start must not depend on), with
    /// how many times.
    changed: HashMap<String, usize>,
    leaves: bool,
    closures: usize,
    /// The names that closures in the body mention.
    in_closures: HashSet<String>,
    /// Inside the place of an assignment or a `&mut`.
    writing: bool,
}

impl Scan<'_> {
    /// Whether `b` is pure arithmetic on names the body leaves alone.
    fn invariant(&self, b: &Expr) -> bool {
        let unchanged = |i: &Ident| {
            let name = i.to_string();
            *i != *self.j
                && !self.changed.contains_key(&name)
                && !self
                    .arrays
                    .iter()
                    .any(|a| a.primal == name || a.adjoint == name)
        };
        match b {
            Expr::Lit(_) => true,
            Expr::Path(p) => p.path.get_ident().is_none_or(unchanged),
            Expr::Paren(p) => self.invariant(&p.expr),
            Expr::Group(g) => self.invariant(&g.expr),
            Expr::Cast(c) => self.invariant(&c.expr),
            Expr::Field(f) => self.invariant(&f.base),
            Expr::Binary(e) => {
                matches!(
                    e.op,
                    BinOp::Add(_) | BinOp::Sub(_) | BinOp::Mul(_) | BinOp::Div(_) | BinOp::Rem(_)
                ) && self.invariant(&e.left)
                    && self.invariant(&e.right)
            }
            _ => false,
        }
    }

    /// Whether `name`, which has a step, changes nowhere else: then it moves by exactly
    /// one per iteration. A closure that names it could read it at another time than where
    /// the closure stands.
    fn is_counter(&self, name: &Ident) -> bool {
        let name = name.to_string();
        !self.in_closures.contains(&name) && self.changed.get(&name) == Some(&1)
    }

    fn changes(&mut self, place: &Expr) {
        if let Some(r) = root(place) {
            self.change(r.to_string());
        }
    }

    fn change(&mut self, name: String) {
        *self.changed.entry(name).or_default() += 1;
    }

    fn visit_writing(&mut self, e: &Expr) {
        let was = std::mem::replace(&mut self.writing, true);
        self.visit_expr(e);
        self.writing = was;
    }

    fn record(&mut self, t: Target, index: &Expr) {
        let counter = single_ident(index).and_then(|i| {
            let &(_, at) = self.steps.iter().find(|(name, _)| name == i)?;
            Some(Offset::Counter {
                name: i.clone(),
                stepped: self.statement > at,
            })
        });
        let offset = counter.or_else(|| affine_base(index, self.j).map(Offset::Affine));
        let writing = self.writing;
        match self.uses.get_mut(&t) {
            None => {
                self.order.push(t);
                self.uses.insert(
                    t,
                    Uses {
                        offset,
                        written: writing,
                    },
                );
            }
            Some(u) => {
                if !matches!((&u.offset, &offset), (Some(a), Some(b)) if a.same(b)) {
                    u.offset = None;
                }
                u.written |= writing;
            }
        }
    }
}

impl<'ast> Visit<'ast> for Scan<'_> {
    fn visit_expr(&mut self, e: &'ast Expr) {
        match e {
            Expr::Break(_) | Expr::Continue(_) | Expr::Return(_) | Expr::Try(_)
                if self.closures == 0 =>
            {
                self.leaves = true;
            }
            Expr::Await(_) | Expr::Yield(_) | Expr::ForLoop(_) | Expr::While(_) | Expr::Loop(_) => {
                self.leaves = true;
            }
            Expr::Closure(c) => {
                self.closures += 1;
                self.in_closures.extend(idents(&c.to_token_stream()));
                let was = std::mem::replace(&mut self.writing, false);
                visit::visit_expr_closure(self, c);
                self.writing = was;
                self.closures -= 1;
            }
            Expr::Assign(a) => {
                self.changes(&a.left);
                self.visit_writing(&a.left);
                self.visit_expr(&a.right);
            }
            Expr::Binary(b) if is_assign_op(&b.op) => {
                self.changes(&b.left);
                self.visit_writing(&b.left);
                self.visit_expr(&b.right);
            }
            Expr::Reference(r) if r.mutability.is_some() => {
                self.changes(&r.expr);
                self.visit_writing(&r.expr);
            }
            Expr::MethodCall(m) => {
                // The receiver may be borrowed mutably.
                self.changes(&m.receiver);
                self.visit_writing(&m.receiver);
                for a in &m.args {
                    self.visit_expr(a);
                }
            }
            Expr::Index(i) => match target_of(self.arrays, &i.expr) {
                Some(t) => {
                    self.record(t, &i.index);
                    let was = std::mem::replace(&mut self.writing, false);
                    self.visit_expr(&i.index);
                    self.writing = was;
                }
                None => {
                    self.visit_expr(&i.expr);
                    let was = std::mem::replace(&mut self.writing, false);
                    self.visit_expr(&i.index);
                    self.writing = was;
                }
            },
            // A place's parts stay places; anything else is read.
            Expr::Field(_) | Expr::Paren(_) | Expr::Group(_) => visit::visit_expr(self, e),
            _ => {
                let was = std::mem::replace(&mut self.writing, false);
                visit::visit_expr(self, e);
                self.writing = was;
            }
        }
    }

    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        for name in idents(&m.tokens) {
            self.change(name);
        }
    }

    fn visit_pat_ident(&mut self, p: &'ast syn::PatIdent) {
        self.change(p.ident.to_string());
        visit::visit_pat_ident(self, p);
    }
}

/// Replaces the windowed accesses `x[b + j]` (or `x[l]`) by `window[j - lo]`.
struct Rewrite<'a> {
    arrays: &'a [Array],
    /// Each windowed target's window, and whether a counter reaches it.
    windows: &'a HashMap<Target, (Ident, bool)>,
    j: &'a Ident,
    lo: &'a Ident,
}

impl VisitMut for Rewrite<'_> {
    fn visit_expr_mut(&mut self, e: &mut Expr) {
        if let Expr::Index(i) = e
            && let Some((w, counter)) =
                target_of(self.arrays, &i.expr).and_then(|t| self.windows.get(&t))
        {
            let (j, lo) = (self.j, self.lo);
            *i.expr = syn::parse_quote!(#w);
            *i.index = if *counter {
                syn::parse_quote!((#j - #lo) as ::core::primitive::usize)
            } else {
                syn::parse_quote!(#j - #lo)
            };
            return;
        }
        visit_mut::visit_expr_mut(self, e);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arrays(names: &[&str]) -> Vec<Array> {
        names
            .iter()
            .map(|n| Array {
                primal: format_ident!("{}", n),
                adjoint: format_ident!("d_{}", n),
            })
            .collect()
    }

    fn windowed(body: TokenStream, names: &[&str]) -> Option<String> {
        let k: syn::Path = syn::parse_quote!(::autodiff);
        windowed_reverse_loop(&k, &quote!(j), &quote!(0..n), &body, &arrays(names))
            .map(|t| t.to_string())
    }

    #[test]
    fn element_wise_loops_run_on_windows() {
        let body = quote! {
            let t = x[c * n + j];
            let g = ::core::mem::take(&mut ::autodiff::__private::buffer(&mut d_y)[j]);
            ::autodiff::__private::buffer(&mut d_x)[c * n + j] += g * t;
        };
        let out = windowed(body, &["x", "y"]).expect("windowed");
        assert!(out.contains("with_windows3"), "{out}");
        // Adjoints first, in order of access; the primal read through a shared window.
        assert!(out.contains("buffer (& mut d_y) . ad_window_mut (__lo , __hi - __lo)"));
        assert!(out.contains("buffer (& mut d_x) . ad_window_mut ((c * n) + __lo"));
        assert!(out.contains("x . ad_window ((c * n) + __lo"), "{out}");
        assert!(!out.contains("x [c * n + j]"), "{out}");
    }

    /// The expansion of `fn NAME` of `tests/macro_windows.rs`, as a string.
    fn expansion(name: &str) -> String {
        let src: TokenStream = crate::expand::windows_test_fn(name).parse().unwrap();
        crate::expand::expand(TokenStream::new(), src).to_string()
    }

    #[test]
    fn arrays_reached_otherwise_are_left_out_of_windows() {
        let out = expansion("near_misses");
        // `x` is read at two offsets, through a moving counter and whole (`x.len()`): it
        // is never windowed, while `y` beside it is. Its adjoint is reached only at `j` in
        // the third loop, windowed there (in `_vjp`; `_grad` fuses that loop).
        assert!(!out.contains("x . ad_window"), "{out}");
        assert!(out.contains("buffer (& mut d_y) . ad_window_mut"), "{out}");
        let windows_of_d_x = out.matches("buffer (& mut d_x) . ad_window_mut").count();
        assert_eq!(
            windows_of_d_x, 2,
            "one loop, its window and its empty window: {out}"
        );
    }

    #[test]
    fn counters_take_the_window_they_walk() {
        // Read after the step: `l - 1` down to `l - trips`.
        let after = quote! {
            l -= 1;
            let t = x[l];
            ::autodiff::__private::buffer(&mut d_x)[l] += t * y[j];
        };
        let out = windowed(after, &["x", "y"]).expect("windowed");
        let start = "l - (__hi - __lo) as :: core :: primitive :: usize";
        assert!(
            out.contains(&format!("d_x) . ad_window_mut ({start}")),
            "{out}"
        );
        assert!(out.contains(&format!("x . ad_window ({start}")), "{out}");
        assert!(
            out.contains("[(j - __lo) as :: core :: primitive :: usize]"),
            "{out}"
        );
        assert!(out.contains("l -= 1"), "the counter still counts: {out}");
        // Read before the step: `l` down to `l + 1 - trips`.
        let before = quote! {
            ::autodiff::__private::buffer(&mut d_x)[l] += 1.0;
            l -= 1;
        };
        let out = windowed(before, &["x"]).expect("windowed");
        assert!(
            out.contains("ad_window_mut (l + 1 - (__hi - __lo)"),
            "{out}"
        );
    }

    #[test]
    fn counters_that_do_not_walk_by_one_stay_as_they_are() {
        let d_x = quote!(::autodiff::__private::buffer(&mut d_x));
        for body in [
            // A step of two, two steps, a step under a condition.
            quote!(l -= 2; #d_x[l] += 1.0;),
            quote!(l -= 1; #d_x[l] += 1.0; l -= 1;),
            quote!(if c { l -= 1; } #d_x[l] += 1.0;),
            // Changed besides its step, or named in a closure.
            quote!(l -= 1; #d_x[l] += 1.0; l = 0;),
            quote!(l -= 1; #d_x[l] += f(|| l);),
            // Read on both sides of its step.
            quote!(#d_x[l] += 1.0; l -= 1; #d_x[l] += 1.0;),
        ] {
            assert!(windowed(body.clone(), &["x"]).is_none(), "{body}");
        }
    }

    #[test]
    fn the_packed_triangle_runs_on_windows() {
        let out = expansion("packed_triangle");
        // `t[l]` in the triangle, after the step, and `t[k]` before it, in `_vjp` and `_grad`.
        let after = "t . ad_window (l - (__hi - __lo)";
        let before = "t . ad_window (k + 1 - (__hi - __lo)";
        assert_eq!(out.matches(after).count(), 2, "{out}");
        assert_eq!(out.matches(before).count(), 2, "{out}");
    }

    #[test]
    fn loops_that_do_not_qualify_stay_as_they_are() {
        // Two offsets into one buffer.
        let two = quote!(::autodiff::__private::buffer(&mut d_x)[j + 1] += x[j];
                         ::autodiff::__private::buffer(&mut d_x)[j] += 1.0;);
        assert!(windowed(two, &["x"]).is_none());
        // An offset the body changes.
        let moving = quote!(l -= 1; ::autodiff::__private::buffer(&mut d_x)[l + j] += 1.0;);
        assert!(windowed(moving, &["x"]).is_none());
        // A mention besides element accesses.
        let len = quote!(::autodiff::__private::buffer(&mut d_x)[j] += d_x.len() as f64;);
        assert!(windowed(len, &["x"]).is_none());
        // Leaving early, or a nested loop.
        let early = quote!(::autodiff::__private::buffer(&mut d_x)[j] += 1.0; break;);
        assert!(windowed(early, &["x"]).is_none());
        let nested = quote!(for i in 0..2 {
            ::autodiff::__private::buffer(&mut d_x)[j] += 1.0;
        });
        assert!(windowed(nested, &["x"]).is_none());
    }
}
