//! The before/after table `onemap coordinate` prints, in Chinese.

use crate::figures::{Counts, Figures};
use crate::Action;
use std::fmt::Write;

/// Columns a string takes on a terminal: CJK characters take two.
fn width(s: &str) -> usize {
    s.chars()
        .map(|c| if u32::from(c) >= 0x2E80 { 2 } else { 1 })
        .sum()
}

fn pad(s: &str, w: usize) -> String {
    format!("{}{s}", " ".repeat(w.saturating_sub(width(s))))
}

fn pair(c: Counts) -> String {
    format!("{} → {}", c.before, c.after)
}

/// A change as a percentage, `-62.3%`; `—` when there was nothing before.
pub fn percent(c: Counts) -> String {
    c.change()
        .map_or("—".into(), |x| format!("{:+.1}%", x * 100.0))
}

impl Figures {
    /// The table: one row a month, the year, the change; then schools,
    /// suggestions and pushes.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "涉企检查与进校园统筹 · {}年 · {}",
            self.year, self.scope_name
        );
        let _ = writeln!(
            out,
            "企业 {} 家（规上企业 {} 家），学校 {} 所；前 = 各部门原计划，后 = 统筹并经部门确认后",
            self.enterprises, self.large_enterprises, self.schools
        );
        let head = [
            "月份",
            "规上企业现场检查",
            "其中镇街陪同",
            "全部企业现场检查",
            "全部陪同",
            "进校次数",
        ];
        let mut rows: Vec<[String; 6]> = Vec::new();
        for m in self.months.iter().chain(std::iter::once(&self.total)) {
            let label = if m.month == 0 {
                "全年".to_string()
            } else {
                format!("{}月", m.month)
            };
            rows.push([
                label,
                pair(m.onsite_large),
                pair(m.accompanied_large),
                pair(m.onsite),
                pair(m.accompanied),
                pair(m.school_visits),
            ]);
        }
        let t = &self.total;
        rows.push([
            "变化".into(),
            percent(t.onsite_large),
            percent(t.accompanied_large),
            percent(t.onsite),
            percent(t.accompanied),
            percent(t.school_visits),
        ]);
        let widths: Vec<usize> = (0..6)
            .map(|i| {
                rows.iter()
                    .map(|r| width(&r[i]))
                    .chain([width(head[i])])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let line = |cells: Vec<String>| -> String {
            cells
                .iter()
                .zip(&widths)
                .map(|(c, w)| pad(c, *w))
                .collect::<Vec<_>>()
                .join("  ")
        };
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "{}",
            line(head.iter().map(|s| s.to_string()).collect())
        );
        for r in &rows {
            let _ = writeln!(out, "{}", line(r.to_vec()));
        }
        let _ = writeln!(out);
        let (b, a) = self.visits_per_school_month;
        let change = if b > 0.0 {
            format!("{:+.1}%", (a - b) / b * 100.0)
        } else {
            "—".into()
        };
        let _ = writeln!(out, "每校每月进校：{b:.2} → {a:.2}（{change}）");
        let _ = writeln!(
            out,
            "进校园部门：{} → {}（{}）",
            self.school_departments.before,
            self.school_departments.after,
            percent(self.school_departments)
        );
        let counts: Vec<String> = Action::ALL
            .iter()
            .map(|a| {
                format!(
                    "{} {}",
                    a.zh(),
                    self.suggestions.get(a.code()).copied().unwrap_or(0)
                )
            })
            .collect();
        let _ = writeln!(out, "改为线上核查 {} 次（不进门）", t.online);
        let _ = writeln!(
            out,
            "统筹建议：{}；部门不同意 {} 条",
            counts.join("，"),
            self.refused
        );
        let _ = writeln!(
            out,
            "热点问题推送 {} 次，覆盖企业 {} 家次：已自查 {}，其中已整改 {}",
            self.pushes, self.pushed_enterprises, self.self_checked, self.rectified
        );
        if self.moved_past_year > 0 {
            let _ = writeln!(
                out,
                "顺延至次年的现场检查 {} 次（计入全年）",
                self.moved_past_year
            );
        }
        out
    }
}
