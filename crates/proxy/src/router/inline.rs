//! A small vector that keeps its first `N` items on the stack, so a lookup
//! that touches few candidates and captures allocates nothing.

/// Stack storage for `N` items, then a heap `Vec` holding all of them.
#[derive(Debug, Clone)]
pub(crate) struct InlineVec<T: Copy + Default, const N: usize> {
    inline: [T; N],
    len: usize,
    /// Empty until the inline array overflows; then it holds every item.
    spill: Vec<T>,
}

impl<T: Copy + Default, const N: usize> Default for InlineVec<T, N> {
    fn default() -> Self {
        Self {
            inline: [T::default(); N],
            len: 0,
            spill: Vec::new(),
        }
    }
}

impl<T: Copy + Default, const N: usize> InlineVec<T, N> {
    pub(crate) fn push(&mut self, item: T) {
        if self.spill.is_empty() {
            if let Some(slot) = self.inline.get_mut(self.len) {
                *slot = item;
                self.len += 1;
                return;
            }
            self.spill.reserve(N * 2);
            self.spill.extend_from_slice(&self.inline);
        }
        self.spill.push(item);
    }

    pub(crate) fn pop(&mut self) {
        if self.spill.is_empty() {
            self.len = self.len.saturating_sub(1);
        } else {
            self.spill.pop();
            // Stay on the heap: `inline` no longer mirrors `spill`.
            if self.spill.is_empty() {
                self.len = 0;
            }
        }
    }

    pub(crate) fn as_slice(&self) -> &[T] {
        if self.spill.is_empty() {
            self.inline.get(..self.len).unwrap_or(&[])
        } else {
            &self.spill
        }
    }

    pub(crate) fn as_mut_slice(&mut self) -> &mut [T] {
        if self.spill.is_empty() {
            self.inline.get_mut(..self.len).unwrap_or(&mut [])
        } else {
            &mut self.spill
        }
    }
}

#[cfg(test)]
mod tests {
    use super::InlineVec;

    #[test]
    fn spills_and_pops() {
        let mut v: InlineVec<u32, 2> = InlineVec::default();
        for i in 0..5 {
            v.push(i);
        }
        assert_eq!(v.as_slice(), &[0, 1, 2, 3, 4]);
        for _ in 0..5 {
            v.pop();
        }
        assert!(v.as_slice().is_empty());
        v.push(7);
        v.push(8);
        assert_eq!(v.as_slice(), &[7, 8]);
        v.pop();
        assert_eq!(v.as_mut_slice(), &mut [7]);
    }
}
