//! The configuration document: `Config::from_json` on arbitrary bytes, then, for documents that
//! parse, `Session::new` with every output redirected into a scratch directory (a fuzzer-chosen
//! path must not create files anywhere) and without network layers.
#![no_main]

use std::path::PathBuf;

use libfuzzer_sys::fuzz_target;
use tracing_bridge::{
    config::{FmtWriterConfig, LayerConfig, WriterConfig},
    Config, Session,
};

fuzz_target!(|data: &[u8]| {
    let Ok(json) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(mut config) = Config::from_json(json) else {
        return;
    };
    let scratch = scratch_dir();
    for (index, layer) in config.layers.iter_mut().enumerate() {
        let file = scratch.join(format!("layer{index}"));
        match layer {
            LayerConfig::Fmt(fmt) => match &mut fmt.writer {
                // Rolling files stay rolling, in the scratch directory (the prefix and suffix
                // cannot hold a path separator).
                FmtWriterConfig::Rolling(rolling) => rolling.directory = scratch.clone(),
                writer => *writer = FmtWriterConfig::File(file),
            },
            LayerConfig::OtlpJson(otlp_json) => otlp_json.writer = WriterConfig::File(file),
            LayerConfig::Timeline(timeline) => timeline.path = file,
            LayerConfig::Flame(flame) => flame.path = file,
            LayerConfig::Js(_) => {}
            // Exports over the network: parsing it is what is fuzzed here.
            LayerConfig::Otlp(_) => return,
        }
    }
    if let Ok(session) = Session::new(&config) {
        let _ = session.flush();
        let _ = session.shutdown_layers();
    }
});

fn scratch_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tracing-bridge-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch directory");
    dir
}
