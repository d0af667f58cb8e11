//! The reactive parts of the views, each kind behind one closure type: a reactive text, an
//! optional piece of view, a flag for a class or attribute, and an input's value. Leptos renders
//! every reactive closure through code made for that closure's type, so routing all of them
//! through these few types keeps one copy of that code per kind instead of one per place.
//! Event handlers (one boxed type per event kind) and plain attributes (one type per value
//! kind, whatever the attribute's name) follow the same rule.

use leptos::prelude::*;
use leptos::tachys::html::attribute::custom::{custom_attribute, CustomAttr};

type TextFn = Box<dyn Fn() -> String + Send + Sync>;
type ViewFn = Box<dyn Fn() -> Option<AnyView> + Send + Sync>;
type FlagFn = Box<dyn Fn() -> bool + Send + Sync>;

fn text_of(f: TextFn) -> impl IntoView {
    move || f()
}

fn view_of(f: ViewFn) -> impl IntoView {
    move || f()
}

fn flag_of(f: FlagFn) -> impl Fn() -> bool + Send + Sync + 'static {
    move || f()
}

/// A text node that follows `f`.
pub fn text(f: impl Fn() -> String + Send + Sync + 'static) -> impl IntoView {
    text_of(Box::new(f))
}

/// The view `f` returns, or nothing; follows `f`.
pub fn maybe(f: impl Fn() -> Option<AnyView> + Send + Sync + 'static) -> impl IntoView {
    view_of(Box::new(f))
}

/// A reactive flag for `class:…=` and boolean attributes.
pub fn flag(
    f: impl Fn() -> bool + Send + Sync + 'static,
) -> impl Fn() -> bool + Send + Sync + 'static {
    flag_of(Box::new(f))
}

/// A flag that follows `f` and notifies only when it changes.
pub fn memo_flag(f: impl Fn() -> bool + Send + Sync + 'static) -> Memo<bool> {
    memo_of(Box::new(f))
}

fn memo_of(f: FlagFn) -> Memo<bool> {
    Memo::new(move |_| f())
}

/// The current text of an input's signal, for `prop:value=`.
pub fn value(text: RwSignal<String>) -> impl Fn() -> String + Send + Sync + Copy + 'static {
    move || text.get()
}

/// One row of a keyed list: its key and how to build its view.
pub struct Row {
    key: String,
    view: Box<dyn FnOnce() -> AnyView + Send>,
}

impl std::fmt::Debug for Row {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Row").field("key", &self.key).finish()
    }
}

impl Row {
    /// A row whose view is built by `view` when a row of this key first appears.
    pub fn new(key: String, view: impl FnOnce() -> AnyView + Send + 'static) -> Row {
        Row {
            key,
            view: Box::new(view),
        }
    }
}

/// A key made of several parts, each prefixed with its length so that different parts never
/// give the same key.
pub fn key(parts: &[&str]) -> String {
    let mut out = String::new();
    for part in parts {
        out.push_str(&part.len().to_string());
        out.push(':');
        out.push_str(part);
    }
    out
}

type RowsFn = Box<dyn Fn() -> Vec<Row> + Send + Sync>;

fn rows_of(each: RowsFn) -> impl IntoView {
    view! { <For each=move || each() key=|r: &Row| r.key.clone() children=|r: Row| (r.view)() /> }
}

/// A keyed list of the rows `each` returns: rows keep their views while their keys stay.
pub fn rows(each: impl Fn() -> Vec<Row> + Send + Sync + 'static) -> impl IntoView {
    rows_of(Box::new(each))
}

/// An event handler: every handler of one event kind has this one type, so Leptos keeps one
/// copy of its listener code per kind instead of one per handler.
pub type Handler<E> = Box<dyn FnMut(E)>;

/// A `click` handler.
pub fn click(f: impl FnMut(leptos::ev::MouseEvent) + 'static) -> Handler<leptos::ev::MouseEvent> {
    Box::new(f)
}

/// A `click` handler that flips `flag`.
pub fn toggle(flag: RwSignal<bool>) -> Handler<leptos::ev::MouseEvent> {
    Box::new(move |_| flag.update(flip))
}

fn flip(value: &mut bool) {
    *value = !*value;
}

/// A `change` (or `scroll`) handler.
pub fn change(f: impl FnMut(leptos::ev::Event) + 'static) -> Handler<leptos::ev::Event> {
    Box::new(f)
}

/// A `keydown` handler.
pub fn keydown(
    f: impl FnMut(leptos::ev::KeyboardEvent) + 'static,
) -> Handler<leptos::ev::KeyboardEvent> {
    Box::new(f)
}

/// A form's `submit` handler: the page stays, and `f` runs.
pub fn submit(f: impl Fn() + 'static) -> Handler<leptos::ev::SubmitEvent> {
    submit_of(Box::new(f))
}

fn submit_of(f: Box<dyn Fn()>) -> Handler<leptos::ev::SubmitEvent> {
    Box::new(move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        f();
    })
}

/// An `input` handler that copies the input's value into `text`.
pub fn input(text: RwSignal<String>) -> Handler<leptos::ev::Event> {
    Box::new(move |ev| text.set(event_target_value(&ev)))
}

/// A plain attribute with a fixed value. Written `{attr("role", "status")}` in a view, every
/// such attribute has one type whatever its name, so Leptos keeps one copy of its attribute
/// code instead of one per attribute name.
pub fn attr(name: &'static str, value: &'static str) -> CustomAttr<&'static str, &'static str> {
    custom_attribute(name, value)
}

/// A plain attribute with a computed value (see [`attr`]).
pub fn attr_text(name: &'static str, value: String) -> CustomAttr<&'static str, String> {
    custom_attribute(name, value)
}
