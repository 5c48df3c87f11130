//! The `onemap` binary: everything is in the `onemap-cli` crate.

fn main() {
    std::process::exit(onemap_cli::main())
}
