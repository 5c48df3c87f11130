//! The H3 reference: `tests/h3_cells.py` runs the `h3` Python package (the
//! binding of Uber's C library, not h3o) as a child process. Shared by the
//! index's and the tiles' reference tests and the `h3_reference` example
//! (which include this file with `#[path]`). Fails, never skips, when Python or the package is missing;
//! `PYTHON` picks the interpreter (scripts/test.sh sets it to a virtual
//! environment with h3).

#![allow(dead_code)]

use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};

/// What the reference says about a set of points.
pub struct Reference {
    /// Per resolution, the cell holding each point, in the order given.
    pub cells: BTreeMap<u8, Vec<String>>,
    /// Boundaries (lon, lat) of the cells asked for.
    pub boundaries: BTreeMap<String, Vec<[f64; 2]>>,
}

impl Reference {
    /// Points per cell at `res`, over the points `keep` accepts (by index).
    pub fn counts(&self, res: u8, keep: impl Fn(usize) -> bool) -> BTreeMap<String, u64> {
        let mut m = BTreeMap::new();
        for (i, c) in self.cells[&res].iter().enumerate() {
            if keep(i) {
                *m.entry(c.clone()).or_default() += 1;
            }
        }
        m
    }
}

/// Each point's cell (`latLngToCell`) at each of `resolutions`, and the
/// boundaries of `boundaries_of`, from the reference library.
pub fn reference(points: &[[f64; 2]], resolutions: &[u8], boundaries_of: &[String]) -> Reference {
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_string());
    // From a crate of crates/ or from the workspace root (the example).
    let script = [
        "/../onemap-index/tests/h3_cells.py",
        "/crates/onemap-index/tests/h3_cells.py",
    ]
    .map(|p| format!("{}{p}", env!("CARGO_MANIFEST_DIR")))
    .into_iter()
    .find(|p| std::path::Path::new(p).exists())
    .expect("crates/onemap-index/tests/h3_cells.py");
    let mut child = Command::new(&python)
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run `{python}` ({e}): the H3 tests compare with the h3 Python \
                 package (the reference C library); install it (pip install h3) or set PYTHON"
            )
        });
    let query = json!({"resolutions": resolutions, "points": points, "cells": boundaries_of});
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(query.to_string().as_bytes())
        .expect("write the points to the reference");
    let out = child.wait_with_output().expect("wait for the reference");
    assert!(
        out.status.success(),
        "the H3 reference failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("the reference prints JSON");
    let cells = resolutions
        .iter()
        .map(|&r| {
            let list = v["cells"][r.to_string()]
                .as_array()
                .expect("cells per resolution")
                .iter()
                .map(|c| c.as_str().expect("a cell in hex").to_string())
                .collect::<Vec<_>>();
            assert_eq!(list.len(), points.len());
            (r, list)
        })
        .collect();
    let boundaries = v["boundaries"]
        .as_object()
        .expect("boundaries")
        .iter()
        .map(|(c, b)| {
            let ring = b
                .as_array()
                .expect("a ring")
                .iter()
                .map(|p| [p[0].as_f64().unwrap(), p[1].as_f64().unwrap()])
                .collect();
            (c.clone(), ring)
        })
        .collect();
    Reference { cells, boundaries }
}
