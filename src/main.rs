//! Entry point of the phone app: Trunk builds this binary to WebAssembly.

fn main() {
    guihai::start();
}
