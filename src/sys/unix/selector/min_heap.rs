//! A 4-ary min-heap: half the depth of a binary heap, and the four
//! children of a node side by side in one cache line (for 16-byte
//! items), which is what a timer queue of a million entries pays for
//! when it pops (`timer_queue.rs`).

/// Children per node.
const ARITY: usize = 4;

/// A min-heap of `T`s.
#[derive(Debug)]
pub(crate) struct MinHeap<T> {
    items: Vec<T>,
}

impl<T> Default for MinHeap<T> {
    fn default() -> MinHeap<T> {
        MinHeap { items: Vec::new() }
    }
}

impl<T: Ord + Copy> MinHeap<T> {
    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }

    /// The smallest item.
    pub(crate) fn peek(&self) -> Option<T> {
        self.items.first().copied()
    }

    pub(crate) fn push(&mut self, item: T) {
        self.items.push(item);
        self.sift_up(self.items.len() - 1);
    }

    /// Removes and returns the smallest item.
    pub(crate) fn pop(&mut self) -> Option<T> {
        let last = self.items.pop()?;
        let Some(top) = self.items.first_mut() else {
            return Some(last);
        };
        let top = std::mem::replace(top, last);
        self.sift_down(0);
        Some(top)
    }

    /// Keeps the items for which `keep` is true.
    pub(crate) fn retain(&mut self, keep: impl FnMut(&T) -> bool) {
        self.items.retain(keep);
        for parent in (0..self.items.len().div_ceil(ARITY)).rev() {
            self.sift_down(parent);
        }
    }

    fn sift_up(&mut self, mut child: usize) {
        let item = self.items[child];
        while child > 0 {
            let parent = (child - 1) / ARITY;
            if self.items[parent] <= item {
                break;
            }
            self.items[child] = self.items[parent];
            child = parent;
        }
        self.items[child] = item;
    }

    fn sift_down(&mut self, mut parent: usize) {
        let len = self.items.len();
        let item = self.items[parent];
        loop {
            let first = parent * ARITY + 1;
            if first >= len {
                break;
            }
            let children = first..(first + ARITY).min(len);
            let smallest = children
                .min_by_key(|&child| self.items[child])
                .unwrap_or(first);
            if self.items[smallest] >= item {
                break;
            }
            self.items[parent] = self.items[smallest];
            parent = smallest;
        }
        self.items[parent] = item;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_in_order_after_pushes_pops_and_retain() {
        // A deterministic shuffle (a linear congruential sequence).
        let mut x: u64 = 12345;
        let mut next = || {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            x >> 40
        };
        let mut heap = MinHeap::default();
        let mut model = Vec::new();
        for round in 0..2_000 {
            let value = next();
            heap.push(value);
            model.push(value);
            if round % 3 == 0 {
                model.sort_unstable();
                assert_eq!(heap.pop(), Some(model.remove(0)));
            }
        }
        heap.retain(|value| value % 2 == 0);
        model.retain(|value| value % 2 == 0);
        model.sort_unstable();
        assert_eq!(heap.len(), model.len());
        for value in model {
            assert_eq!(heap.peek(), Some(value));
            assert_eq!(heap.pop(), Some(value));
        }
        assert_eq!(heap.pop(), None);
    }
}
