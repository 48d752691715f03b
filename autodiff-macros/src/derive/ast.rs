//! Input: the `syn::DeriveInput` of `#[derive(Differentiable)]`. Output: a [`Container`],
//! the struct with its attributes parsed and every rule checked.
//!
//! Nothing here returns early on a user mistake: each problem is pushed into the [`Ctxt`],
//! so one compile reports all of them.

use syn::{
    Attribute, Data, DeriveInput, Fields, Generics, Ident, LitStr, Meta, Path, Type, Visibility,
};

use super::generics;
use crate::ctxt::Ctxt;

/// `#[autodiff(...)]`: options of the derive (container) and roles of fields.
const AUTODIFF: &str = "autodiff";
/// `#[no_grad]`: a field that is not a parameter.
const NO_GRAD: &str = "no_grad";
/// `#[autodiff(crate = "path")]`: the path generated code reaches the library through.
const CRATE: &str = "crate";
/// `#[autodiff(training)]`: the `bool` field that `set_training` writes.
const TRAINING: &str = "training";
/// `#[autodiff(buffer)]`: a non-differentiable field that is saved and loaded.
const BUFFER: &str = "buffer";

/// The struct being derived, checked.
pub struct Container<'a> {
    pub ident: &'a Ident,
    pub vis: &'a Visibility,
    pub generics: &'a Generics,
    pub style: Style,
    pub fields: Vec<Field<'a>>,
    /// `::autodiff` unless `#[autodiff(crate = "...")]` says otherwise.
    pub krate: Path,
}

/// The shape of the struct, which its tangent struct copies.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// `struct Name { a: A, b: B }`.
    Named,
    /// `struct Name;`.
    Unit,
}

/// What a field is to the derive.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Role {
    /// A parameter: a field of the tangent, part of the leaves, saved and loaded.
    Param,
    /// `#[no_grad]`: left alone by everything the derive generates.
    NoGrad,
    /// `#[autodiff(buffer)]`: no gradient, but saved and loaded (running statistics).
    Buffer,
    /// `#[autodiff(training)]`: the `bool` that `TrainingMode::set_training` writes.
    Training,
}

/// One named field.
pub struct Field<'a> {
    pub ident: &'a Ident,
    pub vis: &'a Visibility,
    pub ty: &'a Type,
    pub role: Role,
}

impl<'a> Container<'a> {
    /// Parses and checks `input`; `None` only when an error was recorded.
    pub fn from_ast(cx: &Ctxt, input: &'a DeriveInput) -> Option<Container<'a>> {
        let krate = container_attrs(cx, &input.attrs);
        let (style, fields) = match &input.data {
            Data::Struct(data) => match &data.fields {
                Fields::Named(named) => (
                    Style::Named,
                    named
                        .named
                        .iter()
                        .filter_map(|f| Field::from_ast(cx, f))
                        .collect(),
                ),
                Fields::Unit => (Style::Unit, Vec::new()),
                Fields::Unnamed(unnamed) => {
                    cx.error_spanned_by(
                        unnamed,
                        "#[derive(Differentiable)] is not supported for tuple structs; \
                         give the fields names, as in `struct Name { weight: Array2<f32> }`",
                    );
                    return None;
                }
            },
            Data::Enum(data) => {
                cx.error_spanned_by(
                    data.enum_token,
                    "#[derive(Differentiable)] is not supported for enums; \
                     use a struct with named fields",
                );
                return None;
            }
            Data::Union(data) => {
                cx.error_spanned_by(
                    data.union_token,
                    "#[derive(Differentiable)] is not supported for unions; \
                     use a struct with named fields",
                );
                return None;
            }
        };
        let container = Container {
            ident: &input.ident,
            vis: &input.vis,
            generics: &input.generics,
            style,
            fields,
            krate: krate.unwrap_or_else(|| syn::parse_quote!(::autodiff)),
        };
        check_param_types(cx, &container);
        Some(container)
    }

    /// The fields of one role, in declaration order.
    pub fn fields_with(&self, role: Role) -> impl Iterator<Item = &Field<'a>> {
        self.fields.iter().filter(move |f| f.role == role)
    }
}

/// The container's `#[autodiff(crate = "...")]`, checking every derive attribute on it.
fn container_attrs(cx: &Ctxt, attrs: &[Attribute]) -> Option<Path> {
    let mut krate: Option<Path> = None;
    for attr in attrs {
        if attr.path().is_ident(NO_GRAD) {
            cx.error_spanned_by(
                attr,
                "`#[no_grad]` goes on a field, not on the struct; mark each constant field",
            );
        } else if attr.path().is_ident(AUTODIFF) {
            let parsed = attr.parse_nested_meta(|meta| {
                if meta.path.is_ident(CRATE) {
                    let lit: LitStr = meta.value()?.parse()?;
                    let path: Path = lit.parse().map_err(|_| {
                        syn::Error::new(
                            lit.span(),
                            "expected a path, as in `crate = \"::autodiff\"`",
                        )
                    })?;
                    if krate.is_some() {
                        cx.error_spanned_by(
                            &meta.path,
                            "duplicate `crate = ...`; give the path once",
                        );
                    }
                    krate = Some(path);
                    Ok(())
                } else if meta.path.is_ident(TRAINING) || meta.path.is_ident(BUFFER) {
                    Err(meta.error(format!(
                        "`{}` goes on a field, as in `#[autodiff({0})] field: ...`",
                        path_name(&meta.path)
                    )))
                } else {
                    Err(meta.error(format!(
                        "unknown option `{}` in #[autodiff(...)] on a struct; \
                         the one option is `crate = \"path\"`",
                        path_name(&meta.path)
                    )))
                }
            });
            if let Err(err) = parsed {
                cx.syn_error(err);
            }
        }
    }
    krate
}

impl<'a> Field<'a> {
    fn from_ast(cx: &Ctxt, field: &'a syn::Field) -> Option<Field<'a>> {
        let ident = field.ident.as_ref()?;
        let mut no_grad = false;
        let mut role: Option<(Role, Path)> = None;
        for attr in &field.attrs {
            if attr.path().is_ident(NO_GRAD) {
                if !matches!(attr.meta, Meta::Path(_)) {
                    cx.error_spanned_by(
                        &attr.meta,
                        "`#[no_grad]` takes no arguments; write `#[no_grad]`",
                    );
                } else if no_grad {
                    cx.error_spanned_by(attr, "duplicate `#[no_grad]` on this field");
                }
                no_grad = true;
            } else if attr.path().is_ident(AUTODIFF) {
                let parsed = attr.parse_nested_meta(|meta| {
                    let this = if meta.path.is_ident(TRAINING) {
                        Role::Training
                    } else if meta.path.is_ident(BUFFER) {
                        Role::Buffer
                    } else if meta.path.is_ident(CRATE) {
                        return Err(meta.error(
                            "`crate = ...` goes on the struct, as in `#[autodiff(crate = \"path\")] struct Name`",
                        ));
                    } else {
                        return Err(meta.error(format!(
                            "unknown option `{}` in #[autodiff(...)] on a field; \
                             expected `training` (the bool that `set_training` writes) \
                             or `buffer` (saved and loaded, but no gradient)",
                            path_name(&meta.path)
                        )));
                    };
                    match &role {
                        Some((previous, _)) if *previous == this => {
                            cx.error_spanned_by(&meta.path, "duplicate option on this field");
                        }
                        Some((_, previous)) => cx.error_spanned_by(
                            &meta.path,
                            format!(
                                "a field cannot be both `{}` and `{}`; choose one",
                                path_name(previous),
                                path_name(&meta.path)
                            ),
                        ),
                        None => role = Some((this, meta.path.clone())),
                    }
                    Ok(())
                });
                if let Err(err) = parsed {
                    cx.syn_error(err);
                }
            }
        }
        let role = match role {
            Some((role, _)) => role,
            None if no_grad => Role::NoGrad,
            None => Role::Param,
        };
        Some(Field {
            ident,
            vis: &field.vis,
            ty: &field.ty,
            role,
        })
    }
}

/// A parameter's tangent is a field of the tangent struct, which owns its data and is
/// `'static` (the `Tangent` trait requires it): a parameter type that borrows through one
/// of the struct's lifetimes, or that names `Self` (which would mean the tangent struct
/// there), has no tangent field type to write. Constant fields may do both.
fn check_param_types(cx: &Ctxt, container: &Container) {
    let params = generics::Params::new(container.generics);
    for field in container.fields_with(Role::Param) {
        if is_constant_type(field.ty) {
            cx.error_spanned_by(
                field.ty,
                format!(
                    "field `{}` has a type with no gradient (integers, `bool`, `char` and strings are \
                     constants); mark it `#[no_grad]`",
                    field.ident
                ),
            );
            continue;
        }
        let found = params.find_in_type(field.ty);
        if let Some(lifetime) = found.lifetimes.first() {
            cx.error_spanned_by(
                lifetime,
                format!(
                    "field `{}` borrows through `{lifetime}`, but #[derive(Differentiable)] needs \
                     owned parameters (tangents own their data); store an owned value, \
                     or mark the field `#[no_grad]`",
                    field.ident
                ),
            );
        }
        if let Some(self_token) = &found.self_type {
            cx.error_spanned_by(
                self_token,
                "`Self` in the type of a parameter field is not supported by \
                 #[derive(Differentiable)]; write the type's name",
            );
        }
    }
}

/// A parameter field must be differentiable, which rustc checks, but only after the
/// tangent struct is generated, and then at every use of it. The common mistake, a
/// counter or a flag left unmarked, is caught here instead, with one error: a type built
/// only of integers, `bool`, `char` and strings (through references, slices, arrays,
/// tuples, `Vec`, `Option` and `Box`), as `#[differentiable]`'s default rule reads it.
fn is_constant_type(ty: &Type) -> bool {
    match ty {
        Type::Reference(r) => is_constant_type(&r.elem),
        Type::Slice(s) => is_constant_type(&s.elem),
        Type::Array(a) => is_constant_type(&a.elem),
        Type::Paren(p) => is_constant_type(&p.elem),
        Type::Group(g) => is_constant_type(&g.elem),
        Type::Tuple(t) => !t.elems.is_empty() && t.elems.iter().all(is_constant_type),
        Type::Path(p) if p.qself.is_none() => {
            let Some(last) = p.path.segments.last() else {
                return false;
            };
            const CONSTANT: &[&str] = &[
                "usize", "isize", "u8", "u16", "u32", "u64", "u128", "i8", "i16", "i32", "i64",
                "i128", "bool", "char", "str", "String",
            ];
            if CONSTANT.iter().any(|c| last.ident == c) {
                return matches!(last.arguments, syn::PathArguments::None);
            }
            if ["Vec", "Option", "Box"].iter().any(|c| last.ident == c)
                && let syn::PathArguments::AngleBracketed(args) = &last.arguments
                && let Some(syn::GenericArgument::Type(inner)) = args.args.first()
            {
                return is_constant_type(inner);
            }
            false
        }
        _ => false,
    }
}

/// The path as the user wrote it, for messages.
fn path_name(path: &Path) -> String {
    let mut name = String::new();
    for (i, segment) in path.segments.iter().enumerate() {
        if i > 0 {
            name.push_str("::");
        }
        name.push_str(&segment.ident.to_string());
    }
    name
}
