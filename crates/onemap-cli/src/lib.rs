//! The `onemap` command line.
//!
//! Raw arguments are parsed by clap in [`args`] into validated values — with
//! the `FromStr` types of onemap-core and onemap-index (times, boxes, area
//! ids, polygons, groupings), the same the HTTP API parses its query strings
//! with, so a bad value gets the same message from both; each subcommand
//! lives in its own module and returns `anyhow::Result`. [`main`] prints any error as one
//! line and turns it into a non-zero exit code.

mod args;
mod coordinate;
mod deadlines;
pub mod http;
mod ledgers;
mod lists;
mod pg;
mod progress;
mod query;
mod serve;
mod simulate;
mod simulate_events;
mod synth;
mod tiles;
mod tokens;
mod users;
mod validate;

use clap::Parser;

pub use args::{Cli, Command};

/// Runs the command line and returns the process exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            // Help and version are not errors.
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return code;
        }
    };
    init_tracing(cli.verbose);
    let result = match cli.command {
        Command::Synth(a) => synth::run(a),
        Command::Validate(a) => validate::run(a),
        Command::Query(a) => query::run(a),
        Command::Serve(a) => serve::run(a),
        Command::Token(a) => tokens::run(a),
        Command::User(a) => users::run(a),
        Command::Tiles(a) => tiles::run(a),
        Command::Db(a) => pg::db(a),
        Command::Import(a) => pg::import(a),
        Command::Export(a) => pg::export(a),
        Command::Simulate(a) => simulate::run(a),
        Command::Coordinate(a) => coordinate::run(a),
        Command::Ledgers(a) => ledgers::run(a),
        Command::Table(a) => ledgers::table(a),
        Command::Lists(a) => lists::run(a),
    };
    match result {
        Ok(code) => code,
        // The reader went away (`onemap query … | head`): not an error.
        Err(e)
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) =>
        {
            0
        }
        Err(e) => {
            eprintln!("error: {}", one_line(&e));
            1
        }
    }
}

/// Reads a city directory and indexes it, with the path in any error.
fn load_city(dir: &std::path::Path) -> anyhow::Result<onemap_index::City> {
    use anyhow::Context;
    let started = std::time::Instant::now();
    let (_, data) = onemap_store::read_city_dir(dir)
        .with_context(|| format!("cannot load {}", dir.display()))?;
    let city = onemap_index::City::build(data).context("cannot index the city")?;
    tracing::info!("city loaded in {:.2} s", started.elapsed().as_secs_f64());
    Ok(city)
}

/// The error and its causes on one line: "outer: inner: root".
fn one_line(e: &anyhow::Error) -> String {
    e.chain()
        .map(|c| c.to_string())
        .collect::<Vec<_>>()
        .join(": ")
}

fn init_tracing(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
