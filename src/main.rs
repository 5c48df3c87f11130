//! The `onemap` binary: everything is in the `onemap-cli` crate.

/// jemalloc rather than glibc's malloc: a live server replaces large
/// snapshot columns many times a second, and glibc's per-thread arenas kept
/// the freed memory (4 GB resident after 10 minutes of the full-city soak;
/// jemalloc stays near 1.6 GB and gives it back when the load stops;
/// mimalloc and glibc with two arenas were measured too: BENCHMARKS.md).
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

// jemalloc's options are built in (.cargo/config.toml sets
// JEMALLOC_SYS_WITH_MALLOC_CONF; `_RJEM_MALLOC_CONF` in the environment
// overrides them): freed pages go back to the system after one second
// instead of ten, by a background thread rather than in the middle of an
// allocation. Each report replaces tens of MB of snapshot columns; kept ten
// seconds, those freed pages were the difference between 1.52 GiB and
// 1.38 GiB at the peak of the full-city soak, at the same throughput
// (BENCHMARKS.md, "Bounds, memory and the soak").

fn main() {
    onemap_server::set_allocator_probe(allocator_stats);
    std::process::exit(onemap_cli::main())
}

/// jemalloc's own figures, refreshed (its statistics are cached until the
/// epoch advances).
fn allocator_stats() -> Option<onemap_server::AllocatorStats> {
    use tikv_jemalloc_ctl::{epoch, stats};
    epoch::advance().ok()?;
    let read = |r: tikv_jemalloc_ctl::Result<usize>| r.ok().map(|v| v as u64);
    Some(onemap_server::AllocatorStats {
        allocated: read(stats::allocated::read())?,
        active: read(stats::active::read())?,
        resident: read(stats::resident::read())?,
        retained: read(stats::retained::read())?,
    })
}
