//! A hasher for map keys this crate picks itself (handles it counts out, addresses of callsite
//! metadata): one multiplication per key. The standard library's SipHash guards against keys
//! an attacker picks, at about ten times the cost, which on a per-span path bought nothing.

use std::hash::{BuildHasherDefault, Hasher};

/// Builds [`MultiplyHasher`]s, for `HashMap::with_hasher` / `Default`.
pub(crate) type MultiplyHash = BuildHasherDefault<MultiplyHasher>;

#[derive(Debug, Default)]
pub(crate) struct MultiplyHasher(u64);

impl Hasher for MultiplyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    /// Keys other than integers (not used on hot paths): FNV-1a.
    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 = (self.0 ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn write_u64(&mut self, value: u64) {
        // Fibonacci hashing: `HashMap` takes its bucket from the low bits and its control byte
        // from the high ones; the rotation brings bits mixed by the multiplication to both.
        self.0 = value.wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(29);
    }

    fn write_u32(&mut self, value: u32) {
        self.write_u64(u64::from(value));
    }

    fn write_usize(&mut self, value: usize) {
        self.write_u64(value as u64);
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::MultiplyHash;

    #[test]
    fn counters_and_addresses_spread_over_the_table() {
        // Consecutive handles and 8-aligned addresses: every key found, few probes needed
        // (checked through the map's behaviour: all present, none confused).
        let mut handles: HashMap<u32, u32, MultiplyHash> = HashMap::default();
        let mut addresses: HashMap<usize, usize, MultiplyHash> = HashMap::default();
        for key in 0..10_000u32 {
            handles.insert(key, key * 2);
            addresses.insert(0x7f00_0000_0000 + key as usize * 64, key as usize);
        }
        for key in 0..10_000u32 {
            assert_eq!(handles[&key], key * 2);
            assert_eq!(
                addresses[&(0x7f00_0000_0000 + key as usize * 64)],
                key as usize
            );
        }
    }
}
