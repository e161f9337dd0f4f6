//! A region of a tensor cut into row-major pieces of bounded size: how
//! `sample` prints and `explain` checks tensors of any size in bounded memory.
//!
//! Each piece is a hyper-rectangle whose elements are a contiguous run of the
//! region's row-major order: whole rows of the last dimension (several rows
//! sharing every outer index but the second-last), or, for a row longer than
//! the budget, a run of columns of one row.

use std::ops::Range;

/// A piece: its region (one range per dimension), whether it holds whole
/// rows, and whether it ends a row.
#[derive(Debug)]
pub struct Piece<'a> {
    pub region: &'a [Range<usize>],
    pub whole_rows: bool,
    pub ends_row: bool,
}

/// Calls `f` with every piece of `region`, in row-major order, each of at
/// most `budget` elements (at least one row of the last dimension or one
/// element). Stops at the first error.
pub fn for_each<E>(
    region: &[Range<usize>],
    budget: usize,
    mut f: impl FnMut(Piece<'_>) -> Result<(), E>,
) -> Result<(), E> {
    let budget = budget.max(1);
    let r = region.len();
    if r == 0 {
        return f(Piece {
            region,
            whole_rows: true,
            ends_row: true,
        });
    }
    let last = region[r - 1].clone();
    let row = last.len();
    let mut piece = region.to_vec();
    let outer = r.saturating_sub(2);
    let mut idx: Vec<usize> = region[..outer].iter().map(|g| g.start).collect();
    loop {
        for (d, &i) in idx.iter().enumerate() {
            piece[d] = i..i + 1;
        }
        let rows = if r >= 2 { region[r - 2].clone() } else { 0..1 };
        if row <= budget {
            let k = (budget / row).max(1);
            let mut i = rows.start;
            while i < rows.end {
                // A whole-tensor budget is `usize::MAX`: `i + k` would wrap.
                let j = i.saturating_add(k).min(rows.end);
                if r >= 2 {
                    piece[r - 2] = i..j;
                }
                f(Piece {
                    region: &piece,
                    whole_rows: true,
                    ends_row: true,
                })?;
                i = j;
            }
        } else {
            for i in rows {
                if r >= 2 {
                    piece[r - 2] = i..i + 1;
                }
                let mut c = last.start;
                while c < last.end {
                    let e = c.saturating_add(budget).min(last.end);
                    piece[r - 1] = c..e;
                    f(Piece {
                        region: &piece,
                        whole_rows: false,
                        ends_row: e == last.end,
                    })?;
                    c = e;
                }
            }
        }
        // The next outer index, odometer-wise; done after the last.
        let mut d = outer;
        loop {
            if d == 0 {
                return Ok(());
            }
            d -= 1;
            idx[d] += 1;
            if idx[d] < region[d].end {
                break;
            }
            idx[d] = region[d].start;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The flat row-major indices of `region` in `shape`, piece by piece.
    fn order(shape: &[usize], region: &[Range<usize>], budget: usize) -> Vec<usize> {
        let mut out = Vec::new();
        for_each::<()>(region, budget, |p| {
            assert!(p.region.iter().map(|r| r.len()).product::<usize>() <= budget);
            let mut idx: Vec<usize> = p.region.iter().map(|r| r.start).collect();
            loop {
                out.push(idx.iter().zip(shape).fold(0, |acc, (&i, &n)| acc * n + i));
                let mut d = idx.len();
                loop {
                    if d == 0 {
                        return Ok(());
                    }
                    d -= 1;
                    idx[d] += 1;
                    if idx[d] < p.region[d].end {
                        break;
                    }
                    idx[d] = p.region[d].start;
                }
            }
        })
        .unwrap();
        out
    }

    #[test]
    fn pieces_cover_the_region_in_row_major_order() {
        let shape = [3, 4, 5, 7];
        let region = [1..3, 0..4, 1..4, 2..7];
        let mut want = Vec::new();
        for a in 1..3 {
            for b in 0..4 {
                for c in 1..4 {
                    for d in 2..7 {
                        want.push(((a * 4 + b) * 5 + c) * 7 + d);
                    }
                }
            }
        }
        for budget in [1, 2, 4, 5, 9, 15, 16, 1000, usize::MAX] {
            assert_eq!(order(&shape, &region, budget), want, "budget {budget}");
        }
        let rank1 = vec![Range { start: 3, end: 9 }];
        assert_eq!(order(&[10], &rank1, 4), (3..9).collect::<Vec<_>>());
        assert_eq!(order(&[], &[], 4), [0]);
        // Rows of one element, unbounded budget, rows starting past 0.
        let column = [2..4, 7..8];
        assert_eq!(order(&[12, 9], &column, usize::MAX), [25, 34]);
    }
}
