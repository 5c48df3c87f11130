//! Feeds many tiles to one Python process running `tests/check_polygons.py`
//! (the independent decoder and GEOS), used by `tests/every_tile.rs` and
//! `examples/validity.rs`. One process for all tiles: starting Python and
//! importing shapely costs more than decoding a tile.

use onemap_core::TileCoord;
use serde_json::Value as Json;
use std::io::{BufWriter, Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::thread::JoinHandle;

/// A running check: [`PolygonCheck::tile`] sends tiles, [`PolygonCheck::finish`]
/// gives the summary the script prints.
pub struct PolygonCheck {
    child: Child,
    stdin: BufWriter<ChildStdin>,
    stdout: JoinHandle<Vec<u8>>,
}

impl PolygonCheck {
    /// Starts the script with `$PYTHON` (default `python3`). Panics, never
    /// skips, when Python cannot be started.
    pub fn start() -> Self {
        let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_string());
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/check_polygons.py");
        let mut child = Command::new(&python)
            .arg(script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot run `{python}` ({e}): the polygon check decodes tiles with Python \
                     and the mapbox-vector-tile and shapely packages; install them \
                     (pip install mapbox-vector-tile shapely) or set PYTHON"
                )
            });
        let stdin = BufWriter::new(child.stdin.take().expect("stdin is piped"));
        let mut out = child.stdout.take().expect("stdout is piped");
        // Read on a thread of its own, so a full pipe never blocks both sides.
        let stdout = std::thread::spawn(move || {
            let mut buf = Vec::new();
            out.read_to_end(&mut buf).expect("read the check's output");
            buf
        });
        PolygonCheck {
            child,
            stdin,
            stdout,
        }
    }

    /// Sends one (uncompressed) tile.
    pub fn tile(&mut self, t: TileCoord, bytes: &[u8]) {
        let sent =
            writeln!(self.stdin, "{t} {}", bytes.len()).and_then(|()| self.stdin.write_all(bytes));
        if let Err(e) = sent {
            // The script ended early: its exit status and message say why.
            let status = self.child.wait().expect("wait for the check");
            panic!("the polygon check stopped reading ({e}; {status}); see its message above");
        }
    }

    /// Ends the input and returns the summary. Panics when the script
    /// failed (a missing package exits with status 3 and says which).
    pub fn finish(self) -> Json {
        let PolygonCheck {
            mut child,
            stdin,
            stdout,
        } = self;
        drop(stdin.into_inner().expect("flush the tiles to the check"));
        let out = stdout.join().expect("the reader thread");
        let status = child.wait().expect("wait for the check");
        assert!(
            status.success(),
            "the polygon check (Python, mapbox-vector-tile, shapely) failed: {status}; \
             see its message above"
        );
        serde_json::from_slice(&out).expect("the check prints JSON")
    }
}
