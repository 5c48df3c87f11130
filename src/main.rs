//! The `onemap` binary: everything is in the `onemap-cli` crate.

/// jemalloc rather than glibc's malloc: a live server replaces large
/// snapshot columns many times a second, and glibc's per-thread arenas kept
/// the freed memory (4 GB resident after 10 minutes of the full-city soak;
/// jemalloc stays near 1.6 GB and gives it back when the load stops;
/// mimalloc and glibc with two arenas were measured too: BENCHMARKS.md).
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() {
    std::process::exit(onemap_cli::main())
}
