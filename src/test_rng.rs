//! A tiny deterministic random number generator for property-style tests of
//! the domain logic (xorshift64*): no dependencies, same sequence on every
//! run, good enough to mix inputs. Test-only.

/// xorshift64* seeded with any non-zero value.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    /// A number in `0..n` (`n > 0`).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let x = self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33;
        usize::try_from(x).expect("33-bit value fits in usize") % n
    }

    /// One of `items` (not empty).
    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// True about `percent` times in a hundred.
    pub(crate) fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}
