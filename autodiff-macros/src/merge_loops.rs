//! Adjacent loops over the same range merged into one (loop fusion), before the analysis.
//!
//! Code written element by element often runs several short loops over the same range in
//! a row: GMM's `xc[j] = x[j] - mu[j]` then `qx[j] = q[j] * xc[j]`. Each loop costs its
//! own counter, bounds checks and, in the reverse sweep, its own reversed loop; one loop
//! doing both bodies is what a hand-written adjoint does. Two loops
//!
//! ```text
//! for j in a..b { A }
//! for j in a..b { B }
//! ```
//!
//! become `for j in a..b { A B }` when running `A` and `B` interleaved computes exactly
//! what running them one after the other does. The conditions are conservative:
//! - the same loop variable (a plain name, shadowed by no `let` in either body) and the
//!   same range, written alike, whose bounds `A` does not assign;
//! - both bodies are arithmetic, float methods, element reads, `let`s, assignments and
//!   `if`s: nothing that could have an effect of its own (no macro, no call of anything
//!   but a float method or a pure method such as `len`, no nested loop);
//! - every variable either body assigns and both bodies mention is only ever used as
//!   `w[j]` in them: iteration `j` of `B` then reads only what iteration `j` of `A` wrote,
//!   and nothing a later iteration of `A` writes;
//! - no `let` of `A` binds a name `B` mentions (it would capture `B`'s use).
//!
//! Only `NAME_vjp` and `NAME_grad` see the merged loops; `NAME` stays as written.

use std::collections::{HashMap, HashSet};

use quote::ToTokens;
use syn::{BinOp, Block, Expr, Pat, Stmt, UnOp};

use crate::passive::{PURE_METHODS, idents};
use crate::symbol::is_float_method;

/// Merges, in `block` and every block inside it, each run of adjacent mergeable loops.
pub(crate) fn merge_adjacent_loops(block: &mut Block) {
    for s in &mut block.stmts {
        merge_inside_stmt(s);
    }
    let mut i = 0;
    while i + 1 < block.stmts.len() {
        if let (Some(first), Some(second)) = (as_for(&block.stmts[i]), as_for(&block.stmts[i + 1]))
            && mergeable(first, second)
        {
            let second = block.stmts.remove(i + 1);
            let Stmt::Expr(Expr::ForLoop(second), _) = second else {
                unreachable!("checked by `as_for`")
            };
            let Stmt::Expr(Expr::ForLoop(first), _) = &mut block.stmts[i] else {
                unreachable!("checked by `as_for`")
            };
            first.body.stmts.extend(second.body.stmts);
            // Stay at `i`: a third loop may follow.
        } else {
            i += 1;
        }
    }
}

fn merge_inside_stmt(s: &mut Stmt) {
    match s {
        Stmt::Expr(e, _) => merge_inside_expr(e),
        Stmt::Local(l) => {
            if let Some(init) = &mut l.init {
                merge_inside_expr(&mut init.expr);
            }
        }
        _ => {}
    }
}

fn merge_inside_expr(e: &mut Expr) {
    match e {
        Expr::ForLoop(f) => merge_adjacent_loops(&mut f.body),
        Expr::While(w) => merge_adjacent_loops(&mut w.body),
        Expr::Block(b) => merge_adjacent_loops(&mut b.block),
        Expr::If(i) => {
            merge_adjacent_loops(&mut i.then_branch);
            if let Some((_, els)) = &mut i.else_branch {
                merge_inside_expr(els);
            }
        }
        _ => {}
    }
}

fn as_for(s: &Stmt) -> Option<&syn::ExprForLoop> {
    match s {
        Stmt::Expr(Expr::ForLoop(f), _) if f.attrs.is_empty() && f.label.is_none() => Some(f),
        _ => None,
    }
}

/// The loop variable: a plain name.
fn loop_var(f: &syn::ExprForLoop) -> Option<String> {
    match &*f.pat {
        Pat::Ident(p) if p.by_ref.is_none() && p.mutability.is_none() && p.subpat.is_none() => {
            Some(p.ident.to_string())
        }
        _ => None,
    }
}

fn mergeable(a: &syn::ExprForLoop, b: &syn::ExprForLoop) -> bool {
    let Some(var) = loop_var(a) else {
        return false;
    };
    if loop_var(b).as_deref() != Some(var.as_str()) {
        return false;
    }
    let range = a.expr.to_token_stream();
    if range.to_string() != b.expr.to_token_stream().to_string() || !is_pure_range(&a.expr) {
        return false;
    }
    let (Some(fa), Some(fb)) = (Facts::of(&a.body, &var), Facts::of(&b.body, &var)) else {
        return false;
    };
    if idents(&range).iter().any(|n| fa.writes.contains(n)) {
        return false;
    }
    let b_names = idents(&b.body.to_token_stream());
    if fa.lets.iter().any(|n| b_names.contains(n)) {
        return false;
    }
    // Shared state: assigned by one body, mentioned by both, only as `w[j]`.
    fa.writes.union(&fb.writes).all(|w| {
        match (fa.own_element_only.get(w), fb.own_element_only.get(w)) {
            (Some(a_own), Some(b_own)) => *a_own && *b_own,
            // Mentioned by one body only: the other cannot observe the order.
            _ => true,
        }
    })
}

/// `start..end` or `start..=end` whose bounds can be evaluated once, before both loops.
fn is_pure_range(e: &Expr) -> bool {
    let Expr::Range(r) = e else {
        return false;
    };
    let bound = |b: &Option<Box<Expr>>| b.as_deref().is_some_and(is_pure_bound);
    bound(&r.start) && bound(&r.end)
}

fn is_pure_bound(e: &Expr) -> bool {
    match e {
        Expr::Lit(_) | Expr::Path(_) => true,
        Expr::Paren(p) => is_pure_bound(&p.expr),
        Expr::Field(f) => is_pure_bound(&f.base),
        Expr::Binary(b) => {
            !is_assign_op(&b.op) && is_pure_bound(&b.left) && is_pure_bound(&b.right)
        }
        Expr::MethodCall(m) => {
            m.turbofish.is_none()
                && PURE_METHODS.contains(&m.method.to_string().as_str())
                && is_pure_bound(&m.receiver)
                && m.args.iter().all(is_pure_bound)
        }
        _ => false,
    }
}

/// Whether `op` is a compound assignment (`+=`, `<<=`, ..).
pub(crate) fn is_assign_op(op: &BinOp) -> bool {
    matches!(
        op,
        BinOp::AddAssign(_)
            | BinOp::SubAssign(_)
            | BinOp::MulAssign(_)
            | BinOp::DivAssign(_)
            | BinOp::RemAssign(_)
            | BinOp::BitXorAssign(_)
            | BinOp::BitAndAssign(_)
            | BinOp::BitOrAssign(_)
            | BinOp::ShlAssign(_)
            | BinOp::ShrAssign(_)
    )
}

/// What a loop body binds, assigns and mentions; `None` when it holds something a merge
/// must not move.
#[derive(Default)]
struct Facts {
    lets: HashSet<String>,
    writes: HashSet<String>,
    /// Every name mentioned: whether each mention is `name[j]`, `j` the loop variable.
    own_element_only: HashMap<String, bool>,
}

impl Facts {
    fn of(body: &Block, loop_var: &str) -> Option<Facts> {
        let mut f = Facts::default();
        f.block(body, loop_var)?;
        if f.lets.contains(loop_var) {
            return None;
        }
        Some(f)
    }

    fn block(&mut self, b: &Block, var: &str) -> Option<()> {
        for s in &b.stmts {
            match s {
                Stmt::Local(l) => {
                    let init = l.init.as_ref()?;
                    if init.diverge.is_some() {
                        return None;
                    }
                    self.expr(&init.expr, var)?;
                    let name = match &l.pat {
                        Pat::Ident(p) if p.subpat.is_none() => &p.ident,
                        Pat::Type(t) => match &*t.pat {
                            Pat::Ident(p) if p.subpat.is_none() => &p.ident,
                            _ => return None,
                        },
                        _ => return None,
                    };
                    self.lets.insert(name.to_string());
                }
                Stmt::Expr(e, _) => self.statement(e, var)?,
                _ => return None,
            }
        }
        Some(())
    }

    /// An expression statement: an assignment or an `if`.
    fn statement(&mut self, e: &Expr, var: &str) -> Option<()> {
        match e {
            Expr::Assign(a) => {
                self.target(&a.left, var)?;
                self.expr(&a.right, var)
            }
            Expr::Binary(b) if is_assign_op(&b.op) => {
                self.target(&b.left, var)?;
                self.expr(&b.right, var)
            }
            Expr::If(i) => self.if_expr(i, var, true),
            _ => None,
        }
    }

    fn if_expr(&mut self, i: &syn::ExprIf, var: &str, statement: bool) -> Option<()> {
        self.expr(&i.cond, var)?;
        self.block(&i.then_branch, var)?;
        match i.else_branch.as_ref().map(|(_, e)| &**e) {
            None if statement => Some(()),
            Some(Expr::Block(b)) => self.block(&b.block, var),
            Some(Expr::If(nested)) => self.if_expr(nested, var, statement),
            _ => None,
        }
    }

    /// The left side of an assignment: `w` or `w[index]`.
    fn target(&mut self, e: &Expr, var: &str) -> Option<()> {
        let name = match e {
            Expr::Path(_) => single_name(e)?,
            Expr::Index(ix) => single_name(&ix.expr)?,
            _ => return None,
        };
        self.writes.insert(name);
        self.expr(e, var)
    }

    fn expr(&mut self, e: &Expr, var: &str) -> Option<()> {
        match e {
            Expr::Lit(_) => Some(()),
            Expr::Path(_) => {
                if let Some(name) = single_name(e) {
                    self.mention(name, false);
                }
                Some(())
            }
            Expr::Index(ix) => {
                if let Some(base) = single_name(&ix.expr) {
                    let own = single_name(&ix.index).is_some_and(|i| i == var);
                    self.mention(base, own);
                } else {
                    self.expr(&ix.expr, var)?;
                }
                self.expr(&ix.index, var)
            }
            Expr::Binary(b) if !is_assign_op(&b.op) => {
                self.expr(&b.left, var)?;
                self.expr(&b.right, var)
            }
            Expr::Unary(u) if matches!(u.op, UnOp::Neg(_) | UnOp::Not(_)) => {
                self.expr(&u.expr, var)
            }
            Expr::Paren(p) => self.expr(&p.expr, var),
            Expr::Group(g) => self.expr(&g.expr, var),
            Expr::Cast(c) => self.expr(&c.expr, var),
            Expr::Field(f) => self.expr(&f.base, var),
            Expr::Tuple(t) => t.elems.iter().try_for_each(|e| self.expr(e, var)),
            Expr::MethodCall(m) => {
                let name = m.method.to_string();
                if m.turbofish.is_some()
                    || !(is_float_method(&name) || PURE_METHODS.contains(&name.as_str()))
                {
                    return None;
                }
                self.expr(&m.receiver, var)?;
                m.args.iter().try_for_each(|a| self.expr(a, var))
            }
            // `f64::exp(x)` and the like.
            Expr::Call(c) => {
                let Expr::Path(p) = &*c.func else {
                    return None;
                };
                let last = p.path.segments.last()?;
                if p.path.segments.len() < 2 || !is_float_method(&last.ident.to_string()) {
                    return None;
                }
                c.args.iter().try_for_each(|a| self.expr(a, var))
            }
            Expr::If(i) => self.if_expr(i, var, false),
            _ => None,
        }
    }

    fn mention(&mut self, name: String, own_element: bool) {
        *self.own_element_only.entry(name).or_insert(true) &= own_element;
    }
}

/// `name` for a path of one segment without generics.
fn single_name(e: &Expr) -> Option<String> {
    match e {
        Expr::Path(p) if p.qself.is_none() && p.path.segments.len() == 1 => {
            let seg = &p.path.segments[0];
            seg.arguments.is_none().then(|| seg.ident.to_string())
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use quote::ToTokens;

    use super::merge_adjacent_loops;

    /// The body after merging, as tokens, and the number of top-level `for`s in it.
    fn merged(body: &str) -> (String, usize) {
        let mut b: syn::Block = syn::parse_str(body).expect("a block");
        merge_adjacent_loops(&mut b);
        let loops = b
            .stmts
            .iter()
            .filter(|s| matches!(s, syn::Stmt::Expr(syn::Expr::ForLoop(_), _)))
            .count();
        (b.to_token_stream().to_string(), loops)
    }

    #[test]
    fn loops_touching_their_own_elements_are_merged() {
        let (text, loops) = merged(
            "{ for j in 0..d { xc[j] = x[i * d + j] - mu[c * d + j]; }
               for j in 0..d { qx[j] = q[c * d + j].exp() * xc[j]; }
               for j in 0..d { let t = qx[j] * 2.0; if t > 0.0 { s += t; } } }",
        );
        assert_eq!(loops, 1, "{text}");
        let (text, loops) = merged(
            "{ for c in 0..k { for j in 0..d { a[j] = x[j]; } for j in 0..d { b[j] = a[j]; } } }",
        );
        assert_eq!((loops, text.matches("for j").count()), (1, 1), "{text}");
    }

    #[test]
    fn the_integration_test_merges_what_it_says() {
        // `tests/macro_checkpoint.rs` checks the gradients of `merged`.
        let item: syn::ItemFn = syn::parse_str(&crate::expand::loop_test_fn("merged")).unwrap();
        let mut body = *item.block;
        merge_adjacent_loops(&mut body);
        let loops: Vec<usize> = body
            .stmts
            .iter()
            .filter_map(|s| match s {
                syn::Stmt::Expr(syn::Expr::ForLoop(f), _) => Some(
                    f.body
                        .stmts
                        .iter()
                        .filter(|s| matches!(s, syn::Stmt::Expr(syn::Expr::ForLoop(_), _)))
                        .count(),
                ),
                _ => None,
            })
            .collect();
        // `e`'s two loops as one; the loop over points, its three inner loops as one; the
        // near misses as written.
        assert_eq!(loops, [0, 1, 0, 0, 0, 0]);
    }

    #[test]
    fn loops_that_could_see_a_different_order_are_not() {
        let cases = [
            // `B` reads an element `A` writes in a later iteration.
            "{ for j in 0..n { a[j] = x[j]; } for j in 0..n { b[j] = a[j + 1]; } }",
            // A scalar accumulated by `A` and read by `B`.
            "{ for j in 0..n { s += x[j]; } for j in 0..n { y[j] = x[j] / s; } }",
            // `A` writes a bound of the range.
            "{ for j in 0..n { n = 3; } for j in 0..n { y[j] = 1.0; } }",
            // Different ranges or names.
            "{ for j in 0..n { a[j] = 1.0; } for j in 0..m { b[j] = 2.0; } }",
            "{ for j in 0..n { a[j] = 1.0; } for i in 0..n { b[i] = 2.0; } }",
            "{ for j in (0..n).rev() { a[j] = 1.0; } for j in (0..n).rev() { b[j] = 2.0; } }",
            // Effects, calls and nested loops.
            "{ for j in 0..n { println!(\"{j}\"); } for j in 0..n { b[j] = 2.0; } }",
            "{ for j in 0..n { a[j] = f(x[j]); } for j in 0..n { b[j] = 2.0; } }",
            "{ for j in 0..n { for k in 0..n { a[j] += x[k]; } } for j in 0..n { b[j] = a[j]; } }",
            // A `let` of `A` would capture `B`'s `t`.
            "{ for j in 0..n { let t = x[j]; a[j] = t; } for j in 0..n { b[j] = t; } }",
            // The loop variable shadowed.
            "{ for j in 0..n { let j = 0; a[j] = 1.0; } for j in 0..n { b[j] = a[j]; } }",
            // The written array used whole.
            "{ for j in 0..n { a[j] = 1.0; } for j in 0..n { b[j] = a.len() as f64; } }",
        ];
        for case in cases {
            let (text, loops) = merged(case);
            assert_eq!(loops, 2, "merged: {text}");
        }
    }
}
