//! The spans a thread entered and has not left, innermost last, each with what a layer needs
//! when the span is left (its callsite, its stacks, …) so that leaving it takes no registry
//! lookup. A span left on another thread than it was entered on stays in the list; the list
//! is capped, and a layer falls back to the registry for a span it does not find.

/// What [`EnteredSpans::enter`] does once the list holds its most spans.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum WhenFull {
    /// Keeps the list and does not add the span (deeper spans are looked up when left).
    #[cfg_attr(not(feature = "flame"), allow(dead_code))] // the flame layer's
    Skip,
    /// Empties the list (of spans left elsewhere, most likely), then adds the span.
    Clear,
}

pub(crate) struct EnteredSpans<T> {
    spans: Vec<(u64, T)>,
    max: usize,
    when_full: WhenFull,
}

impl<T> EnteredSpans<T> {
    pub(crate) const fn new(max: usize, when_full: WhenFull) -> Self {
        Self {
            spans: Vec::new(),
            max,
            when_full,
        }
    }

    /// Notes span `id` as entered, innermost, with `value`.
    pub(crate) fn enter(&mut self, id: u64, value: T) {
        if self.spans.len() >= self.max {
            match self.when_full {
                WhenFull::Skip => return,
                WhenFull::Clear => self.spans.clear(),
            }
        }
        self.spans.push((id, value));
    }

    /// The value of `id` if it is the innermost span.
    #[cfg_attr(not(feature = "flame"), allow(dead_code))] // the flame layer's
    pub(crate) fn innermost(&self, id: u64) -> Option<&T> {
        self.spans
            .last()
            .filter(|(entered, _)| *entered == id)
            .map(|(_, value)| value)
    }

    /// Forgets the innermost entry of `id` and returns its value.
    pub(crate) fn leave(&mut self, id: u64) -> Option<T> {
        let at = self.spans.iter().rposition(|(entered, _)| *entered == id)?;
        Some(self.spans.remove(at).1)
    }
}

#[cfg(test)]
mod tests {
    use super::{EnteredSpans, WhenFull};

    #[test]
    fn leaving_takes_the_innermost_entry_of_the_span() {
        let mut entered = EnteredSpans::new(8, WhenFull::Skip);
        entered.enter(1, "outer");
        entered.enter(2, "middle");
        entered.enter(1, "outer again");
        assert_eq!(entered.innermost(1), Some(&"outer again"));
        assert_eq!(entered.innermost(2), None);
        assert_eq!(entered.leave(2), Some("middle"));
        assert_eq!(entered.leave(1), Some("outer again"));
        assert_eq!(entered.innermost(1), Some(&"outer"));
        assert_eq!(entered.leave(1), Some("outer"));
        assert_eq!(entered.leave(1), None);
        assert_eq!(entered.innermost(1), None);
    }

    #[test]
    fn a_full_list_skips_deeper_spans_or_starts_over() {
        let mut skipping = EnteredSpans::new(2, WhenFull::Skip);
        let mut clearing = EnteredSpans::new(2, WhenFull::Clear);
        for id in 1..=3 {
            skipping.enter(id, id * 10);
            clearing.enter(id, id * 10);
        }
        // Skip: the first two stay, the third is not kept.
        assert_eq!(skipping.leave(3), None);
        assert_eq!(skipping.innermost(2), Some(&20));
        assert_eq!(skipping.leave(1), Some(10));
        // Clear: only the third is left.
        assert_eq!(clearing.innermost(3), Some(&30));
        assert_eq!(clearing.leave(1), None);
        assert_eq!(clearing.leave(2), None);
        assert_eq!(clearing.leave(3), Some(30));
    }
}
