//! One shared copy of the text that repeats across customers: owners,
//! plans, tags and custom-field keys and values, and whole tag and
//! custom-field lists. At 100,000 customers a few hundred distinct values
//! stand for millions of strings, so an [`Entry`](super::Entry) holds
//! reference-counted pointers into this pool instead of its own copies.
//!
//! The pool only grows, so it is capped: past [`POOL_MAX`] values of a kind
//! (a hostile or unusual account), text is still shared where it already
//! is and new text gets its own copy. Interning is lookup-only once the
//! pool has a value: no allocation. Takes already-sanitised text; no I/O.

use std::borrow::Borrow;
use std::hash::{Hash, Hasher};
use std::ops::Deref;
use std::sync::{Arc, LazyLock, Mutex, PoisonError};

use hashbrown::HashSet;

/// The most distinct values the pool keeps of each kind.
pub const POOL_MAX: usize = 65_536;
/// Longer text is rarely repeated: not worth a lookup.
const SHORT: usize = 64;

/// A shared, immutable string.
pub type Text = Shared<str>;
/// A shared custom-field list, sorted by key.
pub type FieldList = Shared<[(Text, Text)]>;
/// A shared tag list, in the server's order.
pub type TagList = Shared<[Text]>;

/// A shared, immutable value one pointer wide: the value's length lives
/// with the value, not in every holder, so an entry's owner, plan, tags
/// and custom fields cost it 8 bytes each instead of 16 (32 bytes a
/// customer). Compares, orders and hashes as the value does.
pub struct Shared<T: ?Sized>(Arc<Box<T>>);

impl<T: ?Sized> Shared<T> {
    /// Whether `a` and `b` are one allocation.
    #[must_use]
    pub fn ptr_eq(a: &Self, b: &Self) -> bool {
        Arc::ptr_eq(&a.0, &b.0)
    }
}

impl<T: ?Sized> Clone for Shared<T> {
    fn clone(&self) -> Self {
        Shared(Arc::clone(&self.0))
    }
}

impl<T: ?Sized> Deref for Shared<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: ?Sized> Borrow<T> for Shared<T> {
    fn borrow(&self) -> &T {
        &self.0
    }
}

impl<T: ?Sized> AsRef<T> for Shared<T> {
    fn as_ref(&self) -> &T {
        &self.0
    }
}

impl<T: ?Sized + PartialEq> PartialEq for Shared<T> {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl<T: ?Sized + Eq> Eq for Shared<T> {}

impl<T: ?Sized + PartialOrd> PartialOrd for Shared<T> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        (**self).partial_cmp(&**other)
    }
}

impl<T: ?Sized + Ord> Ord for Shared<T> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (**self).cmp(&**other)
    }
}

impl<T: ?Sized + Hash> Hash for Shared<T> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (**self).hash(state);
    }
}

impl<T: ?Sized + std::fmt::Debug> std::fmt::Debug for Shared<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        (**self).fmt(f)
    }
}

impl std::fmt::Display for Shared<str> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self)
    }
}

impl From<&str> for Shared<str> {
    fn from(text: &str) -> Self {
        Shared(Arc::new(Box::from(text)))
    }
}

impl From<String> for Shared<str> {
    fn from(text: String) -> Self {
        Shared(Arc::new(text.into_boxed_str()))
    }
}

impl<T: Clone> From<&[T]> for Shared<[T]> {
    fn from(items: &[T]) -> Self {
        Shared(Arc::new(Box::from(items)))
    }
}

impl<T> From<Vec<T>> for Shared<[T]> {
    fn from(items: Vec<T>) -> Self {
        Shared(Arc::new(items.into_boxed_slice()))
    }
}

#[derive(Default)]
struct Pool {
    texts: HashSet<Text>,
    tag_lists: HashSet<TagList>,
    field_lists: HashSet<FieldList>,
}

static POOL: LazyLock<Mutex<Pool>> = LazyLock::new(Mutex::default);

fn pool() -> std::sync::MutexGuard<'static, Pool> {
    // The pool holds no invariant a panic could break mid-way.
    POOL.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The shared copy of `text`.
#[must_use]
pub fn text(text: &str) -> Text {
    if text.len() > SHORT {
        return Text::from(text);
    }
    shared(&mut pool().texts, text, |t| Text::from(t))
}

/// The shared copy of a tag list.
#[must_use]
pub fn tags<S: AsRef<str>>(tags: &[S]) -> TagList {
    if tags.is_empty() {
        return empty_tags();
    }
    let list: Vec<Text> = tags.iter().map(|t| text(t.as_ref())).collect();
    shared(&mut pool().tag_lists, list.as_slice(), |l| TagList::from(l))
}

/// The shared copy of a custom-field list (sorted by key by the caller).
#[must_use]
pub fn fields<K: AsRef<str>, V: AsRef<str>>(fields: &[(K, V)]) -> FieldList {
    if fields.is_empty() {
        return empty_fields();
    }
    let list: Vec<(Text, Text)> = fields
        .iter()
        .map(|(k, v)| (text(k.as_ref()), text(v.as_ref())))
        .collect();
    shared(&mut pool().field_lists, list.as_slice(), |l| {
        FieldList::from(l)
    })
}

fn empty_tags() -> TagList {
    static EMPTY: LazyLock<TagList> = LazyLock::new(|| TagList::from(Vec::new()));
    EMPTY.clone()
}

fn empty_fields() -> FieldList {
    static EMPTY: LazyLock<FieldList> = LazyLock::new(|| FieldList::from(Vec::new()));
    EMPTY.clone()
}

/// The pool's copy of `value`, added when there is room.
fn shared<Q, T>(
    set: &mut HashSet<Shared<T>>,
    value: &Q,
    make: impl FnOnce(&Q) -> Shared<T>,
) -> Shared<T>
where
    T: ?Sized + Eq + Hash,
    Q: ?Sized + Eq + Hash,
    Shared<T>: Borrow<Q>,
{
    if let Some(found) = set.get(value) {
        return found.clone();
    }
    let made = make(value);
    if set.len() < POOL_MAX {
        set.insert(made.clone());
    }
    made
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_text_is_one_allocation() {
        let a = text("Growth");
        let b = text(&String::from("Growth"));
        assert!(Shared::ptr_eq(&a, &b));
        assert_eq!(&*a, "Growth");
    }

    #[test]
    fn equal_lists_are_shared_and_keep_their_order() {
        let a = tags(&["vip", "renewal"]);
        let b = tags(&[String::from("vip"), String::from("renewal")]);
        assert!(Shared::ptr_eq(&a, &b));
        assert_eq!(
            a.iter().map(|t| &**t).collect::<Vec<_>>(),
            ["vip", "renewal"]
        );
        assert!(!Shared::ptr_eq(&a, &tags(&["renewal", "vip"])));

        let f = fields(&[("region", "EMEA"), ("seats", "40")]);
        let g = fields(&[
            ("region".to_owned(), "EMEA".to_owned()),
            ("seats".into(), "40".into()),
        ]);
        assert!(Shared::ptr_eq(&f, &g));
        assert!(tags::<&str>(&[]).is_empty() && fields::<&str, &str>(&[]).is_empty());
    }

    #[test]
    fn long_text_is_not_pooled_but_reads_the_same() {
        let long = "x".repeat(SHORT + 1);
        let a = text(&long);
        let b = text(&long);
        assert!(!Shared::ptr_eq(&a, &b));
        assert_eq!(a, b);
    }
}
