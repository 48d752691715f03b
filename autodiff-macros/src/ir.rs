//! The lowered body: one primitive per `let` (A-normal form), structured control flow.
//!
//! Passive code (no active variable in a differentiable position) is kept as the user's
//! own tokens; active expressions are split so that every operand is a variable, a field
//! of one, or a passive expression.

use proc_macro2::{Span, TokenStream};
use syn::{Ident, Member, Type};

pub use crate::resolve::VarId;
use crate::symbol::MethodKind;

/// A variable of the lowered body.
pub struct Var {
    /// The name emitted in generated code.
    pub ident: Ident,
    /// Where the user wrote it (for spans of generated names).
    pub span: Span,
    /// Loop/branch scope it is declared in (`0`: the function's top level).
    pub scope: usize,
    pub active: bool,
    pub is_param: bool,
    /// Known to be a scalar (for rematerialization).
    pub scalar: bool,
}

/// A scope of the lowered body: the function, a loop body or a branch.
pub struct Block {
    pub scope: usize,
    pub stmts: Vec<Stmt>,
}

pub enum Stmt {
    /// `let var = init;` (or `let var;` when `init` is `None`: assigned in branches).
    Let {
        var: VarId,
        mutable: bool,
        ty: Option<Type>,
        init: Option<Expr>,
    },
    /// `place op value`.
    Assign {
        place: Place,
        op: AssignOp,
        value: Expr,
        first: bool,
    },
    /// `if flag { then } else { els }`, with `flag = cond` recorded before.
    If {
        flag: VarId,
        cond: TokenStream,
        then_b: Block,
        else_b: Block,
    },
    /// `for pat in iter { body }`, with the iterator kept in `iter_var`.
    For {
        iter_var: VarId,
        iter: TokenStream,
        /// The variables `iter` reads.
        iter_vars: Vec<VarId>,
        pat: TokenStream,
        body: Block,
    },
    /// `while cond { body }`, counting iterations in `count`.
    While {
        count: VarId,
        cond: TokenStream,
        body: Block,
    },
    /// Records the metadata of a variable initialised after its declaration (`let v;`).
    Meta(VarId),
    /// A passive statement, emitted as written (forward sweep only).
    Passive(TokenStream),
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum AssignOp {
    Set,
    Add,
    Sub,
}

/// An assignable place: a variable, a field path of one, optionally indexed.
#[derive(Clone)]
pub struct Place {
    pub var: VarId,
    pub fields: Vec<Member>,
    pub index: Option<Passive>,
}

/// A passive expression as the user wrote it, with the variables it reads (the reverse
/// sweep may emit it again, so those must be kept).
#[derive(Clone)]
pub struct Passive {
    pub tokens: TokenStream,
    pub vars: Vec<VarId>,
}

/// An operand: a variable (with a field path), or a passive expression.
#[derive(Clone)]
pub enum Operand {
    Var(VarId, Vec<Member>),
    Passive(Passive),
}

/// An argument of a call: the operand and whether the user passed it by reference.
#[derive(Clone)]
pub struct Arg {
    pub by_ref: bool,
    /// Written `no_grad(e)`: passive here, and possibly passed to a parameter the callee
    /// leaves out (`#[no_grad]`, `wrt(...)`), which returns no gradient for it (see
    /// `__private::EitherPlan`).
    pub no_grad: bool,
    pub op: Operand,
    /// `&[&a, &b]`: a slice argument written as a list of references, one operand each.
    pub list: Option<Vec<Operand>>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
}

impl BinOp {
    pub fn name(self) -> &'static str {
        match self {
            BinOp::Add => "add",
            BinOp::Sub => "sub",
            BinOp::Mul => "mul",
            BinOp::Div => "div",
        }
    }
}

/// The callee of a call with a `_vjp` companion.
pub enum Callee {
    /// `path::to::f::<T>` (the path with the last ident renamed to `f_vjp` on emission).
    Path(syn::ExprPath),
    /// `receiver.method::<T>`
    Method {
        recv: Arg,
        name: Ident,
        turbofish: Option<syn::AngleBracketedGenericArguments>,
    },
}

pub enum Expr {
    /// `op` (a move or copy).
    Use(Operand),
    /// `&op`.
    Ref(Operand),
    Binary(BinOp, Operand, Operand, Span),
    Neg(Operand, Span),
    Cast(Operand, Type),
    /// A method with a rule: `kind` says which.
    Method {
        kind: MethodKind,
        name: Ident,
        recv: Operand,
        args: Vec<Operand>,
    },
    /// A call with a `_vjp` companion; `plan` and `pullback` are the generated bindings
    /// that keep the call's argument classification and pullback for the reverse sweep.
    Call {
        callee: Callee,
        args: Vec<Arg>,
        span: Span,
        plan: VarId,
        pullback: VarId,
    },
    /// A runtime function differentiated through `__private::rules` (see `symbol::RuleSpec`).
    Rule {
        path: syn::ExprPath,
        spec: &'static crate::symbol::RuleSpec,
        args: Vec<Arg>,
    },
    /// `base[index]` with a passive index.
    Index {
        base: Operand,
        index: Passive,
    },
    Tuple(Vec<Operand>),
    Array(Vec<Operand>),
    /// A passive expression, as written.
    Passive(Passive),
}
