//! The deadlines file: each step's time limit, in TOML.
//!
//! ```toml
//! judge = "1d"      # reported → discussing
//! route = "1d"      # discussing → routed
//! handle = "3d"     # routed → handled
//! feed_back = "2d"  # handled → fed back
//! close = "none"    # fed back → closed
//! ```
//!
//! A step left out has no limit; durations are `90m`, `36h`, `2.5d`, whole
//! seconds, or `none`.

use onemap_core::Deadlines;

/// Reads and checks a deadlines file (a clap value parser: the message is
/// the one line a person sees).
pub fn load(path: &str) -> Result<Deadlines, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    parse(&text).map_err(|e| format!("{path}: {e}"))
}

/// Parses the text of a deadlines file.
pub fn parse(text: &str) -> Result<Deadlines, String> {
    let d: Deadlines = toml::from_str(text).map_err(|e| e.message().trim().to_string())?;
    d.check()?;
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_file_holds_the_defaults() {
        let text = include_str!("../../../config/deadlines.toml");
        assert_eq!(parse(text), Ok(Deadlines::default()));
    }

    #[test]
    fn bad_files_are_refused_with_a_reason() {
        assert!(parse("judge = \"1w\"")
            .unwrap_err()
            .contains("not a duration"));
        assert!(parse("judeg = \"1d\"")
            .unwrap_err()
            .contains("unknown field"));
        assert!(parse("handle = \"10s\"")
            .unwrap_err()
            .contains("between 1 minute"));
        assert!(parse("judge = ").is_err());
        let d = parse("judge = \"2h\"\nhandle = 7200").unwrap();
        assert_eq!((d.judge, d.route, d.handle), (Some(7200), None, Some(7200)));
    }
}
