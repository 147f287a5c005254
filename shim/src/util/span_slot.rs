//! A span's place in a fixed table of entries kept beside the registry (the JS layers' span
//! ids, the OpenTelemetry layer's light spans), from its registry id.

use tracing::span::Id;

/// A number that spreads registry ids over a table's entries: `span_slot(id) % entries`.
///
/// Registry ids are sharded-slab keys plus one: the slot's address in its thread's shard (low
/// 38 bits), the shard (13 bits), then the slot's generation. Spread by address and shard
/// only, a slot's successive spans share an entry, and a thread's nested spans take
/// neighbouring ones. Only speed may depend on this layout: a table must store the whole id
/// in its entry and compare it, and keep spans that meet in an entry elsewhere.
pub(crate) fn span_slot(id: &Id) -> usize {
    let key = id.into_u64().wrapping_sub(1);
    ((key & ((1 << 38) - 1)) ^ ((key >> 38) & 0x1fff).wrapping_mul(0x9e37)) as usize
}
