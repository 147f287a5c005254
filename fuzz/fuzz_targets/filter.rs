//! The filter parser, through the global `filter` of a config with no layers (the same path a
//! layer's filter and `set_filter` take).
#![no_main]

use libfuzzer_sys::fuzz_target;
use tracing_bridge::{Config, Session};

fuzz_target!(|data: &[u8]| {
    let Ok(directives) = std::str::from_utf8(data) else {
        return;
    };
    let config = Config {
        filter: Some(directives.to_owned()),
        ..Config::default()
    };
    let _ = Session::new(&config);
});
