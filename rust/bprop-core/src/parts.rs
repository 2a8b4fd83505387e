//! Gradients of containers of which only some components were reached.
//!
//! Reading a field of a record (a lens view, one field of a split) contributes a gradient to that
//! field alone. Haskell's backprop embeds each such contribution in a whole zero record and adds
//! records, so `k` field reads of an `n`-field record cost `O(k·n)`: the dominating overhead its
//! own documentation names. Here the contribution stays a [`Parts`]: the component's index plus
//! its gradient. Adding parts updates only the touched slots in place, so `k` reads cost `O(k)`
//! after one `O(n)` slot vector for the record; the whole gradient is built once, when someone
//! needs it (the record node's own pullback, or the caller reading an input's gradient).
//!
//! `L` is the layout: what the gradient type needs to rebuild the whole container later (the
//! bindings keep the container's Python value there). The core never looks inside it.

use crate::backprop::Backprop;

/// A container gradient given component by component; unlisted components are zero.
#[derive(Debug, Clone)]
pub struct Parts<G, L> {
    layout: L,
    len: usize,
    slots: Slots<G>,
}

#[derive(Debug, Clone)]
enum Slots<G> {
    /// The common first contribution: one component (no slot vector yet).
    One(usize, G),
    /// Per component, its gradient so far (`None`: not reached).
    Many(Vec<Option<G>>),
}

impl<G: Backprop, L> Parts<G, L> {
    /// The gradient `g` of component `index` of a container with `len` components.
    pub fn one(layout: L, len: usize, index: usize, g: G) -> Self {
        debug_assert!(index < len, "component {index} of a container of {len}");
        Parts {
            layout,
            len,
            slots: Slots::One(index, g),
        }
    }

    /// Gradients for every component (`None`: not reached), e.g. from a whole container
    /// gradient that was taken apart.
    pub fn from_slots(layout: L, slots: Vec<Option<G>>) -> Self {
        Parts {
            layout,
            len: slots.len(),
            slots: Slots::Many(slots),
        }
    }

    pub fn layout(&self) -> &L {
        &self.layout
    }

    /// Number of components of the container.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The sum of two gradients of the same container, slot by slot (components reached in both
    /// are added with `G::add`). Costs `O(components reached in the smaller side)` plus, the first
    /// time two different components meet, one slot vector of `len`. (Not `std::ops::Add`: the
    /// sum can fail, as `G::add` can.)
    pub fn merge(self, other: Self) -> Result<Self, G::Error> {
        let len = self.len.max(other.len);
        let layout = self.layout;
        let slots = match (self.slots, other.slots) {
            (Slots::One(i, a), Slots::One(j, b)) if i == j => Slots::One(i, a.add(b)?),
            (Slots::One(i, a), Slots::One(j, b)) => {
                let mut v = empty_slots(len);
                v[i] = Some(a);
                v[j] = Some(b);
                Slots::Many(v)
            }
            (Slots::Many(mut v), Slots::One(i, b)) | (Slots::One(i, b), Slots::Many(mut v)) => {
                if v.len() < len {
                    v.resize_with(len, || None);
                }
                add_into(&mut v[i], b)?;
                Slots::Many(v)
            }
            (Slots::Many(mut v), Slots::Many(w)) => {
                if v.len() < w.len() {
                    v.resize_with(w.len(), || None);
                }
                for (slot, g) in v.iter_mut().zip(w) {
                    if let Some(g) = g {
                        add_into(slot, g)?;
                    }
                }
                Slots::Many(v)
            }
        };
        Ok(Parts { layout, len, slots })
    }

    /// The layout and one entry per component (`None`: that component's gradient is zero).
    pub fn into_slots(self) -> (L, Vec<Option<G>>) {
        let slots = match self.slots {
            Slots::Many(mut v) => {
                v.resize_with(self.len, || None);
                v
            }
            Slots::One(i, g) => {
                let mut v = empty_slots(self.len);
                v[i] = Some(g);
                v
            }
        };
        (self.layout, slots)
    }

    /// The gradient of component `index`, if it was reached.
    pub fn get(&self, index: usize) -> Option<&G> {
        match &self.slots {
            Slots::One(i, g) => (*i == index).then_some(g),
            Slots::Many(v) => v.get(index).and_then(Option::as_ref),
        }
    }
}

fn empty_slots<G>(len: usize) -> Vec<Option<G>> {
    let mut v = Vec::with_capacity(len);
    v.resize_with(len, || None);
    v
}

fn add_into<G: Backprop>(slot: &mut Option<G>, g: G) -> Result<(), G::Error> {
    *slot = Some(match slot.take() {
        None => g,
        Some(prev) => prev.add(g)?,
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dense(p: Parts<f64, ()>) -> Vec<Option<f64>> {
        p.into_slots().1
    }

    #[test]
    fn one_component_then_others_fill_their_own_slots() {
        let p = Parts::one((), 4, 2, 1.5);
        assert_eq!(p.get(2), Some(&1.5));
        assert_eq!(p.get(0), None);
        let p = p.merge(Parts::one((), 4, 2, 2.0)).unwrap();
        assert_eq!(dense(p.clone()), vec![None, None, Some(3.5), None]);
        let p = p.merge(Parts::one((), 4, 0, 1.0)).unwrap();
        let p = Parts::one((), 4, 3, -1.0).merge(p).unwrap();
        assert_eq!(dense(p), vec![Some(1.0), None, Some(3.5), Some(-1.0)]);
    }

    #[test]
    fn adding_two_slot_vectors_is_slotwise() {
        let a = Parts::from_slots((), vec![Some(1.0), None, Some(2.0)]);
        let b = Parts::from_slots((), vec![None, Some(5.0), Some(3.0)]);
        assert_eq!(
            dense(a.merge(b).unwrap()),
            vec![Some(1.0), Some(5.0), Some(5.0)]
        );
    }

    #[test]
    fn addition_is_commutative_and_associative_over_random_contributions() {
        // Three groups of single-component contributions summed in different orders.
        let mut state = 12345u64;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) as usize
        };
        let n = 7;
        let parts: Vec<(usize, f64)> = (0..40).map(|k| (next() % n, k as f64 * 0.25)).collect();
        let sum = |order: &mut dyn Iterator<Item = &(usize, f64)>| {
            order
                .map(|&(i, g)| Parts::one((), n, i, g))
                .reduce(|a, b| a.merge(b).unwrap())
                .map(dense)
                .unwrap()
        };
        let forward = sum(&mut parts.iter());
        let backward = sum(&mut parts.iter().rev());
        let mut want = vec![None; n];
        for &(i, g) in &parts {
            want[i] = Some(want[i].unwrap_or(0.0) + g);
        }
        assert_eq!(forward, want);
        assert_eq!(backward, want);
        // Grouped: sum the halves separately, then add the two slot vectors.
        let (l, r) = parts.split_at(17);
        let grouped = sum(&mut l.iter())
            .into_iter()
            .zip(sum(&mut r.iter()))
            .map(|(a, b)| match (a, b) {
                (None, None) => None,
                (a, b) => Some(a.unwrap_or(0.0) + b.unwrap_or(0.0)),
            })
            .collect::<Vec<_>>();
        assert_eq!(grouped, want);
    }

    #[test]
    fn a_failing_component_add_is_reported() {
        #[derive(Debug)]
        struct Refuses;
        impl Backprop for Refuses {
            type Error = &'static str;
            fn zero_like(&self) -> Result<Self, Self::Error> {
                Ok(Refuses)
            }
            fn one_like(&self) -> Result<Self, Self::Error> {
                Ok(Refuses)
            }
            fn add(self, _: Self) -> Result<Self, Self::Error> {
                Err("no")
            }
        }
        let p = Parts::one((), 2, 0, Refuses);
        assert!(
            p.merge(Parts::one((), 2, 1, Refuses)).is_ok(),
            "different slots never call add"
        );
        let p = Parts::one((), 2, 0, Refuses);
        assert_eq!(p.merge(Parts::one((), 2, 0, Refuses)).unwrap_err(), "no");
    }
}
