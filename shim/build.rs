//! Links the shim's own cdylib with `-z nodelete` on Linux, so that it stays mapped until the
//! process exits (see README, "Exit and unload"). `cargo:rustc-cdylib-link-arg` reaches this
//! package's cdylib only: a library that embeds the shim needs its own build.rs
//! (examples/template/build.rs).

fn main() {
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-z,nodelete");
    }
}
