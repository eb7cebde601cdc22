// Links the `flow-models` binary as a fixed-address (non-PIE) executable on Linux x86_64: the
// position-independent one carries hundreds of thousands of relocations (DataFusion's vtables and
// tables) that the loader applied at every start, a visible part of a short command such as `fit`.
fn main() {
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let arch = std::env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    if os == "linux" && arch == "x86_64" {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
}
