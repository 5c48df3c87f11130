//! Point location: a closed point-in-polygon test with exact predicates, the
//! unit boundaries as flat arrays, and a uniform grid in front of them.
//! A cell that lies wholly inside one unit, or outside all, answers at once;
//! so does a sub-cell (16 per cell, one cache line) inside one unit. Any
//! other point is settled from the edges in its cell alone: the segment
//! from it to the cell's reference point, whose side of each unit is known,
//! crosses only edges that meet the cell. Points on a boundary shared by
//! several units go to the lowest-numbered one, as a scan would give.
//!
//! The parts: `shapes` holds the unit boundaries as flat ring arrays and
//! the whole-polygon test; `predicates` the exact geometric tests both the
//! build and the query rest on; `grid` the grid, its layout and how it is
//! built row by row; `cell` how one cell is built (the shapes reaching
//! into it, its reference point, its sub-cells); `query` locating a point.

mod cell;
mod grid;
mod predicates;
mod query;
mod shapes;

pub(crate) use grid::ShapeGrid;
pub(crate) use shapes::Shapes;

/// The bounding box of a shape: `[min_x, min_y, max_x, max_y]`.
pub(crate) type Box4 = [f64; 4];
