//! Generates a city and prints its counts and the time each part took:
//! `cargo run --release -p onemap-synth --example synth_stats -- [scale]`.
use onemap_core::Level;
use std::time::Instant;

fn main() {
    let scale: f64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0);
    let t = Instant::now();
    let cfg = onemap_synth::SynthConfig {
        seed: 1,
        scale,
        events: None,
        ..Default::default()
    };
    let (_, city) = onemap_synth::generate_with_progress(&cfg, &|step, i, n| {
        eprintln!("[{:>6.2}s] {i}/{n} {step}", t.elapsed().as_secs_f64());
    })
    .expect("valid config");
    for l in Level::ALL {
        let v: usize = city
            .areas
            .level(l)
            .iter()
            .map(|a| {
                a.geometry
                    .0
                    .iter()
                    .map(|p| p.exterior().0.len())
                    .sum::<usize>()
            })
            .sum();
        let parts: usize = city.areas.level(l).iter().map(|a| a.geometry.0.len()).sum();
        println!(
            "{l:>8}: {:>7} areas, {parts:>7} parts, {v:>9} exterior vertices",
            city.areas.level(l).len()
        );
    }
    println!(
        "events {} ships {} heritage {} homesteads {} enterprises {} schools {}",
        city.events.len(),
        city.ships.len(),
        city.heritage.len(),
        city.homesteads.len(),
        city.enterprises.len(),
        city.schools.len()
    );
    println!("total {:.2}s", t.elapsed().as_secs_f64());
    if std::env::var_os("DUMP").is_some() {
        dump(&city);
    }
}

/// Writes districts, towns and villages as GeoJSON-ish JSON lines for a quick look.
#[allow(dead_code)]
fn dump(city: &onemap_core::CityData) {
    use std::io::Write;
    let mut f = std::io::BufWriter::new(std::fs::File::create("/tmp/areas.txt").unwrap());
    for l in [Level::District, Level::Town, Level::Village] {
        for a in city.areas.level(l) {
            for p in &a.geometry.0 {
                let pts: Vec<String> = p
                    .exterior()
                    .0
                    .iter()
                    .map(|c| format!("{:.5},{:.5}", c.x, c.y))
                    .collect();
                writeln!(f, "{} {}", l, pts.join(" ")).unwrap();
            }
        }
    }
    let mut f = std::io::BufWriter::new(std::fs::File::create("/tmp/points.txt").unwrap());
    for e in city.events.iter().step_by(50) {
        writeln!(f, "e {:.5} {:.5}", e.lon, e.lat).unwrap();
    }
    for s in &city.ships {
        writeln!(f, "s {:.5} {:.5}", s.lon, s.lat).unwrap();
    }
}
