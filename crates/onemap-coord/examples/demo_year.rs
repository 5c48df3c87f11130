//! Prints the demo year's before/after table for an area of a synthetic city:
//! `cargo run --release -p onemap-coord --example demo_year -- [scale] [area] [year] [seed]`.
fn main() {
    let mut args = std::env::args().skip(1);
    let scale: f64 = args.next().map_or(1.0, |s| s.parse().unwrap_or(1.0));
    let area = args.next().unwrap_or_else(|| "西天尾镇".into());
    let year: i32 = args.next().map_or(2023, |s| s.parse().unwrap_or(2023));
    let seed: u64 = args.next().map_or(1, |s| s.parse().unwrap_or(1));
    let cfg = onemap_synth::SynthConfig {
        scale,
        seed,
        ..Default::default()
    };
    let (_, city) = match onemap_synth::generate(&cfg) {
        Ok(c) => c,
        Err(e) => return eprintln!("error: {e}"),
    };
    let t = std::time::Instant::now();
    let req = onemap_coord::ReportRequest {
        city: &city,
        area: &area,
        year,
        seed,
    };
    match onemap_coord::before_after_table(&req) {
        Ok(table) => print!("{table}"),
        Err(e) => eprintln!("error: {e}"),
    }
    eprintln!("({:.1} s)", t.elapsed().as_secs_f64());
}
