//! Links this library with `-z nodelete` on Linux: once loaded, it stays mapped until the
//! process exits, even after `close()`. No code of it can then be unmapped under a thread or
//! an exit handler that still runs it. `cargo:rustc-cdylib-link-arg` applies to this package's
//! own cdylib only, so every library that embeds tracing-bridge needs these lines itself.

fn main() {
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-z,nodelete");
    }
}
