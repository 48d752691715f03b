//! Compile-time reverse-mode automatic differentiation for Rust.
//!
//! Put `#[differentiable]` on an ordinary function and call the generated `NAME_grad`
//! (value and gradient) or `NAME_vjp` (value and pullback). There is no tape at run time:
//! the macro rewrites the function's syntax into a forward sweep, which computes the value
//! and keeps what the derivative needs, and a reverse sweep, which accumulates adjoints.
//!
//! ```
//! use autodiff::differentiable;
//!
//! #[differentiable]
//! fn f(x: f64, y: f64) -> f64 {
//!     let z = x * y + x.sin();
//!     z.exp() / (1.0 + y * y)
//! }
//!
//! let (value, (dx, dy)) = f_grad(1.0, 2.0);
//! let (same, pullback) = f_vjp(1.0, 2.0);
//! assert_eq!(value, same);
//! assert_eq!(pullback(1.0), (dx, dy));
//! ```
//!
//! # What the body may contain
//! `let` (names and tuples), reassignment and `+= -= *= /=`, shadowing, `+ - * /`, unary
//! `-`, `as` casts between `f32` and `f64`, `if`/`else` as statements and expressions, `for`
//! over ranges (`rev`, `step_by`, `..=`), `while`, indexing reads and writes of slices,
//! `Vec`s, arrays and ndarray arrays, the float methods of `f32`/`f64`, ndarray operators
//! and methods (`dot`, `t`, `sum`, `mean`, `sum_axis`, `slice`, ...), calls to functions
//! that have a `_vjp` companion (other `#[differentiable]` functions, [`ops`], [`nn`],
//! hand-written rules), and any passive code (integer arithmetic, `println!`, `assert!`).
//! [`no_grad`] stops a gradient. Closures, `match`, `loop`/`break`/`continue`, early
//! `return`, `?`, `unsafe` and `&mut` of an active value are compile errors that say what
//! to write instead.
//!
//! # Loops and arrays
//! ```
//! use autodiff::differentiable;
//! use autodiff::ndarray::{Array1, Array2};
//!
//! /// The extended Rosenbrock function.
//! #[differentiable]
//! fn rosenbrock(x: &[f64]) -> f64 {
//!     let mut s = 0.0;
//!     for i in 0..x.len() / 2 {
//!         let a = x[2 * i + 1] - x[2 * i] * x[2 * i];
//!         let b = 1.0 - x[2 * i];
//!         s += 100.0 * a * a + b * b;
//!     }
//!     s
//! }
//!
//! let (value, grad) = rosenbrock_grad(&[1.0, 1.0, 0.5, 0.25]);
//! assert_eq!(value, 0.25);
//! assert_eq!(grad, vec![0.0, 0.0, -1.0, 0.0]);
//!
//! #[differentiable]
//! fn quadratic(a: &Array2<f64>, v: &Array1<f64>) -> f64 {
//!     let av = a.dot(v);
//!     av.dot(v)
//! }
//!
//! let a = Array2::from_shape_vec((2, 2), vec![2.0, 0.0, 0.0, 3.0]).unwrap();
//! let (_, (da, dv)) = quadratic_grad(&a, &Array1::from(vec![1.0, 2.0]));
//! assert_eq!(dv.to_vec(), vec![4.0, 12.0]);
//! assert_eq!(da[[1, 1]], 4.0);
//! ```
//!
//! # What the macro generates
//! For `fn f(x: X, y: Y) -> R` it emits `f` unchanged and, with the same visibility and
//! generics:
//! - `f_vjp(x, y) -> (R, impl FnOnce(R's tangent) -> (X's tangent, Y's tangent))`;
//! - `f_grad(x, y) -> (R, (X's tangent, Y's tangent))` when `R` is a scalar.
//!
//! The differentiable ("wrt") inputs are every parameter except those built only of
//! integers, `bool`, `char` and strings, `&mut` and `impl Trait` parameters, and those marked
//! `#[no_grad]`; `#[differentiable(wrt(a, b))]` names them instead. With one wrt input the
//! gradient is its bare tangent, with several a tuple. Tangent types are those of
//! [`Differentiable`]: a float's is the float, an array's an owned array of the same shape,
//! a struct's the `NameTangent` that `#[derive(Differentiable)]` generates.
//! `#[differentiable(debug)]` prints the expansion at compile time.

pub use autodiff_macros::{Differentiable, differentiable};
pub use autodiff_runtime::check;
pub use autodiff_runtime::io;
pub use autodiff_runtime::nn;
pub use autodiff_runtime::ops;
pub use autodiff_runtime::optim;
pub use autodiff_runtime::{ArrayExt, Differentiable, Leaf, LeafMut, Real, Tangent};
pub use ndarray;
pub use rand;

#[doc(hidden)]
pub use autodiff_runtime::__private;

/// The value of `e`, with no gradient flowing through it.
///
/// Inside `#[differentiable]` code, `no_grad(e)` treats `e` as a constant: its value is
/// used, but no adjoint flows back into the variables it was computed from.
///
/// ```
/// use autodiff::{differentiable, no_grad};
///
/// #[differentiable]
/// fn f(x: f64) -> f64 {
///     x * no_grad(x)
/// }
///
/// let (_, dx) = f_grad(3.0);
/// assert_eq!(dx, 3.0); // not 6.0: the second factor is a constant
/// ```
///
/// It is also how a call passes an argument to a parameter the callee leaves out
/// (`#[no_grad]` or `wrt(...)`), whose gradient the callee's pullback does not return:
///
/// ```
/// use autodiff::{differentiable, no_grad};
///
/// #[differentiable]
/// fn scaled(x: f64, #[no_grad] scale: f64) -> f64 {
///     scale * x
/// }
///
/// #[differentiable]
/// fn g(x: f64, #[no_grad] scale: f64) -> f64 {
///     scaled(x * x, no_grad(scale))
/// }
///
/// let (_, dx) = g_grad(3.0, 0.5);
/// assert_eq!(dx, 3.0); // 2 · scale · x
/// ```
#[inline(always)]
pub fn no_grad<T>(e: T) -> T {
    e
}
