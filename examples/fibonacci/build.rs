//! Links this library with `-z nodelete` on Linux, as every library embedding tracing-bridge
//! should (see examples/template/build.rs).

fn main() {
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-z,nodelete");
    }
}
