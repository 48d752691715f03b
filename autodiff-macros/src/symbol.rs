//! The names the macro knows. It dispatches by name; the runtime resolves by type
//! (`__private::method::sin` serves `f32`, `f64`, `T: Real` and arrays alike).

/// What the backward rule of a method keeps from the forward sweep.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Keep {
    /// The receiver (input) `x`.
    Input,
    /// The output `y` (cheaper for `exp`, `sqrt`, `tanh`: ChainRules' Ω convention).
    Output,
}

/// How a known method is differentiated.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum MethodKind {
    /// `__private::method::NAME(&x)`, backward `NAME_back(d, &kept, &mut dx)`.
    FloatUnary(Keep),
    /// `powi(&x, n)`: an integer exponent, passive.
    Powi,
    /// Float method with float arguments: `NAME(&a, &b, ..)`, one backward per operand
    /// (`NAME_back_lhs`/`_rhs`, or `_0`, `_1`, `_2` for three operands).
    FloatNary(usize),
    /// `__private::array::NAME(&x, passive args..)`, backward `NAME_back(d, passive args.., &mut dx)`.
    ArrayUnary,
    /// `__private::array::NAME(&x)`, backward `NAME_back(d, &mut dx)`.
    ArrayNoArgs,
    /// `dot`: `dot_back_lhs(d, &b, &mut da)`, `dot_back_rhs(d, &a, &mut db)`.
    Dot,
    /// Identity on the value (`clone`, `to_owned`, `unwrap`, `expect`): forward as written,
    /// backward adds the adjoint through.
    Identity,
    /// Never differentiated (`len`, `shape`, ...): the call is passive.
    Passive,
}

const FLOAT_KEEP_INPUT: &[&str] = &[
    "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "ln", "log10", "log2", "ln_1p",
    "abs", "signum", "recip",
];
const FLOAT_KEEP_OUTPUT: &[&str] = &["exp", "exp2", "exp_m1", "sqrt", "cbrt", "tanh"];
const FLOAT_BINARY: &[&str] = &["powf", "log", "atan2", "hypot", "max", "min"];
const FLOAT_TERNARY: &[&str] = &["clamp", "mul_add"];
const ARRAY_WITH_ARGS: &[&str] = &[
    "sum_axis",
    "mean_axis",
    "into_shape_with_order",
    "insert_axis",
    "index_axis",
    "row",
    "column",
    "slice",
];
const ARRAY_NO_ARGS: &[&str] = &["t", "sum", "mean"];
const IDENTITY: &[&str] = &["clone", "to_owned", "unwrap", "expect"];
/// Methods whose result carries no derivative: shapes, lengths, comparisons.
pub const PASSIVE: &[&str] = &[
    "len",
    "is_empty",
    "shape",
    "dim",
    "raw_dim",
    "ndim",
    "nrows",
    "ncols",
    "strides",
    "is_nan",
    "is_finite",
    "is_infinite",
    "is_sign_positive",
    "is_sign_negative",
    "partial_cmp",
    "total_cmp",
    "to_string",
    "iter",
    "to_bits",
    "floor",
    "ceil",
    "round",
    "trunc",
    "fract",
    "is_standard_layout",
];

/// Classifies a method by name; `None` means "a user method with a `_vjp` companion".
pub fn method_kind(name: &str) -> Option<MethodKind> {
    let is = |list: &[&str]| list.contains(&name);
    Some(if is(FLOAT_KEEP_INPUT) {
        MethodKind::FloatUnary(Keep::Input)
    } else if is(FLOAT_KEEP_OUTPUT) {
        MethodKind::FloatUnary(Keep::Output)
    } else if name == "powi" {
        MethodKind::Powi
    } else if is(FLOAT_BINARY) {
        MethodKind::FloatNary(2)
    } else if is(FLOAT_TERNARY) {
        MethodKind::FloatNary(3)
    } else if name == "dot" {
        MethodKind::Dot
    } else if is(ARRAY_WITH_ARGS) {
        MethodKind::ArrayUnary
    } else if is(ARRAY_NO_ARGS) {
        MethodKind::ArrayNoArgs
    } else if is(IDENTITY) {
        MethodKind::Identity
    } else if is(PASSIVE) {
        MethodKind::Passive
    } else {
        return None;
    })
}

/// Whether `f64::NAME` / `f32::NAME` / `T::NAME` path calls should be read as the method form.
pub fn is_float_method(name: &str) -> bool {
    matches!(
        method_kind(name),
        Some(MethodKind::FloatUnary(_) | MethodKind::Powi | MethodKind::FloatNary(_))
    )
}

/// Keep-set of each operand for n-ary float methods: all operands.
pub fn nary_suffixes(n: usize) -> &'static [&'static str] {
    if n == 2 {
        &["lhs", "rhs"]
    } else {
        &["0", "1", "2"]
    }
}

/// Arguments of runtime functions that are floats but not differentiated (hyper-parameters):
/// `(module, function, positions)`. A call `nn::dropout(x, p, rng)` classifies `p` as passive.
const RUNTIME_HYPERPARAMETERS: &[(&str, &str, &[usize])] = &[
    ("nn", "leaky_relu", &[1]),
    ("nn", "elu", &[1]),
    ("nn", "dropout", &[1]),
    ("nn", "dropout2d", &[1]),
    ("nn", "huber", &[2]),
    ("nn", "batch_norm2d", &[3]),
    ("nn", "layer_norm", &[3]),
];

/// The hyper-parameter positions of a call to `path`, when it names a runtime function.
pub fn hyperparameters(path: &syn::Path) -> &'static [usize] {
    let segs: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    let [.., module, function] = segs.as_slice() else {
        return &[];
    };
    RUNTIME_HYPERPARAMETERS
        .iter()
        .find(|(m, f, _)| m == module && f == function)
        .map(|(_, _, p)| *p)
        .unwrap_or(&[])
}

/// A runtime function whose reverse sweep runs through `__private::rules` rather than its
/// `_vjp` closure: `NAME_back_i` for each argument `i`, taking the values of the arguments in
/// `needs[i]` (and, when `output`, the call's result).
pub struct RuleSpec {
    pub module: &'static str,
    pub name: &'static str,
    pub needs: &'static [&'static [usize]],
    pub output: bool,
}

const RULES: &[RuleSpec] = &[
    RuleSpec {
        module: "nn",
        name: "linear",
        needs: &[&[1], &[0], &[]],
        output: false,
    },
    RuleSpec {
        module: "nn",
        name: "linear_no_bias",
        needs: &[&[1], &[0]],
        output: false,
    },
    RuleSpec {
        module: "ops",
        name: "matmul",
        needs: &[&[1], &[0]],
        output: false,
    },
    RuleSpec {
        module: "nn",
        name: "relu",
        needs: &[&[]],
        output: true,
    },
];

/// The rule of a call to `path` with `arity` arguments, when it names one.
pub fn rule(path: &syn::Path, arity: usize) -> Option<&'static RuleSpec> {
    let segs: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    let [.., module, function] = segs.as_slice() else {
        return None;
    };
    RULES
        .iter()
        .find(|r| r.module == module && r.name == function && r.needs.len() == arity)
}
